"""Notices the bot writes to its admins about itself (Telegram HTML)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.telegram.html import bold, code
from bot.telegram.i18n import t


def watchlists_refused_notice(errors: Iterable[object], lang: str) -> str:
    """An edit of the watchlists folder was refused: the heading, then one line per error."""
    return "\n".join([bold(t(lang, "admin.watchlists_refused")),
                      *(f"• {code(str(error))}" for error in errors)])


def alert_refused_notice(chat: str, error: object, lang: str) -> str:
    """Telegram refuses the alerts for ``chat``: the heading, then Telegram's error."""
    return f"{bold(t(lang, 'admin.alert_refused', chat=chat))}\n{code(str(error))}"
