"""The SQLite store: schema, de-duplication, the outbox, atomic polls."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import StoreError
from bot.ingest.items import ParsedItem
from bot.matching.matcher import Hit
from bot.settings.config import FeedConfig
from bot.storage.listings import SEARCH_CANDIDATES
from bot.storage.records import NewItem, Pace, RenderedAlert
from bot.storage.store import Store
from tests.support.common import NOW
from tests.support.store import MIGRATION_NAMES, render, save_poll, unseen

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


def save(store: Store, feed_index: int, items: list[ParsedItem], *, hit: bool = True,
         story: int | None = None, now: datetime = NOW) -> int:
    feed = sorted(store.feeds(), key=lambda f: f.id)[feed_index]
    fresh, retitled = unseen(store, feed, items)
    new = [NewItem(i, (HIT,) if hit else (), story) for i in fresh]
    saved = save_poll(store, feed, now, new, retitled, render=render, etag='"e"',
                            last_modified=None, body_hash="h", title="T",
                            pace=Pace(now + timedelta(minutes=10), 600.0, 0))
    return saved.alerts_new


def test_open_creates_wal_database_with_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state" / "bot.db"
    store = Store.open(path)
    assert path.exists()
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version() == MIGRATION_NAMES
    store.close()
    assert Store.open(path).schema_version() == MIGRATION_NAMES


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
    store.mark_sent(first, 42, NOW, NOW + timedelta(minutes=1))
    store.mark_retry(second.id, "boom", NOW + timedelta(seconds=30))
    assert store.due_alerts(NOW, 10) == []
    assert [a.id for a in store.due_alerts(NOW + timedelta(seconds=31), 10)] == [second.id]
    store.mark_failed(second, "forbidden")
    assert store.pending_count() == 0
    row = store.db.execute("SELECT status, message_id FROM alerts WHERE id = ?",
                           [first.id]).fetchone()
    assert tuple(row) == ("sent", 42)


def test_poll_is_atomic(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure midway through saving a poll leaves nothing of it behind."""
    original = store._insert_hits  # items, stories and now hits are in when it fails

    def failing(*args: object, **kwargs: object) -> None:
        original(*args, **kwargs)  # type: ignore[arg-type]
        assert store.db.execute("SELECT count(*) FROM hits").fetchone()[0] == 2
        raise RuntimeError("disk went away")

    monkeypatch.setattr(store, "_insert_hits", failing)
    with pytest.raises(RuntimeError):
        save(store, 0, [item(1), item(2)])
    assert store.counts() == {"feeds": 2, "items": 0, "hits": 0, "alerts": 0}
    assert store.db.execute("SELECT count(*) FROM stories").fetchone()[0] == 0
    assert store.feeds()[0].etag is None


def test_recent_stories_newest_first(store: Store) -> None:
    save(store, 0, [item(1), item(2), item(3)])
    recent = store.recent_stories(2)
    assert [r.title for r in recent] == ["Goïta 3", "Goïta 2"]
    assert recent[0].watchlists == ("goita",) and recent[0].source == "A"
    assert store.count_stories() == 3
    assert store.count_stories(watchlist="wagner") == 0


