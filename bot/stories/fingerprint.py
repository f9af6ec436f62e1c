"""An item reduced to the words and facts that tell whether two reports tell one story."""

from __future__ import annotations

import re
import sys
from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import NamedTuple

from bot.matching.text import TOKEN_RE, WordForms, word_forms

# Words that say nothing about which event a text reports.
STOPWORDS = frozenset("""
a au aux avec ce ces cette dans de des du elle en et est il ils la le les leur lui mais
ne ni nous on ou par pas pour qu que qui sa se ses son sont sur un une vers a apres avant
selon depuis contre entre deux trois plus moins tres ete etre fait ont avait sera aussi
comme dont lors dit indique annonce the of and to in on at for with by from as is are
was were be been has have had it its this that these those an or but not after before over
under into about than their his her they he she we said says say will would could new also
amid says told more most last first one two three after while during against near
""".split())
WIRE_NAMES = frozenset({"afp", "reuters", "ap", "xinhua", "anadolu", "dpa", "efe", "ansa",
                        "apa", "aps", "mapa", "sputnik", "tass", "ria", "pana"})
IGNORED_WORDS = STOPWORDS | WIRE_NAMES  # never evidence that two items tell one story
DAY_NAMES = frozenset({"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
                       "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                       "sunday", "hier", "yesterday"})
SUMMARY_WORDS = 60
MAX_REMEMBERED_WORDS = 200_000  # word forms cached between items (a few tens of MB at most)
# "1 700" and "5 000": thousands separated by a space are one number.
THOUSANDS_RE = re.compile(r"(\d)[ \u00a0\u202f](\d{3})\b")
SAME_STORY_SIMILARITY = 0.4
# A truncated summary is contained in the full one; but a text of a few words is
# "contained" in many others, so below this size only the titles are compared.
MIN_CONTAINMENT_WORDS = 8
# Republished copies of one story arrive within hours; a report days later that looks alike
# is more often a follow-up (a funeral, an inquiry), so it must look more alike.
LATE_REPORT = timedelta(hours=12)
LATE_REPORT_SIMILARITY = 0.6


class Fingerprint(NamedTuple):
    """What a story comparison looks at in one item (a named tuple: one is made for every
    item read, and a frozen dataclass costs several times more to make)."""

    title_words: frozenset[str]
    words: frozenset[str]
    numbers: frozenset[str]  # numbers in the title: tolls, counts, dates
    names: frozenset[str]  # capitalised words of the title: places and people
    days: frozenset[str]


Form = tuple[str, str, bool]  # a word case-kept, folded, and whether it is a content word


def fingerprint(title: str, summary: str, memo: dict[str, Form] | None = None) -> Fingerprint:
    """The words, numbers, names and days of an item, folded; ``memo`` caches word forms."""
    forms = memo if memo is not None else {}
    known = forms.get
    title_forms = [known(w) or _learn(w, forms)
                   for w in TOKEN_RE.findall(THOUSANDS_RE.sub(r"\1\2", title))]
    summary_forms = [known(w) or _learn(w, forms) for w in
                     TOKEN_RE.findall(THOUSANDS_RE.sub(r"\1\2", summary))[:SUMMARY_WORDS]]
    title_words = frozenset([folded for _, folded, content in title_forms if content])
    words = title_words.union([folded for _, folded, content in summary_forms if content])
    names = frozenset(
        folded for cased, folded, content in title_forms[1:]
        if content and len(folded) > 2 and cased[:1].isupper()
    )
    return Fingerprint(
        title_words=title_words,
        words=words,
        numbers=frozenset(w for w in title_words if w.isdigit()),
        names=names,
        days=words.intersection(DAY_NAMES),
    )


def fingerprint_words(title_words: Sequence[WordForms], summary_words: Sequence[WordForms],
                      kinds: WordKinds | None = None) -> Fingerprint:
    """``fingerprint`` of an item whose words were already read (by the matcher); the
    same result unless a number is written with thousands separators (see
    ``StoryIndex.fingerprint_read``). ``kinds`` remembers which words are content."""
    kinds = kinds or WordKinds()
    title_content = kinds.content({w.folded for w in title_words})
    words = title_content | kinds.content({w.folded for w in summary_words[:SUMMARY_WORDS]})
    return Fingerprint(
        title_content, words, kinds.numbers(title_content),
        frozenset([w.folded for w in title_words[1:]
                   if w.cased[:1].isupper() and w.folded in title_content
                   and len(w.folded) > 2]),
        words.intersection(DAY_NAMES))


class WordKinds:
    """Which folded words are content words (evidence of a story) and which are numbers,
    worked out once per word: set operations then do the rest."""

    def __init__(self) -> None:
        self._content: set[str] = set()
        self._known: set[str] = set()  # content words and the others
        self._numbers: set[str] = set()
        self._groups: set[str] = set()  # three-digit numbers: "000" in "10 000"

    def content(self, words: set[str]) -> frozenset[str]:
        """The content words among ``words``: not stop words or agency names, and longer
        than two letters unless a number."""
        if not self._known.issuperset(words):  # rare once the news's words are known
            if len(self._known) > MAX_REMEMBERED_WORDS:
                self._content.clear()
                self._known.clear()
                self._numbers.clear()
                self._groups.clear()
            self._learn(words - self._known)
        return frozenset(words & self._content)

    def numbers(self, words: frozenset[str]) -> frozenset[str]:
        """The numbers among content ``words``."""
        return words & self._numbers

    def may_group(self, words: frozenset[str]) -> bool:
        """Whether ``words`` hold a three-digit number, which may be the thousands of a
        number written "10 000" (then the text is read again for it)."""
        return not self._groups.isdisjoint(words)

    def _learn(self, words: set[str]) -> None:
        self._known.update(words)
        for word in words:
            number = word.isdigit()
            if (len(word) > 2 or number) and word not in IGNORED_WORDS:
                self._content.add(word)
                if number:
                    self._numbers.add(word)
                    if len(word) == len("000"):
                        self._groups.add(word)


def _learn(word: str, memo: dict[str, Form]) -> Form:
    """Remember one word's forms; the folded form is interned, as the index shares it."""
    cased, folded = word_forms(word)
    content = (len(folded) > 2 or folded.isdigit()) and folded not in IGNORED_WORDS
    form = memo[word] = (cased, sys.intern(folded), content)
    return form


class StoredPrint(NamedTuple):
    """A fingerprint as the index keeps it for days: tuples of shared strings, not sets."""

    title_words: tuple[str, ...]
    words: tuple[str, ...]
    numbers: tuple[str, ...]
    names: tuple[str, ...]
    days: tuple[str, ...]

    @staticmethod
    def fields_of(fp: Fingerprint) -> tuple[tuple[str, ...], ...]:
        """The fields of ``fp`` in the compact form, as a plain tuple; its words are shared
        with other items' when it came from ``StoryIndex.fingerprint``, which interns them."""
        return (tuple(fp.title_words), tuple(fp.words), tuple(fp.numbers), tuple(fp.names),
                tuple(fp.days))


def _similarity(a: Fingerprint, title_words: Collection[str], words: Collection[str]) -> float:
    """How much two items share: the best of title overlap and word containment."""
    title = _jaccard(a.title_words, title_words)
    smaller = min(len(a.words), len(words))
    if smaller < MIN_CONTAINMENT_WORDS:
        return title
    return max(title, len(a.words.intersection(words)) / smaller)


def _conflict(a: Fingerprint, words: Collection[str], numbers: Collection[str],
              names: Collection[str], days: Collection[str]) -> bool:
    """True when each item states a number or a day the other lacks, or each names in its
    title a place or person the other never mentions. In set operations on ``a``'s sets and
    no further calls: it runs for every candidate of every new item."""
    mine = a.numbers
    if mine and numbers and not mine.issubset(numbers) and not mine.issuperset(numbers):
        return True
    mine = a.days
    if mine and days and not mine.issubset(days) and not mine.issuperset(days):
        return True
    mine = a.names
    return bool(mine and names and not mine.issubset(words) and not a.words.issuperset(names))


def stored_score(a: Fingerprint, fields: Sequence[Collection[str]],
                 late: bool = False) -> float | None:
    """The similarity of a new report to an indexed one (its ``StoredPrint.fields_of``), or
    None when they are not one story: wording close enough and no conflicting facts
    (places, numbers, days); reports ``late`` (more than LATE_REPORT apart) need more in
    common. Facts are looked at first: look-alike reports of different events (two tolls,
    two dates) are common, and cheaper to tell apart that way."""
    title_words, words, numbers, names, days = fields
    if _conflict(a, words, numbers, names, days):
        return None
    score = _similarity(a, title_words, words)
    needed = LATE_REPORT_SIMILARITY if late else SAME_STORY_SIMILARITY
    return score if score >= needed else None


def _jaccard(a: frozenset[str], b: Collection[str]) -> float:
    shared = len(a.intersection(b))
    union = len(a) + len(b) - shared
    return shared / union if union else 0.0


# One indexed item: (story id, time, its StoredPrint's fields). Only plain tuples: the
# garbage collector stops watching a tuple of strings, numbers and times, so the days of
# items the index holds add nothing to each full collection (as objects, they were half
# of what every full collection walked after a first cycle of 50,000 items).
