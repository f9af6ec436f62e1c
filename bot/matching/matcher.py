"""Items against watchlists: indexed term lookup, typo tolerance, context and exclusions (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import compress
from operator import attrgetter

from rapidfuzz.distance import OSA
from rapidfuzz.fuzz import ratio

from bot.matching.reading import (
    BREAK_GAP_RE,
    ORGANISATION_WORDS,
    TITLES,
    camel_parts,
    flag_words,
    name_shaped,
    title_case,
    with_nations,
)
from bot.matching.text import (
    TOKEN_RE,
    WordForms,
    composed,
    disguised_latin,
    phrase_tokens,
    split_words,
    word_forms,
)
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
# What may follow a term ending in digits: not letters glued to it ("Tb2O3" is a formula,
# "TB2s" a plural).
PLURAL = "s"


# Why a term found counts or not: the rules a verdict names, and the English it reads as.
RULE_NONE, RULE_CONTEXT, RULE_EXCLUDED = "none", "context", "excluded"
RULE_NO_CONTEXT, RULE_PERSON, RULE_GLUED, RULE_SCORE = "no_context", "person", "glued", "score"
RULE_TEXTS = {
    RULE_NONE: "no context needed",
    RULE_CONTEXT: "context «{detail}»",
    RULE_EXCLUDED: "excluded by «{detail}»",
    RULE_NO_CONTEXT: "no context word in the item",
    RULE_PERSON: "a person's name: «{detail}» beside it and no organisation",
    RULE_GLUED: "letters glued after it (a formula or a code)",
    RULE_SCORE: "score {detail} under the threshold",
}


@dataclass(frozen=True)
class Verdict:
    """Why a term found in the text counts or does not (shown by ``python -m bot match``
    and ``/watch test``): the rule that decided, and what it found."""

    watchlist: str
    term: str
    text: str
    field: str
    counts: bool
    rule: str  # one of RULE_TEXTS
    detail: str = ""  # the context or exclusion found, the first name, the score

    @property
    def reason(self) -> str:
        """The rule and what it found, in English."""
        return RULE_TEXTS[self.rule].format(detail=self.detail)


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
    anchors: bool  # some term may begin here (in ``starts`` or ``caseless``, or a part)
    parts: tuple[tuple[int, str], ...] = ()  # the words fused in it ("AfricaCorps")
    latin: str = ""  # the Latin word it disguises ("ТВ" in Cyrillic), read beside Latin
    single: bool = False  # one letter alone: three in a row may spell a word ("C A N I K")


ANCHORS = attrgetter("anchors")
PARTS = attrgetter("parts")
LATIN = attrgetter("latin")
SINGLE = attrgetter("single")
SINGLES_IN_A_ROW = b"\x01\x01\x01"
DOTTED_RE = re.compile(r"\.[^\W\d_]")  # a dot and a letter, no space: maybe "F.A.Ma"
# Three letters alone, a space apart: maybe a word written letter-spaced ("C A N I K").
SPACED_RE = re.compile(r"(?<![^\W\d_])[^\W\d_] [^\W\d_] [^\W\d_](?![^\W\d_])")
HYPHENS = ("-", "\u2010")


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
        self._vocabulary: set[str] = set()  # every word of every term, folded and cased
        # Surnames of watched people: a term of a first name and the surname ("Assimi
        # Goïta") says the surname is a person's.
        self._persons = frozenset(
            word_forms(words[1])[1] for watchlist in self.watchlists
            for words in (TOKEN_RE.findall(t.text) for t in watchlist.terms)
            if len(words) == 2 and name_shaped(*word_forms(words[0])))
        for watchlist in self.watchlists:
            for term in watchlist.terms:
                entry = self._compile(watchlist, term)
                self._add(entry)
                self._vocabulary.update(entry.folded, entry.tokens)
                # A name of several words written as one ("#canikacademy") matches whole.
                # Digits stay a token of their own ("#bayraktartb2": "bayraktartb", "2").
                fused = "".join(entry.folded)
                if len(entry.folded) > 1 and not term.case and fused.isalnum():
                    parts = tuple(TOKEN_RE.findall(fused))
                    self._add(replace(entry, tokens=parts, folded=parts,
                                      fuzzy=(False,) * len(parts)))
                    self._vocabulary.update(parts)  # letter-spaced, it is one word

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
            context=with_nations(phrase_tokens(p) for p in term.context),
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
        parts = camel_parts(raw) if not raw.isupper() else ()
        latin = disguised_latin(raw)
        word = _Word(folded, cased, starts, caseless,
                     bool(starts or caseless or parts or latin), parts, latin,
                     len(raw) == 1 and raw.isalpha())
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
        raws = split_words(text)
        words = list(map(self._words.get, raws))  # C speed: nearly every word is known
        if not all(words):
            words = [word or self._learn(raw) for word, raw in zip(words, raws, strict=True)]
        return words  # type: ignore[return-value]  # no None is left

    def match(self, title: str, summary: str = "", *, every: bool = False,
              around: Sequence[WordForms] = ()) -> list[Hit]:
        """Hits in plain-text ``title`` and ``summary``, title first, at most one per term
        (``every``: each place a term is found); ``around``: the words of the text they
        stand in (a clause's item), which count for context and exclusions too."""
        title, summary = composed(title), composed(summary)
        return self._hits(title, summary, self.words(title), self.words(summary), every,
                          around=around)

    def analyse(self, title: str, summary: str = "") -> Analysis:
        """The hits of ``match``, with the words it split both fields into."""
        title, summary = composed(title), composed(summary)
        title_words, summary_words = self.words(title), self.words(summary)
        return Analysis(self._hits(title, summary, title_words, summary_words),
                        title_words, summary_words)

    def explain(self, title: str, summary: str = "") -> list[Verdict]:
        """Every term found in plain-text ``title`` and ``summary``, whether it counts and
        why: its context, an exclusion, a person's name, its score."""
        title, summary = composed(title), composed(summary)
        verdicts: list[Verdict] = []
        self._hits(title, summary, self.words(title), self.words(summary), True, verdicts)
        return list(dict.fromkeys(verdicts))

    def _hits(self, title: str, summary: str, title_words: list[_Word],
              summary_words: list[_Word], every: bool = False,
              verdicts: list[Verdict] | None = None,
              around: Sequence[WordForms] = ()) -> list[Hit]:
        fields = (("title", title, title_words), ("summary", summary, summary_words))
        scan: _Scan | None = None
        for field, text, words in fields:
            anchored = any(map(ANCHORS, words))
            other = self._other_reading(text, words, anchored, spacing=field == "title")
            if other is None and not anchored:
                continue  # most fields: no word may begin a term
            if scan is None:
                item = _Item([*(words for _, _, words in fields), around], [title, summary])
                scan = _Scan(item, every, verdicts, self._vocabulary, self._persons)
            caseless = _without_case(text)
            scan.view(field, text, words, None, caseless)
            if other is not None:
                scan.view(field, text, *other, caseless)
        return [] if scan is None else _drop_nested(list(dict.fromkeys(scan.hits)))

    def _other_reading(self, text: str, words: list[_Word], anchored: bool = True,
                       spacing: bool = False,
                       ) -> tuple[list[_Word], list[tuple[int, int]]] | None:
        """The words of ``text`` read again, with their spans: the halves of a word broken
        at a line joined ("Wag-\nner") and the letters of a dotted acronym joined
        ("F.A.Ma"), or of a letter-spaced word in a title (``spacing``: "C A N I K"), when
        the joined word is a word of a term; the words fused in one token
        split ("AfricaCorps"); look-alike capitals beside Latin words read as Latin ("ТВ2").
        None when nothing differs."""
        broken = ("-" in text or HYPHENS[1] in text) and _broken(text)
        dotted = "." in text and DOTTED_RE.search(text) is not None
        # Letter-spacing is a headline's style ("C A N I K  A C A D E M Y"): titles only.
        spaced = (spacing and SINGLES_IN_A_ROW in bytes(map(SINGLE, words))
                  and SPACED_RE.search(text) is not None)
        if not (broken or dotted or spaced or (anchored and (any(map(PARTS, words))
                                                   or any(map(LATIN, words))))):
            return None
        raws = [(m.group(), m.start(), m.end()) for m in TOKEN_RE.finditer(text)]
        out: list[_Word] = []
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(raws):
            last = self._joined(text, raws, i, broken, dotted, spaced)
            if last > i:
                out.append(self._word("".join(raw for raw, _, _ in raws[i : last + 1])))
                spans.append((raws[i][1], raws[last][2]))
                i = last + 1
                continue
            raw, start, _ = raws[i]
            word = words[i]
            if word.latin and any(
                    0 <= j < len(words) and any("a" <= c <= "z" for c in words[j].folded)
                    for j in (i - 1, i + 1)):
                word = self._word(word.latin)
            for offset, part in word.parts or ((0, raw),):
                out.append(self._word(part) if word.parts else word)
                spans.append((start + offset, start + offset + len(part)))
            i += 1
        return out, spans

    def _joined(self, text: str, raws: Sequence[tuple[str, int, int]], i: int, broken: bool,
                dotted: bool, spaced: bool = False) -> int:
        """The last token of a word that starts at token ``i`` and that a line break, the
        dots of an acronym or letter-spacing cut ("Wag-\nner", "F.A.Ma", "C A N I K"),
        when the joined word is a word of a term; ``i`` itself when there is none."""
        last = i
        if broken and i + 1 < len(raws) and BREAK_GAP_RE.fullmatch(
                text, raws[i][2], raws[i + 1][1]) is not None:
            last = i + 1
        elif dotted:
            while (last + 1 < len(raws) and len(raws[last][0]) == 1
                   and text[raws[last][2] : raws[last + 1][1]] == "."):
                last += 1
        if last == i and spaced:
            while (last + 1 < len(raws) and len(raws[last][0]) == 1
                   and len(raws[last + 1][0]) == 1
                   and text[raws[last][2] : raws[last + 1][1]] == " "):
                last += 1
        if last == i:
            return i
        joined = self._word("".join(raw for raw, _, _ in raws[i : last + 1]))
        known = joined.folded in self._vocabulary or joined.cased in self._vocabulary
        return last if known else i

    def _word(self, raw: str) -> _Word:
        return self._words.get(raw) or self._learn(raw)


class _Item:
    """What the rules of one item read across both fields, worked out when first asked."""

    def __init__(self, fields: Sequence[Sequence[WordForms]], texts: Sequence[str]) -> None:
        self.fields = fields
        self.texts = texts
        self._words: set[str] | None = None
        self._people: dict[tuple[str, bool], str] = {}

    @property
    def words(self) -> set[str]:
        """The item's folded words, and the names of the countries its flags show."""
        if self._words is None:
            self._words = {w.folded for words in self.fields for w in words}
            for text in self.texts:
                if not text.isascii():
                    self._words |= flag_words(text)
        return self._words

    def present(self, phrase: tuple[str, ...]) -> bool:
        if not set(phrase) <= self.words:
            return False
        return len(phrase) == 1 or any(
            _contains([w.folded for w in words], phrase) for words in self.fields)

    def first_name(self, surname: str, vocabulary: set[str], *, person: bool = False) -> str:
        """A first name written beside ``surname`` (folded) somewhere in the item, with only
        a space between ("Markus" in "Markus Wagner", "Love" in "Wagner Love" or
        "#WagnerLove"), or a title before it ("colonel Wagner"); "" when there is none, or
        when the item names an organisation. A word of a term is no first name ("Assimi
        Goïta, Wagner"). ``person``: the surname is a watched person's, whose titles are
        his own ("le colonel Goïta"): only a first name before it names someone else
        ("Moussa Goïta")."""
        known = self._people.get((surname, person))
        if known is not None:
            return known
        name = ""
        if self.words.isdisjoint(ORGANISATION_WORDS):
            for text in self.texts:
                words = _spelled(text)
                if person and title_case(w[0] for w in words):
                    continue  # "Envoy Meets Goita": every word has its capital
                for i, (_, folded, _, _) in enumerate(words):
                    if folded != surname:
                        continue
                    for a, b in ((i - 1, i),) if person else ((i - 1, i), (i, i + 1)):
                        gap = text[words[a][3] : words[b][2]] if a >= 0 and b < len(words) else "-"
                        if gap not in ("", " ", ". "):
                            continue
                        other = words[a if b == i else b]
                        if b == i and other[1] in TITLES and not person:
                            name = other[0]  # "colonel Wagner", "Dr. Wagner"
                        elif (gap != ". " and name_shaped(other[0], other[1])
                              and other[1] not in vocabulary):
                            name = other[0]
        self._people[surname, person] = name
        return name


def _spelled(text: str) -> list[tuple[str, str, int, int]]:
    """The words of ``text`` with fused words split ("WagnerLove"): case-kept and folded
    forms, start and end."""
    words = []
    for match in TOKEN_RE.finditer(text):
        raw, start = match.group(), match.start()
        parts = camel_parts(raw) if not raw.isupper() else ()
        for offset, part in parts or ((0, raw),):
            words.append((*word_forms(part), start + offset, start + offset + len(part)))
    return words


class _Scan:
    """One reading of an item's fields for terms: the hits so far, and the verdicts."""

    def __init__(self, item: _Item, every: bool, verdicts: list[Verdict] | None,
                 vocabulary: set[str], persons: frozenset[str]) -> None:
        self.item = item
        self.vocabulary = vocabulary
        self.persons = persons
        self.every = every
        self.verdicts = verdicts
        self.hits: list[Hit] = []
        self.seen: set[tuple[str, str]] = set()

    def view(self, field: str, text: str, words: Sequence[_Word],
             spans: list[tuple[int, int]] | None, caseless: bool) -> None:
        """Find the terms in one field read as ``words`` (``spans``: theirs in ``text``,
        None for the words TOKEN_RE gives)."""
        # Nearly every word begins no term: those that may are picked out at C speed.
        for i in compress(range(len(words)), map(ANCHORS, words)):
            word = words[i]
            for entry, edits in (word.starts + word.caseless if caseless else word.starts):
                found = _extend(entry, words, i, edits, caseless)
                if found is None:
                    continue
                key = (entry.watchlist.id, entry.term.text)
                if key in self.seen and not self.every and self.verdicts is None:
                    continue
                last, spent = found
                if spans is None:
                    spans = [m.span() for m in TOKEN_RE.finditer(text)]
                start, end = spans[i][0], spans[last][1]
                score = EXACT_SCORE if not spent else _score(entry, words, i, last)
                counts, rule, detail = self._judge(entry, text, end, score)
                if self.verdicts is not None:
                    self.verdicts.append(Verdict(entry.watchlist.id, entry.term.text,
                                                 text[start:end], field, counts, rule, detail))
                if counts and (key not in self.seen or self.every):
                    self.seen.add(key)
                    self.hits.append(Hit(entry.watchlist.id, entry.term.text, text[start:end],
                                         field, score, start, end))

    def _judge(self, entry: _IndexedTerm, text: str, end: int,
               score: int) -> tuple[bool, str, str]:
        """Whether a term found counts, the rule that decides, and what that rule found."""
        if entry.folded[-1].isdigit() and _glued(text, end):
            return False, RULE_GLUED, ""
        item = self.item
        excluded = next((p for p in entry.exclude if item.present(p)), None)
        if excluded is not None:
            return False, RULE_EXCLUDED, " ".join(excluded)
        rule, detail = RULE_NONE, ""
        if entry.context:
            found = next((p for p in entry.context if item.present(p)), None)
            if found is None:
                return False, RULE_NO_CONTEXT, ""
            rule, detail = RULE_CONTEXT, " ".join(found)
        if entry.term.surname:
            name = item.first_name(entry.folded[0], self.vocabulary,
                                   person=entry.folded[0] in self.persons)
            if name:
                return False, RULE_PERSON, name
        if score < entry.watchlist.threshold:
            return False, RULE_SCORE, str(score)
        return True, rule, detail


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


def _broken(text: str) -> bool:
    """Whether a hyphen ends a line or a word before a space right after a letter
    ("Wag-\nner", "Afri- ca"): a word may be cut there."""
    for hyphen in HYPHENS:
        at = text.find(hyphen)
        while at != -1:
            if at and text[at - 1].isalpha() and text[at + 1 : at + 2].isspace():
                return True
            at = text.find(hyphen, at + 1)
    return False


def _glued(text: str, end: int) -> bool:
    """Whether letters follow ``end`` with nothing between ("Tb2O3"), a plural aside."""
    if end >= len(text) or not text[end].isalpha():
        return False
    return not (text[end] == PLURAL and (end + 1 == len(text) or not text[end + 1].isalpha()))


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
