"""Text normalisation for matching: HTML to visible text, Unicode folding, word tokens."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Protocol

INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})
BREAKING_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
})
# Letters that Unicode decomposition leaves whole but readers treat as two letters or plain.
SPECIAL_LETTERS = str.maketrans({
    "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
    "đ": "d", "Đ": "D", "ı": "i", "ß": "ss",
})
# A token is a run of letters (with any combining marks) or a run of digits, so that
# "TB2", "TB-2" and "TB 2" all give the tokens TB and 2.
# Text is in composed form (NFC) before it is split, so accents belong to their letters.
TOKEN_RE = re.compile(r"[^\W\d_]+|\d+")
WHITESPACE_RE = re.compile(r"\s+")
MARKUP_HINT_RE = re.compile(r"[<&]")
TAG_LIKE_RE = re.compile(r"<[^>]*>?")
ELLIPSIS = "…"
# Characters XML 1.0 cannot carry at all, even as character references.
NOT_XML_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _VisibleText(HTMLParser):
    """Collects the text a browser would show, with breaks between blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in INVISIBLE_TAGS:
            self.hidden += 1
        elif tag in BREAKING_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BREAKING_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in INVISIBLE_TAGS:
            self.hidden = max(0, self.hidden - 1)
        elif tag in BREAKING_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment: tags dropped, entities decoded, spaces collapsed, NFC."""
    if MARKUP_HINT_RE.search(markup):
        parser = _VisibleText()
        try:
            parser.feed(markup)
            parser.close()
            markup = "".join(parser.parts)  # entities are decoded once, by the parser
        except (AssertionError, ValueError):
            # The standard parser gives up on some broken markup ("<![ "): drop anything
            # tag-like and decode entities instead of failing the feed.
            markup = html.unescape(TAG_LIKE_RE.sub(" ", markup))
    return plain_text(markup)


def plain_text(text: str) -> str:
    """``text`` with runs of white space collapsed, trimmed, in Unicode composed form (NFC)."""
    return unicodedata.normalize("NFC", WHITESPACE_RE.sub(" ", text).strip())


def strip_accents(text: str) -> str:
    """``text`` without diacritics or ligatures, case kept ("Goïta" -> "Goita", "Œ" -> "OE")."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    if COMBINING_RE.search(decomposed) is None and decomposed.isascii():
        return decomposed
    bare = COMBINING_RE.sub("", decomposed)
    if not bare.isascii() and any(unicodedata.combining(c) for c in bare):  # a rare mark
        bare = "".join(c for c in bare if not unicodedata.combining(c))
    return bare.translate(SPECIAL_LETTERS)


# The combining marks of Latin, Greek and Cyrillic text (accents, diaeresis, cedilla…):
# removed in one pass; any other mark is looked up character by character.
COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Accent- and case-folded ``text``, the form used for case-insensitive comparison."""
    return strip_accents(text).casefold()


class WordForms(Protocol):
    """One word of a text as read once: case kept and folded, accents stripped in both."""

    @property
    def cased(self) -> str: ...

    @property
    def folded(self) -> str: ...


def word_forms(word: str) -> tuple[str, str]:
    """The case-kept and the folded form of one word ("Goïta" -> ("Goita", "goita"))."""
    bare = strip_accents(word)
    return bare, bare.casefold()


@dataclass(frozen=True)
class Tokens:
    """The word tokens of one text: folded and case-kept forms, with their spans."""

    text: str
    folded: tuple[str, ...]
    cased: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.folded)

    def span_text(self, first: int, last: int) -> str:
        """The original text from token ``first`` to token ``last`` inclusive."""
        return self.text[self.starts[first] : self.ends[last]]


def tokenize(text: str, cache: dict[str, tuple[str, str]] | None = None) -> Tokens:
    """Split plain ``text`` (already NFC) into tokens; ``cache`` memoises word forms."""
    folded: list[str] = []
    cased: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    memo = cache if cache is not None else {}
    for match in TOKEN_RE.finditer(text):
        word = match.group()
        forms = memo.get(word)
        if forms is None:
            forms = memo[word] = word_forms(word)
        cased.append(forms[0])
        folded.append(forms[1])
        starts.append(match.start())
        ends.append(match.end())
    return Tokens(text, tuple(folded), tuple(cased), tuple(starts), tuple(ends))


def phrase_tokens(phrase: str, *, case: bool = False) -> tuple[str, ...]:
    """The tokens a watchlist phrase must match, folded unless ``case`` is set."""
    tokens = tokenize(unicodedata.normalize("NFC", phrase))
    return tokens.cased if case else tokens.folded


def composed(text: str) -> str:
    """``text`` in NFC, so that a decomposed "Goïta" splits into the same words."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS
