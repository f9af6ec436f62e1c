"""What a feed of any kind gives the pipeline: items as plain text, within bounds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.matching.text import plain_text

# Bounds on what one feed may put into the pipeline; larger values are cut, not refused.
MAX_ITEMS_PER_FEED = 1000
MAX_TITLE_CHARS = 500
MAX_SUMMARY_CHARS = 4000
MAX_LINK_CHARS = 2000
MAX_GUID_CHARS = 500
# What a body was read as (shown in /feeds).
RSS, ATOM, JSON_FEED, CHANNEL = "rss", "atom", "json", "channel"
# An entry without a title (a channel post, a micro-post) is titled by its first line, cut
# at its first sentence when that line is long.
LONG_TITLE = 160
SENTENCE_END_RE = re.compile(r"(?<=[.!?…])\s")


@dataclass(frozen=True)
class ParsedItem:
    """One feed entry as plain text, ready for matching and storage."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    published: datetime | None


@dataclass(frozen=True)
class ParsedFeed:
    """The items of one feed body and what the parser had to say about it."""

    title: str
    items: tuple[ParsedItem, ...]
    warning: str | None = None  # feedparser's complaint about a body it could still read
    truncated: int = 0  # entries dropped beyond MAX_ITEMS_PER_FEED
    older: str = ""  # the address of the entries before these, where the source gives one
    kind: str = ""  # what the body was: RSS, ATOM, JSON_FEED or CHANNEL


def first_line(text: str) -> str:
    """A title for an entry that has none: the first line of ``text`` (plain, lines kept)
    that holds words, cut at its first sentence when long."""
    line = next((plain for plain in map(plain_text, text.splitlines()) if plain), "")
    if len(line) > LONG_TITLE:
        line = SENTENCE_END_RE.split(line, maxsplit=1)[0]
    return line


def utc_time(value: str) -> datetime | None:
    """An ISO 8601 / RFC 3339 time as UTC (one without an offset is taken as UTC); None
    when it is not a time."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
