"""The story index of a running bot stays bounded: items older than the window are forgotten."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from bot.runtime.app import BotApp
from bot.settings.config import load_config
from tests.support.common import NOW, write_config
from tests.support.feedserver import FeedServer, rss_feed

SIMULATED_DAYS = 30
ITEMS_PER_HOUR = 20
HOUR = timedelta(hours=1)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def test_a_month_of_items_leaves_only_the_story_window_in_memory(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, []))
    window = timedelta(seconds=config.delivery.story_window)
    clock = Clock()
    sizes: list[int] = []

    async def go() -> None:
        async with BotApp(config, None, io.StringIO(), clock=clock) as app:
            index = app.poller.stories
            serial = 0
            for _ in range(SIMULATED_DAYS * 24):
                for _ in range(ITEMS_PER_HOUR):
                    serial += 1
                    words = f"Bamako dépêche {serial} réunion numéro {serial * 7}"
                    index.add(serial, serial, clock.now, index.fingerprint(words, ""))
                clock.now += HOUR
                await app.prune()  # the job the scheduler runs every hour
                sizes.append(len(index))

    asyncio.run(go())
    bound = ITEMS_PER_HOUR * (window // HOUR + 1)
    assert max(sizes) <= bound  # never more than one window (and the hour being pruned)
    assert sizes[-1] == sizes[len(sizes) // 2]  # flat once the first window has passed
    assert 5 * bound < SIMULATED_DAYS * 24 * ITEMS_PER_HOUR  # unpruned, it would be far above


def test_a_start_reads_the_stored_items_only_when_new_items_need_them(
        tmp_path: Path, feed_server: FeedServer) -> None:
    first = {"title": "Goundam : douze soldats des FAMa tués dans une embuscade lundi",
             "link": "https://courrier.example/1", "published": NOW,
             "summary": "Un convoi de l'armée malienne est tombé dans une embuscade."}
    later = {"title": "Embuscade de Goundam : douze soldats des FAMa tués lundi",
             "link": "https://autre.example/1", "published": NOW + HOUR,
             "summary": "Un convoi de l'armée malienne est tombé dans une embuscade lundi."}
    feed_server.route("/a", rss_feed("Courrier", [first]), etag='"1"')
    feed_server.route("/b", rss_feed("Autre", []), etag='"1"')
    config = load_config(write_config(tmp_path, [
        {"name": "Courrier", "url": feed_server.url("/a"), "lang": "fr"},
        {"name": "Autre", "url": feed_server.url("/b"), "lang": "fr"}]))
    clock = Clock()

    async def once() -> tuple[bool, bool]:
        async with BotApp(config, None, io.StringIO(), clock=clock) as app:
            before = app.poller.stories.filled
            await app.run_once()
            return before, app.poller.stories.filled

    asyncio.run(once())  # stores the first report
    clock.now += HOUR
    assert asyncio.run(once()) == (False, False)  # nothing new: the items were not read
    feed_server.route("/b", rss_feed("Autre", [later]), etag='"2"')
    assert asyncio.run(once()) == (False, True)  # a new item: read, and joined its story
    with sqlite3.connect(config.storage_path) as db:
        stories = {row[0] for row in db.execute("SELECT story_id FROM items")}
    assert len(stories) == 1
