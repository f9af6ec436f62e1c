"""The database under stress: upgrades, damage, full disks, pruning; check reports health."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.cli.main import main
from bot.errors import StoreError
from bot.ingest.items import ParsedItem
from bot.matching.matcher import Hit
from bot.runtime.app import BotApp
from bot.settings.config import FeedConfig, load_config
from bot.storage import schema
from bot.storage.records import NewItem, Pace
from bot.storage.store import Store
from tests.support.common import NOW, write_config
from tests.support.feedserver import FeedServer, rss_feed
from tests.support.store import MIGRATION_NAMES, render, save_poll

HIT = Hit("goita", "Goïta", "Goïta", "title", 100, 0, 5)


@pytest.mark.parametrize("stop_before", MIGRATION_NAMES[1:])
def test_every_earlier_schema_upgrades_in_place(tmp_path: Path, stop_before: str) -> None:
    path = tmp_path / "old.db"
    db = Database(path)
    schema.MIGRATIONS.apply(db, stop_before=stop_before)
    db.execute("INSERT INTO feeds (url, name, lang, interval_seconds) VALUES ('u', 'A', 'fr', 60)")
    db.execute("""INSERT INTO items (feed_id, title, summary, lang, fetched_at)
                  VALUES (1, 'Assimi Goïta à Kati', 'Visite', 'fr', ?)""", [NOW.isoformat()])
    db.execute("""INSERT INTO hits (item_id, watchlist, term, matched_text, field, score,
                  created_at) VALUES (1, 'goita', 'Goïta', 'Goïta', 'title', 100, ?)""",
               [NOW.isoformat()])
    if "stories" in db.table_names():  # as a bot of that version wrote its rows
        db.execute("""INSERT INTO stories (id, title, first_item_id, first_seen_at,
                      last_seen_at) VALUES (1, 'Assimi Goïta à Kati', 1, ?, ?)""",
                   [NOW.isoformat(), NOW.isoformat()])
        db.execute("UPDATE items SET story_id = 1")
    if "story_watchlists" in db.table_names():
        db.execute("""INSERT INTO story_watchlists (story_id, watchlist, first_seen_at)
                      VALUES (1, 'goita', ?)""", [NOW.isoformat()])
    db.conn.commit()
    db.close()
    store = Store.open(path)
    assert store.schema_version() == MIGRATION_NAMES
    assert [s.title for s in store.recent_stories(5)] == ["Assimi Goïta à Kati"]
    assert [r.title for r in store.search("goita", 5)] == ["Assimi Goïta à Kati"]


def test_a_database_from_a_newer_bot_is_left_alone(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "bot.db")
    store.db.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                     "VALUES ('sahel-watch', '9999_future', 'x')")
    store.db.conn.commit()
    store.close()
    assert Store.open(tmp_path / "bot.db").schema_version()[-1] == "9999_future"


def test_an_unusable_state_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(StoreError, match="cannot create the state folder"):
        Store.open(blocker / "bot.db")


def test_check_reports_database_health_and_damage(tmp_path: Path,
                                                  feed_server: FeedServer) -> None:
    config = write_config(tmp_path, [{"name": "A", "url": feed_server.url("/rss"),
                                      "lang": "fr"}])
    out, err = io.StringIO(), io.StringIO()
    assert main(["--config", str(config), "check"], stdout=out, stderr=err) == 0
    assert "not created yet" in out.getvalue()
    Store.open(tmp_path / "state" / "bot.db").close()
    out = io.StringIO()
    assert main(["--config", str(config), "check"], stdout=out, stderr=err) == 0
    assert ("database: integrity=ok schema=['0012_feed_search'] journal=wal"
            in out.getvalue())
    (tmp_path / "state" / "bot.db").write_bytes(b"garbage" * 1000)
    err = io.StringIO()
    assert main(["--config", str(config), "check"], stdout=io.StringIO(), stderr=err) == 1
    assert f"error: {tmp_path / 'state' / 'bot.db'}: cannot open the database" in err.getvalue()


def test_a_full_disk_is_reported_and_the_bot_recovers_when_space_returns(
        tmp_path: Path, feed_server: FeedServer) -> None:
    items = [{"title": f"Assimi Goïta reçoit la délégation {n}", "link": f"https://n.example/{n}",
              "summary": "x" * 2000} for n in range(40)]
    feed_server.route("/rss", rss_feed("Actu", items))
    config = load_config(write_config(tmp_path, [{"name": "Actu", "url": feed_server.url("/rss"),
                                                  "lang": "fr"}]))
    out = io.StringIO()

    async def go() -> None:
        async with BotApp(config, None, out, clock=lambda: NOW) as app:
            pages = app.store.db.execute("PRAGMA page_count").fetchone()[0]
            app.store.db.execute(f"PRAGMA max_page_count = {pages + 2}")  # the disk is full
            report = await app.poll_all()
            assert report.count("failed") == 1
            assert "database or disk is full" in (report.outcomes[0].error or "")
            assert app.store.counts()["items"] == 0  # nothing half-written
            app.store.db.execute("PRAGMA max_page_count = 1073741823")  # space is back
            report = await app.poll_all()
            assert report.count("new") == 1
            assert app.store.counts()["items"] == 40

    asyncio.run(go())


def test_pruning_forgets_old_texts_then_old_stories(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "bot.db")
    store.sync_feeds([FeedConfig("A", "https://a.example/rss", "fr", 600)])
    feed = store.feeds()[0]
    for n, age in enumerate((100, 40, 1)):
        when = NOW - timedelta(days=age)
        item = ParsedItem(None, f"https://n.example/{n}", f"Goïta {n}", "long summary", when)
        save_poll(store, feed, when, [NewItem(item, (HIT,))], [], render=render, etag=None,
                        last_modified=None, body_hash=None, title=None, pace=Pace(when, 600.0, 0))
    store.db.execute("UPDATE alerts SET status = 'sent'")
    store.db.conn.commit()
    removed = store.prune(NOW, retention=30 * 86400, history=90 * 86400)
    assert removed == {"texts": 2, "items": 1, "stories": 1, "alerts": 1}
    rows = store.db.execute("SELECT title, summary FROM items ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [("Goïta 1", ""), ("Goïta 2", "long summary")]
    assert store.counts()["hits"] == 2
    assert [r.title for r in store.search("long summary", 5)] == ["Goïta 2"]


def test_a_busy_database_waits_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    store = Store.open(path)
    locked = threading.Event()

    def hold_the_lock() -> None:
        other = sqlite3.connect(path)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO audit (user_id, action, target, at) VALUES (1, 'x', 'y', 'z')")
        locked.set()
        time.sleep(0.3)
        other.commit()
        other.close()

    writer = threading.Thread(target=hold_the_lock)
    writer.start()
    locked.wait(5)
    store.audit(2, None, "a", "b", "c", NOW)  # waits for the other writer, then succeeds
    writer.join()
    assert store.db.execute("SELECT count(*) FROM audit").fetchone()[0] == 2
