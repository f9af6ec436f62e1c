"""OPML feed lists: read one safely, write one, and add its feeds to config.toml."""

from __future__ import annotations

import re
import tomllib
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit
from xml.parsers import expat

import tomlkit

from bot.errors import ConfigError
from bot.matching.text import NOT_XML_RE, clip
from bot.settings.atomicfile import write_atomic
from bot.settings.config import config_from_document, load_config
from bot.settings.tomlfile import HEADER_RE, parse_toml
from bot.settings.urls import redact_text, redact_url
from bot.stories.identity import DEFAULT_PORTS
from bot.telegram.i18n import LANGUAGES

MAX_OPML_BYTES = 5_000_000  # a list of thousands of feeds is well under this
MAX_NAME_CHARS = 120  # longer names are cut: they are shown in every alert
MAX_URL_CHARS = 2048
MAX_SHOWN_CHARS = 80  # of a bad value quoted in a problem
OPML_VERSION = "2.0"
OUTLINE_TYPE = "rss"  # what OPML 2.0 readers expect for RSS and Atom feeds alike
HTTP_SCHEMES = ("http", "https")
FEED_SCHEME = "feed:"  # old readers wrote feed://host/path or feed:https://host/path
FEEDS_KEY = "feeds"
CRLF = "\r\n"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
INDENT = "  "

# Spellings of the two languages the bot reads, after lower-casing and dropping any region
# ("fr-FR", "en_GB"); anything else is a language the bot cannot match in.
LANGUAGE_NAMES = {
    "fr": "fr", "fra": "fr", "fre": "fr", "french": "fr", "français": "fr", "francais": "fr",
    "en": "en", "eng": "en", "english": "en", "anglais": "en",
}
LANGUAGE_SEPARATORS_RE = re.compile(r"[-_]")
SPACES_RE = re.compile(r"\s+")


