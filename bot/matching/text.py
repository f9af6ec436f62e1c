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
# A token is a run of letters or a run of digits, so that "TB2", "TB-2" and "TB 2" all give
# the tokens TB and 2. Text is in composed form (NFC) before it is split, so accents belong
# to their letters. Inside a run of letters, what a reader does not see or reads as an
# accent is glue, not a break: soft hyphens, zero-width spaces and joiners, word joiners,
# a stray byte-order mark, the spacing diaeresis of PDF extraction ("Go¨ıta") and the
# combining marks no composed letter holds ("ı̈"). A modifier letter apostrophe ("ʼ",
# "ʻ") is an apostrophe, not a letter, as are ’ ‘ ` and ′ (punctuation already).
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
SPACING_MARKS = "\u00a8"
COMBINING_MARKS = "\u0300-\u036f"
LETTER = "[^\\W\\d_\u02bb\u02bc]"
GLUE = f"[{INVISIBLE}{SPACING_MARKS}{COMBINING_MARKS}]"
TOKEN_RE = re.compile(f"{LETTER}+(?:{GLUE}+{LETTER}+)*[{COMBINING_MARKS}]*|\\d+")
GLUE_DELETE = dict.fromkeys(map(ord, INVISIBLE + SPACING_MARKS))
# Nearly no text holds glue or a modifier apostrophe: it is split with the plain pattern,
# which gives the same tokens on such text, faster.
PLAIN_TOKEN_RE = re.compile(r"[^\W\d_]+|\d+")
GLUED_RE = re.compile(f"[{INVISIBLE}{SPACING_MARKS}{COMBINING_MARKS}\u02bb\u02bc]")
# Letters of other scripts that look like Latin ones, folded to Latin inside a word that
# is otherwise Latin ("Wаgner" with a Cyrillic а), and the reverse inside a Cyrillic word.
# A word wholly in Greek capitals that all look Latin ("ΤΒ2") is folded too: Greek words
# are rare in French and English news, and such a word is a disguised Latin one.
CYRILLIC_LOOKALIKES = {
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
    "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "А": "A",
    "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S",
}
GREEK_LOOKALIKES = {
    "ο": "o", "α": "a", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "υ": "u", "χ": "x",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}
TO_LATIN = str.maketrans({**CYRILLIC_LOOKALIKES, **GREEK_LOOKALIKES})
TO_CYRILLIC = str.maketrans({latin: cyrillic for cyrillic, latin in CYRILLIC_LOOKALIKES.items()
                             if latin.isascii()})
LOOKALIKES = frozenset(CYRILLIC_LOOKALIKES) | frozenset(GREEK_LOOKALIKES)
GREEK_CAPITALS = frozenset(c for c in GREEK_LOOKALIKES if c.isupper())
TO_CYRILLIC_KEYS = frozenset(chr(code) for code in TO_CYRILLIC)
GREEK_FIRST, CYRILLIC_LAST = "\u0370", "\u04ff"  # the Greek and Cyrillic blocks
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
    """The case-kept and the folded form of one word ("Goïta" -> ("Goita", "goita")): glue
    and accents dropped, look-alike letters folded to the word's own script."""
    if not word.isascii():
        word = one_script(word.translate(GLUE_DELETE))
    bare = strip_accents(word)
    return bare, bare.casefold()


def disguised_latin(word: str) -> str:
    """The Latin word a word of Cyrillic or Greek capitals that all look Latin stands for
    ("ТВ" -> "TB"), "" for any other word; read so only beside Latin words."""
    if word.isascii() or not word.isupper() or not all(c in LOOKALIKES for c in word):
        return ""
    return word.translate(TO_LATIN)


def one_script(word: str) -> str:
    """``word`` with its look-alike letters in the script of its other letters: "Wаgner"
    (Cyrillic а) is Latin, "Вагнeр" (Latin e) Cyrillic; a word of Greek capitals that all
    look Latin ("ΤΒ") is Latin."""
    others = [c for c in word if GREEK_FIRST <= c <= CYRILLIC_LAST]
    if not others:
        return word
    latin = [c for c in word if c.isascii() and c.isalpha()]
    if not latin:
        return word.translate(TO_LATIN) if all(c in GREEK_CAPITALS for c in word) else word
    if len(latin) >= len(others) and all(c in LOOKALIKES for c in others):
        return word.translate(TO_LATIN)
    if all(c in TO_CYRILLIC_KEYS for c in latin):
        return word.translate(TO_CYRILLIC)
    return word


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


def split_words(text: str) -> list[str]:
    """The tokens of plain NFC ``text`` (TOKEN_RE's), split the fast way when it can be."""
    if text.isascii() or GLUED_RE.search(text) is None:
        return PLAIN_TOKEN_RE.findall(text)
    return TOKEN_RE.findall(text)
