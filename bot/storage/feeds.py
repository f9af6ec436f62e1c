"""Feeds: the configured and chat-added feeds, and what each poll of them left."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

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
                     removed = 0, search = max(search, excluded.search)""",
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

    def hasten(self, due: Mapping[int, datetime]) -> list[str]:
        """Bring feeds forward: each feed id of ``due`` is polled no later than its time
        there, and is not slowed for its next few polls (its quiet polls start again). A
        feed failing or told to wait (backing off, Retry-After) keeps its wait. Returns the
        names of the feeds whose next poll moved."""
        moved: list[str] = []
        with self.transaction():
            for feed_id, when in due.items():
                row = self.db.execute(
                    "SELECT name, next_check_at FROM feeds WHERE id = ? AND active = 1 "
                    "AND consecutive_failures = 0", [feed_id]).fetchone()
                if row is None:
                    continue
                name, upcoming = row
                later = upcoming is None or datetime.fromisoformat(upcoming) > when
                self.db.execute("UPDATE feeds SET quiet_polls = 0, next_check_at = ? WHERE id = ?",
                                [iso(when) if later else upcoming, feed_id])
                if later:
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
        last_checked_at=from_iso(row["last_checked_at"]), cache_seconds=row["cache_seconds"],
    )
