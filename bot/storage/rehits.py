"""Hits and signals rewritten after an edit: stored texts read again, hits, signals and
listings changed."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from bot.matching.matcher import Hit
from bot.storage.base import StoreBase
from bot.storage.listings import EARLIEST
from bot.storage.records import (
    HitChanges,
    HitKey,
    Relisted,
    SignalChanges,
    StoredHit,
    StoredSignal,
    StoredText,
    iso,
)


class RehitsMixin(StoreBase):
    """Reads and writes of a rematch (bot.matching.rematch decides what changes)."""

    def count_items(self, since: datetime | None = None) -> int:
        """How many items were stored since ``since`` (all of them when None)."""
        row = self.db.execute("SELECT count(*) FROM items WHERE fetched_at >= ?",
                              [_after(since)]).fetchone()
        return int(row[0])

    def item_texts(self, after_id: int, since: datetime | None,
                   limit: int) -> list[StoredText]:
        """The next ``limit`` items after ``after_id``, in id order, stored since ``since``."""
        rows = self.db.execute(
            """SELECT id, story_id, title, summary, fetched_at FROM items
               WHERE id > ? AND fetched_at >= ? ORDER BY id LIMIT ?""",
            [after_id, _after(since), limit]).fetchall()
        return [StoredText._make(row) for row in rows]

    def stored_hits(self, item_ids: Sequence[int],
                    scope: Collection[str]) -> dict[int, dict[HitKey, list[StoredHit]]]:
        """The items' stored hits of the ``scope`` watchlists: per item, per (watchlist,
        term), oldest first."""
        rows = self.db.execute(
            f"""SELECT id, item_id, watchlist, term, matched_text, field, score, start_offset,
                  end_offset FROM hits WHERE item_id IN ({", ".join("?" * len(item_ids))})
                ORDER BY id""", list(item_ids))
        stored: dict[int, dict[HitKey, list[StoredHit]]] = {}
        for hit_id, item_id, watchlist, term, text, where, score, start, end in rows:
            if watchlist in scope:
                hit = Hit(watchlist, term, text, where, score, start, end)
                stored.setdefault(item_id, {}).setdefault((watchlist, term), []).append(
                    StoredHit(hit_id, hit))
        return stored

    def apply_hit_changes(self, changes: HitChanges) -> Relisted:
        """Write one batch's changes to the hits, then to the stories each watchlist lists;
        returns the listings that changed."""
        conn = self.db.conn
        conn.executemany(
            """INSERT INTO hits (item_id, watchlist, term, matched_text, field, score,
                 created_at, start_offset, end_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            changes.insert)
        conn.executemany("DELETE FROM hits WHERE id = ?", changes.delete)
        conn.executemany(
            """UPDATE hits SET matched_text = ?, field = ?, score = ?, start_offset = ?,
                 end_offset = ? WHERE id = ?""", changes.update)
        listed = [pair for pair in changes.listed if conn.execute(
            """INSERT OR IGNORE INTO story_watchlists (story_id, watchlist, first_seen_at)
               SELECT id, ?, first_seen_at FROM stories WHERE id = ?""",
            [pair[1], pair[0]]).rowcount > 0]
        # Another item of the story, in this batch or not, may still carry the watchlist.
        unlisted = [(story_id, watchlist) for story_id, watchlist in changes.unlisted
                    if (story_id, watchlist) not in changes.listed and conn.execute(
                        """DELETE FROM story_watchlists WHERE story_id = ? AND watchlist = ?
                           AND NOT EXISTS (SELECT 1 FROM items JOIN hits
                                             ON hits.item_id = items.id
                                           WHERE items.story_id = ? AND hits.watchlist = ?)""",
                        [story_id, watchlist, story_id, watchlist]).rowcount > 0]
        return Relisted(tuple(listed), tuple(unlisted))


    def stored_signals(self, item_ids: Sequence[int],
                       ) -> dict[int, dict[tuple[str, str, str], StoredSignal]]:
        """The items' stored signals: per item, per (supplier, recipient, kind)."""
        rows = self.db.execute(
            f"""SELECT id, item_id, supplier, recipient, kind, evidence, field FROM signals
                WHERE item_id IN ({", ".join("?" * len(item_ids))})""", list(item_ids))
        stored: dict[int, dict[tuple[str, str, str], StoredSignal]] = {}
        for signal_id, item_id, supplier, recipient, kind, evidence, where in rows:
            stored.setdefault(item_id, {})[(supplier, recipient, kind)] = StoredSignal(
                signal_id, evidence, where)
        return stored

    def apply_signal_changes(self, changes: SignalChanges) -> None:
        """Write one batch's changes to the signals."""
        conn = self.db.conn
        conn.executemany(
            """INSERT OR IGNORE INTO signals (item_id, story_id, supplier, recipient, kind,
                 evidence, field, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            changes.insert)
        conn.executemany("DELETE FROM signals WHERE id = ?", changes.delete)
        conn.executemany("UPDATE signals SET evidence = ?, field = ? WHERE id = ?",
                         changes.update)


def _after(since: datetime | None) -> str:
    return iso(since) if since is not None else EARLIEST
