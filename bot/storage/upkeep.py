"""Upkeep: mutes and the audit trail, pruning old rows, and the cycle history."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from bot.errors import StoreError
from bot.storage.base import BUSY_TIMEOUT_MS, StoreBase
from bot.storage.records import (
    CycleRecord,
    from_iso,
    iso,
)

log = logging.getLogger(__name__)
CYCLES_KEPT = 7 * 86400.0  # seconds of cycle history kept in the cycles table


class UpkeepMixin(StoreBase):
    """The mutes, audit and cycles tables, and pruning."""

    def mutes(self, now: datetime) -> dict[str, datetime]:
        """Watchlists muted at ``now``, with the end of each mute."""
        rows = self.db.execute("SELECT watchlist, until FROM mutes WHERE until > ?",
                               [iso(now)]).fetchall()
        return {r[0]: from_iso(r[1]) or now for r in rows}

    def set_mute(self, watchlist: str, until: datetime | None, user_id: int,
                 now: datetime) -> None:
        """Mute ``watchlist`` until ``until``; None unmutes it."""
        with self.transaction():
            if until is None:
                self.db.execute("DELETE FROM mutes WHERE watchlist = ?", [watchlist])
            else:
                self.db.execute(
                    """INSERT INTO mutes (watchlist, until, user_id, created_at)
                       VALUES (?, ?, ?, ?) ON CONFLICT(watchlist) DO UPDATE
                       SET until = excluded.until, user_id = excluded.user_id,
                       created_at = excluded.created_at""",
                    [watchlist, iso(until), user_id, iso(now)])

    def audit(self, user_id: int, username: str | None, action: str, target: str,
              detail: str, now: datetime) -> None:
        """Record who changed what, and when."""
        with self.transaction():
            self.db.execute(
                """INSERT INTO audit (user_id, username, action, target, detail, at)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                [user_id, username, action, target, detail, iso(now)])

    def prune(self, now: datetime, *, retention: float, history: float) -> dict[str, int]:
        """Forget article texts after ``retention`` seconds, and everything about a story
        (items, hits, alerts) after ``history`` seconds, in one transaction."""
        text_before = iso(now - timedelta(seconds=retention))
        story_before = iso(now - timedelta(seconds=history))
        with self.transaction():
            emptied = self.db.execute(
                "UPDATE items SET summary = '' WHERE fetched_at < ? AND summary != ''",
                [text_before]).rowcount
            old = "SELECT id FROM stories WHERE last_seen_at < ?"
            alerts = self.db.execute(
                f"""DELETE FROM alerts WHERE status != 'pending' AND story_id IN ({old})""",
                [story_before]).rowcount
            self.db.execute(f"UPDATE stories SET first_item_id = NULL WHERE id IN ({old})",
                            [story_before])
            items = self.db.execute(
                f"DELETE FROM items WHERE story_id IN ({old}) AND story_id NOT IN "
                "(SELECT story_id FROM alerts WHERE story_id IS NOT NULL)",
                [story_before]).rowcount
            stories = self.db.execute(
                """DELETE FROM stories WHERE last_seen_at < ?
                   AND id NOT IN (SELECT story_id FROM items WHERE story_id IS NOT NULL)""",
                [story_before]).rowcount
            self.db.execute("DELETE FROM alerts WHERE story_id IS NULL AND status != 'pending' "
                            "AND created_at < ?", [story_before])
            self.db.execute("DELETE FROM cycles WHERE finished_at < ?",
                            [iso(now - timedelta(seconds=CYCLES_KEPT))])
        return {"texts": emptied, "items": items, "stories": stories, "alerts": alerts}

    def record_cycle(self, cycle: CycleRecord) -> None:
        """Keep the totals of a completed cycle (the heartbeat ``health`` reads)."""
        row = dataclasses.asdict(cycle)
        row["started_at"], row["finished_at"] = iso(cycle.started_at), iso(cycle.finished_at)
        with self.transaction():
            self.db.conn.execute(
                f"INSERT INTO cycles ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()))


def last_cycle(path: Path) -> CycleRecord | None:
    """The latest completed cycle in the database at ``path``, read without writing
    (no migration, no lock); None when the bot has not completed one yet.

    StoreError when the file is missing or is not this bot's database.
    """
    if not path.exists():
        raise StoreError(f"{path}: no database (the bot has not run here yet)")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor = conn.execute("SELECT * FROM cycles ORDER BY finished_at DESC LIMIT 1")
            names = [d[0] for d in cursor.description]
            row = cursor.fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot read the cycle history: {exc}") from exc
    if row is None:
        return None
    values = dict(zip(names, row, strict=True))
    values.pop("id")
    values["started_at"] = from_iso(values["started_at"])
    values["finished_at"] = from_iso(values["finished_at"])
    return CycleRecord(**values)
