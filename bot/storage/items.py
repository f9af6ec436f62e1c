"""Items: which articles are new, and one poll's items, hits and signals stored at once."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from bot.ingest.items import ParsedItem
from bot.matching.matcher import Hit
from bot.partners.detect import Signal
from bot.storage.feeds import FeedsMixin
from bot.storage.records import (
    FeedState,
    Keys,
    NewItem,
    PollBatch,
    PollSaved,
    Retitled,
    Unseen,
    from_iso,
    iso,
)
from bot.stories.identity import canonical_url, guid_key

log = logging.getLogger(__name__)
LOOKUP_CHUNK = 500  # keys per IN (...) lookup, well under SQLite's bound-parameter limit


class ItemsMixin(FeedsMixin):
    """The items, hits and signals tables (a saved poll also updates its feed)."""

    def unseen(self, feed: FeedState, items: Iterable[ParsedItem]) -> Unseen:
        """Items not stored before (by GUID or canonical link), first of each duplicate, and
        stored items that came back under the same GUID with another title."""
        batch: list[tuple[ParsedItem, Keys]] = []
        seen = _SeenKeys()
        for item in items:
            keys = _identity(item, feed.url)
            if seen.add(keys):
                batch.append((item, keys))
        fresh: list[ParsedItem] = []
        fresh_keys: list[Keys] = []
        retitled: list[Retitled] = []
        for (item, keys), known in zip(batch, self._known([k for _, k in batch]), strict=True):
            if known is None:
                fresh.append(item)
                fresh_keys.append(keys)
            elif known[2] != item.title and keys[0] and item.title:
                retitled.append(Retitled(known[0], known[1], item))
        return Unseen(tuple(fresh), tuple(fresh_keys), tuple(retitled), self.saves)

    def _known(self, keys: Sequence[Keys]) -> list[tuple[int, int, str] | None]:
        """For each (GUID key, link key): (item id, story id, title) of the stored item with
        that GUID or link, if any; two indexed queries per batch, not two per item."""
        by_guid = self._first_rows("guid_key", {g for g, _ in keys if g})
        by_link = self._first_rows("link_key", {lk for _, lk in keys if lk})
        found: list[tuple[int, int, str] | None] = []
        for gkey, lkey in keys:
            row = by_guid.get(gkey) if gkey else None
            # The same GUID over a different article is a feed reusing ids, not a repeat.
            if row is None or not (row[3] is None or lkey is None or row[3] == lkey):
                row = by_link.get(lkey) if lkey else None
            found.append((int(row[0]), int(row[1]), str(row[2])) if row else None)
        return found

    def _first_rows(self, column: str, values: set[str]) -> dict[str, tuple[Any, ...]]:
        """The oldest item for each value of an indexed key ``column``."""
        first: dict[str, tuple[Any, ...]] = {}
        ordered = sorted(values)
        for start in range(0, len(ordered), LOOKUP_CHUNK):
            chunk = ordered[start : start + LOOKUP_CHUNK]
            rows = self.db.execute(
                f"""SELECT id, story_id, title, link_key, {column} FROM items
                    WHERE {column} IN ({", ".join("?" * len(chunk))}) ORDER BY id""", chunk)
            for row in rows:
                first.setdefault(row[4], row)
        return first

    def save_poll(self, feed: FeedState, now: datetime, poll: PollBatch) -> PollSaved:
        """Store one successful poll in one transaction: items, stories, hits, signals and
        what the feed answered; returns what was stored and the stories whose alerts the
        caller must write again (in the same transaction, to keep the outbox whole).

        Items already known (another feed may have stored them meanwhile) are skipped, so
        an article is stored at most once.
        """
        stamp = iso(now)
        with self.transaction():
            keys = [new.keys or _identity(new.item, feed.url) for new in poll.new_items]
            known = ([None] * len(keys) if poll.checked_at == self.saves  # nothing saved since
                     else self._known(keys))
            self.saves += 1
            saved = _SeenKeys()
            todo = [(new, item_keys, self._story_for(new, stamp))
                    for new, item_keys, row in zip(poll.new_items, keys, known, strict=True)
                    if row is None and saved.add(item_keys)]
            stored = self._insert_items(feed, todo, stamp)
            hit_stories: dict[int, None] = {}
            signal_stories: dict[int, None] = {}
            for (new, _, joined), (_, story_id, _) in zip(todo, stored, strict=True):
                if new.signals or joined is not None:  # a joined story's alert lists outlets
                    signal_stories[story_id] = None
                if joined is not None or new.hits:  # a new story without a hit has no alert
                    hit_stories[story_id] = None
            for change in poll.retitled:
                self._retitle(change, stamp)
                hit_stories[change.story_id] = signal_stories[change.story_id] = None
            self.record_success(feed.id, now, poll.answer)
        return PollSaved(tuple(stored), tuple(hit_stories), tuple(signal_stories))

    def _insert_items(self, feed: FeedState, todo: Sequence[tuple[NewItem, Keys, int | None]],
                      stamp: str) -> list[tuple[int, int, ParsedItem]]:
        """New items (each with the story it joins, or None for a new story), their new
        stories, hits and signals: one statement per table. (item id, story id, item) out."""
        new_stories = iter(self._insert_rows(
            "stories", "title, first_seen_at, last_seen_at",
            [(new.item.title, stamp, stamp) for new, _, joined in todo if joined is None]))
        story_ids = [joined or next(new_stories) for _, _, joined in todo]
        item_ids = self._insert_rows(
            "items", "feed_id, guid, guid_key, link, link_key, title, summary, lang, "
            "published_at, fetched_at, story_id",
            [(feed.id, new.item.guid, gkey, new.item.link, lkey, new.item.title,
              new.item.summary, feed.lang,
              iso(new.item.published) if new.item.published else None, stamp, story_id)
             for (new, (gkey, lkey), _), story_id in zip(todo, story_ids, strict=True)])
        rows = list(zip(todo, item_ids, story_ids, strict=True))
        self.db.conn.executemany(
            "UPDATE stories SET first_item_id = ? WHERE id = ?",
            [(item_id, story_id) for (_, _, joined), item_id, story_id in rows
             if joined is None])
        self._insert_hits([(item_id, story_id, new.hits)
                           for (new, _, _), item_id, story_id in rows if new.hits], stamp)
        self._insert_signals([(item_id, story_id, new.signals)
                              for (new, _, _), item_id, story_id in rows if new.signals], stamp)
        return [(item_id, story_id, new.item) for (new, _, _), item_id, story_id in rows]

    def _retitle(self, change: Retitled, stamp: str) -> None:
        """A stored item under a new title; its story takes the title if it is the first."""
        self.db.execute("UPDATE items SET title = ? WHERE id = ?",
                        [change.item.title, change.item_id])
        self.db.execute(
            "UPDATE stories SET title = ?, last_seen_at = ? WHERE id = ? AND first_item_id = ?",
            [change.item.title, stamp, change.story_id, change.item_id])

    def _insert_hits(self, found: Sequence[tuple[int, int, Sequence[Hit]]],
                     stamp: str) -> None:
        """The hits of a poll's items, given as (item id, story id, hits): one statement
        for the hits, one for the watchlists their stories now appear under."""
        self.db.conn.executemany(
            """INSERT INTO hits (item_id, watchlist, term, matched_text, field,
               score, created_at, start_offset, end_offset)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(item_id, hit.watchlist, hit.term, hit.text, hit.field, hit.score,
              stamp, hit.start, hit.end) for item_id, _, hits in found for hit in hits])
        self.db.conn.executemany(
            """INSERT OR IGNORE INTO story_watchlists (story_id, watchlist, first_seen_at)
               SELECT id, ?, first_seen_at FROM stories WHERE id = ?""",
            [(watchlist, story_id) for watchlist, story_id in dict.fromkeys(
                (hit.watchlist, story_id) for _, story_id, hits in found for hit in hits)])

    def _insert_signals(self, found: Sequence[tuple[int, int, Sequence[Signal]]],
                        stamp: str) -> None:
        """The signals of a poll's items, given as (item id, story id, signals)."""
        self.db.conn.executemany(
            """INSERT OR IGNORE INTO signals (item_id, story_id, supplier, recipient, kind,
               evidence, field, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [(item_id, story_id, s.supplier, s.recipient, s.kind, s.evidence, s.field, stamp)
             for item_id, story_id, signals in found for s in signals])

    def _story_for(self, new: NewItem, stamp: str) -> int | None:
        if new.story_id is None:
            return None
        cursor = self.db.conn.execute("UPDATE stories SET last_seen_at = ? WHERE id = ?",
                                      [stamp, new.story_id])
        return new.story_id if cursor.rowcount else None

    def recent_items(self, since: datetime,
                     ) -> Iterator[tuple[int, int, str, str, datetime, str, bool]]:
        """(item id, story id, title, summary, time, language, whether it has hits) of the
        items seen since ``since``."""
        rows = self.db.execute(
            """SELECT id, story_id, title, summary, coalesce(published_at, fetched_at),
                 fetched_at, lang, EXISTS (SELECT 1 FROM hits WHERE hits.item_id = items.id)
               FROM items WHERE fetched_at >= ? ORDER BY id""", [iso(since)])
        for row in rows:
            when = from_iso(row[4]) or from_iso(row[5]) or since
            yield (int(row[0]), int(row[1]), row[2], row[3], min(when, from_iso(row[5]) or when),
                   row[6], bool(row[7]))


class _SeenKeys:
    """The articles of one batch: same canonical link, or same GUID unless the links say
    they are different articles, is the same article."""

    def __init__(self) -> None:
        self._links: set[str] = set()
        self._guid_links: dict[str, set[str | None]] = {}

    def add(self, keys: Keys) -> bool:
        """Remember ``keys``; False when the batch already has that article."""
        gkey, lkey = keys
        if lkey and lkey in self._links:
            return False
        links = self._guid_links.get(gkey) if gkey else None
        if links is not None and (lkey is None or None in links or lkey in links):
            return False
        if lkey:
            self._links.add(lkey)
        if links is not None:
            links.add(lkey)
        elif gkey:
            self._guid_links[gkey] = {lkey}
        return True


def _identity(item: ParsedItem, feed_url: str) -> Keys:
    return guid_key(item.guid, feed_url), canonical_url(item.link) if item.link else None
