"""Items against watchlists: indexed term lookup, typo tolerance, context and exclusions (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import OSA
from rapidfuzz.fuzz import ratio

from bot.text import Tokens, phrase_tokens, tokenize
from bot.watchlists import Term, Watchlist

# Words shorter than this (after folding) never match with a typo: short names and
# acronyms have too many real neighbours (FAMa/FAMAS, Goïta/goitre).
FUZZY_MIN_LENGTH = 7
# A single slip: one substitution, insertion, deletion or swap of neighbours.
FUZZY_MAX_EDITS = 1
EXACT_SCORE = 100
# Token-folding memo size before it is cleared, to bound memory on endless new words.
FOLD_CACHE_LIMIT = 200_000
FIELDS = ("title", "summary")


@dataclass(frozen=True)
class Hit:
    """One watchlist term found in one field of an item, with the evidence."""

    watchlist: str
    term: str
    text: str
    field: str
    score: int
    start: int
    end: int


@dataclass(frozen=True)
class _Entry:
    watchlist: Watchlist
    term: Term
    tokens: tuple[str, ...]
    fuzzy: tuple[bool, ...]
    context: tuple[tuple[str, ...], ...]
    exclude: tuple[tuple[str, ...], ...]


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Matcher:
    """Finds watchlist terms in items; built once per set of watchlists, reused for every item."""

    def __init__(self, watchlists: Sequence[Watchlist]) -> None:
        self.watchlists = tuple(w for w in watchlists if w.enabled)
        self._folded_first: dict[str, list[_Entry]] = {}
        self._cased_first: dict[str, list[_Entry]] = {}
        self._fuzzy_first: dict[str, list[_Entry]] = {}
        self._deletion_index: dict[str, set[str]] = {}
        self._fold_cache: dict[str, tuple[str, str]] = {}
        self._near_cache: dict[str, tuple[str, ...]] = {}
        for watchlist in self.watchlists:
            for term in watchlist.terms:
                self._add(self._compile(watchlist, term))

    @staticmethod
    def _compile(watchlist: Watchlist, term: Term) -> _Entry:
        tokens = phrase_tokens(term.text, case=term.case)
        fuzzy = tuple(
            term.fuzzy and not term.case and len(tok) >= FUZZY_MIN_LENGTH and tok.isalpha()
            for tok in tokens
        )
        return _Entry(
            watchlist=watchlist,
            term=term,
            tokens=tokens,
            fuzzy=fuzzy,
            context=tuple(phrase_tokens(p) for p in term.context),
            exclude=tuple(phrase_tokens(p) for p in term.exclude),
        )

    def _add(self, entry: _Entry) -> None:
        first = entry.tokens[0]
        index = self._cased_first if entry.term.case else self._folded_first
        index.setdefault(first, []).append(entry)
        if entry.fuzzy[0]:
            self._fuzzy_first.setdefault(first, []).append(entry)
            for variant in _deletions(first) | {first}:
                self._deletion_index.setdefault(variant, set()).add(first)

    def tokenize(self, text: str) -> Tokens:
        """Tokens of ``text`` using this matcher's folding memo."""
        if len(self._fold_cache) > FOLD_CACHE_LIMIT:
            self._fold_cache.clear()
            self._near_cache.clear()
        return tokenize(text, self._fold_cache)

    def match(self, title: str, summary: str = "") -> list[Hit]:
        """Hits in plain-text ``title`` and ``summary``, title first, at most one per term."""
        fields = {"title": self.tokenize(title), "summary": self.tokenize(summary)}
        item_words: set[str] | None = None
        hits: list[Hit] = []
        seen: set[tuple[str, str]] = set()
        for field in FIELDS:
            tokens = fields[field]
            for entry, first, last, edits in self._candidates(tokens):
                key = (entry.watchlist.id, entry.term.text)
                if key in seen:
                    continue
                if entry.context or entry.exclude:
                    if item_words is None:
                        item_words = set(fields["title"].folded) | set(fields["summary"].folded)
                    if not self._context_allows(entry, fields.values(), item_words):
                        continue
                text = tokens.span_text(first, last)
                score = EXACT_SCORE if not edits else self._score(entry, tokens, first, last)
                if score < entry.watchlist.threshold:
                    continue
                seen.add(key)
                hits.append(Hit(entry.watchlist.id, entry.term.text, text, field, score,
                                tokens.starts[first], tokens.ends[last]))
        return _drop_nested(hits)

    def _candidates(self, tokens: Tokens) -> Iterable[tuple[_Entry, int, int, int]]:
        folded, cased = tokens.folded, tokens.cased
        size = len(folded)
        for i in range(size):
            word = folded[i]
            starts: list[tuple[_Entry, int]] = [(e, 0) for e in self._folded_first.get(word, ())]
            starts.extend((e, 0) for e in self._cased_first.get(cased[i], ()))
            if len(word) >= FUZZY_MIN_LENGTH - FUZZY_MAX_EDITS and word.isalpha():
                for near in self._near_terms(word):
                    starts.extend((e, 1) for e in self._fuzzy_first[near])
            for entry, edits in starts:
                last = self._extend(entry, tokens, i, edits)
                if last is not None:
                    yield entry, i, last[0], last[1]

    def _near_terms(self, word: str) -> tuple[str, ...]:
        """Fuzzy-eligible first tokens one slip away from ``word`` (not equal to it)."""
        cached = self._near_cache.get(word)
        if cached is None:
            candidates: set[str] = set()
            for variant in _deletions(word) | {word}:
                candidates |= self._deletion_index.get(variant, set())
            cached = tuple(
                c for c in candidates
                if c != word and OSA.distance(c, word, score_cutoff=FUZZY_MAX_EDITS)
                <= FUZZY_MAX_EDITS
            )
            self._near_cache[word] = cached
        return cached

    @staticmethod
    def _extend(entry: _Entry, tokens: Tokens, start: int, edits: int) -> tuple[int, int] | None:
        """Last token index and edit count if ``entry`` matches from ``start``, else None."""
        words = tokens.cased if entry.term.case else tokens.folded
        if start + len(entry.tokens) > len(words):
            return None
        for offset in range(1, len(entry.tokens)):
            expected, actual = entry.tokens[offset], words[start + offset]
            if expected == actual:
                continue
            if not entry.fuzzy[offset] or edits >= FUZZY_MAX_EDITS or not actual.isalpha():
                return None
            if OSA.distance(expected, actual, score_cutoff=FUZZY_MAX_EDITS) > FUZZY_MAX_EDITS:
                return None
            edits += 1
        return start + len(entry.tokens) - 1, edits

    @staticmethod
    def _context_allows(entry: _Entry, fields: Iterable[Tokens], item_words: set[str]) -> bool:
        all_fields = tuple(fields)

        def present(phrase: tuple[str, ...]) -> bool:
            if not set(phrase) <= item_words:
                return False
            return any(_contains(tokens.folded, phrase) for tokens in all_fields)

        if any(present(p) for p in entry.exclude):
            return False
        return not entry.context or any(present(p) for p in entry.context)

    @staticmethod
    def _score(entry: _Entry, tokens: Tokens, first: int, last: int) -> int:
        expected = " ".join(phrase_tokens(entry.term.text))
        found = " ".join(tokens.folded[first : last + 1])
        return int(ratio(expected, found))


def _contains(words: Sequence[str], phrase: tuple[str, ...]) -> bool:
    width = len(phrase)
    first = phrase[0]
    return any(
        words[i] == first and tuple(words[i : i + width]) == phrase
        for i in range(len(words) - width + 1)
    )


def _drop_nested(hits: list[Hit]) -> list[Hit]:
    """Drop a hit lying inside a longer hit of the same watchlist in the same field."""
    kept = []
    for hit in hits:
        inside = any(
            other is not hit and other.watchlist == hit.watchlist and other.field == hit.field
            and other.start <= hit.start and hit.end <= other.end
            and (other.end - other.start) > (hit.end - hit.start)
            for other in hits
        )
        if not inside:
            kept.append(hit)
    return kept
