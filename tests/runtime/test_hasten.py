"""A watchlist's hit brings the searches that look for it forward: the reports that follow a
first one are found at the searches' own interval, not at a quiet search's slowed pace."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.matching.matcher import Matcher
from bot.matching.watchlists import load_watchlists
from bot.pipeline.hasten import SearchesByWatchlist, due_times, searches_about
from bot.runtime.app import BotApp
from bot.settings.config import FeedConfig, load_config
from bot.settings.credentials import Token
from bot.settings.urls import is_search
from bot.storage.records import FeedState
from bot.storage.store import Store
from tests.support.botapi import BotApiStandIn
from tests.support.botprocess import CHAT, TOKEN, run_bot
from tests.support.common import ROOT, WATCHLISTS, write_config
from tests.support.feedserver import FeedServer, rss_feed
from tests.support.soak import SimClock, SteppedJobs

START = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
INTERVAL = 20 * 60.0  # the searches' own interval


def matcher() -> Matcher:
    return Matcher(load_watchlists(WATCHLISTS))


def state(feed_id: int, name: str, url: str, *, search: bool = False) -> FeedState:
    return FeedState(feed_id, name, url, "fr", INTERVAL, None, None, None, 0, None,
                     search=search)


def test_every_shipped_search_looks_for_one_watchlist_in_each_language() -> None:
    shipped = load_config(ROOT / "config.toml", {}).feeds
    # As the store keeps them: a search by its address.
    feeds = [state(n, f.name, f.url, search=is_search(f.url)) for n, f in enumerate(shipped)]
    about = searches_about(matcher(), feeds)
    searched = sorted(i for ids in about.values() for i in ids)
    assert len(searched) == len(set(searched)) == 20  # each search names one watchlist
    for ids in about.values():
        assert {shipped[i].lang for i in ids} == {"fr", "en"}
    newspapers = {n for n, f in enumerate(shipped) if "google" not in f.url
                  and "gdelt" not in f.url}
    assert not newspapers & set(searched)  # a newspaper is never brought forward


def test_a_search_at_an_unknown_address_counts_when_configured_as_one() -> None:
    url = "https://news-search.example/rss?q=%22groupe+Wagner%22"
    assert searches_about(matcher(), [state(1, "Veille Wagner", url)]) == {}
    assert searches_about(matcher(), [state(1, "Veille", url, search=True)]) == {
        "wagner": frozenset({1})}
    cached, watch = SearchesByWatchlist(), matcher()
    first = cached.to_hasten(watch, [state(1, "Veille", url, search=True)], {"wagner"}, 9)
    assert first == {1}
    assert cached.to_hasten(watch, [state(1, "Veille", url, search=True)], {"wagner"}, 1) \
        == frozenset()  # not the feed that found the hit
    assert cached.to_hasten(watch, [state(2, "Veille", url)], {"wagner"}, 9) == frozenset()


def test_search_must_be_true_or_false(tmp_path: Path) -> None:
    path = write_config(tmp_path, [{"name": "Veille", "url": "https://x.example/rss"}])
    path.write_text(path.read_text(encoding="utf-8") + "search = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert str(caught.value) == (f"{path}:{len(lines)}: search must be true or false")


def test_hasten_keeps_each_feeds_own_interval_and_its_backoff(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "bot.db")
    now = START
    store.sync_feeds([FeedConfig(f"S{n}", f"https://s{n}.example/rss", "fr", INTERVAL,
                                 search=True) for n in range(6)])
    ids = {f.name: f.id for f in store.feeds()}
    with store.transaction():
        rows = [  # last checked, next check, failures, cache seconds, active
            ("S0", now - timedelta(hours=1), now + timedelta(hours=1), 0, None, 1),
            ("S1", now - timedelta(minutes=5), now + timedelta(hours=1), 0, None, 1),
            ("S2", now - timedelta(hours=1), now + timedelta(hours=1), 3, None, 1),
            ("S3", now - timedelta(minutes=25), now + timedelta(hours=1), 0, 3600.0, 1),
            ("S4", now - timedelta(hours=1), now - timedelta(minutes=1), 0, None, 1),
            ("S5", now - timedelta(hours=1), now + timedelta(hours=1), 0, None, 0)]
        for name, last, upcoming, failures, cache, active in rows:
            store.db.execute(
                "UPDATE feeds SET last_checked_at = ?, next_check_at = ?, quiet_polls = 9, "
                "consecutive_failures = ?, cache_seconds = ?, active = ? WHERE id = ?",
                [last.isoformat(), upcoming.isoformat(), failures, cache, active, ids[name]])
    feeds = store.feeds()
    moved = store.hasten(due_times(feeds, set(ids.values()), now))
    assert sorted(moved) == ["S0", "S1", "S3"]  # S2 backs off, S4 is due, S5 is removed
    after = {f.name: f for f in store.feeds()}
    assert after["S0"].next_check_at == now and after["S0"].quiet_polls == 0
    assert after["S1"].next_check_at == now + timedelta(minutes=15)  # 20 min after its last
    assert after["S2"].next_check_at == now + timedelta(hours=1)
    assert after["S2"].quiet_polls == 9  # a failing feed keeps its pace entirely
    # S3's last answer stays fresh for an hour: not asked again before.
    assert after["S3"].next_check_at == now + timedelta(minutes=35)
    # Already due: it keeps its time, and is not slowed for its next polls either.
    assert after["S4"].next_check_at == now - timedelta(minutes=1)
    assert after["S4"].quiet_polls == 0
    assert store.hasten(due_times(store.feeds(), set(ids.values()), now)) == []
    store.close()


def test_what_searches_look_for_is_read_once_per_feed_list(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def counted(watch: Matcher, feeds: list[FeedState]) -> dict[str, frozenset[int]]:
        calls.append(len(feeds))
        return searches_about(watch, feeds)

    monkeypatch.setattr("bot.pipeline.hasten.searches_about", counted)
    cached, watch = SearchesByWatchlist(), matcher()
    feeds = [state(1, "Veille", "https://x.example/rss?q=%22groupe+Wagner%22", search=True)]
    for _ in range(3):
        assert cached.to_hasten(watch, feeds, {"wagner"}, 9) == {1}
    assert len(calls) == 1
    cached.to_hasten(watch, [*feeds, state(2, "Autre", "https://y.example/rss")], {"wagner"}, 9)
    cached.to_hasten(matcher(), feeds, {"wagner"}, 9)  # the watchlists were read again
    assert len(calls) == 3


def report(n: int, title: str, published: datetime) -> dict[str, object]:
    return {"title": title, "link": f"https://news.example/{n}", "guid": f"urn:{n}",
            "summary": "", "published": published}


def test_a_newspapers_hit_brings_the_watchlists_search_forward(
        tmp_path: Path, feed_server: FeedServer) -> None:
    clock = SimClock(START)
    feed_server.route("/news", rss_feed("Actu Sahel", [report(
        1, "Gao : la mairie lance un marché de bétail", START - timedelta(hours=2))]))
    quiet = [report(2, "Le groupe Wagner, deux ans après", START - timedelta(days=2))]
    feed_server.route("/wagner", rss_feed("Recherche", quiet))
    feed_server.route("/canik", rss_feed("Recherche", []))
    with BotApiStandIn(token=TOKEN) as api:
        path = write_config(
            tmp_path,
            [{"name": "Actu Sahel", "url": feed_server.url("/news"), "interval": "10m"},
             {"name": "Recherche : Wagner", "interval": "20m",
              "url": feed_server.url("/wagner?q=%22groupe+Wagner%22")},
             {"name": "Recherche : Canik", "interval": "20m",
              "url": feed_server.url("/canik?q=%22Canik+Academy%22")}],
            telegram=f'chat = "{CHAT}"\napi_base_url = "{api.base_url}"',
            polling={"tick": '"1m"', "max_interval": '"2h"'}, delivery={"tick": '"1m"'})
        text = path.read_text(encoding="utf-8").replace(
            'interval = "20m"', 'interval = "20m"\nsearch = true')
        path.write_text(text, encoding="utf-8")
        config = load_config(path, {})

        async def go() -> float:
            async with BotApp(config, Token(TOKEN), io.StringIO(), clock=clock) as app:
                jobs = SteppedJobs(clock)
                app.schedule(jobs)
                jobs.start()
                await jobs.run_until(START + timedelta(hours=8))  # a quiet morning
                slowed = {f.name: (f.next_check_at - clock.now).total_seconds()
                          for f in app.store.feeds() if f.next_check_at}
                assert slowed["Recherche : Wagner"] > 30 * 60  # slowed while quiet
                assert slowed["Recherche : Canik"] > 30 * 60
                before = {p: feed_server.hits(p) for p in ("/wagner", "/canik", "/news")}
                news_at = clock.now
                feed_server.route("/news", rss_feed("Actu Sahel", [report(
                    3, "Ménaka : le groupe Wagner quitte sa base", news_at)]))
                while feed_server.hits("/news") == before["/news"]:
                    await jobs.run_until(clock.now + timedelta(minutes=1))
                found_at = clock.now
                await jobs.run_until(found_at + timedelta(minutes=1))
                assert feed_server.hits("/wagner") == before["/wagner"] + 1  # at once
                assert feed_server.hits("/canik") == before["/canik"]  # another watchlist
                # Other outlets' reports of it reach the search a few minutes later: it is
                # polled again at its own interval, no longer slowed.
                feed_server.route("/wagner", rss_feed("Recherche", [report(
                    4, "Mali : retrait du groupe Wagner de Ménaka, selon des sources locales",
                    clock.now + timedelta(minutes=3)), *quiet]))
                # It joins the newspaper's story: found once it is stored.
                while not app.store.db.execute("SELECT 1 FROM items WHERE link = ?",
                                               ["https://news.example/4"]).fetchone():
                    assert clock.now < found_at + timedelta(minutes=25), "not found in time"
                    await jobs.run_until(clock.now + timedelta(minutes=1))
                return (clock.now - found_at).total_seconds()

        waited = asyncio.run(go())
    assert waited <= INTERVAL + 3 * 60  # its own interval, and the ticks of poll and send


def test_a_search_polled_in_the_same_cycle_as_the_hit_is_not_left_slowed(
        tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.route("/news", rss_feed("Actu Sahel", []))
    feed_server.route("/wagner", rss_feed("Recherche", []))
    path = write_config(tmp_path, [
        {"name": "Actu Sahel", "url": feed_server.url("/news")},
        {"name": "Recherche : Wagner", "interval": "20m",
         "url": feed_server.url("/wagner?q=%22groupe+Wagner%22")}])
    path.write_text(path.read_text(encoding="utf-8").replace(
        'interval = "20m"', 'interval = "20m"\nsearch = true'), encoding="utf-8")
    assert run_bot(path, "--once").returncode == 0
    db_path = tmp_path / "state" / "bot.db"
    with sqlite3.connect(db_path) as db:  # a search quiet for long: slowed four times over
        db.execute("UPDATE feeds SET quiet_polls = 9 WHERE name = 'Recherche : Wagner'")
    feed_server.route("/news", rss_feed("Actu Sahel", [report(
        5, "Ménaka : le groupe Wagner quitte sa base", datetime.now(UTC))]))
    quiet_search = rss_feed("Recherche", [])

    def slowly(headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
        time.sleep(1.5)  # answers after the newspaper's hit brought it forward
        return 200, {"Content-Type": "application/rss+xml"}, quiet_search

    feed_server.route_callable("/wagner", slowly)
    second = run_bot(path, "--once")  # one cycle polls both: the search records its own pace
    assert second.returncode == 0, second.stderr
    with sqlite3.connect(db_path) as db:
        quiet, checked, upcoming = db.execute(
            "SELECT quiet_polls, last_checked_at, next_check_at FROM feeds "
            "WHERE name = 'Recherche : Wagner'").fetchone()
    assert quiet == 0
    assert datetime.fromisoformat(upcoming) - datetime.fromisoformat(checked) == timedelta(
        seconds=INTERVAL)
