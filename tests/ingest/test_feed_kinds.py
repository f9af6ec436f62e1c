"""What /feeds says of a feed's source: its kind, and how long its news takes to arrive."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.ingest.items import ParsedItem
from bot.pipeline.poll import NEWS_AGE, news_delay
from bot.settings.config import FeedConfig
from bot.storage.records import FeedAnswer, Pace
from bot.storage.store import Store
from bot.telegram.commands.listing import feed_entry
from tests.support.common import ROOT

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
FEEDS = [FeedConfig("Actu", "https://news.example/rss", "fr", 600.0),
         FeedConfig("Recherche", "https://news.google.com/rss/search?q=x", "fr", 1800.0),
         FeedConfig("Index", "https://api.gdeltproject.org/api/v2/doc/doc?query=x", "en", 1800.0),
         FeedConfig("Canal", "https://t.me/s/example_sahel_channel", "fr", 300.0),
         FeedConfig("Veille", "https://veille.example/rss?q=x", "fr", 1800.0, search=True)]


def item(minutes_ago: float | None) -> ParsedItem:
    published = None if minutes_ago is None else NOW - timedelta(minutes=minutes_ago)
    return ParsedItem(guid=None, link=None, title="t", summary="", published=published)


def test_a_polls_delay_is_the_median_age_of_its_fresh_news() -> None:
    assert news_delay([item(5), item(30), item(10)], NOW) == 600
    # Undated items, items from the future and a backlog of old ones say nothing.
    old = NEWS_AGE / 60 + 1
    assert news_delay([item(None), item(-5), item(old)], NOW) is None
    assert news_delay([item(4), item(old), item(old)], NOW) == 240


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "bot.db")
    store.sync_feeds(FEEDS)
    return store


def answer(kind: str | None, delay: float | None) -> FeedAnswer:
    return FeedAnswer(None, None, "hash", None, Pace(NOW + timedelta(minutes=10), 600.0, 0),
                      kind=kind, delay=delay)


def test_feeds_show_their_kind_and_their_measured_delay(store: Store) -> None:
    ids = {feed.name: feed.id for feed in store.feeds()}
    store.record_success(ids["Actu"], NOW, answer("rss", 600.0))
    store.record_success(ids["Actu"], NOW, answer("rss", 1200.0))  # recent polls weigh most
    store.record_success(ids["Actu"], NOW, answer("rss", None))  # no fresh news: unchanged
    store.record_success(ids["Canal"], NOW, answer("channel", 120.0))
    store.record_success(ids["Recherche"], NOW, answer("rss", None))
    health = {feed.name: feed for feed in store.feed_health(NOW - timedelta(days=7))}
    assert health["Actu"].kind == "rss"
    assert health["Actu"].delay == pytest.approx(600 * 0.7 + 1200 * 0.3)
    zone = ZoneInfo("UTC")
    assert "<b>Actu</b> · RSS" in feed_entry(health["Actu"], "en", zone)
    assert "measured delay: 13m" in feed_entry(health["Actu"], "en", zone)
    assert "délai mesuré : 13m" in feed_entry(health["Actu"], "fr", zone)
    assert "<b>Canal</b> · Telegram channel" in feed_entry(health["Canal"], "en", zone)
    assert "<b>Canal</b> · canal Telegram" in feed_entry(health["Canal"], "fr", zone)
    # A search is a search whatever its format, even before its first poll.
    assert "<b>Recherche</b> · recherche" in feed_entry(health["Recherche"], "fr", zone)
    assert "<b>Index</b> · search" in feed_entry(health["Index"], "en", zone)
    assert "delay" not in feed_entry(health["Recherche"], "en", zone)
    # So is a feed configured as one, at an address the bot does not know.
    assert "<b>Veille</b> · search" in feed_entry(health["Veille"], "en", zone)
    assert "<b>Actu</b> · search" not in feed_entry(health["Actu"], "en", zone)


def test_the_time_to_alert_benchmark_prints_its_table() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "alert_delay.py"), "--quick"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    tables: list[dict[str, list[float]]] = []
    for line in result.stdout.splitlines():
        if line.startswith("## "):
            tables.append({})
        elif line.startswith("| ") and tables and not line.startswith(("| feeds", "| ---")):
            cells = line.split("|")[1:-1]
            tables[-1][cells[0].strip()] = [float(c.replace(",", "")) for c in cells[1:5]]
    assert len(tables) == 5  # before, now, and three ways the targets would cost
    before, now = tables[:2]
    assert set(now) == {"newspaper", "search", "channel", "all"}
    items, p50, p95, per_day = now["all"]
    assert items > 100 and 0 < p50 <= p95 and per_day > 0
    # Searches brought forward find their news sooner, for a few more requests.
    assert now["search"][2] < before["search"][2] / 2
    assert before["all"][3] < now["all"][3] <= before["all"][3] * 1.25
