"""Item identity (canonical links, GUIDs) and story detection across outlets (pure)."""

from __future__ import annotations

import hashlib
import re
import sys
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain
from operator import attrgetter
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit

from bot.matching.text import TOKEN_RE, WordForms, word_forms

# Query parameters that only say how a reader arrived, never which article it is.
TRACKING_PREFIXES = ("utm_", "at_", "mtm_", "pk_", "hsa_", "ga_")
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "xtor",
    "xtref", "ocid", "cmpid", "ref", "ref_src", "src", "source", "feature", "ito", "smid",
    "outputtype", "amp", "_ga", "_gl", "spm", "share", "s_cid", "icid", "int_cmp",
})
DEFAULT_PORTS = {"http": 80, "https": 443}
AMP_PATH_SUFFIXES = ("/amp", ".amp")
AMP_PATH_PREFIX = "/amp/"
MAX_PORT = 65535
# An http(s) address with a plain host name and no user, spaces or control characters:
# what urlsplit would make of it, in one match. Anything else goes through urlsplit.
SIMPLE_URL_RE = re.compile(
    r"(?P<scheme>https?)://(?P<host>[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?"
    r"(?P<path>/[^?#\s]*)?(?:\?(?P<query>[^#\s]*))?(?:#\S*)?\Z", re.IGNORECASE)


def canonical_url(url: str) -> str | None:
    """A scheme-free key that equal articles share: host without www., path, sorted query.

    Tracking parameters, fragments, the scheme, default ports, a trailing slash and AMP
    variants are dropped; None when ``url`` is not an http(s) address.
    """
    url = url.strip()
    simple = SIMPLE_URL_RE.match(url)  # most links: skip urlsplit, the slow part
    if simple and int(simple["port"] or 0) <= MAX_PORT:
        scheme, hostname = simple["scheme"].lower(), simple["host"]
        port = int(simple["port"]) if simple["port"] else None
        raw_path, raw_query = simple["path"] or "", simple["query"] or ""
    else:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return None
        scheme, hostname = parts.scheme.lower(), parts.hostname or ""
        raw_path, raw_query = parts.path, parts.query
    if scheme not in DEFAULT_PORTS or not hostname:
        return None
    host = hostname.lower().rstrip(".")
    host = host.removeprefix("www.").removeprefix("amp.").removeprefix("m.")
    if port and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = raw_path or "/"
    if path.startswith(AMP_PATH_PREFIX):
        path = path[len(AMP_PATH_PREFIX) - 1 :]
    for suffix in AMP_PATH_SUFFIXES:
        path = path.removesuffix(suffix)
    path = path.rstrip("/") or ""
    query = sorted(
        (key, value)
        for key, value in parse_qsl(raw_query, keep_blank_values=True)
        if not _is_tracking(key)
    ) if raw_query else []
    return f"{host}{path}" + (f"?{urlencode(query)}" if query else "")


def _is_tracking(key: str) -> bool:
    lowered = key.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def guid_key(guid: str | None, feed_url: str) -> str | None:
    """The identity a GUID gives: global when it is a URL, URN or tag, else scoped to its feed.

    Many feeds number their entries "1", "2", ...; such GUIDs only mean something together
    with the feed that wrote them.
    """
    if not guid:
        return None
    value = guid.strip()
    lowered = value.lower()
    if "://" in value or lowered.startswith(("urn:", "tag:")):
        return value
    return f"{feed_url}#{value}"


def content_hash(body: bytes) -> str:
    """A short stable digest of a response body, to skip re-parsing an unchanged feed."""
    return hashlib.blake2b(body, digest_size=16).hexdigest()


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
FOLDED = attrgetter("folded")
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
CANDIDATES = 20  # most word-sharing recent items compared in full
COMMON_WORD_ITEMS = 60  # a title word shared by more recent items is not used to find them


