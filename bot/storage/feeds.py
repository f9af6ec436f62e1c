"""Feeds: the configured and chat-added feeds, and what each poll of them left."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from bot.ingest.cadence import hastened
from bot.settings.config import FeedConfig
from bot.settings.urls import is_search
from bot.storage.base import StoreBase
from bot.storage.records import (
    FeedAnswer,
    FeedState,
    Pace,
    from_iso,
    iso,
)

log = logging.getLogger(__name__)
# A feed's measured delay moves this far towards each poll's: recent polls count most.
DELAY_WEIGHT = 0.3


class FeedsMixin(StoreBase):
    """The feeds table."""

    def sync_feeds(self, feeds: Sequence[FeedConfig]) -> None:
        """Make the feeds table follow the configuration: add, update, deactivate.

        Feeds added from chat stay; feeds an admin removed from chat stay removed.
        """
        with self.transaction():
            self.db.execute("UPDATE feeds SET active = 0 WHERE origin = 'config'")
            for feed in feeds:
                self.db.execute(
                    """INSERT INTO feeds (url, name, lang, interval_seconds, search, active)
                       VALUES (?, ?, ?, ?, ?, 1)
                       ON CONFLICT(url) DO UPDATE SET name = excluded.name,
                         lang = excluded.lang, interval_seconds = excluded.interval_seconds,
                         search = excluded.search, active = 1 - removed""",
                    [feed.url, feed.name, feed.lang, feed.interval,
                     int(feed.search or is_search(feed.url))],
                )

    def add_feed(self, feed: FeedConfig) -> None:
        """A feed added from chat: polled from now on, kept across restarts."""
        with self.transaction():
            self.db.execute(
                """INSERT INTO feeds (url, name, lang, interval_seconds, search, active, origin)
                   VALUES (?, ?, ?, ?, ?, 1, 'chat')
                   ON CONFLICT(url) DO UPDATE SET name = excluded.name, active = 1,
                     removed = 0""",
                [feed.url, feed.name, feed.lang, feed.interval,
                 int(feed.search or is_search(feed.url))])

    def remove_feed(self, name: str) -> bool:
        """Stop polling the feed called ``name`` (kept removed across restarts)."""
        with self.transaction():
            cursor = self.db.execute(
                "UPDATE feeds SET active = 0, removed = 1 WHERE name = ? AND active = 1",
                [name])
        return cursor.rowcount > 0

    def feeds(self, *, due_at: datetime | None = None) -> list[FeedState]:
        """Active feeds, all of them or only those due at ``due_at``, soonest first."""
        where = "active = 1"
        params: list[Any] = []
        if due_at is not None:
            where += " AND (next_check_at IS NULL OR next_check_at <= ?)"
            params.append(iso(due_at))
        rows = self.db.query(
            f"SELECT * FROM feeds WHERE {where} ORDER BY next_check_at IS NOT NULL, "
            "next_check_at, id",
            params,
        )
        return [_feed_state(row) for row in rows]

    def hasten(self, feed_ids: Collection[int], now: datetime) -> list[str]:
        """Bring the feeds ``feed_ids`` forward: each is polled as soon as its own interval
        since its last poll allows (and its last answer is stale), and is not slowed
        for its next few polls. A feed failing or told to wait (backing off,
        Retry-After) keeps its wait. Returns the names of the feeds brought forward."""
        if not feed_ids:
            return []
        marks = ",".join("?" * len(feed_ids))
        moved: list[str] = []
        with self.transaction():
            rows = self.db.execute(
                f"""SELECT id, name, interval_seconds, cache_seconds, last_checked_at,
                      next_check_at FROM feeds
                    WHERE id IN ({marks}) AND active = 1 AND consecutive_failures = 0""",
                list(feed_ids)).fetchall()
            for feed_id, name, interval, cache, last, upcoming in rows:
                checked = datetime.fromisoformat(last).timestamp() if last else None
                due = datetime.fromtimestamp(
                    hastened(now.timestamp(), checked, float(interval), cache), now.tzinfo)
                if upcoming is not None and datetime.fromisoformat(upcoming) <= due:
                    continue  # due by then anyway
                self.db.execute("UPDATE feeds SET next_check_at = ?, quiet_polls = 0 "
                                "WHERE id = ?", [iso(due), feed_id])
                moved.append(name)
        return moved

    def record_not_modified(self, feed_id: int, now: datetime, pace: Pace) -> None:
        """A 304, or a body identical to the last one: nothing to parse."""
        with self.transaction():
            self.db.execute(
                """UPDATE feeds SET last_checked_at = ?, last_success_at = ?, last_error = NULL,
                   consecutive_failures = 0, next_check_at = ?, checks = checks + 1,
                   not_modified = not_modified + 1, quiet_polls = ?, poll_every_seconds = ?,
                   cache_seconds = ? WHERE id = ?""",
                [iso(now), iso(now), iso(pace.next_check), pace.quiet_polls, pace.every,
                 pace.cache_seconds, feed_id],
            )

    def record_success(self, feed_id: int, now: datetime, answer: FeedAnswer) -> None:
        """A poll that brought a new body: its validators and title, and the next poll."""
        pace = answer.pace
        with self.transaction():
            self.db.execute(
                """UPDATE feeds SET etag = ?, last_modified = ?, body_hash = ?,
                   title = COALESCE(?, title), last_checked_at = ?, last_success_at = ?,
                   last_error = NULL, consecutive_failures = 0, next_check_at = ?,
                   checks = checks + 1, quiet_polls = ?, poll_every_seconds = ?,
                   cache_seconds = ?, kind = COALESCE(?, kind),
                   delay_seconds = CASE WHEN ? IS NULL THEN delay_seconds
                     ELSE COALESCE(delay_seconds * (1 - ?) + ? * ?, ?) END
                   WHERE id = ?""",
                [answer.etag, answer.last_modified, answer.body_hash, answer.title, iso(now),
                 iso(now), iso(pace.next_check), pace.quiet_polls, pace.every,
                 pace.cache_seconds, answer.kind or None, answer.delay, DELAY_WEIGHT,
                 DELAY_WEIGHT, answer.delay, answer.delay, feed_id],
            )

    def record_failure(self, feed_id: int, now: datetime, error: str,
                       next_check: datetime) -> int:
        """Note a failed poll; returns the number of failures in a row."""
        with self.transaction():
            self.db.execute(
                """UPDATE feeds SET last_checked_at = ?, last_error = ?, last_error_at = ?,
                   consecutive_failures = consecutive_failures + 1, next_check_at = ?,
                   checks = checks + 1 WHERE id = ?""",
                [iso(now), error, iso(now), iso(next_check), feed_id],
            )
            row = self.db.execute(
                "SELECT consecutive_failures FROM feeds WHERE id = ?", [feed_id]
            ).fetchone()
        return int(row[0]) if row else 0


def _feed_state(row: dict[str, Any]) -> FeedState:
    return FeedState(
        id=row["id"], name=row["name"], url=row["url"], lang=row["lang"],
        interval=row["interval_seconds"], etag=row["etag"], last_modified=row["last_modified"],
        body_hash=row["body_hash"], consecutive_failures=row["consecutive_failures"],
        next_check_at=from_iso(row["next_check_at"]), quiet_polls=row["quiet_polls"],
        origin=row["origin"], search=bool(row["search"]),
    )
