"""Politeness end to end: Cache-Control max-age, slowing quiet feeds, all shown in /feeds."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timedelta
from pathlib import Path

from bot.ingest.cadence import QUIET_POLLS_PER_DOUBLING
from bot.runtime.app import BotApp
from bot.settings.config import load_config
from tests.support.common import NOW, write_config
from tests.support.feedserver import FeedServer, rss_feed

INTERVAL = timedelta(minutes=10)
CEILING = timedelta(hours=1)
ITEM = {"title": "Bamako : réunion des chefs d'état-major", "link": "https://n.example/1",
        "summary": "Rencontre à Kati.", "published": NOW}
NEW_ITEM = {"title": "Niamey : nouvelle rotation des forces", "link": "https://n.example/2",
            "summary": "Relève à l'aéroport.", "published": NOW}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def _app(tmp_path: Path, server: FeedServer, clock: Clock) -> BotApp:
    config = load_config(write_config(
        tmp_path, [{"name": "Quiet", "url": server.url("/feed"), "lang": "fr",
                    "interval": "10m"}],
        polling={"max_interval": '"1h"'}))
    return BotApp(config, None, io.StringIO(), clock=clock)


def _next_check(app: BotApp) -> datetime:
    state = app.store.feeds()[0]
    assert state.next_check_at is not None
    return state.next_check_at


def test_a_feed_that_never_changes_is_polled_less_often_then_back_to_normal(
        tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.route("/feed", rss_feed("Le Quotidien", [ITEM]), etag='"v1"')
    clock = Clock(NOW)

    async def go() -> list[timedelta]:
        waits = []
        async with _app(tmp_path, feed_server, clock) as app:
            for _ in range(3 * QUIET_POLLS_PER_DOUBLING + 1):
                await app.poll_due()
                wait = _next_check(app) - clock.now
                waits.append(wait)
                clock.now += wait  # the next cycle comes when the feed is due, not before
                assert not app.store.feeds(due_at=clock.now - timedelta(seconds=1))
            pace = app.commands.page("f", "", 1, "en").text
            assert "polled every 1h (configured: 10m, slowed while nothing is new)" in pace
            feed_server.route("/feed", rss_feed("Le Quotidien", [NEW_ITEM, ITEM]), etag='"v2"')
            await app.poll_due()
            waits.append(_next_check(app) - clock.now)
            assert "polled every 10m" in app.commands.page("f", "", 1, "fr").text.replace(
                "interrogé toutes les", "polled every")
        return waits

    waits = asyncio.run(go())
    assert waits[0] == INTERVAL  # the first poll brought the item: not quiet
    assert max(waits) == CEILING
    assert waits == [*sorted(waits[:-1]), INTERVAL]  # only ever slower, until news came
    assert waits[-1] == INTERVAL
    # Every poll after the first was a conditional request answered 304.
    assert feed_server.hits("/feed") == len(waits)


def test_cache_control_max_age_is_honoured_within_the_ceiling(
        tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.route("/feed", rss_feed("Le Quotidien", [ITEM]),
                      headers={"Cache-Control": "max-age=1800"})
    clock = Clock(NOW)

    async def go() -> tuple[timedelta, timedelta, str]:
        async with _app(tmp_path, feed_server, clock) as app:
            await app.poll_due()
            first = _next_check(app) - clock.now
            clock.now += INTERVAL  # the feed's own interval is over, its cache is not
            await app.poll_due()
            assert feed_server.hits("/feed") == 1
            feed_server.route("/feed", rss_feed("Le Quotidien", [ITEM]),
                              headers={"Cache-Control": "public, max-age=604800"})
            clock.now = _next_check(app)
            await app.poll_due()
            capped = _next_check(app) - clock.now
            return first, capped, app.commands.page("f", "", 1, "fr").text

    first, capped, page = asyncio.run(go())
    assert first == timedelta(minutes=30)
    assert capped == CEILING  # a week-long max-age does not silence the feed for a week
    assert "cache annoncé : 7d" in page
    assert feed_server.hits("/feed") == 2
