"""Feed bytes to items, with real feedparser on real XML."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import ParseError
from bot.ingest.items import MAX_ITEMS_PER_FEED, MAX_TITLE_CHARS
from bot.ingest.parse import parse_feed
from tests.support.feedserver import atom_feed, rss_feed

WHEN = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def test_rss_items_become_plain_text() -> None:
    body = rss_feed("Actu", [{"title": "Goïta & les <FAMa>", "link": "https://ex.org/1",
                              "guid": "g-1", "summary": "<p>Texte <b>gras</b> &eacute;</p>",
                              "published": WHEN}]).encode()
    feed = parse_feed(body, "https://ex.org/rss", "application/rss+xml; charset=utf-8")
    [item] = feed.items
    assert feed.title == "Actu"
    assert item.title == "Goïta & les <FAMa>"
    assert item.summary == "Texte gras é"
    assert item.link == "https://ex.org/1"
    assert item.guid is not None and item.guid.endswith("g-1")
    assert item.published == WHEN


def test_atom_items() -> None:
    body = atom_feed("News", [{"title": "Malian army", "link": "https://ex.org/2",
                               "guid": "urn:uuid:2", "summary": "Bamako", "published": WHEN}])
    [item] = parse_feed(body.encode(), "https://ex.org/atom").items
    assert (item.title, item.guid, item.link, item.published) == (
        "Malian army", "urn:uuid:2", "https://ex.org/2", WHEN)


@pytest.mark.parametrize(("body", "reason"), [
    (b"<html><body>Not a feed</body></html>", "not an RSS or Atom feed"),
    (b"", "not an RSS or Atom feed"), (b"\x00\xff" * 50, "not an RSS or Atom feed"),
    (b'{"json": true}', "not a JSON Feed")])
def test_non_feeds_are_refused(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_feed(body, "https://ex.org/x", "text/html")


def test_oversized_fields_and_feeds_are_cut() -> None:
    items = [{"title": "T" * 10_000, "link": f"https://ex.org/{i}"} for i in range(1_200)]
    feed = parse_feed(rss_feed("Big", items).encode(), "https://ex.org/big")
    assert len(feed.items) == MAX_ITEMS_PER_FEED
    assert feed.truncated == 200
    assert len(feed.items[0].title) == MAX_TITLE_CHARS


def test_missing_dates_and_links_are_none() -> None:
    body = (b'<rss version="2.0"><channel><title>x</title><item><title>t</title></item>'
            b"</channel></rss>")
    [item] = parse_feed(body, "https://ex.org/x").items
    assert item.published is None and item.link is None and item.guid is None