@dataclass(frozen=True)
class Fingerprint:
    """What a story comparison looks at in one item."""

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
    title_content = kinds.content(set(map(FOLDED, title_words)))
    words = title_content | kinds.content(set(map(FOLDED, summary_words[:SUMMARY_WORDS])))
    return Fingerprint(
        title_words=title_content,
        words=words,
        numbers=kinds.numbers(title_content),
        names=frozenset([w.folded for w in title_words[1:]
                         if w.folded in title_content and w.cased[:1].isupper()
                         and len(w.folded) > 2]),
        days=words.intersection(DAY_NAMES),
    )


class WordKinds:
    """Which folded words are content words (evidence of a story) and which are numbers,
    worked out once per word: set operations then do the rest."""

    def __init__(self) -> None:
        self._content: set[str] = set()
        self._other: set[str] = set()
        self._numbers: set[str] = set()

    def content(self, words: set[str]) -> frozenset[str]:
        """The content words among ``words``: not stop words or agency names, and longer
        than two letters unless a number."""
        if len(self._content) + len(self._other) > MAX_REMEMBERED_WORDS:
            self._content.clear()
            self._other.clear()
            self._numbers.clear()
        new = words - self._content - self._other
        if new:
            self._learn(new)
        return frozenset(words & self._content)

    def numbers(self, words: frozenset[str]) -> frozenset[str]:
        """The numbers among content ``words``."""
        return words & self._numbers

    def _learn(self, words: set[str]) -> None:
        for word in words:
            number = word.isdigit()
            if (len(word) > 2 or number) and word not in IGNORED_WORDS:
                self._content.add(word)
                if number:
                    self._numbers.add(word)
            else:
                self._other.add(word)


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


def similarity(a: Fingerprint, b: Fingerprint | StoredPrint) -> float:
    """How much two items share: the best of title overlap and word containment."""
    title = _jaccard(a.title_words, b.title_words)
    smaller = min(len(a.words), len(b.words))
    if smaller < MIN_CONTAINMENT_WORDS:
        return title
    return max(title, len(a.words.intersection(b.words)) / smaller)


def facts_conflict(a: Fingerprint, b: Fingerprint | StoredPrint) -> bool:
    """True when each item states a number or a day the other lacks, or each names in its
    title a place or person the other never mentions."""
    return (
        (_lacks(a.numbers, b.numbers) and _lacks(b.numbers, a.numbers))
        or (_lacks(a.days, b.days) and _lacks(b.days, a.days))
        or (_lacks(a.names, b.words) and _lacks(b.names, a.words))
    )


def _lacks(mine: Collection[str], theirs: Collection[str]) -> bool:
    """True when ``mine`` holds a word that ``theirs`` does not."""
    return any(word not in theirs for word in mine)


def story_score(a: Fingerprint, b: Fingerprint | StoredPrint,
                gap: timedelta = timedelta(0)) -> float | None:
    """The similarity of two reports of one story, or None when they are not: wording close
    enough and no conflicting facts (places, numbers, days); reports ``gap`` apart need more
    in common when the gap is long. Facts are looked at first: look-alike reports of
    different events (two tolls, two dates) are common, and cheaper to tell apart that way."""
    if facts_conflict(a, b):
        return None
    score = similarity(a, b)
    needed = SAME_STORY_SIMILARITY if abs(gap) <= LATE_REPORT else LATE_REPORT_SIMILARITY
    return score if score >= needed else None


def _jaccard(a: frozenset[str], b: Collection[str]) -> float:
    shared = len(a.intersection(b))
    union = len(a) + len(b) - shared
    return shared / union if union else 0.0


# One indexed item: (story id, time, its StoredPrint's fields). Only plain tuples: the
# garbage collector stops watching a tuple of strings, numbers and times, so the days of
# items the index holds add nothing to each full collection (as objects, they were half
# of what every full collection walked after a first cycle of 50,000 items).
_Entry = tuple[int, datetime, tuple[tuple[str, ...], ...]]


class StoryIndex:
    """Recent items by their words, to find the story a new item belongs to (in memory)."""

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self._items: dict[int, _Entry] = {}
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
