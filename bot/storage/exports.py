"""The hits export: one row per item and watchlist, streamed newest first."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from bot.storage.base import StoreBase
from bot.storage.records import NEVER, ExportRow, from_iso, iso

# One row per hit, newest hit first; the rows of one (item, watchlist) are adjacent, so they
# are folded into one ExportRow as they stream. The index on created_at (or on watchlist,
# created_at) gives the order; SQLite sorts only the hits of the same second by the rest.
EXPORT_SQL = """
    SELECT hits.created_at, hits.watchlist, hits.term, hits.matched_text, hits.field,
      hits.score, items.id, items.title, items.link, items.summary, items.published_at,
      feeds.name, items.lang, items.story_id,
      (SELECT count(DISTINCT told.feed_id) FROM items AS told
       WHERE told.story_id = items.story_id)
    FROM hits CROSS JOIN items ON items.id = hits.item_id
    JOIN feeds ON feeds.id = items.feed_id
    WHERE {where}
    ORDER BY hits.created_at DESC, hits.item_id DESC, hits.watchlist, hits.id"""


class ExportsMixin(StoreBase):
    """Reads of the exports (CSV, JSON lines, Atom)."""

    def exported_hits(self, *, watchlist: str | None = None,
                      since: datetime | None = None) -> Generator[ExportRow, None, None]:
        """Every (item, watchlist) with hits, newest hit first, optionally for one watchlist
        and from ``since`` on; rows stream from the database. Close the generator when
        stopping early, so the read ends."""
        where: list[str] = []
        params: list[Any] = []
        if watchlist is not None:
            where.append("hits.watchlist = ?")
            params.append(watchlist)
        if since is not None:
            where.append("hits.created_at >= ?")
            params.append(iso(since))
        cursor = self.db.conn.execute(EXPORT_SQL.format(where=" AND ".join(where) or "1"), params)
        try:
            for _, hits in groupby(cursor, key=lambda r: (r[0], r[6], r[1])):
                yield _row(list(hits))
        finally:
            cursor.close()


def _row(hits: Sequence[Sequence[Any]]) -> ExportRow:
    first = hits[0]
    return ExportRow(
        hit_at=from_iso(first[0]) or NEVER, watchlist=first[1],
        terms=_distinct(h[2] for h in hits), matched=_distinct(h[3] for h in hits),
        fields=_distinct(h[4] for h in hits), score=max(int(h[5]) for h in hits),
        item_id=int(first[6]), title=first[7], link=first[8], summary=first[9],
        published=from_iso(first[10]), feed=first[11], lang=first[12],
        story_id=None if first[13] is None else int(first[13]), outlets=int(first[14]))


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


