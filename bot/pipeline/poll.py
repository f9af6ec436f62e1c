"""One poll of one feed, and of many at once: fetch, parse, match, store, queue alerts."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.errors import FetchError, ParseError
from bot.ingest.cadence import next_interval
from bot.ingest.fetch import Fetcher, RetryLater
from bot.ingest.parse import ParsedFeed, ParsedItem
from bot.matching.matcher import Matcher
from bot.ops.metrics import NoMetrics, Recorder
from bot.partners.catalog import Partnerships
from bot.partners.detect import SignalDetector
from bot.settings.config import PollingConfig
from bot.storage.store import (
    FeedState,
    NewItem,
    Pace,
    RenderedAlert,
    SignalStoryView,
    Store,
    StoryView,
    Target,
)
from bot.stories.index import StoryIndex, content_hash
from bot.telegram.alerts import AlertContent, format_alert, format_signal_alert

log = logging.getLogger(__name__)

ParseFunction = Callable[[bytes, str, str | None], Awaitable[ParsedFeed]]
# A feed date ahead of our clock is a feed's mistake (or its clock's): the alert shows ours.
MAX_FUTURE_SKEW = timedelta(0)


@dataclass(frozen=True)
class FeedOutcome:
    """What polling one feed did."""

    feed: str
    status: str  # "new", "not-modified", "unchanged" or "failed"
    items: int = 0
    new_items: int = 0
    hits: int = 0
    alerts: int = 0
    error: str | None = None


@dataclass(frozen=True)
class CycleReport:
    """Totals of one poll cycle, for the summary log line."""

    outcomes: tuple[FeedOutcome, ...] = field(default_factory=tuple)

    def count(self, status: str) -> int:
        """Feeds that ended with ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    def total(self, attribute: str) -> int:
        """Sum of one numeric attribute over the feeds."""
        return sum(int(getattr(o, attribute)) for o in self.outcomes)


@dataclass
class StageTimes:
    """CPU seconds the poller's thread spent on each stage since it started."""

    match: float = 0.0
    stories: float = 0.0
    store: float = 0.0
    signals: float = 0.0  # partnership detection (not a stage the benchmark targets)

    @property
    def total(self) -> float:
        """Match, story detection and store together."""
        return self.match + self.stories + self.store


@dataclass
class AlertSettings:
    """Where new alerts go and how they read."""

    chat: str
    language: str
    timezone: ZoneInfo
    names: dict[str, str]
    priorities: dict[str, str]
    routes: dict[str, Target] = field(default_factory=dict)  # watchlists sent elsewhere
    muted: dict[str, datetime] = field(default_factory=dict)  # watchlist -> end of mute


@dataclass(frozen=True)
class PartnerSettings:
    """Partnership detection: the file's actors and kinds, and the detector built on them."""

    partnerships: Partnerships
    detector: SignalDetector


