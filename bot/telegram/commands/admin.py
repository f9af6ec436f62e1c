"""Commands for the bot's maintainers: /watch /mute /unmute /feed."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.errors import BotError
from bot.matching.edit import WatchEditError, add_term, remove_term
from bot.matching.text import html_to_text
from bot.settings.config import FeedConfig, feed_default_interval
from bot.settings.durations import format_duration
from bot.settings.urls import channel_address, redact_text, redact_url, shown_name
from bot.telegram.commands.deps import (
    CommandDeps,
    find_watchlist,
    read_period,
    unknown_watchlist,
    watchlist_names,
)
from bot.telegram.commands.plumbing import Handler, Request, reply
from bot.telegram.html import escape, fit, local_time
from bot.telegram.i18n import t

log = logging.getLogger(__name__)

DEFAULT_MUTE = 86400.0
MAX_FEED_NAME = 100  # characters of a feed's name as stored
FEED_CHECK_SECONDS = 120  # a proposed feed is fetched and parsed within this, or refused
REFUSED_ADDRESS = "refused"  # the reason a FetchError gives for an address it will not fetch


class AdminCommands:
    """The commands that change what the bot watches, bound to the app's deps."""

    def __init__(self, deps: CommandDeps) -> None:
        self.deps = deps
        self.language = deps.config.telegram.language
        self.timezone = ZoneInfo(deps.config.timezone)
        self._work: set[asyncio.Task[None]] = set()  # feed checks still running

    def handlers(self) -> dict[str, Handler]:
        """Each command's name and what answers it."""
        return {"watch": self.watch, "mute": self.mute, "unmute": self.unmute,
                "feed": self.feed}

    async def watch(self, request: Request) -> None:
        """/watch add|remove <watchlist> <term>, /watch test <text>."""
        message, args, lang = request.message, request.args, request.lang
        action = args[0].lower() if args else ""
        if action == "test" and len(args) > 1:
            await reply(message, self._explain(" ".join(args[1:]), lang))
            return
        if action not in ("add", "remove") or len(args) < 3:
            await reply(message, t(lang, "watch.usage"))
            return
        watchlist = find_watchlist(self.deps, args[1])
        if watchlist is None:
            await reply(message, unknown_watchlist(self.deps, args[1], lang))
            return
        term = " ".join(args[2:]).strip()
        refusal = self._edit(action, watchlist.id, term, request.user)
        if refusal is not None:
            await reply(message, escape(t(lang, "watch.refused", reason=refusal)))
            return
        self.deps.reload_watchlists()
        self.deps.store.audit(request.user, request.username, f"watch.{action}", watchlist.id,
                              term, self.deps.clock())
        key = "watch.added" if action == "add" else "watch.removed"
        await reply(message, escape(t(lang, key, term=term, name=watchlist.name)))

    def _edit(self, action: str, watchlist: str, term: str, user: int) -> str | None:
        """Add or remove ``term`` in the watchlist's file; why not, if it was refused."""
        directory = self.deps.config.watchlists_dir
        try:
            if action == "add":
                add_term(directory, watchlist, term)
            else:
                remove_term(directory, watchlist, term)
        except WatchEditError as exc:
            log.info("watch change refused user=%s watchlist=%s code=%s", user, watchlist,
                     exc.code)
            return str(exc)
        except OSError as exc:
            log.error("watch change failed user=%s watchlist=%s error=%s", user, watchlist,
                      exc)
            return f"{exc.strerror}"  # formatted as the message always has, None included
        return None

    def _explain(self, text: str, lang: str) -> str:
        """What the watchlists find in ``text``, one line per hit, then each term found
        that does not count and why (Telegram HTML)."""
        matcher = self.deps.matcher()
        plain = html_to_text(text)
        hits = matcher.match(plain)
        refused = [v for v in matcher.explain(plain) if not v.counts]
        names = watchlist_names(self.deps)
        lines = [t(lang, "watch.match", name=names.get(h.watchlist, h.watchlist), text=h.text,
                   term=h.term, field=t(lang, f"alert.field.{h.field}"), score=h.score)
                 for h in hits]
        lines += [t(lang, "watch.not_counted", name=names.get(v.watchlist, v.watchlist),
                    text=v.text, term=v.term,
                    why=t(lang, f"watch.why.{v.rule}", detail=v.detail))
                  for v in refused]
        if not hits:
            lines.append(t(lang, "watch.no_match"))
        return fit("\n".join(escape(line) for line in lines))

    async def mute(self, request: Request) -> None:
        """/mute <watchlist> [period]: no alerts for a while; hits are still stored."""
        message, args, lang = request.message, request.args, request.lang
        if not args:
            await reply(message, t(lang, "mute.usage"))
            return
        watchlist = find_watchlist(self.deps, args[0])
        if watchlist is None:
            await reply(message, unknown_watchlist(self.deps, args[0], lang))
            return
        period = read_period(args[1] if len(args) > 1 else None, DEFAULT_MUTE)
        if period is None:
            await reply(message, escape(t(lang, "cmd.bad_period", value=args[1])))
            return
        now = self.deps.clock()
        until = now + timedelta(seconds=period)
        self.deps.store.set_mute(watchlist.id, until, request.user, now)
        self.deps.mutes_changed()
        self.deps.store.audit(request.user, request.username, "mute", watchlist.id,
                              format_duration(period), now)
        await reply(message, escape(t(lang, "mute.done", name=watchlist.name,
                                      until=local_time(until, lang, self.timezone))))

    async def unmute(self, request: Request) -> None:
        """/unmute <watchlist>."""
        message, args, lang = request.message, request.args, request.lang
        watchlist = find_watchlist(self.deps, args[0]) if args else None
        if watchlist is None:
            await reply(message, unknown_watchlist(self.deps, args[0], lang) if args
                        else t(lang, "mute.usage"))
            return
        now = self.deps.clock()
        self.deps.store.set_mute(watchlist.id, None, request.user, now)
        self.deps.mutes_changed()
        self.deps.store.audit(request.user, request.username, "unmute", watchlist.id, "", now)
        await reply(message, escape(t(lang, "unmute.done", name=watchlist.name)))

    async def feed(self, request: Request) -> None:
        """/feed add <url> [name], /feed remove <name>."""
        message, args, lang = request.message, request.args, request.lang
        action = args[0].lower() if args else ""
        if action == "remove" and len(args) > 1:
            name = " ".join(args[1:])
            if not self.deps.store.remove_feed(name):
                await reply(message, escape(t(lang, "feed.unknown", name=name)))
                return
            self.deps.store.audit(request.user, request.username, "feed.remove", name, "",
                                  self.deps.clock())
            await reply(message, escape(t(lang, "feed.removed", name=name)))
            return
        if action != "add" or len(args) < 2:
            await reply(message, t(lang, "feed.usage"))
            return
        await self._add_feed(request, args[1], " ".join(args[2:]).strip())

    async def _add_feed(self, request: Request, url: str, name: str) -> None:
        """Say "checking…", then check the feed in a task of its own: chat commands are
        answered one at a time, and a slow feed must not hold up everyone else's."""
        await reply(request.message, escape(t(request.lang, "feed.checking")))
        task = asyncio.create_task(self._check_and_add(request, url, name),
                                   name=f"feed-check-{request.user}")
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    async def _check_and_add(self, request: Request, url: str, name: str) -> None:
        """Read the feed at ``url`` once; keep it if it parses, and say what it would flag."""
        try:
            async with asyncio.timeout(FEED_CHECK_SECONDS):
                await self._checked_add(request, url, name)
        except TimeoutError:
            await reply(request.message, escape(t(request.lang, "feed.failed",
                                                  reason=f"timeout ({FEED_CHECK_SECONDS}s)")))
        except Exception:  # a bug costs this check, never the bot; the log has the rest
            log.exception("feed check failed user=%s", request.user)
            await reply(request.message, escape(t(request.lang, "feed.failed", reason="error")))

    async def _checked_add(self, request: Request, url: str, name: str) -> None:
        lang = request.lang
        url = channel_address(url) or url  # a channel is read from its web preview
        try:
            parsed = await self.deps.check_feed(url)
        except BotError as exc:
            key = "feed.bad_url" if getattr(exc, "reason", "") == REFUSED_ADDRESS \
                else "feed.failed"
            await reply(request.message, escape(t(lang, key, reason=redact_text(str(exc)))))
            return
        # Named by the admin, by the feed itself, or by its host and path: never by an
        # address that may carry a password, which /feeds would show to everyone.
        name = redact_text(name or parsed.title or shown_name(url))
        matcher = self.deps.matcher()
        matched = sum(1 for item in parsed.items if matcher.match(item.title, item.summary))
        self.deps.store.add_feed(FeedConfig(name=name[:MAX_FEED_NAME], url=url,
                                            lang=self.language,
                                            interval=feed_default_interval(
                                                url, self.deps.config.polling.default_interval)))
        self.deps.store.audit(request.user, request.username, "feed.add", redact_url(url), name,
                              self.deps.clock())
        await reply(request.message, escape(t(lang, "feed.added", name=name,
                                              items=len(parsed.items), matched=matched)))