def test_story_listings_per_watchlist_ties_and_bounded_counts(store: Store) -> None:
    feed = sorted(store.feeds(), key=lambda f: f.id)[0]

    def poll(now: datetime, *news: NewItem) -> list[int]:
        saved = save_poll(store, feed, now, list(news), [], render=render, etag=None,
                                last_modified=None, body_hash=None, title=None,
                                pace=Pace(now, 600.0, 0))
        return [story for _, story, _ in saved.items]

    def new(n: int, *watchlists: str, published: datetime | None = NOW,
            story: int | None = None) -> NewItem:
        hits = tuple(Hit(w, "t", "t", "title", 100, 0, 1) for w in watchlists)
        return NewItem(ParsedItem(None, f"https://news.example/{n}", f"S{n}", "", published),
                       hits, story)

    first, _ = poll(NOW - timedelta(hours=2), new(1, "goita"), new(2))
    # Three stories first seen in the same second: the first item's time, then the id.
    poll(NOW - timedelta(hours=1), new(3, "wagner", published=NOW - timedelta(hours=3)),
         new(4, "goita", "wagner", published=NOW - timedelta(hours=1)),
         new(5, "goita", published=None))
    poll(NOW, new(6, "wagner", story=first))  # a later report adds a watchlist

    recent = store.recent_stories(10)
    assert [(s.title, s.watchlists) for s in recent] == [
        ("S5", ("goita",)), ("S4", ("goita", "wagner")), ("S3", ("wagner",)),
        ("S1", ("goita", "wagner"))]
    assert [s.title for s in store.recent_stories(2, 1)] == ["S4", "S3"]
    wagner = store.recent_stories(10, watchlist="wagner")
    assert [(s.title, s.watchlists) for s in wagner] == [
        ("S4", ("wagner",)), ("S3", ("wagner",)), ("S1", ("wagner",))]
    since = NOW - timedelta(minutes=90)
    assert [s.title for s in store.recent_stories(10, watchlist="goita", since=since)] == [
        "S5", "S4"]
    assert store.count_stories() == 4
    assert store.count_stories(at_most=2) == 2
    assert store.count_stories(watchlist="wagner", at_most=10) == 3
    assert store.count_stories(watchlist="goita", since=since) == 2
    store.db.execute("UPDATE alerts SET status = 'sent'")
    store.db.conn.commit()
    store.prune(NOW + timedelta(days=2), retention=86400, history=86400)
    assert store.count_stories() == 0
    assert store.db.execute("SELECT count(*) FROM story_watchlists").fetchone()[0] == 0


def test_search_ignores_accents_and_case(store: Store) -> None:
    save(store, 0, [item(1), ParsedItem(None, "https://news.example/x", "Les FAMa à Gao",
                                        "Patrouille", NOW)], hit=False)
    assert [r.title for r in store.search("goita", 10)] == ["Goïta 1"]
    assert [r.title for r in store.search("GAO fama", 10)] == ["Les FAMa à Gao"]
    assert store.search("\"; DROP TABLE items; --", 10) == []


def test_search_ranks_only_the_newest_matches(store: Store) -> None:
    # The oldest item is the best match (the word twice, short title), but it sits behind
    # SEARCH_CANDIDATES newer matches: ranking stays bounded however common the word is.
    best = ParsedItem(None, "https://news.example/best", "Kidal Kidal", "", NOW)
    newer = [ParsedItem(None, f"https://news.example/n{n}", f"Patrouille vers Kidal {n}",
                        "Les FAMa et leurs partenaires", NOW) for n in range(SEARCH_CANDIDATES)]
    save(store, 0, [best], hit=False)
    save(store, 0, newer, hit=False)
    found = store.search("kidal", 10)
    assert len(found) == 10 and "https://news.example/best" not in [r.link for r in found]


def test_an_article_two_feeds_found_new_at_once_is_stored_once(store: Store) -> None:
    feed_a, feed_b = sorted(store.feeds(), key=lambda f: f.id)
    fresh_a = list(store.unseen(feed_a, [item(1)]).fresh)
    fresh_b, _ = unseen(store, feed_b, [item(1)])  # the same wire copy, before A is saved
    assert fresh_a == fresh_b == [item(1)]
    pace = Pace(NOW + timedelta(minutes=10), 600.0, 0)
    for feed, fresh in ((feed_a, fresh_a), (feed_b, fresh_b)):
        save_poll(store, feed, NOW, [NewItem(i, (HIT,), None) for i in fresh], [],
                        render=render, etag=None, last_modified=None, body_hash="h",
                        title="T", pace=pace)
    assert store.counts()["items"] == 1


def test_search_index_is_written_in_bulk_and_stays_consistent(store: Store) -> None:
    save(store, 0, [item(1, guid="https://news.example/g"), item(2)])
    indexed = "SELECT count(*) FROM items_fts_docsize"
    assert store.db.execute(indexed).fetchone()[0] == 0  # a poll does not index item by item
    retitled = ParsedItem(guid="https://news.example/g", link="https://news.example/1",
                          title="Goïta 1 (updated)", summary="", published=NOW)
    save(store, 0, [retitled])  # changed before it was indexed: nothing to re-index yet
    assert store.index_search() == 2
    assert store.index_search() == 0
    assert [r.title for r in store.search("updated", 5)] == ["Goïta 1 (updated)"]
    save(store, 0, [item(3)])
    assert [r.title for r in store.search("goita 3", 5)] == ["Goïta 3"]  # search catches up
    store.db.execute("INSERT INTO items_fts (items_fts) VALUES ('integrity-check')")


