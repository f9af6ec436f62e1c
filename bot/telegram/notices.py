"""Notices the bot writes to its admins about itself (Telegram HTML)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.telegram.html import bold, code
from bot.telegram.i18n import t


def watchlists_refused_notice(errors: Iterable[object], lang: str) -> str:
    """An edit of the watchlists folder was refused: the heading, then one line per error."""
    return "\n".join([bold(t(lang, "admin.watchlists_refused")),
                      *(f"• {code(str(error))}" for error in errors)])


def partnerships_refused_notice(error: object, kept: bool, lang: str) -> str:
    """The partnership file was refused: the heading (the file before it stays, or
    partnership signals are off until it is mended), then the error with file and line."""
    key = "admin.partnerships_refused" if kept else "admin.partnerships_off"
    return f"{bold(t(lang, key))}\n• {code(str(error))}"


def alert_refused_notice(chat: str, error: object, lang: str) -> str:
    """Telegram refuses the alerts for ``chat``: the heading, then Telegram's error."""
    return f"{bold(t(lang, 'admin.alert_refused', chat=chat))}\n{code(str(error))}"
