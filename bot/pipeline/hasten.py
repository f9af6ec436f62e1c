"""Which searches a watchlist's hit brings forward, and to when (pure)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime

from bot.ingest.cadence import hastened
from bot.matching.matcher import Matcher
from bot.settings.urls import search_query
from bot.storage.records import FeedState

SearchKey = tuple[tuple[int, str, str, bool], ...]  # (id, name, url, search) of each feed


class SearchesByWatchlist:
    """The search feeds about each watchlist, read by the matcher from each search's name
    and query ("Search: Wagner" looking for "Wagner Group" is about the Wagner watchlist).

    Kept until the feeds or the matcher change: reading them again costs a few matches.
    """

    def __init__(self) -> None:
        self._matcher: Matcher | None = None  # held, not its id: an id can be reused
        self._feeds: SearchKey = ()
        self._about: Mapping[str, frozenset[int]] = {}

    def about(self, matcher: Matcher, feeds: Sequence[FeedState]) -> Mapping[str, frozenset[int]]:
        """Watchlist name -> the ids of the search feeds that look for it."""
        key = tuple((f.id, f.name, f.url, f.search) for f in feeds)
        if matcher is not self._matcher or key != self._feeds:
            self._about = searches_about(matcher, feeds)
            self._matcher, self._feeds = matcher, key
        return self._about

    def to_hasten(self, matcher: Matcher, feeds: Sequence[FeedState],
                  watchlists: Iterable[str], found_by: int) -> frozenset[int]:
        """The searches about ``watchlists`` other than the feed that found them."""
        about = self.about(matcher, feeds)
        return frozenset(i for name in watchlists for i in about.get(name, ())
                         if i != found_by)


def searches_about(matcher: Matcher, feeds: Sequence[FeedState]) -> dict[str, frozenset[int]]:
    """Watchlist name -> the ids of the search feeds whose name or query names it."""
    found: dict[str, set[int]] = {}
    for feed in feeds:
        if not feed.search:
            continue
        for hit in matcher.match(feed.name, search_query(feed.url)):
            found.setdefault(hit.watchlist, set()).add(feed.id)
    return {name: frozenset(ids) for name, ids in found.items()}


def due_times(feeds: Sequence[FeedState], ids: Collection[int],
              now: datetime) -> dict[int, datetime]:
    """When each feed of ``ids`` may be polled, brought forward: at once, unless its own
    interval since its last poll, or its last answer's freshness, has not run out."""
    due = {}
    for feed in feeds:
        if feed.id in ids:
            last = feed.last_checked_at.timestamp() if feed.last_checked_at else None
            when = hastened(now.timestamp(), last, feed.interval, feed.cache_seconds)
            due[feed.id] = datetime.fromtimestamp(when, now.tzinfo)
    return due
