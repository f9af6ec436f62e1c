"""One poll of a feed as named stages, and of many feeds at once.

fetch -> parse -> dedupe -> read (match, group, detect) -> save -> queue alerts -> remember.
Each stage takes data and gives data; storage never sees a message, and the alerts are
queued in the transaction that saves the items (the outbox guarantee).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import urljoin, urlsplit

from bot.errors import FetchError, ParseError
from bot.ingest.cadence import next_interval
from bot.ingest.fetch import Fetcher, FetchResult, RetryLater
from bot.ingest.items import CHANNEL, ParsedFeed, ParsedItem
from bot.matching.matcher import Analysis, Matcher
from bot.ops.metrics import NoMetrics, Recorder
from bot.partners.detect import Signal, SignalDetector
from bot.pipeline.hasten import SearchesByWatchlist, due_times
from bot.pipeline.render import Queued, queue_alerts
from bot.pipeline.report import FAILED, NEW, NOT_MODIFIED, UNCHANGED, CycleReport, FeedOutcome
from bot.settings.config import PollingConfig
from bot.settings.urls import redact_text, redact_url
from bot.storage.records import (
    ORIGIN_CHAT,
    FeedAnswer,
    FeedState,
    NewItem,
    Pace,
    PollBatch,
    PollSaved,
    Unseen,
)
from bot.storage.store import Store
from bot.stories.anchors import NO_ANCHORS, Anchors
from bot.stories.fingerprint import Fingerprint
from bot.stories.identity import content_hash
from bot.stories.index import StoryIndex
from bot.telegram.compose import AlertComposer, shown_time

log = logging.getLogger(__name__)
# Pages read back, at most, when a page with a link to older entries holds only new ones
# (a channel after an outage).
CATCH_UP_PAGES = 3
NEWS_AGE = 24 * 3600.0  # seconds: an item published longer ago is a backlog, not news

Reading = tuple[Fingerprint, Anchors]  # what story grouping reads of one item

ParseFunction = Callable[[bytes, str, str | None], Awaitable[ParsedFeed]]


class Poller:
    """Polls feeds concurrently; one feed's failure never touches another.

    ``matcher``, ``detector`` and ``composer`` are immutable and replaced whole when the
    watchlists, the partnership file or the mutes change.
    """

    def __init__(self, *, store: Store, fetcher: Fetcher, parse: ParseFunction,
                 matcher: Matcher, composer: AlertComposer, config: PollingConfig,
                 stories: StoryIndex, clock: Callable[[], datetime],
                 metrics: Recorder | None = None,
                 detector: SignalDetector | None = None,
                 history: float | None = None) -> None:
        self.store = store
        self.stories = stories
        self.fetcher = fetcher
        self.parse = parse
        self.matcher = matcher
        self.composer = composer
        self.detector = detector
        self.config = config
        self.clock = clock
        self.metrics: Recorder = metrics or NoMetrics()
        # Items are forgotten after this many seconds; a channel post published before that
        # is not news, even once the store no longer knows it (a silent channel's page).
        self.history = history
        self.searches = SearchesByWatchlist()
        self.hastened: set[int] = set()  # searches brought forward during this cycle

    async def poll(self, feeds: Sequence[FeedState]) -> CycleReport:
        """Poll ``feeds`` at once (within the fetcher's limits) and report."""
        outcomes = await asyncio.gather(*(self.poll_feed(feed) for feed in feeds))
        self._hasten_again()
        self.index_search()
        return CycleReport(tuple(outcomes))

    async def poll_feed(self, feed: FeedState) -> FeedOutcome:
        """Fetch, parse, read and store one feed; errors are logged and backed off."""
        try:
            return await self._poll(feed)
        except (FetchError, ParseError) as exc:
            return self._failed(feed, exc)
        except sqlite3.Error as exc:
            log.error("store failed feed=%s error=%s", feed.name, exc)
            return FeedOutcome(feed.name, FAILED, error=f"database: {exc}")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must cost one feed, not the cycle
            log.exception("feed crashed feed=%s url=%s", redact_text(feed.name),
                          redact_url(feed.url))
            return self._failed(feed, exc)

    async def _poll(self, feed: FeedState) -> FeedOutcome:
        # A feed an admin added from chat reaches public addresses only, on every poll.
        public_only = feed.origin == ORIGIN_CHAT and not self.config.allow_private_feeds
        result = await self.fetcher.fetch(feed.url, feed.etag, feed.last_modified,
                                          public_only=public_only)
        now = self.clock()
        quiet = self._pace(feed, now, feed.quiet_polls + 1, result.cache_seconds)
        digest = None if result.not_modified else content_hash(result.body)
        if digest is None or digest == feed.body_hash:
            self.store.record_not_modified(feed.id, now, quiet)
            status = NOT_MODIFIED if digest is None else UNCHANGED
            log.debug("feed %s feed=%s", "not modified" if digest is None else "unchanged",
                      feed.name)
            return FeedOutcome(feed.name, status)
        parsed = await self.parse(result.body, result.url, result.content_type)
        if parsed.warning:
            log.info("feed irregular but readable feed=%s warning=%s", feed.name,
                     parsed.warning[:200])
        if parsed.truncated:
            log.warning("feed too long feed=%s dropped_items=%d", feed.name, parsed.truncated)
        unseen = self.dedupe(feed, parsed.items)
        # How long this feed's news takes to reach the bot: not from a first poll, or the
        # pages a catch-up reads, which are a backlog.
        delay = news_delay(unseen.fresh, now) if feed.body_hash else None
        if parsed.older and delay is not None and len(unseen.fresh) == len(parsed.items):
            # Every post on the page is new, and recent: after an outage, the posts before
            # it may be new too.
            older = await self._catch_up(feed, result.url, parsed.older, public_only)
            if older:
                unseen = self.dedupe(feed, (*parsed.items, *older))
        if parsed.kind == CHANNEL:  # a page shows its last posts, however old
            unseen = _within(unseen, now, self.history)
        read = self.match(unseen.fresh)
        prints, joins = self.group(unseen.fresh, read, now, feed.lang)
        signals = self.detect(unseen.fresh, read, now)
        pace = self._pace(feed, now, 0, result.cache_seconds) if unseen.fresh else quiet
        answer = replace(_answer(result, digest, parsed.title or None, pace),
                         kind=parsed.kind or None, delay=delay)
        batch = _batch(unseen, read, joins, signals, answer)
        saved, queued = self.save(feed, batch)
        self.remember(saved, dict(zip(map(id, unseen.fresh), prints, strict=True)), now)
        if saved.items and feed.body_hash:  # a first poll's items are a backlog, not news
            self.hasten_searches(feed, [analysis for item, analysis in zip(
                unseen.fresh, read, strict=True) if _is_news(item, now)], now)
        return self._report(feed, parsed, unseen, read, saved, queued)

    async def _catch_up(self, feed: FeedState, url: str, older: str,
                        public_only: bool) -> list[ParsedItem]:
        """The entries of the pages before a page of only new ones, up to CATCH_UP_PAGES
        pages back, stopping at a page the store has seen some of: what an outage would
        otherwise lose. Only pages on the feed's own host are read."""
        items: list[ParsedItem] = []
        for _ in range(CATCH_UP_PAGES):
            address = urljoin(url, older)
            if urlsplit(address)[:2] != urlsplit(url)[:2]:  # scheme, host and port
                break
            try:
                result = await self.fetcher.fetch(address, public_only=public_only)
                page = await self.parse(result.body, result.url, result.content_type)
            except (FetchError, ParseError) as exc:
                log.info("catch-up stopped feed=%s reason=%s", redact_text(feed.name),
                         redact_text(str(exc)))
                break
            items.extend(page.items)
            if not page.older or len(self.dedupe(feed, page.items).fresh) < len(page.items):
                break
            older, url = page.older, result.url
        if items:
            log.info("caught up feed=%s older_items=%d", redact_text(feed.name), len(items))
        return items

    # The stages (each is timed from outside by pipeline.timing when the benchmark asks) ---

    def dedupe(self, feed: FeedState, items: Sequence[ParsedItem]) -> Unseen:
        """The items the store has not seen, and those back under another title."""
        return self.store.unseen(feed, items)

    def match(self, items: Sequence[ParsedItem]) -> list[Analysis]:
        """Each item read by the matcher: its hits and its words."""
        return [self.matcher.analyse(item.title, item.summary) for item in items]

    def group(self, items: Sequence[ParsedItem], read: Sequence[Analysis], now: datetime,
              lang: str = "") -> tuple[list[Reading], list[int | None]]:
        """Each item's fingerprint and anchors (its words, and its names and figures in any
        language), and the recent story it joins (None: a new story)."""
        stories = self.stories
        # Names and figures join reports across languages for the items that can alert
        # (those naming a watched term): the rest are grouped by their words alone.
        prints = [(stories.fingerprint_read(item.title, item.summary, analysis.title_words,
                                            analysis.summary_words),
                   stories.anchors(item.title, item.summary, lang, (
                       [w.folded for w in analysis.title_words],
                       [w.folded for w in analysis.summary_words]))
                   if analysis.hits else NO_ANCHORS)
                  for item, analysis in zip(items, read, strict=True)]
        joins = [stories.find(fp, shown_time(item.published, now), anchors)
                 for item, (fp, anchors) in zip(items, prints, strict=True)]
        return prints, joins

    def detect(self, items: Sequence[ParsedItem], read: Sequence[Analysis] | None = None,
               now: datetime | None = None) -> list[tuple[Signal, ...]]:
        """Each item's partnership signals (none while partnerships are off); ``read``: the
        items as the matcher read them, whose words spare the detector reading them again
        when it first looks for both sides of a partnership; ``now``: the poll's time, which
        dates an item without a date of its own (a relation years older is background)."""
        if self.detector is None:
            return [() for _ in items]
        detect = self.detector.detect
        when = now or self.clock()
        if read is None:
            return [tuple(detect(item.title, item.summary,
                                 year=shown_time(item.published, when).year))
                    for item in items]
        return [tuple(detect(item.title, item.summary,
                             (*analysis.title_words, *analysis.summary_words),
                             year=shown_time(item.published, when).year))
                for item, analysis in zip(items, read, strict=True)]

    def save(self, feed: FeedState, batch: PollBatch) -> tuple[PollSaved, Queued]:
        """Store the poll and queue the alerts of the stories it touched, in one
        transaction: an alert owed is never lost, and never written without its items."""
        now = self.clock()
        with self.store.transaction():
            saved = self.store.save_poll(feed, now, batch)
            queued = queue_alerts(self.store, saved, self.composer, now)
        return saved, queued

    def remember(self, saved: PollSaved, prints: dict[int, Reading],
                 now: datetime) -> None:
        """Add the stored items to the story index, for later reports to join."""
        for item_id, story_id, item in saved.items:
            fp, anchors = prints[id(item)]
            self.stories.add(item_id, story_id, shown_time(item.published, now), fp, anchors)

    def hasten_searches(self, feed: FeedState, read: Sequence[Analysis],
                        now: datetime) -> None:
        """A watchlist's hit brings the searches that look for it forward: the reports that
        follow a first one reach the searches within hours, and a quiet search polled every
        two hours would find them late."""
        watchlists = {hit.watchlist for analysis in read for hit in analysis.hits}
        if not watchlists:
            return
        try:
            feeds = self.store.feeds()
            searches = self.searches.to_hasten(self.matcher, feeds, watchlists, feed.id)
            moved = self.store.hasten(due_times(feeds, searches, now))
            self.hastened |= searches  # again once the cycle's own polls are recorded
        except sqlite3.Error as exc:  # the searches keep their own pace
            log.error("hastening searches failed feed=%s error=%s", redact_text(feed.name), exc)
            return
        except Exception:  # a bug must cost the hastening, not the feed's poll
            log.exception("hastening searches crashed feed=%s", redact_text(feed.name))
            return
        if moved:
            log.info("searches brought forward feed=%s watchlists=%s searches=%s",
                     redact_text(feed.name), ",".join(sorted(watchlists)),
                     ",".join(redact_text(name) for name in moved))

    def _hasten_again(self) -> None:
        """A search polled in the same cycle as the hit that brought it forward recorded its
        own, slowed pace after it: bring it forward again from its own poll."""
        ids, self.hastened = self.hastened, set()
        if not ids:
            return
        try:
            self.store.hasten(due_times(self.store.feeds(), ids, self.clock()))
        except sqlite3.Error as exc:
            log.error("hastening searches failed error=%s", exc)

    def index_search(self) -> None:
        """Add the cycle's new items to the full-text index, all at once."""
        try:
            self.store.index_search()
        except sqlite3.Error as exc:  # the next cycle or search tries again
            log.error("search index update failed error=%s", exc)

    # -------------------------------------------------------------------------------------

    def _report(self, feed: FeedState, parsed: ParsedFeed, unseen: Unseen,
                read: Sequence[Analysis], saved: PollSaved, queued: Queued) -> FeedOutcome:
        hits = Counter(h.watchlist for analysis in read for h in analysis.hits)
        hit_count = sum(hits.values())
        if hit_count:
            self.metrics.hits_by_watchlist(hits)
        log.info("feed polled feed=%s items=%d new_items=%d hits=%d alerts=%d "
                 "alerts_updated=%d retitled=%d", redact_text(feed.name), len(parsed.items),
                 len(saved.items), hit_count, queued.created, queued.updated,
                 len(unseen.retitled))
        return FeedOutcome(feed.name, NEW, len(parsed.items), len(saved.items), hit_count,
                           queued.created)

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

    def _failed(self, feed: FeedState, exc: Exception) -> FeedOutcome:
        now = self.clock()
        failures = feed.consecutive_failures + 1
        delay = max(feed.interval, min(self.config.backoff_max,
                                       self.config.backoff_base * 2 ** (failures - 1)))
        if isinstance(exc, RetryLater) and exc.retry_after:
            delay = max(delay, min(exc.retry_after, self.config.backoff_max))
        reason = exc.reason if isinstance(exc, FetchError) else type(exc).__name__
        error = redact_text(str(exc) or reason)  # kept in the database and shown in /feeds
        retry_at = now + timedelta(seconds=delay)
        try:
            self.store.record_failure(feed.id, now, error, retry_at)
        except sqlite3.Error as db_error:
            log.error("store failed feed=%s error=%s", feed.name, db_error)
        log.warning("feed failed feed=%s url=%s reason=%s detail=%s failures=%d retry_at=%s",
                    redact_text(feed.name), redact_url(feed.url), reason, error[:300], failures,
                    retry_at.isoformat(timespec="seconds"))
        return FeedOutcome(feed.name, FAILED, error=error)


def _answer(result: FetchResult, digest: str, title: str | None, pace: Pace) -> FeedAnswer:
    return FeedAnswer(result.etag, result.last_modified, digest, title, pace)


def _batch(unseen: Unseen, read: Sequence[Analysis], joins: Sequence[int | None],
           signals: Sequence[tuple[Signal, ...]], answer: FeedAnswer) -> PollBatch:
    """The poll to store: each new item with its hits, story, signals and keys."""
    new_items = tuple(
        NewItem(item, tuple(analysis.hits), story_id, item_signals, keys)
        for item, analysis, story_id, item_signals, keys
        in zip(unseen.fresh, read, joins, signals, unseen.keys, strict=True))
    return PollBatch(new_items, unseen.retitled, answer, unseen.checked_at)


def _is_news(item: ParsedItem, now: datetime) -> bool:
    """Published within NEWS_AGE (an item without a date is taken as news)."""
    return item.published is None or (now - item.published).total_seconds() <= NEWS_AGE


def news_delay(items: Sequence[ParsedItem], now: datetime) -> float | None:
    """The median seconds between the publication of a poll's new items and the poll, over
    the items published within NEWS_AGE (older ones are a backlog, not news); None for
    none."""
    ages = sorted(age for item in items if item.published is not None
                  and 0 <= (age := (now - item.published).total_seconds()) <= NEWS_AGE)
    return ages[len(ages) // 2] if ages else None


def _within(unseen: Unseen, now: datetime, history: float | None) -> Unseen:
    """``unseen`` without the items published before the history window (undated ones
    stay): the store forgot them, but they are not news."""
    if history is None:
        return unseen
    oldest = now - timedelta(seconds=history)
    kept = [(item, keys) for item, keys in zip(unseen.fresh, unseen.keys, strict=True)
            if item.published is None or item.published >= oldest]
    if len(kept) == len(unseen.fresh):
        return unseen
    return replace(unseen, fresh=tuple(item for item, _ in kept),
                   keys=tuple(keys for _, keys in kept))
