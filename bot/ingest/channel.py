"""A public Telegram channel's web preview (t.me/s/<channel>) read as a feed (pure).

The page lists the channel's latest posts, oldest first: each is a
``div.tgme_widget_message`` whose ``data-post`` is ``<channel>/<id>``, with its text in
``div.tgme_widget_message_text``, its time in the ``<time datetime>`` of its date link, and,
for a forwarded post, the name of where it came from. A service message (a new photo, a
pinned post) carries the class ``service_message``; a post of media alone has no text. The
page links to the posts before it (``<link rel="prev" href="/s/<channel>?before=<id>">``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser

from bot.errors import ParseError
from bot.ingest.items import (
    CHANNEL,
    MAX_ITEMS_PER_FEED,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    ParsedFeed,
    ParsedItem,
    first_line,
    utc_time,
)
from bot.matching.text import clip, plain_text

# Markers of a channel page, looked for in its bytes before any parsing.
PAGE_MARKERS = (b"tgme_widget_message", b"tgme_channel_info")
HTML_OPENING = 256  # bytes in which an HTML page opens
# A page is 100 to 300 KB; one far larger, or with many more "<" than ">", is refused before
# the HTML parser, whose time grows with the square of the tags left open.
MAX_PAGE_BYTES = 2 * 1024 * 1024
UNCLOSED_TAGS = 100
# A quoted reply's text carries this class beside the message text's: it is another post's.
REPLY_TEXT = "js-message_reply_text"
POST_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_]{4,31})/(\d{1,12})$")  # data-post="name/123"
CHANNEL_URL = "https://t.me/{channel}/{post}"
FORWARDED_FROM = "↪ "  # before the name of the channel a forwarded post comes from


def is_channel_page(body: bytes) -> bool:
    """Whether ``body`` is a channel's web preview rather than a feed: an HTML page (not
    XML that quotes one) with the channel's markers."""
    opening = body[:HTML_OPENING].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return (opening.startswith((b"<!doctype html", b"<html"))
            and any(marker in body for marker in PAGE_MARKERS))


@dataclass
class _Post:
    """What the page says of one post, as it is read."""

    channel: str
    number: int
    service: bool
    text: list[str] = field(default_factory=list)
    published: datetime | None = None
    forwarded: list[str] = field(default_factory=list)


class _PageReader(HTMLParser):
    """Collects the posts, the channel's title and the address of older posts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.posts: list[_Post] = []
        self.title = ""
        self.older = ""
        self._post: _Post | None = None
        self._depth = 0  # open divs inside the current post
        self._capture: list[str] | None = None  # where text goes now
        self._capture_depth = 0
        self._title_parts: list[str] | None = None
        self._skip_depth = 0  # inside a quoted reply: its text is another post's

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        classes = set(values.get("class", "").split())
        if tag == "meta" and values.get("property") == "og:title" and not self.title:
            self.title = values.get("content", "")
        elif tag == "link" and values.get("rel") == "prev":
            self.older = values.get("href", "")
        elif tag == "div" and "tgme_widget_message" in classes and "data-post" in values:
            self._open_post(values["data-post"], "service_message" in classes)
        elif self._post is None:
            if "tgme_channel_info_header_title" in classes:
                self._title_parts = []
            return
        elif tag == "div":
            self._depth += 1
            if self._skip_depth:
                self._skip_depth += 1
            elif "tgme_widget_message_reply" in classes:
                self._skip_depth = 1
            elif ("tgme_widget_message_text" in classes and REPLY_TEXT not in classes
                  and self._capture is None):
                if self._post.text:
                    self._post.text.append("\n")  # a second text block: its own line
                self._capture, self._capture_depth = self._post.text, self._depth
        elif tag == "br" and self._capture is not None:
            self._capture.append("\n")
        elif tag == "time" and self._post.published is None and values.get("datetime"):
            self._post.published = utc_time(values["datetime"])
        elif "tgme_widget_message_forwarded_from_name" in classes:
            self._capture, self._capture_depth = self._post.forwarded, -1

    def handle_endtag(self, tag: str) -> None:
        if self._title_parts is not None and tag in ("span", "div"):
            self.title = self.title or " ".join("".join(self._title_parts).split())
            self._title_parts = None
        if self._post is None:
            return
        if self._capture_depth == -1 and tag in ("a", "span"):
            self._capture = None
            self._capture_depth = 0
        if tag != "div":
            return
        if self._capture is not None and self._depth == self._capture_depth:
            self._capture = None
        if self._skip_depth:
            self._skip_depth -= 1
        if self._depth == 0:
            self.posts.append(self._post)
            self._post = None
        else:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._title_parts is not None:
            self._title_parts.append(data)
        elif self._capture is not None and not self._skip_depth:
            self._capture.append(data)

    def close(self) -> None:
        """Read what is left; a post the page ended inside keeps what it said."""
        super().close()
        if self._post is not None:
            self.posts.append(self._post)
            self._post = None

    def _open_post(self, post: str, service: bool) -> None:
        match = POST_RE.match(post)
        if self._post is not None:  # an unclosed post: keep what it said
            self.posts.append(self._post)
        self._post = None if match is None else _Post(match[1], int(match[2]), service)
        self._depth = 0
        self._capture = None


def parse_channel_page(body: bytes) -> ParsedFeed:
    """The posts of a channel page as items, newest first: link and guid
    ``https://t.me/<channel>/<id>``, the first line (or sentence) of the text as title and
    the whole text as summary. Service messages and posts without text (media alone) are
    left out. ParseError when the page holds no post and no channel."""
    if len(body) > MAX_PAGE_BYTES:
        raise ParseError(f"channel page over {MAX_PAGE_BYTES // 1024} KB")
    if body.count(b"<") > body.count(b">") + UNCLOSED_TAGS:
        # Tags left open cost the HTML parser quadratic time: a page is no such thing.
        raise ParseError("channel page with tags left open")
    reader = _PageReader()
    try:
        reader.feed(body.decode("utf-8", errors="replace"))
        reader.close()
    except (AssertionError, ValueError) as exc:  # the stdlib parser's own complaints
        raise ParseError(f"unreadable channel page: {exc}") from exc
    if not reader.posts and not reader.title:
        raise ParseError("not a Telegram channel page")
    items = [_item(post) for post in reversed(reader.posts) if not post.service]
    kept = [item for item in items if item is not None]
    return ParsedFeed(title=clip(plain_text(reader.title), MAX_TITLE_CHARS),
                      items=tuple(kept[:MAX_ITEMS_PER_FEED]),
                      truncated=max(0, len(kept) - MAX_ITEMS_PER_FEED),
                      older=reader.older, kind=CHANNEL)


def _item(post: _Post) -> ParsedItem | None:
    text = "".join(post.text)
    title = first_line(text)
    if not title:
        return None  # media alone: no words to read
    summary = plain_text(text)
    forwarded = " ".join("".join(post.forwarded).split())
    if forwarded:
        summary = f"{FORWARDED_FROM}{forwarded}: {summary}"
    link = CHANNEL_URL.format(channel=post.channel, post=post.number)
    return ParsedItem(guid=link, link=link, title=clip(title, MAX_TITLE_CHARS),
                      summary=clip(summary, MAX_SUMMARY_CHARS), published=post.published)
