"""For every reader: /start /help /recent /hits /search /watchlists /feeds /stats /partners."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.matching.text import html_to_text
from bot.ops.series import stories_per_day
from bot.partners.catalog import Partnerships
from bot.partners.digest import STORED_RESOLUTION, find_actor, partner_map_from
from bot.settings.durations import format_duration
from bot.telegram.commands.deps import (
    MAX_PERIOD,
    CommandDeps,
    find_watchlist,
    is_duration,
    read_period,
    unknown_watchlist,
    watchlist_names,
)
from bot.telegram.commands.paging import RECENT_MAX, PageKind, Pager
from bot.telegram.commands.plumbing import Handler, Request, reply
from bot.telegram.html import CAPTION_LIMIT, bold, code, escape, fit, local_time
from bot.telegram.i18n import t
from bot.telegram.partners import actor_signals, caption

RECENT_DEFAULT = 10
DEFAULT_PARTNERS_PERIOD = 30 * 86400.0
ACTOR_SIGNALS_SHOWN = 10
WATCHLIST_WEEK = timedelta(days=7)  # the hits counted in /watchlists
DAY = 86400  # seconds

COUNT_RE = re.compile(r"[0-9]{1,3}")  # a count in ASCII digits


class PublicCommands:
    """The commands anyone may send, bound to the app's deps and to the pager."""

    def __init__(self, deps: CommandDeps, pager: Pager) -> None:
        self.deps = deps
        self.pager = pager
        self.timezone = ZoneInfo(deps.config.timezone)

    def handlers(self) -> dict[str, Handler]:
        """Each command's name and what answers it, in the order of the help."""
        return {"start": self.start, "help": self.start, "recent": self.recent,
                "hits": self.hits, "search": self.search, "watchlists": self.watchlists,
                "feeds": self.feeds, "stats": self.stats, "partners": self.partners}

    async def start(self, request: Request) -> None:
        """/start and /help: what the bot does and every command."""
        await reply(request.message, t(request.lang, "cmd.help"))

    async def recent(self, request: Request) -> None:
        """/recent [n]: the latest stories with hits, newest first, paged."""
        args, lang = request.args, request.lang
        count = RECENT_DEFAULT
        if args:
            # ASCII digits only: "²" and "①" pass str.isdigit() but not int().
            if not COUNT_RE.fullmatch(args[0]) or not 1 <= int(args[0]) <= RECENT_MAX:
                await reply(request.message,
                            escape(t(lang, "recent.bad_count", max=RECENT_MAX)))
                return
            count = int(args[0])
        await self.pager.send(request.message, lang,
                              self.pager.page(PageKind.RECENT, str(count), 1, lang))

    async def hits(self, request: Request) -> None:
        """/hits <watchlist> [period]: stories for one watchlist."""
        message, args, lang = request.message, request.args, request.lang
        if not args:
            await reply(message, t(lang, "hits.usage"))
            return
        watchlist = find_watchlist(self.deps, args[0])
        if watchlist is None:
            await reply(message, unknown_watchlist(self.deps, args[0], lang))
            return
        period = read_period(args[1] if len(args) > 1 else None)
        if period is None:
            await reply(message, escape(t(lang, "cmd.bad_period", value=args[1])))
            return
        page = self.pager.page(PageKind.HITS, f"{watchlist.id} {period:g}", 1, lang)
        await self.pager.send(message, lang, page)

    async def search(self, request: Request) -> None:
        """/search <words>: full-text search over stored items, best first."""
        query = " ".join(request.args).strip()
        if not html_to_text(query) or not any(c.isalnum() for c in query):
            await reply(request.message, t(request.lang, "search.usage"))
            return
        await self.pager.send(request.message, request.lang,
                              self.pager.page(PageKind.SEARCH, query, 1, request.lang))

    async def watchlists(self, request: Request) -> None:
        """/watchlists: each watchlist, its terms, its week, and whether it is muted."""
        lang = request.lang
        now = self.deps.clock()
        hits = self.deps.store.hits_by_watchlist(now - WATCHLIST_WEEK)
        lines = [bold(t(lang, "watchlists.header"))]
        for w in self.deps.watchlists():
            counts = t(lang, "watchlists.line", terms=len(w.terms), hits=hits.get(w.id, 0))
            line = f"\n{bold(w.name)} ({code(w.id)})\n{escape(w.description)}\n{escape(counts)}"
            until = self.deps.muted().get(w.id)
            if until and until > now:
                when = local_time(until, lang, self.timezone)
                line += "\n" + escape(t(lang, "watchlists.muted", until=when))
            lines.append(line)
        await reply(request.message, fit("\n".join(lines)))

    async def feeds(self, request: Request) -> None:
        """/feeds: feed health, failing feeds first, paged."""
        await self.pager.send(request.message, request.lang,
                              self.pager.page(PageKind.FEEDS, "", 1, request.lang))

    async def stats(self, request: Request) -> None:
        """/stats [period]: a chart of stories per day per watchlist, totals in the caption."""
        from bot.telegram.charts import hits_per_day_png  # matplotlib loads only when asked

        args, lang = request.args, request.lang
        period = read_period(args[0] if args else None)
        if period is None:
            await reply(request.message, escape(t(lang, "cmd.bad_period", value=args[0])))
            return
        days = max(1, math.ceil(period / DAY))
        axis, series = stories_per_day(self.deps.store, (w.id for w in self.deps.watchlists()),
                                       self.deps.clock(), days)
        names = watchlist_names(self.deps)
        png = hits_per_day_png(axis, series, title=t(lang, "stats.title"), labels=names,
                               lang=lang)
        totals = {w: sum(v) for w, v in series.items()}
        details = "".join(f"\n{names.get(w, w)} : {n}" if lang == "fr" else
                          f"\n{names.get(w, w)}: {n}" for w, n in totals.items() if n)
        text = t(lang, "stats.caption", period=format_duration(days * DAY),
                 total=sum(totals.values()), details=details)
        await request.message.reply_photo(png, caption=text[:CAPTION_LIMIT])

    async def partners(self, request: Request) -> None:
        """/partners [period]: the supplier × recipient map as a picture;
        /partners <actor>: that actor's recent signals with their evidence."""
        from bot.partners.chart import partner_matrix_png  # matplotlib loads only when asked

        message, lang = request.message, request.lang
        partnerships = self.deps.partnerships()
        if partnerships is None:
            await reply(message, escape(t(lang, "partners.off")))
            return
        now = self.deps.clock().astimezone(self.timezone)  # dates as the reader counts
        argument = " ".join(request.args)
        period = read_period(argument or None, DEFAULT_PARTNERS_PERIOD)
        if period is None:
            await reply(message, self._about_actor(partnerships, argument, now, lang))
            return
        since = now - timedelta(seconds=period)
        partner_map = partner_map_from(self.deps.store, partnerships, since, now,
                                       self.deps.config.history)
        png = partner_matrix_png(partner_map, partnerships, lang)
        await message.reply_photo(png, caption=caption(partner_map, partnerships, lang))

    def _about_actor(self, partnerships: Partnerships, argument: str, now: datetime,
                     lang: str) -> str:
        """The answer to /partners followed by something that is not a period: the signals
        of the actor it names, or why it names none."""
        actor = find_actor(partnerships, argument)
        if actor is None and is_duration(argument):  # a period, but longer than allowed
            return escape(t(lang, "cmd.bad_period", value=argument))
        if actor is None:
            known = ", ".join(a.names[lang] for a in partnerships.actors)
            return escape(t(lang, "partners.usage", known=known))
        records = self.deps.store.signal_records(
            now - timedelta(seconds=MAX_PERIOD), now + STORED_RESOLUTION, actor=actor.id,
            limit=ACTOR_SIGNALS_SHOWN)
        return actor_signals(actor.id, records, partnerships, lang, self.timezone)