class FeedLike(Protocol):
    """What write_opml needs of a feed: FeedConfig and OpmlFeed both fit."""

    @property
    def name(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def lang(self) -> str | None: ...


@dataclass(frozen=True)
class OpmlFeed:
    """One feed found in an OPML file; ``lang`` is "fr", "en" or None when it does not say."""

    name: str
    url: str
    lang: str | None
    line: int | None = None  # where its <outline> starts in the file


@dataclass(frozen=True)
class OpmlRead:
    """The feeds of an OPML file, and the outlines that were skipped and why."""

    feeds: tuple[OpmlFeed, ...]
    problems: tuple[ConfigError, ...] = ()
    title: str | None = None


@dataclass(frozen=True)
class Duplicate:
    """A feed not imported because config.toml already has its address."""

    feed: OpmlFeed
    existing: str  # the name of the feed that has the same address


@dataclass(frozen=True)
class ImportReport:
    """What import_feeds did to config.toml."""

    path: Path
    added: tuple[OpmlFeed, ...] = ()  # as written: unique name, language filled in
    duplicates: tuple[Duplicate, ...] = ()

    @property
    def added_count(self) -> int:
        return len(self.added)

    @property
    def duplicate_count(self) -> int:
        return len(self.duplicates)


# Reading


class _Refused(Exception):
    """Raised inside an expat handler to stop the parse; carries the line it stopped at."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class _Outline:
    """An <outline> as met in the stream, before it is checked."""

    line: int
    attrs: dict[str, str]
    lang: str | None  # its own language attribute, or its nearest folder's
    has_children: bool = False


@dataclass
class _Collector:
    """Expat handlers that record the head's title and language and every body outline."""

    parser: expat.XMLParserType
    stack: list[str] = field(default_factory=list)
    open_outlines: list[_Outline | None] = field(default_factory=list)
    outlines: list[_Outline] = field(default_factory=list)
    head: dict[str, list[str]] = field(default_factory=dict)
    body_seen: bool = False

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        name = tag.lower()
        line = self.parser.CurrentLineNumber
        if not self.stack and name != "opml":
            raise _Refused(f"not an OPML document: the root element is <{tag}>", line)
        outline: _Outline | None = None
        if name == "outline" and self._in_body():
            lowered: dict[str, str] = {}
            for key, value in attrs.items():
                lowered.setdefault(key.lower(), value)
            parent = self.open_outlines[-1] if self.open_outlines else None
            if parent is not None:
                parent.has_children = True
            own = lowered.get("language", "").strip()
            outline = _Outline(line, lowered, own or (parent.lang if parent else None))
            self.outlines.append(outline)
        self.body_seen |= self.stack == ["opml"] and name == "body"
        self.stack.append(name)
        if name == "outline":
            self.open_outlines.append(outline)

    def end(self, tag: str) -> None:
        if self.stack.pop() == "outline":
            self.open_outlines.pop()

    def text(self, data: str) -> None:
        if len(self.stack) == 3 and self.stack[:2] == ["opml", "head"]:
            self.head.setdefault(self.stack[2], []).append(data)

    def _in_body(self) -> bool:
        return self.stack[:2] == ["opml", "body"] and all(
            tag == "outline" for tag in self.stack[2:])


def read_opml(path: Path) -> OpmlRead:
    """The feeds of the OPML 1.0 or 2.0 file ``path``, folders walked in order.

    A file that cannot be read, is not well-formed XML, declares a DOCTYPE or entities
    (refused outright: they allow entity-expansion attacks), or is not OPML raises a
    ConfigError. An outline that is not a usable feed is skipped and named in ``problems``.
    """
    data = _read_bytes(path)
    if not data.strip():
        raise ConfigError(path, "the file is empty")
    parser = expat.ParserCreate()
    collector = _Collector(parser)
    parser.buffer_text = True
    parser.StartElementHandler = collector.start
    parser.EndElementHandler = collector.end
    parser.CharacterDataHandler = collector.text

    def refuse_declarations(*_: object) -> None:
        raise _Refused("DOCTYPE and entity declarations are not allowed in an OPML file "
                       "(they can be used for entity-expansion attacks)",
                       parser.CurrentLineNumber)

    parser.StartDoctypeDeclHandler = refuse_declarations
    parser.EntityDeclHandler = refuse_declarations
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        raise ConfigError(path, exc.message, exc.line) from None
    except expat.ExpatError as exc:
        message = f"not well-formed XML: {expat.ErrorString(exc.code)} (column {exc.offset + 1})"
        raise ConfigError(path, message, exc.lineno) from None
    except (LookupError, ValueError) as exc:  # expat asks Python for encodings it lacks
        raise ConfigError(path, f"unsupported character encoding: {exc}; save the file as "
                          "UTF-8", parser.CurrentLineNumber) from None
    if not collector.body_seen:
        raise ConfigError(path, "not an OPML document: it has no <body>")
    head_lang = _head_text(collector, "language")
    feeds: list[OpmlFeed] = []
    problems: list[ConfigError] = []
    for outline in collector.outlines:
        try:
            feed = _feed(outline, head_lang)
        except _Refused as exc:
            problems.append(ConfigError(path, exc.message, exc.line))
            continue
        if feed is not None:
            feeds.append(feed)
    return OpmlRead(tuple(feeds), tuple(problems), _head_text(collector, "title"))


def _read_bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_OPML_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(path, "file not found") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot read: {exc.strerror}") from None
    if len(data) > MAX_OPML_BYTES:
        raise ConfigError(path, f"larger than {MAX_OPML_BYTES:,} bytes; not read")
    return data


def _head_text(collector: _Collector, tag: str) -> str | None:
    text = _clean_text("".join(collector.head.get(tag, [])))
    return text or None


def _feed(outline: _Outline, head_lang: str | None) -> OpmlFeed | None:
    """The feed ``outline`` describes, None for a folder; _Refused when it is unusable."""
    label = _clean_text(outline.attrs.get("title", "")) or _clean_text(
        outline.attrs.get("text", ""))
    called = f"outline “{label}”" if label else "outline"
    raw_url = outline.attrs.get("xmlurl")
    if raw_url is None or not raw_url.strip():
        if outline.has_children:
            return None
        raise _Refused(f"{called} has no xmlUrl", outline.line)
    url = _http_url(raw_url)
    if url is None:
        shown = raw_url.strip()[:MAX_SHOWN_CHARS]
        raise _Refused(f"{called} has xmlUrl {shown!r}, not an http or https address",
                       outline.line)
    raw_lang = outline.lang or head_lang
    lang = language_code(raw_lang)
    if raw_lang and lang is None:
        shown = raw_lang[:MAX_SHOWN_CHARS]
        raise _Refused(f"{called} is in language {shown!r}; the bot reads only "
                       f"{' and '.join(LANGUAGES)}", outline.line)
    name = label or urlsplit(url).hostname or url
    return OpmlFeed(name=clip(name, MAX_NAME_CHARS), url=url, lang=lang, line=outline.line)


def language_code(value: str | None) -> str | None:
    """The bot's code ("fr" or "en") for a language as feeds write it ("fr-FR", "English")."""
    if not value:
        return None
    primary = LANGUAGE_SEPARATORS_RE.split(value.strip().lower(), maxsplit=1)[0]
    return LANGUAGE_NAMES.get(primary)


def _http_url(raw: str) -> str | None:
    """``raw`` trimmed, as an http(s) address with a host; None when it is not one."""
    url = raw.strip()
    if url[: len(FEED_SCHEME)].lower() == FEED_SCHEME:
        rest = url[len(FEED_SCHEME) :]
        url = rest if rest.lower().startswith(("http:", "https:")) else "http:" + rest
    if len(url) > MAX_URL_CHARS or any(c.isspace() or not c.isprintable() for c in url):
        return None
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return None
    if parts.scheme.lower() not in HTTP_SCHEMES or not parts.hostname:
        return None
    return url


def _clean_text(value: str) -> str:
    """``value`` on one line: control characters dropped, runs of spaces made one."""
    kept = "".join(c for c in value if unicodedata.category(c) != "Cc" or c.isspace())
    return SPACES_RE.sub(" ", kept).strip()


# Writing


def write_opml(feeds: Sequence[FeedLike], title: str, now: datetime) -> str:
    """An OPML 2.0 document (UTF-8 text) listing ``feeds``, dated ``now`` (timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    root = ET.Element("opml", version=OPML_VERSION)
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = _xml_text(title)
    ET.SubElement(head, "dateCreated").text = format_datetime(now.astimezone(UTC), usegmt=True)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        name = _xml_text(redact_text(feed.name))
        # An exported list travels: credentials in an address stay behind.
        attrs = {"type": OUTLINE_TYPE, "text": name, "title": name,
                 "xmlUrl": _xml_text(redact_url(feed.url))}
        if feed.lang:
            attrs["language"] = _xml_text(feed.lang)
        ET.SubElement(body, "outline", attrs)
    ET.indent(root, space=INDENT)
    return XML_DECLARATION + ET.tostring(root, encoding="unicode") + "\n"


def _xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot hold (ElementTree would write them)."""
    return NOT_XML_RE.sub("", value)


# Importing into config.toml


def import_feeds(config_path: Path, feeds: Sequence[OpmlFeed],
                 default_lang: str) -> ImportReport:
    """Append to config.toml the ``feeds`` whose address it does not have yet.

    Comments and layout stay as they are: the new [[feeds]] tables go right after the last
    one (or at the end of the file). A feed with no language gets ``default_lang``; a name
    already taken gets a number. The new text must load with load_config before it replaces
    the file, in one step. Raises ConfigError when config.toml is invalid or cannot be
    edited safely; the file is then left untouched.
    """
    if default_lang not in LANGUAGES:
        raise ValueError(f"default_lang must be one of {', '.join(LANGUAGES)}")
    config = load_config(config_path)
    known = {url_key(feed.url): feed.name for feed in config.feeds}
    taken = {feed.name.casefold() for feed in config.feeds}
    added: list[OpmlFeed] = []
    duplicates: list[Duplicate] = []
    for feed in feeds:
        key = url_key(feed.url)
        if key in known:
            duplicates.append(Duplicate(feed, known[key]))
            continue
        name = _unique_name(feed.name, taken)
        taken.add(name.casefold())
        known[key] = name
        added.append(OpmlFeed(name=name, url=feed.url.strip(), lang=feed.lang or default_lang,
                              line=feed.line))
    if added:
        text = config_path.read_bytes().decode("utf-8")
        new_text = _with_feeds(config_path, text, added)
        _check(config_path, text, new_text, added)
        write_atomic(config_path, new_text)
    return ImportReport(config_path, tuple(added), tuple(duplicates))


def url_key(url: str) -> str:
    """``url`` as compared for duplicates: trimmed, scheme and host lower-cased, default
    port and empty path written the one way; the path and query keep their case."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if parts.username is not None:
        credentials = parts.username + (f":{parts.password}" if parts.password is not None
                                        else "")
        netloc = f"{credentials}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, parts.fragment))


def _unique_name(name: str, taken: set[str]) -> str:
    candidate = name
    number = 2
    while candidate.casefold() in taken:
        candidate = f"{name} ({number})"
        number += 1
    return candidate


def _with_feeds(path: Path, text: str, feeds: Sequence[OpmlFeed]) -> str:
    """``text`` with a [[feeds]] table per feed after the last one, in the file's line ends."""
    crlf = CRLF in text and text.count(CRLF) == text.count("\n")
    lines = (text.replace(CRLF, "\n") if crlf else text).splitlines(keepends=True)
    block = "".join("\n" + _feed_table(feed) for feed in feeds)
    headers = [i for i, line in enumerate(lines) if HEADER_RE.match(line)]
    feed_headers = [i for i in headers if _is_feeds_header(lines[i])]
    if feed_headers:
        last = feed_headers[-1]
        end = next((i for i in headers if i > last), len(lines))
        # A table runs from its header to its last key; the blank lines and comments after
        # it belong to what follows, so the new tables go before them.
        while end > last + 1 and _is_trivia(lines[end - 1]):
            end -= 1
    elif FEEDS_KEY in tomllib.loads(text):
        raise ConfigError(path, "feeds are not written as [[feeds]] tables; add the new "
                          "feeds by hand")
    else:
        end = len(lines)
    before = lines[:end]
    if before and not before[-1].endswith("\n"):
        before[-1] += "\n"
    if not before or not before[-1].strip():  # no text above, or a blank line already
        block = block[1:]
    new_text = "".join(before) + block + "".join(lines[end:])
    return new_text.replace("\n", CRLF) if crlf else new_text


def _feed_table(feed: OpmlFeed) -> str:
    values = {"name": feed.name, "url": feed.url, "lang": feed.lang or ""}
    rows = "".join(f"{key} = {tomlkit.string(value).as_string()}\n"
                   for key, value in values.items())
    return f"[[{FEEDS_KEY}]]\n{rows}"


def _is_feeds_header(line: str) -> bool:
    header = HEADER_RE.match(line)
    if header is None or header.group(1) != "[[":
        return False
    return tuple(part.strip().strip("\"'") for part in header.group(2).split(".")) == (
        FEEDS_KEY,)


def _is_trivia(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _check(path: Path, old_text: str, new_text: str, feeds: Sequence[OpmlFeed]) -> None:
    """Refuse ``new_text`` unless it is the old data plus exactly ``feeds``, and loads."""
    expected = tomllib.loads(old_text)
    expected[FEEDS_KEY] = [*expected.get(FEEDS_KEY, []),
                           *({"name": f.name, "url": f.url, "lang": f.lang} for f in feeds)]
    try:
        written = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError:
        written = None
    if written != expected:
        raise ConfigError(path, "this file is laid out in a way the import cannot edit "
                          "safely; add the feeds by hand")
    config_from_document(parse_toml(path, new_text))

