"""Telegram HTML primitives: escaping, the one link, the one date, fitting within the limit."""

from __future__ import annotations

import html
import re
from datetime import datetime, tzinfo
from urllib.parse import urlsplit

from bot.matching.text import WHITESPACE_RE
from bot.telegram.i18n import MONTHS

MAX_MESSAGE_UTF16 = 4096  # Telegram's limit, counted on the text after markup is parsed
CAPTION_LIMIT = 1024  # Telegram's limit for a photo caption, in characters
TAG_RE = re.compile(r"<[^>]*>")
# A space of any kind, a control character or DEL: refused in a link (urlsplit would
# quietly drop some of them and link to another address than the one shown).
UNCLEAN_LINK_RE = re.compile(r"[\s\x00-\x1f\x7f]")
LINK_SCHEMES = ("http", "https")
FALLBACK_MONTHS = "en"  # month names for a language the catalogue does not have


def escape(text: str) -> str:
    """Text made safe for Telegram HTML (&, < and >), white space collapsed."""
    return html.escape(WHITESPACE_RE.sub(" ", text), quote=False)


def attribute(value: str) -> str:
    """A value made safe inside a double-quoted HTML attribute (an href)."""
    return html.escape(WHITESPACE_RE.sub(" ", value), quote=True)


def bold(text: str) -> str:
    """``text`` escaped, in bold."""
    return f"<b>{escape(text)}</b>"


def italic(text: str) -> str:
    """``text`` escaped, in italics."""
    return f"<i>{escape(text)}</i>"


def code(text: str) -> str:
    """``text`` escaped, in a monospaced span (error messages, ids)."""
    return f"<code>{escape(text)}</code>"


def safe_href(link: str | None) -> str | None:
    """``link`` if it is an absolute http(s) address, else None (no javascript: or data:)."""
    if not link:
        return None
    link = link.strip()
    # urlsplit quietly drops tabs and newlines; a link that needs cleaning is not linked.
    if UNCLEAN_LINK_RE.search(link):
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or not parts.netloc:
        return None
    return link


def link(url: str | None, label: str, *, bold_if_unlinked: bool = False) -> str:
    """``label`` (plain text) linked to ``url`` when that is a safe http(s) address; else the
    label alone, in bold when ``bold_if_unlinked`` (an alert's title must still stand out)."""
    href = safe_href(url)
    text = escape(label)
    if href:
        return f'<a href="{attribute(href)}">{text}</a>'
    return f"<b>{text}</b>" if bold_if_unlinked else text


def local_time(moment: datetime, lang: str, zone: tzinfo | None = None) -> str:
    """The moment as the reader reads it (plain text), in ``zone`` or the moment's own zone:
    "24 nov. 2026, 10:05 UTC" / "24 Nov 2026, 10:05 UTC"."""
    if zone is not None:
        moment = moment.astimezone(zone)
    month = MONTHS.get(lang, MONTHS[FALLBACK_MONTHS])[moment.month - 1]
    name = moment.tzname() or ""
    return f"{moment.day} {month} {moment.year}, {moment:%H:%M} {name}".rstrip()


def visible_length(message: str) -> int:
    """Length of ``message`` as Telegram counts it: UTF-16 code units of the visible text."""
    text = html.unescape(TAG_RE.sub("", message))
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, footer: str = "") -> str:
    """``text`` cut at a line break so that it and ``footer`` fit in one message."""
    lines = text.split("\n")
    while lines and visible_length("\n".join(lines) + footer) > MAX_MESSAGE_UTF16:
        lines.pop()
    return "\n".join(lines) + footer
