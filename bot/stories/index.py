"""The story index: recent items by their words, to find the story a new report joins."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import chain

from bot.matching.text import WordForms
from bot.stories.fingerprint import (
    MAX_REMEMBERED_WORDS,
    THOUSANDS_RE,
    Fingerprint,
    Form,
    StoredPrint,
    WordKinds,
    fingerprint,
    fingerprint_words,
    story_score,
)

COMMON_WORD_ITEMS = 60  # a title word shared by more recent items is not used to find them
CANDIDATES = 20  # most word-sharing recent items compared in full
_IndexedItem = tuple[int, datetime, tuple[tuple[str, ...], ...]]


class StoryIndex:
    """Recent items by their words, to find the story a new item belongs to (in memory)."""

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self._items: dict[int, _IndexedItem] = {}
        self._by_word: dict[str, set[int]] = {}
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

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item_id: int, story_id: int, when: datetime, fp: Fingerprint) -> None:
        """Remember an item of ``story_id``."""
        self._items[item_id] = (story_id, when, StoredPrint.fields_of(fp))
        by_word = self._by_word
        for word in fp.title_words:
            bucket = by_word.get(word)
            if bucket is None:
                by_word[word] = {item_id}
            else:
                bucket.add(item_id)

    def find(self, fp: Fingerprint, when: datetime) -> int | None:
        """The story of the most similar recent item that reports the same story, if any."""
        # A word in more than COMMON_WORD_ITEMS recent titles says nothing about the story.
        buckets = [bucket for bucket in map(self._by_word.get, fp.title_words)
                   if bucket and len(bucket) <= COMMON_WORD_ITEMS]
        if not buckets:
            return None
        shared = Counter(chain.from_iterable(buckets))  # title words each recent item shares
        best: tuple[float, int] | None = None
        for item_id, _ in shared.most_common(CANDIDATES):
            story_id, indexed_at, fields = self._items[item_id]
            gap = indexed_at - when
            if abs(gap) > self.window:
                continue
            score = story_score(fp, StoredPrint._make(fields), gap)
            if score is None:
                continue
            if best is None or score > best[0]:
                best = (score, story_id)
        return best[1] if best else None

    def prune(self, now: datetime) -> int:
        """Forget items older than the window; returns how many went."""
        old = [i for i, (_, indexed_at, _) in self._items.items()
               if now - indexed_at > self.window]
        for item_id in old:
            _, _, fields = self._items.pop(item_id)
            for word in StoredPrint._make(fields).title_words:
                bucket = self._by_word.get(word)
                if bucket is not None:
                    bucket.discard(item_id)
                    if not bucket:
                        del self._by_word[word]
        return len(old)
