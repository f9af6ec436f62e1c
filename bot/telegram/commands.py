"""Chat commands: check the arguments, ask the store, reply in the reader's language."""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.errors import BotError
from bot.ingest.parse import ParsedFeed
from bot.matching.edit import WatchEditError, add_term, remove_term
from bot.matching.matcher import Matcher
from bot.matching.text import html_to_text
from bot.matching.watchlists import Watchlist
from bot.partners.catalog import Partnerships
from bot.partners.digest import STORED_RESOLUTION, find_actor
from bot.settings.config import Config, FeedConfig
from bot.settings.durations import format_duration, parse_duration
from bot.storage.store import FeedHealth, Store, StorySummary
from bot.telegram.html import CAPTION_LIMIT, escape, fit, link, local_time
from bot.telegram.i18n import LANGUAGES, pick_language, t
from bot.telegram.partners import actor_signals, caption

log = logging.getLogger(__name__)

RECENT_DEFAULT = 10
RECENT_MAX = 50
PAGE_SIZE = 5
DEFAULT_PERIOD = 7 * 86400.0
DEFAULT_PARTNERS_PERIOD = 30 * 86400.0
ACTOR_SIGNALS_SHOWN = 10
MAX_LISTED_TITLE = 200
MAX_PERIOD = 90 * 86400.0
DEFAULT_MUTE = 86400.0
MAX_ARGUMENT_CHARS = 300
# A user may send this many commands in this many seconds before being asked to slow down.
RATE_LIMIT_COMMANDS = 6
RATE_LIMIT_WINDOW = 30.0
PAGED_QUERIES_KEPT = 500
CALLBACK_PREFIX = "pg"

PUBLIC_COMMANDS = ("start", "help", "recent", "hits", "search", "watchlists", "feeds", "stats",
                   "partners")
ADMIN_COMMANDS = ("watch", "mute", "unmute", "feed")
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

CheckFeed = Callable[[str], Awaitable[ParsedFeed]]


@dataclass
class CommandDeps:
    """What the commands read and change; the app owns them."""

    store: Store
    config: Config
    watchlists: Callable[[], tuple[Watchlist, ...]]
    matcher: Callable[[], Matcher]
    reload_watchlists: Callable[[], bool]
    muted: dict[str, datetime]
    check_feed: CheckFeed
    clock: Callable[[], datetime]
    partnerships: Callable[[], Partnerships | None] = lambda: None


@dataclass(frozen=True)
class Page:
    """One page of a long answer, with where the buttons lead."""

    text: str
    number: int
    pages: int
    key: str  # identifies the query, for the next/previous buttons


@dataclass
class _RateLimiter:
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


