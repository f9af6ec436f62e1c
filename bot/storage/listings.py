"""What the chat commands list: stories, search results, feed health, counts."""

from __future__ import annotations

import logging
import re
import sqlite3
from datetime import datetime, timedelta
from typing import Any

from bot.storage.base import StoreBase
from bot.storage.records import (
    NEVER,
    FeedHealth,
    SearchResult,
    StorySummary,
    from_iso,
    iso,
)
from bot.storage.schema import INDEXED_UP_TO

log = logging.getLogger(__name__)
EARLIEST = ""  # sorts before every stored time: a listing with no start
NO_LIMIT = -1  # SQLite's LIMIT for "every row"
FTS_WORD_RE = re.compile(r"\w+")
MAX_SEARCH_WORDS = 12
# /search ranks the newest matches only: a word found in a third of a million items would
# otherwise be scored in full (a quarter of a second) for a page of five.
SEARCH_CANDIDATES = 2000
FEEDS_WINDOW = timedelta(days=7)  # the items counted per feed in /feeds and the web view


def fts_match(query: str) -> str | None:
    """The full-text query for items with every word of ``query`` (accents and case are the
    index's business); None when it has no word."""
    words = FTS_WORD_RE.findall(query)[:MAX_SEARCH_WORDS]
    return " ".join(f'"{word}"' for word in words) if words else None


