"""The story index: recent items by their words, to find the story a new report joins."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from itertools import chain

from bot.matching.text import WordForms
from bot.stories.anchors import (
    INDEXED,
    MIN_DISTINCT,
    NO_ANCHORS,
    NO_NAMES,
    Anchors,
    Names,
    anchor_score,
    anchors_of,
)
from bot.stories.fingerprint import (
    LATE_REPORT,
    MAX_REMEMBERED_WORDS,
    THOUSANDS_RE,
    Fingerprint,
    Form,
    StoredPrint,
    WordKinds,
    fingerprint,
    fingerprint_words,
    stored_score,
)

COMMON_WORD_ITEMS = 60  # a title word shared by more recent items is not used to find them
CANDIDATES = 20  # most word-sharing recent items compared in full
# Reports of one event in two languages, or rewritten, come within a day or so; alike
# reports further apart are follow-ups (a tribute, an inquiry) unless worded alike.
ANCHOR_WINDOW = timedelta(hours=36)
ANCHOR_SECONDS = ANCHOR_WINDOW.total_seconds()
LATE_SECONDS = LATE_REPORT.total_seconds()
COMMON_ANCHOR_ITEMS = 25  # a name or figure carried by more recent items tells none apart
# An item's anchors as plain tuples (the collector stops watching those): all, title's,
# language, round-up, revised, title's places.
_StoredAnchors = tuple[tuple[str, ...], tuple[str, ...], str, bool, bool, tuple[str, ...]]
# (story id, time as POSIX seconds, StoredPrint fields, anchors): plain values only.
_IndexedItem = tuple[int, float, tuple[tuple[str, ...], ...], _StoredAnchors]
# A stored item to index: (item id, story id, title, summary, time, language, whether it
# names a watched term: only those are read for names and figures, as the poller does).
StoredItem = tuple[int, int, str, str, datetime, str, bool]


class StoryIndex:
    """Recent items by their words, to find the story a new item belongs to (in memory)."""

    def __init__(self, window: timedelta, aliases: Names = NO_NAMES,
                 source: Callable[[], Iterable[StoredItem]] | None = None) -> None:
        self.window = window
        self.aliases = aliases  # the names of actors and watched subjects
        # The stored items of the window, read the first time the index is needed: a run
        # whose feeds bring nothing new never pays for reading them again.
        self._source = source
        self._items: dict[int, _IndexedItem] = {}
        self._by_word: dict[str, set[int]] = {}
        self._by_anchor: dict[str, set[int]] = {}
        self._forms: dict[str, Form] = {}
        self._kinds = WordKinds()

    def fingerprint(self, title: str, summary: str) -> Fingerprint:
        """``fingerprint`` with the word forms of earlier items remembered (bounded)."""
        if len(self._forms) > MAX_REMEMBERED_WORDS:
            self._forms.clear()
        return fingerprint(title, summary, self._forms)

    def fingerprint_read(self, title: str, summary: str, title_words: Sequence[WordForms],
                         summary_words: Sequence[WordForms]) -> Fingerprint:
        """The fingerprint of an item the matcher has read, from its words."""
        fp = fingerprint_words(title_words, summary_words, self._kinds)
        if self._kinds.may_group(fp.words) and (THOUSANDS_RE.search(title)
                                                or THOUSANDS_RE.search(summary)):
            return self.fingerprint(title, summary)  # "10 000" is one number here
        return fp

    def anchors(self, title: str, summary: str, lang: str = "",
                words: tuple[Sequence[str], Sequence[str]] | None = None) -> Anchors:
        """The names, actors, figures and days of an item, whatever its language;
        ``words``: its folded title and summary words, when the matcher read them."""
        return anchors_of(title, summary, self.aliases, lang, words)

    def _fill(self) -> None:
        """Index the stored items of the window, once, when first needed."""
        source, self._source = self._source, None
        if source is None:
            return
        for item_id, story_id, title, summary, when, lang, hits in source():
            self.add(item_id, story_id, when, self.fingerprint(title, summary),
                     self.anchors(title, summary, lang) if hits else NO_ANCHORS)

    @property
    def filled(self) -> bool:
        """Whether the stored items have been read (or there were none to read)."""
        return self._source is None

    def __len__(self) -> int:
        self._fill()
        return len(self._items)

    def add(self, item_id: int, story_id: int, when: datetime, fp: Fingerprint,
            anchors: Anchors = NO_ANCHORS) -> None:
        """Remember an item of ``story_id``."""
        self._fill()
        self._items[item_id] = (story_id, when.timestamp(), StoredPrint.fields_of(fp),
                                (tuple(anchors.all), tuple(anchors.title), anchors.lang,
                                 anchors.roundup, anchors.revised, tuple(anchors.places)))
        _file(self._by_word, fp.title_words, item_id)
        _file(self._by_anchor, (x for x in anchors.all if x[:2] in INDEXED), item_id)

    def find(self, fp: Fingerprint, when: datetime,
             anchors: Anchors = NO_ANCHORS) -> int | None:
        """The story of the most similar recent item that reports the same story, if any:
        worded alike in one language, or sharing enough names, actors and figures in any."""
        self._fill()
        # A word in more than COMMON_WORD_ITEMS recent titles says nothing about the story.
        buckets = [bucket for bucket in map(self._by_word.get, fp.title_words)
                   if bucket and len(bucket) <= COMMON_WORD_ITEMS]
        anchor_buckets = [bucket for bucket in map(self._by_anchor.get, anchors.all)
                          if bucket and len(bucket) <= COMMON_ANCHOR_ITEMS]
        if not buckets and not anchor_buckets:
            return None
        # The recent items sharing the most title words; and those sharing at least two
        # names, actors or figures (fewer can never be enough), whose anchors are weighed.
        by_words = _most_shared(buckets)
        weighed = ({i for i, count in _most_shared(anchor_buckets) if count >= MIN_DISTINCT}
                   if anchor_buckets else set())
        items, window, lang = self._items, self.window.total_seconds(), anchors.lang
        at = when.timestamp()
        best: tuple[float, int] | None = None
        for item_id in dict.fromkeys(chain((i for i, _ in by_words), sorted(weighed))):
            story_id, indexed_at, fields, stored = items[item_id]
            gap = abs(indexed_at - at)  # seconds: cheaper than datetimes, per candidate
            if gap > window:
                continue
            other_lang = stored[2]
            score = (stored_score(fp, fields, gap > LATE_SECONDS)
                     if not lang or not other_lang or lang == other_lang else None)
            if score is None and item_id in weighed and gap <= ANCHOR_SECONDS:
                score = self._anchor_score(anchors, stored, gap > LATE_SECONDS)
            if score is not None and (best is None or score > best[0]):
                best = (score, story_id)
        return best[1] if best else None

    def _anchor_score(self, anchors: Anchors, stored: _StoredAnchors,
                      late: bool) -> float | None:
        """What the names, actors and figures two items share say (in any language)."""
        found = anchor_score(anchors, Anchors(frozenset(stored[0]), frozenset(stored[1]),
                                              stored[2], stored[3], stored[4],
                                              frozenset(stored[5])),
                             self._rare, late)
        return None if found is None else found / 10

    def _rare(self, anchor: str) -> bool:
        """Whether few enough recent items carry ``anchor`` for it to tell stories apart."""
        return len(self._by_anchor.get(anchor, ())) <= COMMON_ANCHOR_ITEMS

    def prune(self, now: datetime) -> int:
        """Forget items older than the window; returns how many went."""
        self._fill()
        oldest = (now - self.window).timestamp()
        old = [i for i, (_, indexed_at, _, _) in self._items.items() if indexed_at < oldest]
        for item_id in old:
            _, _, fields, stored = self._items.pop(item_id)
            _unfile(self._by_word, StoredPrint._make(fields).title_words, item_id)
            _unfile(self._by_anchor, stored[0], item_id)
        return len(old)


def _most_shared(buckets: list[set[int]]) -> list[tuple[int, int]]:
    """The CANDIDATES items found in the most ``buckets``, with their count; ties go to the
    earlier item: the same answer whatever order the sets were read in (it changes with
    each process)."""
    if len(buckets) == 1:  # one word shared: each item once
        return [(i, 1) for i in heapq.nsmallest(CANDIDATES, buckets[0])]
    counts = Counter(chain.from_iterable(buckets))
    return [(i, -minus) for minus, i in heapq.nsmallest(
        CANDIDATES, [(-count, i) for i, count in counts.items()])]


def _file(buckets: dict[str, set[int]], keys: Iterable[str], item_id: int) -> None:
    """Put ``item_id`` in the bucket of each key."""
    for key in keys:
        bucket = buckets.get(key)
        if bucket is None:
            buckets[key] = {item_id}
        else:
            bucket.add(item_id)


def _unfile(buckets: dict[str, set[int]], keys: Iterable[str], item_id: int) -> None:
    """Take ``item_id`` out of the bucket of each key (a bucket left empty goes)."""
    for key in keys:
        bucket = buckets.get(key)
        if bucket is not None:
            bucket.discard(item_id)
            if not bucket:
                del buckets[key]
