"""Stories as their alerts and the partnership map read them."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.matching.matcher import Hit
from bot.partners.detect import Signal
from bot.partners.matrix import SignalRecord
from bot.storage.base import StoreBase
from bot.storage.records import (
    SignalStoryView,
    StoryView,
    from_iso,
    iso,
)

log = logging.getLogger(__name__)
NO_LIMIT = -1  # SQLite's LIMIT for "every row"


class StoriesMixin(StoreBase):
    """Reads of one story and of the signals over a period."""

    def story_view(self, story_id: int) -> StoryView | None:
        """The story as its alert shows it: first item, outlets, hits and an excerpt."""
        items = self.db.execute(
            """SELECT items.id, items.title, items.link, items.summary, items.published_at,
                 items.fetched_at, feeds.name, items.lang FROM items
               JOIN feeds ON feeds.id = items.feed_id
               WHERE items.story_id = ? ORDER BY items.id""", [story_id],
        ).fetchall()
        if not items:
            return None
        story = self.db.execute("SELECT title FROM stories WHERE id = ?", [story_id]).fetchone()
        hits: dict[tuple[str, str], Hit] = {}
        summary, summary_hits = "", tuple[Hit, ...]()
        by_item: dict[int, list[Hit]] = {}
        for r in self.db.execute(  # every hit of the story at once, not a query per item
                """SELECT hits.item_id, watchlist, term, matched_text, field, score,
                     start_offset, end_offset FROM hits JOIN items ON items.id = hits.item_id
                   WHERE items.story_id = ? ORDER BY hits.id""", [story_id]):
            by_item.setdefault(r[0], []).append(
                Hit(r[1], r[2], r[3], r[4], r[5], r[6] or 0, r[7] or 0))
        for item in items:
            found = by_item.get(item[0], ())
            for hit in found:
                hits.setdefault((hit.watchlist, hit.term), hit)
            in_summary = tuple(h for h in found if h.field == "summary" and h.end > h.start)
            if in_summary and not summary_hits:
                summary, summary_hits = item[3], in_summary
        first = items[0]
        outlets: dict[str, str] = {}  # name -> language, in order of first report
        for item in items:
            outlets.setdefault(item[6], item[7] or "")
        return StoryView(
            story_id=story_id, title=story[0] if story else first[1], link=first[2],
            source=first[6], published=from_iso(first[4]) or from_iso(first[5]),
            outlets=tuple(outlets), hits=tuple(hits.values()), summary=summary,
            summary_hits=summary_hits, languages=tuple(outlets.values()),
        )

    def signal_view(self, story_id: int) -> SignalStoryView | None:
        """The story as its partnership alert shows it: first item, outlets, signals; None
        for a story without signals (most), before anything else is read."""
        rows = self.db.execute(
            """SELECT supplier, recipient, kind, evidence, field FROM signals
               WHERE story_id = ? ORDER BY id""", [story_id]).fetchall()
        if not rows:
            return None
        view = self.story_view(story_id)
        if view is None:
            return None
        found: dict[tuple[str, str, str], Signal] = {}
        for row in rows:  # in the order they were first seen, each with its first evidence
            found.setdefault((row[0], row[1], row[2]), Signal(*row))
        return SignalStoryView(view.story_id, view.title, view.link, view.source,
                               view.published, view.outlets, tuple(found.values()))

    def signal_records(self, since: datetime, until: datetime,
                       actor: str | None = None, limit: int = NO_LIMIT) -> list[SignalRecord]:
        """Signals seen in [since, until), one per story and (supplier, recipient, kind),
        newest first; only those of ``actor`` (either side) when given."""
        where = "signals.created_at >= ? AND signals.created_at < ?"
        params: list[Any] = [iso(since), iso(until)]
        if actor is not None:
            where += " AND (signals.supplier = ? OR signals.recipient = ?)"
            params += [actor, actor]
        rows = self.db.execute(
            f"""SELECT signals.supplier, signals.recipient, signals.kind,
                  min(signals.created_at), signals.evidence, items.title, items.link,
                  signals.story_id
                FROM signals JOIN items ON items.id = signals.item_id
                WHERE {where}
                GROUP BY signals.story_id, signals.supplier, signals.recipient, signals.kind
                ORDER BY min(signals.created_at) DESC, signals.story_id DESC LIMIT ?""",
            [*params, limit]).fetchall()
        return [SignalRecord(r[0], r[1], r[2], from_iso(r[3]) or since, r[4], r[5], r[6],
                             int(r[7])) for r in rows]

    def signal_pairs_before(self, moment: datetime) -> set[tuple[str, str]]:
        """Every (supplier, recipient) pair seen together before ``moment``."""
        rows = self.db.execute(
            "SELECT DISTINCT supplier, recipient FROM signals WHERE created_at < ?",
            [iso(moment)]).fetchall()
        return {(r[0], r[1]) for r in rows}
