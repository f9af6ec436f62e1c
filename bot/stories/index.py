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
    names_conflict,
    story_score,
)

COMMON_WORD_ITEMS = 60  # a title word shared by more recent items is not used to find them
CANDIDATES = 20  # most word-sharing recent items compared in full
# Reports of one event in two languages, or rewritten, come within a day or so; alike
# reports further apart are follow-ups (a tribute, an inquiry) unless worded alike.
ANCHOR_WINDOW = timedelta(hours=36)
COMMON_ANCHOR_ITEMS = 25  # a name or figure carried by more recent items tells none apart
_StoredAnchors = tuple[tuple[str, ...], tuple[str, ...], str, bool]
_IndexedItem = tuple[int, datetime, tuple[tuple[str, ...], ...], _StoredAnchors]
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
        if THOUSANDS_RE.search(title) or THOUSANDS_RE.search(summary):
            return self.fingerprint(title, summary)  # "10 000" is one number here
        return fingerprint_words(title_words, summary_words, self._kinds)

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
        self._items[item_id] = (story_id, when, StoredPrint.fields_of(fp),
                                (tuple(anchors.all), tuple(anchors.title), anchors.lang,
                                 anchors.roundup))
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
        shared = Counter(chain.from_iterable(buckets))  # title words each recent item shares
        by_anchors = Counter(chain.from_iterable(anchor_buckets))
        # Anchors are weighed only for items sharing at least two names, actors or figures
        # (fewer can never be enough): most look-alikes stop at this count.
        weighed = {i for i, count in _most_shared(by_anchors) if count >= MIN_DISTINCT}
        candidates = dict.fromkeys(chain((i for i, _ in _most_shared(shared)),
                                         sorted(weighed)))
        best: tuple[float, int] | None = None
        for item_id in candidates:
            story_id, indexed_at, fields, stored = self._items[item_id]
            gap = indexed_at - when
            if abs(gap) > self.window:
                continue
            score = self._score(fp, anchors if item_id in weighed else NO_ANCHORS,
                                StoredPrint._make(fields), stored, gap)
            if score is not None and (best is None or score > best[0]):
                best = (score, story_id)
        return best[1] if best else None

    def _score(self, fp: Fingerprint, anchors: Anchors, other: StoredPrint,
               stored: _StoredAnchors, gap: timedelta) -> float | None:
        """Word similarity within a language; else what names, actors and figures say."""
        other_lang = stored[2]
        same_language = not anchors.lang or not other_lang or anchors.lang == other_lang
        if same_language:
            score = story_score(fp, other, gap)
            if score is not None:
                return score
            if names_conflict(fp, other):
                return None  # figures and days are weighed with the anchors below
        if not anchors.all or abs(gap) > ANCHOR_WINDOW:
            return None
        found = anchor_score(anchors, Anchors(frozenset(stored[0]), frozenset(stored[1]),
                                              other_lang, stored[3]),
                             self._rare, abs(gap) > LATE_REPORT)
        return None if found is None else found / 10

    def _rare(self, anchor: str) -> bool:
        """Whether few enough recent items carry ``anchor`` for it to tell stories apart."""
        return len(self._by_anchor.get(anchor, ())) <= COMMON_ANCHOR_ITEMS

    def prune(self, now: datetime) -> int:
        """Forget items older than the window; returns how many went."""
        self._fill()
        old = [i for i, (_, indexed_at, _, _) in self._items.items()
               if now - indexed_at > self.window]
        for item_id in old:
            _, _, fields, stored = self._items.pop(item_id)
            _unfile(self._by_word, StoredPrint._make(fields).title_words, item_id)
            _unfile(self._by_anchor, stored[0], item_id)
        return len(old)


def _most_shared(counts: Counter[int]) -> list[tuple[int, int]]:
    """The CANDIDATES items sharing the most, ties to the earlier item: the same answer
    whatever order the sets of words were read in (it changes with each process)."""
    return heapq.nsmallest(CANDIDATES, counts.items(), key=lambda pair: (-pair[1], pair[0]))


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
