"""Everything a Telegram reader sees and how it gets there: messages, delivery, chat commands."""