class Poller:
    """Polls feeds concurrently; one feed's failure never touches another."""

    def __init__(self, *, store: Store, fetcher: Fetcher, parse: ParseFunction,
                 matcher: Matcher, alerts: AlertSettings, config: PollingConfig,
                 stories: StoryIndex, clock: Callable[[], datetime],
                 metrics: Recorder | None = None,
                 partners: PartnerSettings | None = None) -> None:
        self.store = store
        self.stories = stories
        self.fetcher = fetcher
        self.parse = parse
        self.matcher = matcher
        self.alerts = alerts
        self.config = config
        self.clock = clock
        self.stages = StageTimes()
        self.metrics: Recorder = metrics or NoMetrics()
        self.partners = partners

    async def poll(self, feeds: Sequence[FeedState]) -> CycleReport:
        """Poll ``feeds`` at once (within the fetcher's limits) and report."""
        outcomes = await asyncio.gather(*(self.poll_feed(feed) for feed in feeds))
        report = CycleReport(tuple(outcomes))
        started = time.thread_time()
        try:
            self.store.index_search()
        except sqlite3.Error as exc:  # the next cycle or search tries again
            log.error("search index update failed error=%s", exc)
        self.stages.store += time.thread_time() - started
        return report

    async def poll_feed(self, feed: FeedState) -> FeedOutcome:
        """Fetch, parse, match and store one feed; errors are logged and backed off."""
        try:
            return await self._poll(feed)
        except (FetchError, ParseError) as exc:
            return self._failed(feed, exc)
        except sqlite3.Error as exc:
            log.error("store failed feed=%s error=%s", feed.name, exc)
            return FeedOutcome(feed.name, "failed", error=f"database: {exc}")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must cost one feed, not the cycle
            log.exception("feed crashed feed=%s url=%s", feed.name, feed.url)
            return self._failed(feed, exc)

    async def _poll(self, feed: FeedState) -> FeedOutcome:
        result = await self.fetcher.fetch(feed.url, feed.etag, feed.last_modified)
        now = self.clock()
        quiet = self._pace(feed, now, feed.quiet_polls + 1, result.cache_seconds)
        if result.not_modified:
            self.store.record_not_modified(feed.id, now, quiet)
            log.debug("feed not modified feed=%s", feed.name)
            return FeedOutcome(feed.name, "not-modified")
        digest = content_hash(result.body)
        if digest == feed.body_hash:
            self.store.record_not_modified(feed.id, now, quiet)
            log.debug("feed unchanged feed=%s", feed.name)
            return FeedOutcome(feed.name, "unchanged")
        parsed = await self.parse(result.body, result.url, result.content_type)
        if parsed.warning:
            log.info("feed irregular but readable feed=%s warning=%s", feed.name,
                     parsed.warning[:200])
        if parsed.truncated:
            log.warning("feed too long feed=%s dropped_items=%d", feed.name, parsed.truncated)
        started = time.thread_time()
        fresh, retitled = self.store.unseen(feed, parsed.items)
        unseen_done = time.thread_time()
        read = [self.matcher.analyse(item.title, item.summary) for item in fresh]
        hits = [tuple(analysis.hits) for analysis in read]
        matched = time.thread_time()
        prints = [self.stories.fingerprint_read(item.title, item.summary, analysis.title_words,
                                                analysis.summary_words)
                  for item, analysis in zip(fresh, read, strict=True)]
        new_items = [NewItem(item, item_hits, self.stories.find(fp, _when(item, now)))
                     for item, item_hits, fp in zip(fresh, hits, prints, strict=True)]
        found = time.thread_time()
        if self.partners is not None:
            detect = self.partners.detector.detect
            new_items = [replace(new, signals=tuple(detect(new.item.title, new.item.summary)))
                         for new in new_items]
        signalled = time.thread_time()
        saved = self.store.save_poll(
            feed, self.clock(), new_items, retitled, render=self.render,
            etag=result.etag, last_modified=result.last_modified, body_hash=digest,
            title=parsed.title or None,
            pace=self._pace(feed, now, 0, result.cache_seconds) if fresh else quiet,
            render_signals=self.render_signals if self.partners is not None else None,
        )
        stored = time.thread_time()
        by_item = {id(item): fp for item, fp in zip(fresh, prints, strict=True)}
        for item_id, story_id, item in saved.items:
            self.stories.add(item_id, story_id, _when(item, now), by_item[id(item)])
        self.stages.store += unseen_done - started + stored - signalled
        self.stages.signals += signalled - found
        self.stages.match += matched - unseen_done
        self.stages.stories += found - matched + time.thread_time() - stored
        hit_count = sum(len(h) for h in hits)
        if hit_count:
            self.metrics.hits_by_watchlist(Counter(h.watchlist for item in hits for h in item))
        log.info("feed polled feed=%s items=%d new_items=%d hits=%d alerts=%d "
                 "alerts_updated=%d retitled=%d", feed.name, len(parsed.items),
                 len(saved.items), hit_count, saved.alerts_new, saved.alerts_updated,
                 len(retitled))
        return FeedOutcome(feed.name, "new", len(parsed.items), len(saved.items), hit_count,
                           saved.alerts_new)

    def _pace(self, feed: FeedState, now: datetime, quiet_polls: int,
              cache_seconds: float | None) -> Pace:
        """The next poll: the feed's interval, slowed while it brings nothing new, never
        before its answer goes stale, never slower than the configured ceiling."""
        every = next_interval(feed.interval, quiet_polls, cache_seconds,
                              self.config.max_interval)
        if every != feed.interval:
            log.debug("feed paced feed=%s every=%gs quiet_polls=%d cache=%s", feed.name,
                      every, quiet_polls, cache_seconds)
        return Pace(now + timedelta(seconds=every), every, quiet_polls, cache_seconds)

    def render(self, view: StoryView) -> RenderedAlert:
        """The alert for a story as it stands, in the configured language and time zone."""
        now = self.clock()
        published = view.published
        if published is None or published > now + MAX_FUTURE_SKEW:
            published = now
        content = AlertContent(
            title=view.title, link=view.link, summary=view.summary, source=view.source,
            published=published.astimezone(self.alerts.timezone), outlets=view.outlets,
            summary_hits=view.summary_hits,
        )
        html = format_alert(content, view.hits, self.alerts.names, self.alerts.language)
        # Only a high-priority watchlist rings the reader's phone; the rest arrive silently.
        silent = all(self.alerts.priorities.get(h.watchlist) != "high" for h in view.hits)
        default: Target = (self.alerts.chat, None)
        # A muted watchlist still has its hits stored, but sends nothing anywhere.
        live = [h for h in view.hits if self.alerts.muted.get(h.watchlist, now) <= now]
        targets = tuple(dict.fromkeys(self.alerts.routes.get(h.watchlist, default)
                                      for h in live))
        return RenderedAlert(html, silent, targets)

    def render_signals(self, view: SignalStoryView) -> RenderedAlert:
        """The partnership alert of a story, routed by the partnership file's settings."""
        if self.partners is None:
            raise RuntimeError("partnership alerts rendered with partnerships off")
        now = self.clock()
        published = view.published
        if published is None or published > now + MAX_FUTURE_SKEW:
            published = now
        content = AlertContent(
            title=view.title, link=view.link, summary="", source=view.source,
            published=published.astimezone(self.alerts.timezone), outlets=view.outlets)
        partnerships = self.partners.partnerships
        html = format_signal_alert(content, view.signals, partnerships, self.alerts.language)
        routing = partnerships.routing
        target: Target = (routing.chat or self.alerts.chat, routing.topic)
        return RenderedAlert(html, routing.priority != "high", (target,))

    def _failed(self, feed: FeedState, exc: Exception) -> FeedOutcome:
        now = self.clock()
        failures = feed.consecutive_failures + 1
        delay = max(feed.interval, min(self.config.backoff_max,
                                       self.config.backoff_base * 2 ** (failures - 1)))
        if isinstance(exc, RetryLater) and exc.retry_after:
            delay = max(delay, min(exc.retry_after, self.config.backoff_max))
        reason = exc.reason if isinstance(exc, FetchError) else type(exc).__name__
        error = str(exc) or reason
        retry_at = now + timedelta(seconds=delay)
        try:
            self.store.record_failure(feed.id, now, error, retry_at)
        except sqlite3.Error as db_error:
            log.error("store failed feed=%s error=%s", feed.name, db_error)
        log.warning("feed failed feed=%s url=%s reason=%s detail=%s failures=%d retry_at=%s",
                    feed.name, feed.url, reason, error[:300], failures,
                    retry_at.isoformat(timespec="seconds"))
        return FeedOutcome(feed.name, "failed", error=error)


def _when(item: ParsedItem, now: datetime) -> datetime:
    """The time an item reports: its own date, unless missing or in the future."""
    published = item.published
    return now if published is None or published > now + MAX_FUTURE_SKEW else published
