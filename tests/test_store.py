"""The SQLite store: schema, de-duplication, the outbox, atomic polls."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import FeedConfig
from bot.errors import StoreError
from bot.match import Hit
from bot.parse import ParsedItem
from bot.store import NewItem, Store
from tests.conftest import NOW

FEEDS = [FeedConfig("A", "https://a.example/rss", "fr", 600),
         FeedConfig("B", "https://b.example/rss", "en", 900)]
HIT = Hit("goita", "Goïta", "Goïta", "title", 100, 0, 5)


def item(n: int, *, guid: str | None = None, link: str | None = None) -> ParsedItem:
    return ParsedItem(guid=guid, link=link or f"https://news.example/{n}", title=f"Goïta {n}",
                      summary="", published=NOW)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "state" / "bot.db")
    store.sync_feeds(FEEDS)
    return store


def save(store: Store, feed_index: int, items: list[ParsedItem], *, alert: bool = True) -> int:
    feed = store.feeds()[feed_index]
    new = [NewItem(i, (HIT,), "<b>alert</b>" if alert else None)
           for i in store.unseen(feed, items)]
    return store.save_poll(feed, NOW, new, chat="@c", etag='"e"',
                           last_modified=None, body_hash="h", title="T",
                           next_check=NOW + timedelta(minutes=10))


def test_open_creates_wal_database_with_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state" / "bot.db"
    store = Store.open(path)
    assert path.exists()
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version() == ["0001_initial"]
    store.close()
    assert Store.open(path).schema_version() == ["0001_initial"]  # idempotent


def test_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=r"bot\.db"):
        Store.open(path)


def test_sync_feeds_adds_updates_and_deactivates(store: Store) -> None:
    store.sync_feeds([FeedConfig("A renamed", "https://a.example/rss", "fr", 60)])
    [feed] = store.feeds()
    assert (feed.name, feed.interval) == ("A renamed", 60)


def test_same_guid_or_canonical_link_is_stored_once_across_feeds(store: Store) -> None:
    assert save(store, 0, [item(1, guid="https://news.example/1"), item(2)]) == 2
    again = [item(1, guid="https://news.example/1"),
             item(3, link="http://www.news.example/2/?utm_source=x")]
    assert save(store, 1, again) == 0
    assert store.counts()["items"] == 2


def test_duplicates_inside_one_batch_are_dropped(store: Store) -> None:
    assert save(store, 0, [item(1), item(1)]) == 1


def test_reused_guid_for_a_different_article_is_a_new_item(store: Store) -> None:
    save(store, 0, [item(1, guid="7")])
    assert save(store, 0, [item(2, guid="7")]) == 1


def test_outbox_lifecycle(store: Store) -> None:
    save(store, 0, [item(1), item(2)])
    first, second = store.due_alerts(NOW, 10)
    store.mark_sent(first.id, 42, NOW)
    store.mark_retry(second.id, "boom", NOW + timedelta(seconds=30))
    assert store.due_alerts(NOW, 10) == []
    assert [a.id for a in store.due_alerts(NOW + timedelta(seconds=31), 10)] == [second.id]
    store.mark_failed(second.id, "forbidden")
    assert store.pending_count() == 0
    row = store.db.execute("SELECT status, message_id FROM alerts WHERE id = ?",
                           [first.id]).fetchone()
    assert tuple(row) == ("sent", 42)


def test_poll_is_atomic(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure midway through saving a poll leaves nothing of it behind."""
    original = store._insert_item
    calls = 0

    def failing(*args: object, **kwargs: object) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk went away")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "_insert_item", failing)
    with pytest.raises(RuntimeError):
        save(store, 0, [item(1), item(2)])
    assert store.counts() == {"feeds": 2, "items": 0, "hits": 0, "alerts": 0}
    assert store.feeds()[0].etag is None


def test_recent_hits_newest_first(store: Store) -> None:
    save(store, 0, [item(1), item(2), item(3)])
    recent = store.recent_hits(2)
    assert [r.title for r in recent] == ["Goïta 3", "Goïta 2"]
    assert recent[0].watchlists == ("goita",) and recent[0].feed == "A"
