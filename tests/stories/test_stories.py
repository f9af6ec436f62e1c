"""Canonical links and identity keys."""

from __future__ import annotations

import pytest

from bot.stories import fingerprint
from bot.stories.identity import canonical_url, guid_key
from bot.stories.index import StoryIndex

SAME = "example.org/afrique/article-123"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.org/afrique/article-123",
        "http://example.org/afrique/article-123/",
        "https://example.org/afrique/article-123?utm_source=rss&utm_medium=feed",
        "https://example.org/afrique/article-123#comments",
        "HTTPS://WWW.EXAMPLE.ORG/afrique/article-123?xtor=RSS-1",
        "https://example.org:443/afrique/article-123?fbclid=abc",
        "https://example.org/amp/afrique/article-123",
        "https://example.org/afrique/article-123/amp",
        "https://example.org/afrique/article-123?outputType=amp",
    ],
)
def test_variants_share_one_canonical_form(url: str) -> None:
    assert canonical_url(url) == SAME


def test_meaningful_query_is_kept_and_sorted() -> None:
    assert canonical_url("https://ex.org/a?b=2&a=1&utm_x=3") == "ex.org/a?a=1&b=2"
    assert canonical_url("https://ex.org/a?id=1") != canonical_url("https://ex.org/a?id=2")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "mailto:a@b.c", "", "https://",
                                 "http://[::1"])
def test_non_web_addresses_have_no_key(url: str) -> None:
    assert canonical_url(url) is None


def test_guid_keys_are_global_for_urls_and_scoped_otherwise() -> None:
    assert guid_key("https://ex.org/a", "F") == "https://ex.org/a"
    assert guid_key("urn:uuid:1234", "F") == "urn:uuid:1234"
    assert guid_key("42", "https://feed-a") != guid_key("42", "https://feed-b")
    assert guid_key(None, "F") is None


@pytest.mark.parametrize("url", [
    "https://www.news.example/afrique/goita?utm_source=x&id=3#top",
    "HTTP://News.Example:80/a/b/", "https://m.news.example:8443/amp/a.amp",
    "https://news.example", "https://news.example/?", "http://news.example:99999/a",
    "https://news.example/a?b=2&a=1&fbclid=z", "https://news.example./a%20b",
    "http://news.example:\u0668\u0660/a", "http://news.example:\uff18\uff10/a",  # not ASCII
])
def test_simple_links_take_the_fast_path_to_the_same_key(url: str) -> None:
    # A user part forces the general urlsplit path; the key must not depend on the path.
    general = url.replace("://", "://reader@", 1)
    assert canonical_url(url) == canonical_url(general)


def test_word_kinds_forget_nothing_of_the_item_that_fills_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fingerprint, "MAX_REMEMBERED_WORDS", 3)
    kinds = fingerprint.WordKinds()
    assert kinds.content({"alpha", "beta", "gamma", "delta"}) == {"alpha", "beta", "gamma",
                                                                  "delta"}
    # The memory is full: the next item's words are all learnt again, none dropped.
    assert kinds.content({"alpha", "kyiv", "2026", "le"}) == {"alpha", "kyiv", "2026"}
    assert kinds.numbers(frozenset({"alpha", "2026"})) == {"2026"}


def test_the_story_index_adds_nothing_for_the_garbage_collector_to_walk() -> None:
    # Days of indexed items must not weigh on every full collection of the bot's process.
    import gc
    from datetime import UTC, datetime, timedelta

    index = StoryIndex(timedelta(hours=72))
    when = datetime(2026, 11, 24, 8, tzinfo=UTC)
    prints = [index.fingerprint(f"Bamako : la réunion numéro {n} sur la sécurité",
                                "Les délégations se retrouvent lundi à Bamako.")
              for n in range(200)]
    for n, fp in enumerate(prints):
        index.add(n, n, when + timedelta(minutes=n), fp)
    for _ in range(3):  # a tuple is let go once those inside it are: a level a pass
        gc.collect()
    entries = list(index._items.values())  # the entries themselves: nothing else says
    assert len(entries) == 200 and not any(gc.is_tracked(entry) for entry in entries)
    assert index.find(prints[5], when) == 5  # still found
    other = index.fingerprint("Bamako : la réunion numéro 9999 sur la sécurité",
                              "Les délégations se retrouvent lundi à Bamako.")
    assert index.find(other, when) is None  # another number: another story
