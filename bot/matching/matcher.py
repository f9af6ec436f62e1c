"""Items against watchlists: indexed term lookup, typo tolerance, context and exclusions (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress
from operator import attrgetter

from rapidfuzz.distance import OSA
from rapidfuzz.fuzz import ratio

from bot.matching.text import TOKEN_RE, WordForms, composed, phrase_tokens, word_forms
from bot.matching.watchlists import Term, Watchlist

# A single word shorter than this (after folding) never matches with a typo: short names
# and acronyms have too many real neighbours (FAMa/FAMAS, Goïta/goitre, Wagner/Wagners).
FUZZY_MIN_LENGTH = 7
# Inside a name of several words, at least this long in all, a word of FUZZY_MIN_WORD
# letters or more may carry the slip ("Wagner Grop"): the other words anchor the match.
FUZZY_MIN_PHRASE = 10
FUZZY_MIN_WORD = 5
# A single slip: one substitution, insertion, deletion or swap of neighbours.
FUZZY_MAX_EDITS = 1
EXACT_SCORE = 100
# Distinct words remembered before the memo is cleared, to bound memory on endless new words.
WORD_CACHE_LIMIT = 100_000
LETTER_RE = re.compile(r"[^\W\d_]")  # letters, and a few numerals (Ⅻ) isalpha() refuses


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
class _IndexedTerm:
    watchlist: Watchlist
    term: Term
    tokens: tuple[str, ...]  # case kept for case-sensitive terms, else folded
    folded: tuple[str, ...]
    fuzzy: tuple[bool, ...]
    context: tuple[tuple[str, ...], ...]
    exclude: tuple[tuple[str, ...], ...]


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass(frozen=True, slots=True)
class _Word:
    """What the matcher knows of one distinct word, computed once and memoised."""

    folded: str
    cased: str
    starts: tuple[tuple[_IndexedTerm, int], ...]  # terms that may begin here, with edits spent
    # Case-sensitive terms with context that may begin here in a text written without case
    # ("les fama ont frappé" in an all lower-case post): the context stands in for the case.
    caseless: tuple[tuple[_IndexedTerm, int], ...]
    anchors: bool  # some term may begin here (in ``starts`` or ``caseless``)


ANCHORS = attrgetter("anchors")


@dataclass(frozen=True)
class Analysis:
    """One item as the matcher read it: its hits and the words of each field."""

    hits: list[Hit]
    title_words: Sequence[WordForms]
    summary_words: Sequence[WordForms]


class Matcher:
    """Finds watchlist terms in items; built once per set of watchlists, reused for every item.

    Each distinct word is looked up once: its folded and case-kept forms and the terms that
    may begin with it are memoised, so an item costs one regex scan and one dictionary
    lookup per word, whatever the number of terms.
    """

    def __init__(self, watchlists: Sequence[Watchlist]) -> None:
        self.watchlists = tuple(w for w in watchlists if w.enabled)
        self._folded_first: dict[str, list[_IndexedTerm]] = {}
        self._cased_first: dict[str, list[_IndexedTerm]] = {}
        self._caseless_first: dict[str, list[_IndexedTerm]] = {}
        self._fuzzy_first: dict[str, list[_IndexedTerm]] = {}
        self._deletion_index: dict[str, set[str]] = {}
        self._words: dict[str, _Word] = {}
        self._begins: dict[tuple[str, str], frozenset[str]] = {}  # see may_begin
        for watchlist in self.watchlists:
            for term in watchlist.terms:
                self._add(self._compile(watchlist, term))

    @staticmethod
    def _compile(watchlist: Watchlist, term: Term) -> _IndexedTerm:
        tokens = phrase_tokens(term.text, case=term.case)
        phrase = len(tokens) > 1 and sum(map(len, tokens)) >= FUZZY_MIN_PHRASE
        shortest = FUZZY_MIN_WORD if phrase else FUZZY_MIN_LENGTH
        fuzzy = tuple(
            term.fuzzy and not term.case and len(tok) >= shortest and tok.isalpha()
            for tok in tokens
        )
        return _IndexedTerm(
            watchlist=watchlist,
            term=term,
            tokens=tokens,
            folded=phrase_tokens(term.text),
            fuzzy=fuzzy,
            context=tuple(phrase_tokens(p) for p in term.context),
            exclude=tuple(phrase_tokens(p) for p in term.exclude),
        )

    def _add(self, entry: _IndexedTerm) -> None:
        first = entry.tokens[0]
        index = self._cased_first if entry.term.case else self._folded_first
        index.setdefault(first, []).append(entry)
        if entry.term.case and entry.context:
            self._caseless_first.setdefault(entry.folded[0], []).append(entry)
        if entry.fuzzy[0]:
            self._fuzzy_first.setdefault(first, []).append(entry)
            for variant in _deletions(first) | {first}:
                self._deletion_index.setdefault(variant, set()).add(first)

    def _learn(self, raw: str) -> _Word:
        """Work out, once, the forms of ``raw`` and the terms that may start with it."""
        if len(self._words) > WORD_CACHE_LIMIT:
            self._words.clear()
        cased, folded = word_forms(raw)
        starts, caseless = self._starts(cased, folded)
        word = _Word(folded, cased, starts, caseless, bool(starts or caseless))
        self._words[raw] = word
        return word

    def _starts(self, cased: str, folded: str) -> tuple[tuple[tuple[_IndexedTerm, int], ...],
                                                         tuple[tuple[_IndexedTerm, int], ...]]:
        """The terms that may begin at a word of these forms, and those that may begin
        there caselessly."""
        starts = [(e, 0) for e in self._folded_first.get(folded, ())]
        starts.extend((e, 0) for e in self._cased_first.get(cased, ()))
        if len(folded) >= FUZZY_MIN_WORD - FUZZY_MAX_EDITS and folded.isalpha():
            for near in self._near_terms(folded):
                starts.extend((e, FUZZY_MAX_EDITS) for e in self._fuzzy_first[near])
        return tuple(starts), tuple((e, 0) for e in self._caseless_first.get(folded, ()))

    def may_begin(self, word: WordForms) -> frozenset[str]:
        """The ids of the watchlists one of whose terms may begin at ``word``, a word
        another matcher read (its forms are the same whoever reads them); memoised."""
        key = (word.cased, word.folded)
        known = self._begins.get(key)
        if known is None:
            if len(self._begins) > WORD_CACHE_LIMIT:
                self._begins.clear()
            starts, caseless = self._starts(*key)
            known = self._begins[key] = frozenset(
                entry.watchlist.id for entry, _ in (*starts, *caseless))
        return known

    def _near_terms(self, word: str) -> set[str]:
        """Fuzzy-eligible first tokens one slip away from ``word`` (not equal to it)."""
        candidates: set[str] = set()
        for variant in _deletions(word) | {word}:
            candidates |= self._deletion_index.get(variant, set())
        return {
            c for c in candidates
            if c != word
            and OSA.distance(c, word, score_cutoff=FUZZY_MAX_EDITS) <= FUZZY_MAX_EDITS
        }

    def words(self, text: str) -> list[_Word]:
        """The memoised words of plain NFC ``text``, in order."""
        raws = TOKEN_RE.findall(text)
        words = list(map(self._words.get, raws))  # C speed: nearly every word is known
        if not all(words):
            words = [word or self._learn(raw) for word, raw in zip(words, raws, strict=True)]
        return words  # type: ignore[return-value]  # no None is left

    def match(self, title: str, summary: str = "", *, every: bool = False) -> list[Hit]:
        """Hits in plain-text ``title`` and ``summary``, title first, at most one per term
        (``every``: each place a term is found)."""
        title, summary = composed(title), composed(summary)
        return self._hits(title, summary, self.words(title), self.words(summary), every)

    def analyse(self, title: str, summary: str = "") -> Analysis:
        """The hits of ``match``, with the words it split both fields into."""
        title, summary = composed(title), composed(summary)
        title_words, summary_words = self.words(title), self.words(summary)
        return Analysis(self._hits(title, summary, title_words, summary_words),
                        title_words, summary_words)

    def _hits(self, title: str, summary: str, title_words: list[_Word],
              summary_words: list[_Word], every: bool = False) -> list[Hit]:
        fields = (("title", title, title_words), ("summary", summary, summary_words))
        hits: list[Hit] = []
        seen: set[tuple[str, str]] = set()
        item_words: set[str] | None = None
        for field, text, words in fields:
            # Nearly every word begins no term: those that may are picked out at C speed.
            anchors = list(compress(range(len(words)), map(ANCHORS, words)))
            if not anchors:
                continue
            spans: list[tuple[int, int]] | None = None
            caseless = _without_case(text)
            for i in anchors:
                word = words[i]
                starts = word.starts + word.caseless if caseless else word.starts
                if not starts:
                    continue
                for entry, edits in starts:
                    found = self._extend(entry, words, i, edits, caseless)
                    if found is None:
                        continue
                    key = (entry.watchlist.id, entry.term.text)
                    if key in seen and not every:
                        continue
                    if entry.context or entry.exclude:
                        if item_words is None:
                            item_words = {w.folded for _, _, ws in fields for w in ws}
                        if not _context_allows(entry, [ws for _, _, ws in fields], item_words):
                            continue
                    last, spent = found
                    score = EXACT_SCORE if not spent else _score(entry, words, i, last)
                    if score < entry.watchlist.threshold:
                        continue
                    if spans is None:
                        spans = [m.span() for m in TOKEN_RE.finditer(text)]
                    start, end = spans[i][0], spans[last][1]
                    seen.add(key)
                    hits.append(Hit(entry.watchlist.id, entry.term.text, text[start:end], field,
                                    score, start, end))
        return _drop_nested(hits)

    @staticmethod
    def _extend(entry: _IndexedTerm, words: Sequence[_Word], start: int, edits: int,
                caseless: bool) -> tuple[int, int] | None:
        """Last word index and edits spent if ``entry`` matches from ``start``, else None."""
        size = len(entry.tokens)
        if start + size > len(words):
            return None
        case = entry.term.case and not caseless
        tokens = entry.tokens if case else entry.folded
        for offset in range(1, size):
            word = words[start + offset]
            expected, actual = tokens[offset], word.cased if case else word.folded
            if expected == actual:
                continue
            if not entry.fuzzy[offset] or edits >= FUZZY_MAX_EDITS or not actual.isalpha():
                return None
            if OSA.distance(expected, actual, score_cutoff=FUZZY_MAX_EDITS) > FUZZY_MAX_EDITS:
                return None
            edits += 1
        return start + size - 1, edits


def _without_case(text: str) -> bool:
    """True for text whose capitals carry no meaning: all upper case, or not even starting
    with a capital (lower-case social-media style)."""
    if text.isupper():
        return True
    found = LETTER_RE.search(text)
    first = found.group() if found else ""
    if first and not first.isalpha():  # a numeral such as Ⅻ: look further (rare)
        first = next((m.group() for m in LETTER_RE.finditer(text, found.end() if found else 0)
                      if m.group().isalpha()), "")
    return first.islower()


def _context_allows(entry: _IndexedTerm, fields: Sequence[Sequence[_Word]],
                    item_words: set[str]) -> bool:
    """Exclusions veto the hit; context phrases, when a term has them, must be present."""

    def present(phrase: tuple[str, ...]) -> bool:
        if not set(phrase) <= item_words:
            return False
        return any(_contains([w.folded for w in words], phrase) for words in fields)

    if any(present(p) for p in entry.exclude):
        return False
    return not entry.context or any(present(p) for p in entry.context)


def _score(entry: _IndexedTerm, words: Sequence[_Word], first: int, last: int) -> int:
    expected = " ".join(phrase_tokens(entry.term.text))
    found = " ".join(w.folded for w in words[first : last + 1])
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
