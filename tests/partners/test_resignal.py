"""Signals read again after an edit of the partnership file: added, removed, kept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.ingest.items import ParsedItem
from bot.matching.watchlists import load_watchlists
from bot.partners.catalog import load_partnerships
from bot.partners.detect import SignalDetector
from bot.partners.resignal import ResignalReport, format_report, resignal
from bot.settings.config import FeedConfig
from bot.storage.records import NewItem, Pace
from bot.storage.store import Store
from tests.support.common import NOW, WATCHLISTS
from tests.support.store import save_poll, unseen

SHIPPED = WATCHLISTS / "partnerships" / "partnerships.toml"
FEEDS = [FeedConfig("Le Sahel", "https://fr.example/rss", "fr", 600)]
OLD = NOW - timedelta(days=10)
RETENTION = timedelta(days=5).total_seconds()  # the old items' summaries are pruned
HISTORY = timedelta(days=365).total_seconds()

# (title, summary, stored at)
ARTICLES = {
    "instructors": ("Des instructeurs turcs forment les FAMa à Bamako",
                    "La formation durera six semaines.", NOW),
    "newcomer": ("Sahel Defence Systems livre des blindés à l'armée malienne",
                 "Les véhicules ont été réceptionnés à Kati.", NOW),
    "otokar": ("Otokar livre vingt blindés à l'armée nigérienne",
               "Les véhicules ont été réceptionnés à Niamey.", NOW),
    "pruned": ("Coopération militaire : une nouvelle étape",
               "Des instructeurs turcs forment désormais les FAMa à Sévaré.", OLD),
}


def partnership_file(tmp_path: Path, edited: bool) -> Path:
    """The shipped file; edited: a new Turkish company named, Otokar no longer."""
    text = SHIPPED.read_text(encoding="utf-8")
    if edited:
        text = text.replace('"Otokar", ', '"Sahel Defence Systems", ', 1)
    path = tmp_path / ("edited.toml" if edited else "shipped.toml")
    path.write_text(text, encoding="utf-8")
    return path


def detector(tmp_path: Path, edited: bool) -> SignalDetector:
    watchlists = load_watchlists(WATCHLISTS)
    return SignalDetector(load_partnerships(partnership_file(tmp_path, edited), watchlists))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """The articles stored with the shipped file's signals, old summaries pruned."""
    store = Store.open(tmp_path / "state" / "bot.db")
    store.sync_feeds(FEEDS)
    [feed] = store.feeds()
    before = detector(tmp_path, edited=False)
    for name, (title, summary, when) in ARTICLES.items():
        item = ParsedItem(guid=None, link=f"https://news.example/{name}", title=title,
                          summary=summary, published=when)
        fresh, retitled = unseen(store, feed, [item])
        new = [NewItem(i, (), None, tuple(before.detect(i.title, i.summary))) for i in fresh]
        save_poll(store, feed, when, new, retitled,
                  pace=Pace(when + timedelta(minutes=10), 600.0, 0))
    store.prune(NOW, retention=RETENTION, history=HISTORY)
    return store


def signals(store: Store) -> set[tuple[str, str, str, str]]:
    rows = store.db.execute(
        """SELECT items.link, supplier, recipient, kind FROM signals
           JOIN items ON items.id = signals.item_id""").fetchall()
    return {(link.rsplit("/", 1)[1], supplier, recipient, kind)
            for link, supplier, recipient, kind in rows}


BEFORE = {("instructors", "turkey", "mali", "training"), ("otokar", "turkey", "niger", "arms"),
          ("pruned", "turkey", "mali", "training")}


def test_signals_follow_an_edit_of_the_file(store: Store, tmp_path: Path) -> None:
    assert signals(store) == BEFORE
    alerts = store.db.execute("SELECT count(*), max(id) FROM alerts").fetchone()
    report = resignal(store, detector(tmp_path, edited=True), batch_size=2)
    assert signals(store) == (BEFORE - {("otokar", "turkey", "niger", "arms")}) | {
        ("newcomer", "turkey", "mali", "arms")}
    # The summary of "pruned" is gone: its signal, read there, cannot be read again.
    assert report == ResignalReport(items=4, added=1, removed=1, updated=0, kept=1)
    # A backfill queues nothing: old news does not flood the channel.
    assert store.db.execute("SELECT count(*), max(id) FROM alerts").fetchone() == alerts
    created = store.db.execute(
        """SELECT signals.created_at, items.fetched_at FROM signals JOIN items
           ON items.id = signals.item_id WHERE items.link LIKE '%newcomer'""").fetchone()
    assert created[0] == created[1]  # dated when the news came
    again = resignal(store, detector(tmp_path, edited=True))
    assert (again.added, again.removed, again.updated) == (0, 0, 0)


def test_the_same_file_changes_nothing(store: Store, tmp_path: Path) -> None:
    report = resignal(store, detector(tmp_path, edited=False))
    assert (report.added, report.removed, report.updated) == (0, 0, 0)
    assert signals(store) == BEFORE


def test_since_reads_only_recent_items(store: Store, tmp_path: Path) -> None:
    report = resignal(store, detector(tmp_path, edited=True), since=NOW - timedelta(days=1))
    assert report.items == 3 and report.kept == 0


def test_report_line() -> None:
    assert format_report(ResignalReport(9, 1, 2, 0, 3)) == (
        "signals: 1 added, 2 removed, 0 updated, 3 kept (their summary is gone)\n")