def test_a_story_grows_and_its_sent_alert_is_due_for_an_edit(store: Store) -> None:
    assert save(store, 0, [item(1)]) == 1
    [alert] = store.due_alerts(NOW, 10)
    store.mark_sent(alert, 7, NOW, NOW + timedelta(minutes=1))
    story = store.db.execute("SELECT story_id FROM items").fetchone()[0]
    later = NOW + timedelta(seconds=10)
    assert save(store, 1, [item(2)], story=story, now=later) == 0  # joins the story
    assert store.due_alerts(later, 10) == []  # edits wait for the edit pause
    [edit] = store.due_alerts(NOW + timedelta(minutes=1), 10)
    assert (edit.id, edit.message_id, edit.html) == (alert.id, 7, "<b>Goïta 1</b> (2)")
    view = store.story_view(story)
    assert view is not None and view.outlets == ("A", "B")


def test_same_guid_with_a_new_title_updates_the_story(store: Store) -> None:
    save(store, 0, [item(1, guid="https://news.example/g")])
    changed = ParsedItem(guid="https://news.example/g", link="https://news.example/1",
                         title="Goïta 1 (updated)", summary="", published=NOW)
    save(store, 0, [changed])
    assert store.counts()["items"] == 1
    # The search index follows the new title (and joining a story does not re-index).
    assert [r.title for r in store.search("updated", 5)] == ["Goïta 1 (updated)"]
    [alert] = store.due_alerts(NOW, 10)
    assert alert.html == "<b>Goïta 1 (updated)</b> (1)"


def test_items_without_hits_make_stories_but_no_alerts(store: Store) -> None:
    assert save(store, 0, [item(1)], hit=False) == 0
    assert store.counts()["alerts"] == 0
    assert store.db.execute("SELECT count(*) FROM stories").fetchone()[0] == 1


def test_upgrade_from_the_first_schema_keeps_data(tmp_path: Path) -> None:
    from sqlite_utils import Database

    from bot.storage import schema

    path = tmp_path / "old.db"
    db = Database(path)
    schema.MIGRATIONS.apply(db, stop_before="0002_stories")
    db.execute("INSERT INTO feeds (url, name, lang, interval_seconds) VALUES ('u', 'A', 'fr', 60)")
    db.execute("""INSERT INTO items (feed_id, title, summary, lang, fetched_at)
                  VALUES (1, 'Goïta', '', 'fr', '2026-11-25T10:00:00+00:00')""")
    db.execute("""INSERT INTO alerts (item_id, chat, html, status, next_attempt_at, created_at)
                  VALUES (1, '@c', '<b>x</b>', 'sent', '2026-11-25T10:00:00+00:00',
                          '2026-11-25T10:00:00+00:00')""")
    db.conn.commit()
    db.close()
    store = Store.open(path)
    assert store.schema_version() == MIGRATION_NAMES
    row = store.db.execute("SELECT story_id, sent_html FROM alerts").fetchone()
    assert tuple(row) == (1, "<b>x</b>")
    assert store.story_view(1) is not None


def test_a_storys_signal_alert_keeps_first_seen_order_and_follows_retitles(store: Store) -> None:
    from bot.partners.detect import Signal
    from bot.storage.records import Retitled, SignalStoryView

    def signal(kind: str) -> Signal:
        return Signal("turkey", "mali", kind, f"Evidence of {kind}.", "title")

    def render_signals(view: SignalStoryView) -> RenderedAlert:
        return RenderedAlert(f"{view.title}|{','.join(s.kind for s in view.signals)}",
                             silent=False, targets=(("@c", None),))

    feed = sorted(store.feeds(), key=lambda f: f.id)[0]
    pace = Pace(NOW + timedelta(minutes=10), 600.0, 0)

    def poll(new: list[NewItem], retitled: list[Retitled]) -> None:
        save_poll(store, feed, NOW, new, retitled, render=render, etag=None, last_modified=None,
                        body_hash="h", title="T", pace=pace, render_signals=render_signals)

    first = item(1, guid="https://news.example/g")
    poll([NewItem(first, (), None, (signal("arms"), signal("training")))], [])
    item_id, story = store.db.execute("SELECT id, story_id FROM items").fetchone()
    poll([NewItem(item(2), (), story, (signal("training"), signal("protection")))], [])
    html = "SELECT html FROM alerts WHERE kind = 'signals'"
    assert store.db.execute(html).fetchone()[0] == "Goïta 1|arms,training,protection"
    renamed = ParsedItem(guid=first.guid, link=first.link, title="Goïta 1 (updated)",
                         summary="", published=NOW)
    poll([], [Retitled(item_id, story, renamed)])
    assert store.db.execute(html).fetchone()[0] == "Goïta 1 (updated)|arms,training,protection"
    assert store.db.execute("SELECT count(*) FROM alerts").fetchone()[0] == 1  # no hit alert


