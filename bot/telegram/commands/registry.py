"""The Commands the app holds: every handler bound to the app's deps, ready to install."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.telegram.commands.admin import AdminCommands
from bot.telegram.commands.deps import CommandDeps
from bot.telegram.commands.paging import CALLBACK_PREFIX, Page, PageKind, Pager
from bot.telegram.commands.plumbing import Gate, RateLimiter, install, register_descriptions
from bot.telegram.commands.public import PublicCommands
from bot.telegram.commands.reports import health_report
from bot.telegram.i18n import t

log = logging.getLogger(__name__)


class Commands:
    """The bot's chat commands, bound to the app's store, watchlists and settings."""

    def __init__(self, deps: CommandDeps, *,
                 rate_clock: Callable[[], float] = time.monotonic) -> None:
        self.deps = deps
        self.language = deps.config.telegram.language
        self.pager = Pager(deps)
        self.gate = Gate(frozenset(deps.config.telegram.admins), self.language,
                         RateLimiter(rate_clock))
        self.public = PublicCommands(deps, self.pager)
        self.admin = AdminCommands(deps)

    def install(self, application: Application) -> None:  # type: ignore[type-arg]
        """Register every command, behind the gate, and the page buttons on ``application``."""
        guarded = {name: self.gate.guard(name, handler, admin_only=False)
                   for name, handler in self.public.handlers().items()}
        guarded |= {name: self.gate.guard(name, handler, admin_only=True)
                    for name, handler in self.admin.handlers().items()}
        install(application, guarded, self.page_button, CALLBACK_PREFIX)

    async def register_descriptions(self, application: Application) -> None:  # type: ignore[type-arg]
        """Publish the command menu in each language (setMyCommands)."""
        await register_descriptions(application, self.language)

    def page(self, kind: PageKind | str, argument: str, number: int, lang: str) -> Page:
        """Page ``number`` of a paged answer (see Pager.page)."""
        return self.pager.page(kind, argument, number, lang)

    async def page_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A next or previous button: edit the message to show that page. Buttons count
        against the same rate limit as commands: each press is a query and an edit."""
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        allowed = True if self.gate.is_admin(user.id) else self.gate.limiter.allow(user.id)
        if allowed is not True:
            log.info("button throttled user=%s", user.id)
            lang = self.gate.language_of(update)
            await query.answer(t(lang, "cmd.slow_down") if allowed is False else None)
            return
        await self.pager.button(update, context)

    def health_report(self, lang: str) -> str:
        """The daily report to the admins: feeds, stories, alerts."""
        return health_report(self.deps, lang)
