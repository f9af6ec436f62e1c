"""python-telegram-bot plumbing: registration, the guard every command passes, replies."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram import BotCommand, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode
from telegram.error import RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    filters,
)

from bot.telegram.html import escape
from bot.telegram.i18n import LANGUAGES, pick_language, t

log = logging.getLogger(__name__)

MAX_ARGUMENT_CHARS = 300
# A user may send this many commands in this many seconds before being asked to slow down.
RATE_LIMIT_COMMANDS = 6
RATE_LIMIT_WINDOW = 30.0

COMMAND_DESCRIPTIONS = {
    "fr": {"recent": "Dernières histoires signalées", "hits": "Histoires d'une liste",
           "search": "Chercher dans les articles", "watchlists": "Les listes de veille",
           "feeds": "État des flux", "stats": "Graphique des alertes par jour",
           "partners": "Carte des partenariats de sécurité",
           "help": "Aide et liste des commandes"},
    "en": {"recent": "Latest flagged stories", "hits": "Stories for one watchlist",
           "search": "Search the articles", "watchlists": "The watchlists",
           "feeds": "Feed health", "stats": "Chart of alerts per day",
           "partners": "Map of security partnerships",
           "help": "Help and every command"},
}
REPLY_ATTEMPTS = 3  # a command's answer is sent again after a 429, twice at most
MAX_REPLY_WAIT = 60.0  # seconds: a longer flood wait drops the answer (and logs it)


@dataclass(frozen=True)
class Request:
    """One command as a reader sent it, once the guard has let it through."""

    message: Message
    args: tuple[str, ...]
    lang: str  # the reader's language
    user: int
    username: str | None


Handler = Callable[[Request], Awaitable[None]]
Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


@dataclass
class RateLimiter:
    """Remembers each user's recent commands (monotonic times)."""

    clock: Callable[[], float] = time.monotonic
    recent: dict[int, deque[float]] = field(default_factory=dict)
    warned: set[int] = field(default_factory=set)

    def allow(self, user_id: int) -> bool | None:
        """True to go on; False to warn once; None to ignore silently."""
        now = self.clock()
        times = self.recent.setdefault(user_id, deque())
        while times and now - times[0] > RATE_LIMIT_WINDOW:
            times.popleft()
        if len(times) < RATE_LIMIT_COMMANDS:
            times.append(now)
            self.warned.discard(user_id)
            return True
        if user_id in self.warned:
            return None
        self.warned.add(user_id)
        return False


class Gate:
    """What every command passes first: the rate limit, the argument length, admin rights."""

    def __init__(self, admins: frozenset[int], language: str, limiter: RateLimiter) -> None:
        self.admins = admins
        self.language = language  # for readers whose language the bot does not speak
        self.limiter = limiter

    def is_admin(self, user_id: int) -> bool:
        """True for the bot's maintainers, named in the settings."""
        return user_id in self.admins

    def language_of(self, update: Update) -> str:
        """The language of the reader who sent ``update``."""
        return reader_language(update, self.language)

    def guard(self, name: str, handler: Handler, *, admin_only: bool) -> Callback:
        """``handler`` as a python-telegram-bot callback, behind the checks."""

        async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message, user = update.effective_message, update.effective_user
            if message is None or user is None:
                return
            if message.forward_origin is not None:  # as the handler's filter already says
                log.warning("command refused user=%s command=%s reason=forwarded", user.id,
                            name)
                return
            lang = self.language_of(update)
            # Maintainers are trusted; everyone else is slowed down past a few commands.
            allowed = True if self.is_admin(user.id) else self.limiter.allow(user.id)
            if allowed is None:
                return
            if allowed is False:
                log.info("command throttled user=%s command=%s", user.id, name)
                await reply(message, escape(t(lang, "cmd.slow_down")))
                return
            args = tuple(context.args or ())
            if sum(len(a) for a in args) > MAX_ARGUMENT_CHARS:
                await reply(message, escape(t(lang, "cmd.too_long", max=MAX_ARGUMENT_CHARS)))
                return
            if admin_only and not self.is_admin(user.id):
                log.warning("command refused user=%s command=%s reason=not-admin chat=%s",
                            user.id, name, message.chat_id)
                await reply(message, escape(t(lang, "cmd.not_admin")))
                return
            log.info("command user=%s command=%s args=%d", user.id, name, len(args))
            try:
                await handler(Request(message, args, lang, user.id, user.username))
            except sqlite3.Error as exc:  # a full disk, a locked file: say so, keep going
                log.error("command failed user=%s command=%s error=%s", user.id, name, exc)
                await reply(message, escape(t(lang, "cmd.storage_failed")))

        return run


def reader_language(update: Update, default: str) -> str:
    """French or English, from the language of the user who sent ``update``."""
    user = update.effective_user
    return pick_language(user.language_code if user else None, default)


async def reply(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer ``message`` with ``text`` (Telegram HTML), without link previews; when
    Telegram asks to wait (429), wait as long as it says (up to MAX_REPLY_WAIT) and send
    again, rather than drop the answer."""
    for attempt in range(REPLY_ATTEMPTS):
        try:
            await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                     link_preview_options=LinkPreviewOptions(is_disabled=True))
            return
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            if attempt + 1 == REPLY_ATTEMPTS or seconds > MAX_REPLY_WAIT:
                raise
            log.info("reply rate-limited chat=%s retry_after=%gs", message.chat_id, seconds)
            await asyncio.sleep(seconds)


def install(application: Application, callbacks: Mapping[str, Callback],  # type: ignore[type-arg]
            button: Callback, button_prefix: str) -> None:
    """Register each command's callback, and ``button`` for the data starting with
    ``button_prefix``."""
    for name, callback in callbacks.items():
        # A forwarded message quotes someone else: never an order, whoever forwards it.
        application.add_handler(CommandHandler(name, callback, filters=~filters.FORWARDED))
    application.add_handler(CallbackQueryHandler(button, pattern=f"^{button_prefix}\\|"))


async def register_descriptions(application: Application,  # type: ignore[type-arg]
                                default_language: str) -> None:
    """Publish the command menu in each language (setMyCommands)."""
    for lang in LANGUAGES:
        commands = [BotCommand(n, d) for n, d in COMMAND_DESCRIPTIONS[lang].items()]
        await application.bot.set_my_commands(commands, language_code=lang)
    default = COMMAND_DESCRIPTIONS[default_language]
    await application.bot.set_my_commands([BotCommand(n, d) for n, d in default.items()])
