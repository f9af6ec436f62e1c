"""JSON Feed 1.0 and 1.1 (application/feed+json) read as a feed (pure).

A JSON Feed is an object with ``version`` (``https://jsonfeed.org/version/1`` or ``/1.1``),
``title`` and ``items``; each item has an ``id`` and may have ``url``, ``title``,
``content_html`` or ``content_text``, ``summary``, ``date_published`` (RFC 3339) and
``authors``. Hostile JSON is contained like hostile XML: the body is bounded by the
fetcher, nesting too deep and numbers too long are refused by the decoder, and a field of
the wrong type is ignored rather than trusted.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.errors import ParseError
from bot.ingest.items import (
    JSON_FEED,
    MAX_GUID_CHARS,
    MAX_ITEMS_PER_FEED,
    MAX_LINK_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    ParsedFeed,
    ParsedItem,
    first_line,
    utc_time,
)
from bot.matching.text import clip, html_to_text, plain_text

VERSION_PREFIX = "https://jsonfeed.org/version/"
JSON_TYPES = ("application/feed+json", "application/json")


def is_json_feed(body: bytes, content_type: str | None) -> bool:
    """Whether ``body`` is to be read as JSON: its type says so, or it opens on a brace."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind in JSON_TYPES or body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_json_feed(body: bytes) -> ParsedFeed:
    """The items of a JSON Feed, in the feed's order; ParseError with the reason when the
    body is not JSON, nests too deep (the decoder's recursion limit), holds a number too
    long to read, or is not a JSON Feed."""
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ParseError(f"not JSON ({type(exc).__name__}: {str(exc)[:120]})") from None
    if not isinstance(document, dict):
        raise ParseError("not a JSON Feed (not an object)")
    version = document.get("version")
    if not isinstance(version, str) or not version.startswith(VERSION_PREFIX):
        raise ParseError("not a JSON Feed (no https://jsonfeed.org/version/ version)")
    entries = document.get("items")
    if not isinstance(entries, list):
        raise ParseError("not a JSON Feed (items is not a list)")
    items = [_item(entry) for entry in entries[:MAX_ITEMS_PER_FEED] if isinstance(entry, dict)]
    return ParsedFeed(title=clip(plain_text(_text(document.get("title"))), MAX_TITLE_CHARS),
                      items=tuple(item for item in items if item is not None),
                      truncated=max(0, len(entries) - MAX_ITEMS_PER_FEED), kind=JSON_FEED)


def _item(entry: dict[str, Any]) -> ParsedItem | None:
    raw_id = entry.get("id")  # a string by the spec; some feeds write a number
    guid = str(raw_id) if type(raw_id) in (str, int) else ""
    link = _text(entry.get("url")) or _text(entry.get("external_url"))
    title = plain_text(_text(entry.get("title")))
    summary = plain_text(_text(entry.get("summary")))
    if not summary:
        html, text = _text(entry.get("content_html")), _text(entry.get("content_text"))
        summary = html_to_text(html[:MAX_SUMMARY_CHARS * 8]) if html else plain_text(text)
    if not title:  # a title is optional in JSON Feed: a micro-post's is its first line
        title = first_line(_text(entry.get("summary")) or _text(entry.get("content_text"))
                           ) or first_line(summary)
    if not (title or summary):
        return None
    return ParsedItem(guid=guid.strip()[:MAX_GUID_CHARS] or None,
                      link=link.strip()[:MAX_LINK_CHARS] or None,
                      title=clip(title, MAX_TITLE_CHARS),
                      summary=clip(summary, MAX_SUMMARY_CHARS),
                      published=_date(entry.get("date_published") or entry.get("date_modified")))


def _date(value: object) -> datetime | None:
    return utc_time(value) if isinstance(value, str) else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
