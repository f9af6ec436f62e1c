"""Chat commands: parse the arguments, ask the store, reply in the reader's language."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.alerts import MAX_MESSAGE_UTF16, escape, safe_href, visible_length
from bot.i18n import LANGUAGES, format_time, pick_language, t
from bot.store import RecentHit, Store

log = logging.getLogger(__name__)

RECENT_DEFAULT = 10
RECENT_MAX = 50
COMMAND_DESCRIPTIONS = {
    "fr": {"recent": "Dernières alertes (/recent 5)"},
    "en": {"recent": "Latest alerts (/recent 5)"},
}


class Commands:
    """The bot's chat commands, bound to one store and one configuration."""

    def __init__(self, store: Store, *, language: str, timezone: ZoneInfo,
                 names: Mapping[str, str]) -> None:
        self.store = store
        self.language = language
        self.timezone = timezone
        self.names = names

    def install(self, application: Application) -> None:  # type: ignore[type-arg]
        """Register every handler on ``application``."""
        application.add_handler(CommandHandler("recent", self.recent))

    async def register_descriptions(self, application: Application) -> None:  # type: ignore[type-arg]
        """Publish the command list in each language (setMyCommands)."""
        for lang in LANGUAGES:
            commands = [BotCommand(name, text) for name, text in COMMAND_DESCRIPTIONS[lang].items()]
            await application.bot.set_my_commands(commands, language_code=lang)
        default = COMMAND_DESCRIPTIONS[self.language]
        await application.bot.set_my_commands([BotCommand(n, d) for n, d in default.items()])

    def _lang(self, update: Update) -> str:
        user = update.effective_user
        return pick_language(user.language_code if user else None, self.language)

    async def recent(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/recent [n]: the latest items with hits, newest first."""
        message = update.effective_message
        if message is None:
            return
        lang = self._lang(update)
        count = RECENT_DEFAULT
        if context.args:
            arg = context.args[0]
            if not arg.isdigit() or not 1 <= int(arg) <= RECENT_MAX:
                await message.reply_text(t(lang, "recent.bad_count", max=RECENT_MAX))
                return
            count = int(arg)
        hits = self.store.recent_hits(count)
        log.info("command recent user=%s count=%d found=%d",
                 update.effective_user.id if update.effective_user else None, count, len(hits))
        await message.reply_text(
            self.format_recent(hits, lang), parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    def format_recent(self, hits: list[RecentHit], lang: str) -> str:
        """The /recent answer as Telegram HTML."""
        if not hits:
            return escape(t(lang, "recent.empty"))
        lines = [f"<b>{escape(t(lang, 'recent.header', count=len(hits)))}</b>"]
        for hit in hits:
            href = safe_href(hit.link)
            title = escape(hit.title[:200] or "…")
            linked = f'<a href="{escape(href)}">{title}</a>' if href else title
            names = ", ".join(escape(self.names.get(w, w)) for w in hit.watchlists)
            when = format_time((hit.published_at or hit.fetched_at).astimezone(self.timezone),
                               lang)
            line = f"• {linked}\n  <i>{names}</i> · {escape(hit.feed)} · {escape(when)}"
            if visible_length("\n".join([*lines, line])) > MAX_MESSAGE_UTF16:
                break  # a shorter answer beats one Telegram refuses
            lines.append(line)
        return "\n".join(lines)
