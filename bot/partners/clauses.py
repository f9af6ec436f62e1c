"""An item's text cut into sentences and clauses, offsets kept (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

ABBREVIATIONS = frozenset({
    "m", "mm", "mme", "mmes", "mlle", "dr", "pr", "me", "mgr", "st", "ste", "gen", "gén",
    "col", "cdt", "cmdt", "lt", "lieut", "capt", "cpt", "sgt", "adj", "etc", "cf", "ex",
    "env", "av", "apr", "vol", "no", "n°", "art", "p", "pp", "jr", "sr", "mr", "mrs", "ms",
    "prof", "gov", "sen", "rep", "brig", "maj", "co", "inc", "ltd", "corp", "vs", "approx",
    "jan", "feb", "aug", "sept", "oct", "nov", "dec", "janv", "févr", "avr", "juil", "déc",
    "min", "dir", "gal",
})
SENTENCE_END_RE = re.compile(r"[.!?…]+[\"'»”’)\]]*(?=\s+\S)")
LAST_WORD_RE = re.compile(r"(\S+)$")
OPENERS = "\"'«“‘([¿¡"
SEMICOLON_RE = re.compile(r";")
# A clause that sets one actor against another starts at these words.
CONTRAST_RE = re.compile(
    r"(?i)(?<![\w’'])(tandis qu|alors qu|pendant qu|whereas\b|while\b|même temps qu)")
PARENS_RE = re.compile(r"\([^()]*\)")


def split_sentences(text: str) -> list[str]:
    """``text`` cut into sentences at . ! ? …, not after abbreviations ("M.", "Gen.") or
    initials ("U.S.", "A. Goïta"), nor before a lower-case word."""
    sentences: list[str] = []
    start = 0
    for match in SENTENCE_END_RE.finditer(text):
        end = match.end()
        following = text[end:].lstrip()[:1]
        if not (following.isupper() or following.isdigit() or following in OPENERS):
            continue
        if match.group().startswith(".") and match.group().rstrip(".\"'»”’)]") == "" \
                and _abbreviation(text[start : match.start()]):
            continue
        sentences.append(text[start:end])
        start = end
    sentences.append(text[start:])
    return [s for s in sentences if s.strip()]


def _abbreviation(before: str) -> bool:
    """True when the period after ``before`` ends an abbreviation or an initial."""
    found = LAST_WORD_RE.search(before)
    if not found:
        return False
    word = found.group(1).lstrip(OPENERS)
    last = word.rsplit(".", 1)[-1]
    if len(last) == 1 and last.isalpha() and last.isupper():
        return True  # an initial: "M.", "U.S.", "A. Goïta"
    return word.casefold() in ABBREVIATIONS


def split_clauses(sentence: str) -> list[str]:
    """The clauses of one sentence, each the sentence's length with the rest blanked, so
    that offsets stay those of the sentence. A parenthesis is a clause of its own."""
    inner = [m.span() for m in PARENS_RE.finditer(sentence)]
    bounds = {0, len(sentence)}
    bounds.update(m.start() for m in SEMICOLON_RE.finditer(sentence))
    for match in CONTRAST_RE.finditer(sentence):
        bounds.add(match.start())
        if not sentence[: match.start()].strip(" \"'«“—–-"):
            # "While Turkey trains X, Russia ..." : the opening clause ends at its comma.
            comma = sentence.find(",", match.end())
            if comma > 0:
                bounds.add(comma)
    cuts = sorted(bounds)
    clauses = []
    for low, high in pairwise(cuts):
        clauses.append(_blank(sentence, [(0, low), (high, len(sentence)), *inner]))
    clauses.extend(_blank(sentence, [(0, a), (b, len(sentence))]) for a, b in inner)
    return [c for c in clauses if c.strip()]


def _blank(text: str, ranges: Sequence[tuple[int, int]]) -> str:
    """``text`` with each range replaced by spaces."""
    chars = list(text)
    for low, high in ranges:
        chars[low:high] = " " * (high - low)
    return "".join(chars)
