"""Feed bytes to items: JSON Feed, channel pages, or RSS and Atom via feedparser; pure, so
it can run in a worker process."""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime
from typing import Any

import feedparser

from bot.errors import ParseError
from bot.ingest.channel import is_channel_page, parse_channel_page
from bot.ingest.items import (
    ATOM,
    MAX_GUID_CHARS,
    MAX_ITEMS_PER_FEED,
    MAX_LINK_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    RSS,
    ParsedFeed,
    ParsedItem,
)
from bot.ingest.jsonfeed import is_json_feed, parse_json_feed
from bot.matching.text import clip, html_to_text, plain_text

# A DOCTYPE with an internal subset, in any byte encoding close enough to ASCII.
DOCTYPE_SUBSET_RE = re.compile(rb"<!DOCTYPE[^\[>]*\[.*?\]\s*>", re.DOTALL | re.IGNORECASE)
DOCTYPE_SCAN_BYTES = 64 * 1024
# Without a declared type feedparser flags every body; the XML declaration still decides.
DEFAULT_CONTENT_TYPE = "application/xml"


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a ``body`` fetched from ``url``: a JSON Feed, a public Telegram channel's web
    preview, or RSS or Atom; ParseError when it is none of them."""
    if is_json_feed(body, content_type):
        return parse_json_feed(body)
    if is_channel_page(body):
        return parse_channel_page(body)
    headers = {"content-location": url, "content-type": content_type or DEFAULT_CONTENT_TYPE}
    try:
        # The bot only ever reads feed HTML as text (and escapes it), so feedparser's own
        # sanitising and URI rewriting of HTML content, its slowest steps, are not needed.
        result = feedparser.parse(_without_entity_declarations(body), response_headers=headers,
                                  sanitize_html=False, resolve_relative_uris=False)
    except Exception as exc:  # feedparser is robust, but a bug must not stop the other feeds
        raise ParseError(f"parser failed: {type(exc).__name__}: {exc}") from exc
    entries = result.get("entries") or []
    if not result.get("version") and not entries:
        reason = result.get("bozo_exception")
        raise ParseError(f"not an RSS or Atom feed{f' ({reason})' if reason else ''}")
    warning = str(result.get("bozo_exception")) if result.get("bozo") else None
    items = tuple(_item(entry) for entry in entries[:MAX_ITEMS_PER_FEED])
    feed_title = clip(html_to_text(result.get("feed", {}).get("title", "") or ""),
                       MAX_TITLE_CHARS)
    kind = ATOM if str(result.get("version", "")).startswith("atom") else RSS
    return ParsedFeed(title=feed_title, items=items, warning=warning,
                      truncated=max(0, len(entries) - MAX_ITEMS_PER_FEED), kind=kind)


def _without_entity_declarations(body: bytes) -> bytes:
    """``body`` with any DOCTYPE internal subset removed.

    Entity declarations are how a small document expands into a huge one ("billion laughs"
    and its flat variants); feeds have no need of them, so they are dropped before parsing.
    """
    head = body[:DOCTYPE_SCAN_BYTES]
    if b"<!ENTITY" not in head.upper() and b"<!entity" not in head:
        return body
    return DOCTYPE_SUBSET_RE.sub(b"", body, count=1)


def _item(entry: Any) -> ParsedItem:
    title = clip(_visible(entry.get("title"), entry.get("title_detail")), MAX_TITLE_CHARS)
    summary_value, summary_detail = entry.get("summary"), entry.get("summary_detail")
    if not summary_value and entry.get("content"):
        summary_detail = entry["content"][0]
        summary_value = summary_detail.get("value")
    summary = clip(_visible(summary_value, summary_detail, MAX_SUMMARY_CHARS * 8),
                    MAX_SUMMARY_CHARS)
    link = _text(entry.get("link")).strip()[:MAX_LINK_CHARS] or None
    guid = _text(entry.get("id")).strip()[:MAX_GUID_CHARS] or None
    return ParsedItem(guid=guid, link=link, title=title, summary=summary,
                      published=_published(entry))


def _visible(value: object, detail: Any, limit: int = MAX_TITLE_CHARS * 8) -> str:
    """Plain text of a feed field, decoding markup only when the feed says it is HTML."""
    text = _text(value)[:limit]
    if detail is not None and detail.get("type") == "text/plain":
        return plain_text(text)
    return html_to_text(text)


def _published(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, OSError):
                return None
    return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