def test_the_map_claims_no_new_pair_beyond_the_kept_history(store: Store) -> None:
    from bot.matching.watchlists import load_watchlists
    from bot.partners.catalog import load_partnerships
    from bot.partners.detect import Signal
    from bot.partners.digest import partner_map_from
    from tests.support.common import WATCHLISTS

    partnerships = load_partnerships(WATCHLISTS / "partnerships" / "partnerships.toml",
                                     load_watchlists(WATCHLISTS))
    feed = sorted(store.feeds(), key=lambda f: f.id)[0]
    save_poll(store, feed, NOW, [NewItem(item(1), (), None, (Signal(
        "turkey", "mali", "training", "Des instructeurs turcs forment les FAMa.", "title"),))],
        [], render=render, etag=None, last_modified=None, body_hash="h", title="T",
        pace=Pace(NOW + timedelta(minutes=10), 600.0, 0))
    week = timedelta(days=7)
    known = partner_map_from(store, partnerships, NOW - week, NOW, history=30 * 86400.0)
    assert known.new_pairs == (("turkey", "mali"),)
    # Signals are kept 10 days: the week before this one is partly forgotten.
    forgotten = partner_map_from(store, partnerships, NOW - week, NOW, history=10 * 86400.0)
    assert forgotten.new_pairs == () and forgotten.count("turkey", "mali") == 1


def test_a_story_keeps_one_message_per_target_when_a_second_kind_arrives(store: Store) -> None:
    save(store, 0, [item(1)], hit=False)
    story = store.db.execute("SELECT story_id FROM items").fetchone()[0]
    channel = (("@c", None),)
    assert store.upsert_alerts(story, RenderedAlert("🤝 only", False, channel), NOW,
                               "signals") == (1, 0)
    store.db.execute("UPDATE alerts SET status = 'sent', sent_html = html, message_id = 5")
    # A watched term later: the partnership message becomes the story's one message.
    assert store.upsert_alerts(story, RenderedAlert("🔔 and 🤝", False, channel), NOW,
                               "hits") == (0, 1)
    rows = store.db.execute("SELECT kind, html, message_id FROM alerts").fetchall()
    assert [tuple(r) for r in rows] == [("signals", "🔔 and 🤝", 5)]
    # Elsewhere (a topic of its own), the other kind is a message of its own.
    assert store.upsert_alerts(story, RenderedAlert("🤝 topic", False, (("@c", 12),)), NOW,
                               "signals") == (1, 0)


def test_a_story_alerted_as_two_messages_before_keeps_editing_each(store: Store) -> None:
    save(store, 0, [item(1)], hit=False)
    story = store.db.execute("SELECT story_id FROM items").fetchone()[0]
    channel = (("@c", None),)
    store.db.execute(
        """INSERT INTO alerts (story_id, chat, html, status, next_attempt_at, created_at, kind,
           message_id, sent_html) VALUES (?, '@c', '🔔', 'sent', ?, ?, 'hits', 1, '🔔'),
           (?, '@c', '🤝', 'sent', ?, ?, 'signals', 2, '🤝')""",
        [story, NOW.isoformat(), NOW.isoformat()] * 2)
    store.upsert_alerts(story, RenderedAlert("🔔 grown", False, channel), NOW, "hits")
    rows = store.db.execute("SELECT message_id, html FROM alerts ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [(1, "🔔 grown"), (2, "🤝")]