class Commands:
    """The bot's chat commands, bound to the app's store, watchlists and settings."""

    def __init__(self, deps: CommandDeps, *, rate_clock: Callable[[], float] = time.monotonic):
        self.deps = deps
        self.language = deps.config.telegram.language
        self.timezone = ZoneInfo(deps.config.timezone)
        self.admins = frozenset(deps.config.telegram.admins)
        self._limiter = _RateLimiter(rate_clock)
        self._queries: dict[str, tuple[str, str]] = {}

    # Registration ------------------------------------------------------------------------

    def install(self, application: Application) -> None:  # type: ignore[type-arg]
        """Register every handler on ``application``."""
        for name in PUBLIC_COMMANDS + ADMIN_COMMANDS:
            application.add_handler(CommandHandler(name, self._guarded(name)))
        application.add_handler(CallbackQueryHandler(self.page_button,
                                                     pattern=f"^{CALLBACK_PREFIX}\\|"))

    async def register_descriptions(self, application: Application) -> None:  # type: ignore[type-arg]
        """Publish the command menu in each language (setMyCommands)."""
        for lang in LANGUAGES:
            commands = [BotCommand(n, d) for n, d in COMMAND_DESCRIPTIONS[lang].items()]
            await application.bot.set_my_commands(commands, language_code=lang)
        default = COMMAND_DESCRIPTIONS[self.language]
        await application.bot.set_my_commands([BotCommand(n, d) for n, d in default.items()])

    def _guarded(self, name: str) -> Callable[[Update, ContextTypes.DEFAULT_TYPE],
                                              Coroutine[Any, Any, None]]:
        handler = getattr(self, f"cmd_{name}")

        async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message, user = update.effective_message, update.effective_user
            if message is None or user is None:
                return
            lang = self._lang(update)
            # Maintainers are trusted; everyone else is slowed down past a few commands.
            allowed = True if user.id in self.admins else self._limiter.allow(user.id)
            if allowed is None:
                return
            if allowed is False:
                log.info("command throttled user=%s command=%s", user.id, name)
                await self._reply(message, escape(t(lang, "cmd.slow_down")))
                return
            args = list(context.args or [])
            if sum(len(a) for a in args) > MAX_ARGUMENT_CHARS:
                await self._reply(message, escape(t(lang, "cmd.too_long",
                                                    max=MAX_ARGUMENT_CHARS)))
                return
            if name in ADMIN_COMMANDS and user.id not in self.admins:
                log.warning("command refused user=%s command=%s reason=not-admin chat=%s",
                            user.id, name, message.chat_id)
                await self._reply(message, escape(t(lang, "cmd.not_admin")))
                return
            log.info("command user=%s command=%s args=%d", user.id, name, len(args))
            await handler(message, args, lang, user.id, user.username)

        return run

    def _lang(self, update: Update) -> str:
        user = update.effective_user
        return pick_language(user.language_code if user else None, self.language)

    async def _reply(self, message: Message, text: str,
                     markup: InlineKeyboardMarkup | None = None) -> None:
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                 link_preview_options=LinkPreviewOptions(is_disabled=True))

    # For everyone -------------------------------------------------------------------------

    async def cmd_start(self, message: Message, args: list[str], lang: str, user: int,
                        username: str | None) -> None:
        """/start: what the bot does and every command."""
        await self._reply(message, t(lang, "cmd.help"))

    cmd_help = cmd_start

    async def cmd_recent(self, message: Message, args: list[str], lang: str, user: int,
                         username: str | None) -> None:
        """/recent [n]: the latest stories with hits, newest first, paged."""
        count = RECENT_DEFAULT
        if args:
            if not args[0].isdigit() or not 1 <= int(args[0]) <= RECENT_MAX:
                await self._reply(message, escape(t(lang, "recent.bad_count", max=RECENT_MAX)))
                return
            count = int(args[0])
        await self._send_page(message, lang, self.page("r", str(count), 1, lang))

    async def cmd_hits(self, message: Message, args: list[str], lang: str, user: int,
                       username: str | None) -> None:
        """/hits <watchlist> [period]: stories for one watchlist."""
        if not args:
            await self._reply(message, t(lang, "hits.usage"))
            return
        watchlist = self._watchlist(args[0])
        if watchlist is None:
            await self._reply(message, self._unknown(args[0], lang))
            return
        period = self._period(args[1] if len(args) > 1 else None)
        if period is None:
            await self._reply(message, escape(t(lang, "cmd.bad_period", value=args[1])))
            return
        await self._send_page(message, lang,
                              self.page("h", f"{watchlist.id} {period:g}", 1, lang))

    async def cmd_search(self, message: Message, args: list[str], lang: str, user: int,
                         username: str | None) -> None:
        """/search <words>: full-text search over stored items, best first."""
        query = " ".join(args).strip()
        if not html_to_text(query) or not any(c.isalnum() for c in query):
            await self._reply(message, t(lang, "search.usage"))
            return
        await self._send_page(message, lang, self.page("s", query, 1, lang))

    async def cmd_watchlists(self, message: Message, args: list[str], lang: str, user: int,
                             username: str | None) -> None:
        """/watchlists: each watchlist, its terms, its week, and whether it is muted."""
        now = self.deps.clock()
        hits = self.deps.store.hits_by_watchlist(now - timedelta(days=7))
        lines = [f"<b>{escape(t(lang, 'watchlists.header'))}</b>"]
        for w in self.deps.watchlists():
            counts = t(lang, "watchlists.line", terms=len(w.terms), hits=hits.get(w.id, 0))
            line = (f"\n<b>{escape(w.name)}</b> (<code>{escape(w.id)}</code>)\n"
                    f"{escape(w.description)}\n{escape(counts)}")
            until = self.deps.muted.get(w.id)
            if until and until > now:
                line += "\n" + escape(t(lang, "watchlists.muted", until=self._when(until, lang)))
            lines.append(line)
        await self._reply(message, fit("\n".join(lines)))

    async def cmd_feeds(self, message: Message, args: list[str], lang: str, user: int,
                        username: str | None) -> None:
        """/feeds: feed health, failing feeds first, paged."""
        await self._send_page(message, lang, self.page("f", "", 1, lang))

    async def cmd_stats(self, message: Message, args: list[str], lang: str, user: int,
                        username: str | None) -> None:
        """/stats [period]: a chart of stories per day per watchlist, totals in the caption."""
        from bot.telegram.charts import hits_per_day_png  # matplotlib loads only when asked

        period = self._period(args[0] if args else None)
        if period is None:
            await self._reply(message, escape(t(lang, "cmd.bad_period", value=args[0])))
            return
        now = self.deps.clock()
        days = max(1, math.ceil(period / 86400))
        start = (now - timedelta(days=days - 1)).date()
        axis = [start + timedelta(days=n) for n in range(days)]
        counts = self.deps.store.hits_per_day(datetime.combine(start, datetime.min.time(),
                                                               tzinfo=now.tzinfo))
        names = {w.id: w.name for w in self.deps.watchlists()}
        series = {w: [counts.get(w, {}).get(d.isoformat(), 0) for d in axis]
                  for w in sorted(set(names) | set(counts))}
        png = hits_per_day_png(axis, series, title=t(lang, "stats.title"), labels=names,
                               lang=lang)
        totals = {w: sum(v) for w, v in series.items()}
        details = "".join(f"\n{names.get(w, w)} : {n}" if lang == "fr" else
                          f"\n{names.get(w, w)}: {n}" for w, n in totals.items() if n)
        caption = t(lang, "stats.caption", period=format_duration(days * 86400),
                    total=sum(totals.values()), details=details)
        await message.reply_photo(png, caption=caption[:CAPTION_LIMIT])

    async def cmd_partners(self, message: Message, args: list[str], lang: str, user: int,
                           username: str | None) -> None:
        """/partners [period]: the supplier × recipient map as a picture;
        /partners <actor>: that actor's recent signals with their evidence."""
        from bot.partners.chart import partner_matrix_png  # matplotlib loads only when asked
        from bot.partners.digest import partner_map_from

        partnerships = self.deps.partnerships()
        if partnerships is None:
            await self._reply(message, escape(t(lang, "partners.off")))
            return
        now = self.deps.clock().astimezone(self.timezone)  # dates as the reader counts
        argument = " ".join(args)
        period = self._period(argument or None, DEFAULT_PARTNERS_PERIOD)
        if period is None:
            actor = find_actor(partnerships, argument)
            if actor is None and _is_duration(argument):  # a period, but longer than allowed
                await self._reply(message, escape(t(lang, "cmd.bad_period", value=argument)))
                return
            if actor is None:
                known = ", ".join(a.names[lang] for a in partnerships.actors)
                await self._reply(message, escape(t(lang, "partners.usage", known=known)))
                return
            await self._reply(message, self._actor_signals(partnerships, actor.id, now, lang))
            return
        since = now - timedelta(seconds=period)
        partner_map = partner_map_from(self.deps.store, partnerships, since, now,
                                       self.deps.config.history)
        png = partner_matrix_png(partner_map, partnerships, lang)
        await message.reply_photo(png, caption=caption(partner_map, partnerships, lang))

    def _actor_signals(self, partnerships: Partnerships, actor: str, now: datetime,
                       lang: str) -> str:
        """One actor's latest signals: when, who → whom and what, evidence, the article."""
        records = self.deps.store.signal_records(
            now - timedelta(seconds=MAX_PERIOD), now + STORED_RESOLUTION, actor=actor,
            limit=ACTOR_SIGNALS_SHOWN)
        return actor_signals(actor, records, partnerships, lang, self.timezone)

    # For maintainers ----------------------------------------------------------------------

    async def cmd_watch(self, message: Message, args: list[str], lang: str, user: int,
                        username: str | None) -> None:
        """/watch add|remove <watchlist> <term>, /watch test <text>."""
        action = args[0].lower() if args else ""
        if action == "test" and len(args) > 1:
            await self._reply(message, self._explain(" ".join(args[1:]), lang))
            return
        if action not in ("add", "remove") or len(args) < 3:
            await self._reply(message, t(lang, "watch.usage"))
            return
        watchlist = self._watchlist(args[1])
        if watchlist is None:
            await self._reply(message, self._unknown(args[1], lang))
            return
        term = " ".join(args[2:]).strip()
        directory = self.deps.config.watchlists_dir
        try:
            if action == "add":
                add_term(directory, watchlist.id, term)
            else:
                remove_term(directory, watchlist.id, term)
        except WatchEditError as exc:
            log.info("watch change refused user=%s watchlist=%s code=%s", user, watchlist.id,
                     exc.code)
            await self._reply(message, escape(t(lang, "watch.refused", reason=str(exc))))
            return
        except OSError as exc:
            log.error("watch change failed user=%s watchlist=%s error=%s", user, watchlist.id,
                      exc)
            await self._reply(message, escape(t(lang, "watch.refused", reason=exc.strerror)))
            return
        self.deps.reload_watchlists()
        self.deps.store.audit(user, username, f"watch.{action}", watchlist.id, term,
                              self.deps.clock())
        key = "watch.added" if action == "add" else "watch.removed"
        await self._reply(message, escape(t(lang, key, term=term, name=watchlist.name)))

    def _explain(self, text: str, lang: str) -> str:
        hits = self.deps.matcher().match(html_to_text(text))
        if not hits:
            return escape(t(lang, "watch.no_match"))
        names = {w.id: w.name for w in self.deps.watchlists()}
        return fit("\n".join(escape(t(lang, "watch.match", name=names.get(h.watchlist,
                                       h.watchlist), text=h.text, term=h.term,
                                       field=t(lang, f"alert.field.{h.field}"), score=h.score))
                              for h in hits))

    async def cmd_mute(self, message: Message, args: list[str], lang: str, user: int,
                       username: str | None) -> None:
        """/mute <watchlist> [period]: no alerts for a while; hits are still stored."""
        if not args:
            await self._reply(message, t(lang, "mute.usage"))
            return
        watchlist = self._watchlist(args[0])
        if watchlist is None:
            await self._reply(message, self._unknown(args[0], lang))
            return
        period = self._period(args[1] if len(args) > 1 else None, DEFAULT_MUTE)
        if period is None:
            await self._reply(message, escape(t(lang, "cmd.bad_period", value=args[1])))
            return
        now = self.deps.clock()
        until = now + timedelta(seconds=period)
        self.deps.store.set_mute(watchlist.id, until, user, now)
        self.deps.muted[watchlist.id] = until
        self.deps.store.audit(user, username, "mute", watchlist.id, format_duration(period),
                              now)
        await self._reply(message, escape(t(lang, "mute.done", name=watchlist.name,
                                            until=self._when(until, lang))))

    async def cmd_unmute(self, message: Message, args: list[str], lang: str, user: int,
                         username: str | None) -> None:
        """/unmute <watchlist>."""
        watchlist = self._watchlist(args[0]) if args else None
        if watchlist is None:
            await self._reply(message, self._unknown(args[0], lang) if args
                              else t(lang, "mute.usage"))
            return
        now = self.deps.clock()
        self.deps.store.set_mute(watchlist.id, None, user, now)
        self.deps.muted.pop(watchlist.id, None)
        self.deps.store.audit(user, username, "unmute", watchlist.id, "", now)
        await self._reply(message, escape(t(lang, "unmute.done", name=watchlist.name)))

    async def cmd_feed(self, message: Message, args: list[str], lang: str, user: int,
                       username: str | None) -> None:
        """/feed add <url> [name], /feed remove <name>."""
        action = args[0].lower() if args else ""
        if action == "remove" and len(args) > 1:
            name = " ".join(args[1:])
            if not self.deps.store.remove_feed(name):
                await self._reply(message, escape(t(lang, "feed.unknown", name=name)))
                return
            self.deps.store.audit(user, username, "feed.remove", name, "", self.deps.clock())
            await self._reply(message, escape(t(lang, "feed.removed", name=name)))
            return
        if action != "add" or len(args) < 2:
            await self._reply(message, t(lang, "feed.usage"))
            return
        url = args[1]
        try:
            parsed = await self.deps.check_feed(url)
        except BotError as exc:
            key = "feed.bad_url" if getattr(exc, "reason", "") == "refused" else "feed.failed"
            await self._reply(message, escape(t(lang, key, reason=str(exc))))
            return
        name = " ".join(args[2:]).strip() or parsed.title or url
        matcher = self.deps.matcher()
        matched = sum(1 for item in parsed.items if matcher.match(item.title, item.summary))
        self.deps.store.add_feed(FeedConfig(name=name[:100], url=url, lang=self.language,
                                            interval=self.deps.config.polling.default_interval))
        self.deps.store.audit(user, username, "feed.add", url, name, self.deps.clock())
        await self._reply(message, escape(t(lang, "feed.added", name=name,
                                            items=len(parsed.items), matched=matched)))

    # Pages --------------------------------------------------------------------------------

    def page(self, kind: str, argument: str, number: int, lang: str) -> Page:
        """Page ``number`` of a paged answer: r(ecent), h(its), s(earch) or f(eeds)."""
        key = self._remember(kind, argument)
        if kind == "f":
            return self._feeds_page(number, lang, key)
        if kind == "s":
            total_found = self.deps.store.search(argument, RECENT_MAX)
            pages = max(1, math.ceil(len(total_found) / PAGE_SIZE))
            number = min(max(1, number), pages)
            chunk = total_found[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
            if not chunk:
                return Page(escape(t(lang, "search.empty", query=argument)), 1, 1, key)
            header = t(lang, "search.header", query=argument, count=len(total_found))
            lines = [self._line(r.title, r.link, r.source, r.when, lang) for r in chunk]
            return self._assemble(header, lines, number, pages, key, lang)
        if kind == "h":
            watchlist_id, seconds = argument.split(" ")
            since = self.deps.clock() - timedelta(seconds=float(seconds))
            period = format_duration(float(seconds))
            total = self.deps.store.count_stories(watchlist=watchlist_id, since=since)
            name = next((w.name for w in self.deps.watchlists() if w.id == watchlist_id),
                        watchlist_id)
            if not total:
                return Page(escape(t(lang, "hits.empty", name=name, period=period)), 1, 1, key)
            pages = max(1, math.ceil(total / PAGE_SIZE))
            number = min(max(1, number), pages)
            stories = self.deps.store.recent_stories(PAGE_SIZE, (number - 1) * PAGE_SIZE,
                                                     watchlist=watchlist_id, since=since)
            header = t(lang, "hits.header", name=name, count=total, period=period)
            return self._assemble(header, [self._story(s, lang) for s in stories], number,
                                  pages, key, lang)
        count = int(argument)
        total = self.deps.store.count_stories(at_most=count)
        if not total:
            return Page(escape(t(lang, "recent.empty")), 1, 1, key)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        number = min(max(1, number), pages)
        size = min(PAGE_SIZE, total - (number - 1) * PAGE_SIZE)
        stories = self.deps.store.recent_stories(size, (number - 1) * PAGE_SIZE)
        header = t(lang, "recent.header_stories", count=total)
        return self._assemble(header, [self._story(s, lang) for s in stories], number, pages,
                              key, lang)

    def _feeds_page(self, number: int, lang: str, key: str) -> Page:
        health = self.deps.store.feed_health(self.deps.clock() - timedelta(days=7))
        pages = max(1, math.ceil(len(health) / PAGE_SIZE))
        number = min(max(1, number), pages)
        lines = []
        for feed in health[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]:
            icon = "❌" if feed.failures >= 3 else "⚠️" if feed.failures else "✅"
            share = f"{100 * feed.not_modified / feed.checks:.0f} %" if feed.checks else "–"
            success = (self._when(feed.last_success, lang) if feed.last_success
                       else t(lang, "feeds.never"))
            line = (f"{icon} <b>{escape(feed.name)}</b>\n" + escape(t(
                lang, "feeds.line", success=success, failures=feed.failures, share=share,
                items=feed.items_recent)))
            pace = _pace(feed, lang)
            if pace:
                line += f"\n{escape(pace)}"
            if feed.last_error:
                line += f"\n<i>{escape(feed.last_error[:150])}</i>"
            lines.append(line)
        return self._assemble(t(lang, "feeds.header", count=len(health)), lines, number,
                              pages, key, lang)

    def _assemble(self, header: str, lines: Sequence[str], number: int, pages: int, key: str,
                  lang: str) -> Page:
        footer = f"\n<i>{escape(t(lang, 'cmd.page', page=number, pages=pages))}</i>" \
            if pages > 1 else ""
        text = fit(f"<b>{escape(header)}</b>\n\n" + "\n\n".join(lines), footer)
        return Page(text, number, pages, key)

    def _story(self, story: StorySummary, lang: str) -> str:
        names = {w.id: w.name for w in self.deps.watchlists()}
        line = self._line(story.title, story.link, story.source, story.when, lang)
        tags = ", ".join(escape(names.get(w, w)) for w in story.watchlists)
        outlets = f" · {escape(t(lang, 'story.outlets', count=story.outlets))}" \
            if story.outlets > 1 else ""
        return f"{line}\n<i>{tags}</i>{outlets}"

    def _line(self, title: str, url: str | None, source: str, when: datetime,
              lang: str) -> str:
        linked = link(url, title[:MAX_LISTED_TITLE] or "…")
        return f"• {linked}\n{escape(source)} · {escape(self._when(when, lang))}"

    def _remember(self, kind: str, argument: str) -> str:
        key = f"{kind}{abs(hash((kind, argument))) % 10**10}"
        if len(self._queries) >= PAGED_QUERIES_KEPT:
            self._queries.pop(next(iter(self._queries)))
        self._queries[key] = (kind, argument)
        return key

    async def _send_page(self, message: Message, lang: str, page: Page) -> None:
        await self._reply(message, page.text, self._buttons(page, lang))

    def _buttons(self, page: Page, lang: str) -> InlineKeyboardMarkup | None:
        if page.pages <= 1:
            return None
        row = []
        if page.number > 1:
            row.append(InlineKeyboardButton(
                t(lang, "cmd.previous"),
                callback_data=f"{CALLBACK_PREFIX}|{page.key}|{page.number - 1}"))
        if page.number < page.pages:
            row.append(InlineKeyboardButton(
                t(lang, "cmd.next"),
                callback_data=f"{CALLBACK_PREFIX}|{page.key}|{page.number + 1}"))
        return InlineKeyboardMarkup([row])

    async def page_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A next or previous button: edit the message to show that page."""
        query = update.callback_query
        if query is None or not query.data:
            return
        lang = self._lang(update)
        _, key, number = query.data.split("|")
        remembered = self._queries.get(key)
        if remembered is None:
            await query.answer(t(lang, "cmd.expired"))
            return
        page = self.page(remembered[0], remembered[1], int(number), lang)
        await query.answer()
        await query.edit_message_text(page.text, parse_mode=ParseMode.HTML,
                                      reply_markup=self._buttons(page, lang),
                                      link_preview_options=LinkPreviewOptions(is_disabled=True))

    # Reports -------------------------------------------------------------------------------

    def health_report(self, lang: str) -> str:
        """The daily report to the admins: feeds, stories, alerts."""
        now = self.deps.clock()
        day = now - timedelta(days=1)
        health = self.deps.store.feed_health(day)
        failing = [f.name for f in health if f.failures]
        stale = [f.name for f in health if not f.last_success or f.last_success < day]
        hits = self.deps.store.hits_by_watchlist(day)
        names = {w.id: w.name for w in self.deps.watchlists()}
        alerts = self.deps.store.alert_counts(day)
        lines = [
            f"<b>{escape(t(lang, 'report.title'))}</b> · {escape(self._when(now, lang))}",
            escape(t(lang, "report.feeds", failing=", ".join(failing) or "0",
                     stale=", ".join(stale) or "0")),
            escape(t(lang, "report.hits", hits=", ".join(
                f"{names.get(w, w)} {n}" for w, n in sorted(hits.items())) or "0")),
            escape(t(lang, "report.alerts", sent=alerts.get("sent", 0),
                     pending=alerts.get("pending", 0), failed=alerts.get("failed", 0))),
        ]
        return fit("\n".join(lines))

    # Helpers -------------------------------------------------------------------------------

    def _watchlist(self, name: str) -> Watchlist | None:
        wanted = name.lower().strip()
        return next((w for w in self.deps.watchlists() if w.id == wanted), None)

    def _unknown(self, name: str, lang: str) -> str:
        known = ", ".join(w.id for w in self.deps.watchlists())
        return escape(t(lang, "cmd.unknown_watchlist", name=name[:50], known=known))

    @staticmethod
    def _period(value: str | None, default: float = DEFAULT_PERIOD) -> float | None:
        if value is None:
            return default
        try:
            seconds = parse_duration(value)
        except ValueError:
            return None
        return seconds if seconds <= MAX_PERIOD else None

    def _when(self, moment: datetime, lang: str) -> str:
        return local_time(moment, lang, self.timezone)


def _is_duration(value: str) -> bool:
    """True when ``value`` reads as a duration (such as 120d), whatever its length."""
    try:
        parse_duration(value)
    except ValueError:
        return False
    return True


def _pace(feed: FeedHealth, lang: str) -> str:
    """How often a feed is polled now, and why, once it has been polled."""
    if feed.every is None:
        return ""
    every = format_duration(feed.every)
    parts = [t(lang, "feeds.pace", every=every)]
    if feed.interval is not None and feed.every > feed.interval and (
            feed.cache_seconds is None or feed.every > feed.cache_seconds):
        parts = [t(lang, "feeds.slowed", every=every, interval=format_duration(feed.interval))]
    if feed.cache_seconds:
        parts.append(t(lang, "feeds.cache", cache=format_duration(feed.cache_seconds)))
    return " · ".join(parts)