class ListingsMixin(StoreBase):
    """Reads for /recent, /hits, /search, /feeds, /stats and the daily report."""

    def recent_stories(self, limit: int, offset: int = 0, *, watchlist: str | None = None,
                       since: datetime | None = None) -> list[StorySummary]:
        """Stories with hits, newest first, optionally for one watchlist and period."""
        where, params, watchlists = _listing(watchlist, since)
        # The index walk gives the first-seen order and stops at the page: only the stories
        # first seen in the same second are sorted by the rest of the key.
        rows = self.db.execute(
            f"""SELECT stories.id, stories.title, stories.first_seen_at, {watchlists}
                FROM story_watchlists AS listed
                CROSS JOIN stories ON stories.id = listed.story_id
                WHERE {where}
                ORDER BY listed.first_seen_at DESC,
                  (SELECT coalesce(published_at, fetched_at) FROM items AS first
                   WHERE first.id = stories.first_item_id) DESC, stories.id DESC
                LIMIT ? OFFSET ?""", [*params, limit, offset]).fetchall()
        return [self._summary(r[0], r[1], r[2], r[3]) for r in rows]

    def count_stories(self, *, watchlist: str | None = None, since: datetime | None = None,
                      at_most: int | None = None) -> int:
        """How many stories :meth:`recent_stories` could list, counting no further than
        ``at_most`` when it is given."""
        where, params, _ = _listing(watchlist, since)
        row = self.db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM story_watchlists AS listed WHERE {where} "
            "LIMIT ?)", [*params, NO_LIMIT if at_most is None else at_most]).fetchone()
        return int(row[0])

    def _summary(self, story_id: int, title: str, first_seen: str,
                 watchlists: str | None) -> StorySummary:
        first = self.db.execute(
            """SELECT items.link, feeds.name, items.published_at FROM items
               JOIN feeds ON feeds.id = items.feed_id WHERE items.story_id = ?
               ORDER BY items.id LIMIT 1""", [story_id]).fetchone()
        outlets = self.db.execute(
            """SELECT count(DISTINCT feed_id) FROM items WHERE story_id = ?""",
            [story_id]).fetchone()[0]
        return StorySummary(
            story_id=story_id, title=title, link=first[0] if first else None,
            source=first[1] if first else "", outlets=int(outlets),
            when=from_iso(first[2] if first and first[2] else first_seen) or NEVER,
            watchlists=tuple(sorted((watchlists or "").split(","))),
        )

    def index_search(self) -> int:
        """Add the items stored since the last call to the full-text index, in one
        transaction; returns how many. Called after each poll cycle and before a search."""
        with self.transaction():
            cursor = self.db.conn.execute(
                f"""INSERT INTO items_fts (rowid, title, summary)
                    SELECT id, title, summary FROM items WHERE id > {INDEXED_UP_TO}
                    ORDER BY id""")
        return max(cursor.rowcount, 0)

    def search(self, query: str, limit: int, offset: int = 0) -> list[SearchResult]:
        """Items matching every word of ``query`` (accents ignored), best first."""
        try:
            self.index_search()
        except sqlite3.Error as exc:  # search what is indexed; the next cycle indexes the rest
            log.warning("search index update failed error=%s", exc)
        match = fts_match(query)
        if match is None:
            return []
        # FTS5 walks the matches newest first and stops at SEARCH_CANDIDATES; only those are
        # ranked by bm25() and only the page is joined to items and feeds. Equal scores
        # stay oldest first.
        rows = self.db.execute(
            """SELECT items.id, items.title, items.link, feeds.name,
                 coalesce(items.published_at, items.fetched_at)
               FROM (SELECT rowid, score FROM
                       (SELECT rowid, bm25(items_fts) AS score FROM items_fts
                        WHERE items_fts MATCH ? ORDER BY rowid DESC LIMIT ?)
                     ORDER BY score, rowid LIMIT ? OFFSET ?) AS found
               CROSS JOIN items ON items.id = found.rowid
               JOIN feeds ON feeds.id = items.feed_id
               ORDER BY found.score, found.rowid""",
            [match, SEARCH_CANDIDATES, limit, offset]).fetchall()
        return [SearchResult(r[0], r[1], r[2], r[3], from_iso(r[4]) or NEVER) for r in rows]

    def hits_by_watchlist(self, since: datetime) -> dict[str, int]:
        """Stories per watchlist since ``since``."""
        rows = self.db.execute(
            """SELECT hits.watchlist, count(DISTINCT items.story_id) FROM hits
               JOIN items ON items.id = hits.item_id WHERE hits.created_at >= ?
               GROUP BY hits.watchlist""", [iso(since)]).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def hits_per_day(self, since: datetime) -> dict[str, dict[str, int]]:
        """Stories per watchlist per UTC day (ISO date) since ``since``."""
        rows = self.db.execute(
            """SELECT hits.watchlist, substr(hits.created_at, 1, 10),
                 count(DISTINCT items.story_id) FROM hits
               JOIN items ON items.id = hits.item_id WHERE hits.created_at >= ?
               GROUP BY 1, 2""", [iso(since)]).fetchall()
        days: dict[str, dict[str, int]] = {}
        for watchlist, day, count in rows:
            days.setdefault(watchlist, {})[day] = int(count)
        return days

    def feed_health(self, since: datetime) -> list[FeedHealth]:
        """Every active feed's health, failing feeds first."""
        rows = self.db.execute(
            """SELECT feeds.name, feeds.url, feeds.last_success_at, feeds.last_error,
                 feeds.last_error_at, feeds.consecutive_failures, feeds.checks,
                 feeds.not_modified,
                 (SELECT count(*) FROM items WHERE items.feed_id = feeds.id
                    AND items.fetched_at >= ?),
                 feeds.poll_every_seconds, feeds.interval_seconds, feeds.cache_seconds,
                 feeds.kind, feeds.delay_seconds, feeds.search
               FROM feeds WHERE active = 1
               ORDER BY consecutive_failures DESC, name""", [iso(since)]).fetchall()
        return [FeedHealth(r[0], r[1], from_iso(r[2]), r[3], from_iso(r[4]), int(r[5]),
                           int(r[6]), int(r[7]), int(r[8]), r[9], r[10], r[11], r[12], r[13],
                           bool(r[14]))
                for r in rows]

    def alert_counts(self, since: datetime) -> dict[str, int]:
        """Alerts sent, failed and pending since ``since``."""
        rows = self.db.execute(
            """SELECT status, count(*) FROM alerts WHERE created_at >= ? OR status = 'pending'
               GROUP BY status""", [iso(since)]).fetchall()
        return {r[0]: int(r[1]) for r in rows}


def _listing(watchlist: str | None, since: datetime | None) -> tuple[str, list[Any], str]:
    """The rows of story_watchlists (as ``listed``) that the story listings show, one per
    story: the WHERE clause, its parameters, and the watchlists column of a row."""
    after = iso(since) if since is not None else EARLIEST
    if watchlist is not None:
        return ("listed.watchlist = ? AND listed.first_seen_at >= ?", [watchlist, after],
                "listed.watchlist")
    # A story hit by several watchlists is listed once, through the first of them.
    return ("""listed.first_seen_at >= ? AND listed.watchlist = (SELECT min(watchlist)
                 FROM story_watchlists AS other WHERE other.story_id = listed.story_id)""",
            [after], """(SELECT group_concat(watchlist) FROM story_watchlists AS other
                         WHERE other.story_id = listed.story_id)""")
