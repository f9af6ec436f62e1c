"""The daily report on a fake clock, and mutes: hits stored, nothing sent."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.runtime.app import BotApp
from bot.runtime.jobs import Jobs
from bot.settings.config import load_config
from tests.support.common import write_config
from tests.support.feedserver import FeedServer, rss_feed

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
ITEMS = [
    {"title": "Le colonel Assimi Goïta à Kati", "link": "https://n.example/1",
     "summary": "Visite au camp militaire.", "published": NOW - timedelta(hours=1)},
    {"title": "Wagner Group leaves Tessalit", "link": "https://n.example/2",
     "summary": "Russian mercenaries handed over the base.", "published": NOW},
]


def make_config(tmp_path: Path, feed_server: FeedServer, daily_at: str) -> Path:
    feed_server.route("/rss", rss_feed("Actu", ITEMS))
    feed_server.route_status("/down", 503)
    path = write_config(tmp_path, [{"name": "Actu", "url": feed_server.url("/rss"), "lang": "fr"},
                                   {"name": "En panne", "url": feed_server.url("/down"),
                                    "lang": "fr"}],
                        telegram="admins = [1001]\nlanguage = \"en\"",
                        reports={"daily_at": f'"{daily_at}"'})
    return path


def test_daily_report_is_scheduled_at_local_time_and_reports_health(
        tmp_path: Path, feed_server: FeedServer) -> None:
    config = load_config(make_config(tmp_path, feed_server, "07:15"))
    out = io.StringIO()

    async def go() -> None:
        async with BotApp(config, None, out, clock=lambda: NOW) as app:
            jobs = Jobs(app.clock)
            app.schedule(jobs)
            job = jobs.scheduler.get_job("daily-report")
            assert job is not None
            assert job.trigger.get_next_fire_time(None, NOW) == datetime(
                2026, 11, 26, 7, 15, tzinfo=UTC)
            await app.poll_all()
            await app.deliver_until_empty(1)
            out.truncate(0)
            await app.daily_report()

    asyncio.run(go())
    report = out.getvalue()
    assert "Daily report" in report
    assert "Failing feeds: En panne" in report
    assert "Stories in 24 h: Assimi Goïta 1, Wagner / Africa Corps 1" in report
    assert "Alerts: 2 sent, 0 pending, 0 refused" in report


def test_no_report_when_switched_off(tmp_path: Path, feed_server: FeedServer) -> None:
    config = load_config(make_config(tmp_path, feed_server, "off"))

    async def go() -> None:
        async with BotApp(config, None, io.StringIO(), clock=lambda: NOW) as app:
            jobs = Jobs(app.clock)
            app.schedule(jobs)
            assert jobs.scheduler.get_job("daily-report") is None

    asyncio.run(go())


def test_a_muted_watchlist_stores_its_hits_but_sends_nothing(
        tmp_path: Path, feed_server: FeedServer) -> None:
    config = load_config(make_config(tmp_path, feed_server, "off"))
    out = io.StringIO()

    async def go() -> None:
        async with BotApp(config, None, out, clock=lambda: NOW) as app:
            app.store.set_mute("goita", NOW + timedelta(hours=2), 1001, NOW)
            app.store.set_mute("goita", NOW + timedelta(hours=2), 1001, NOW)
            app.mutes_changed()
            await app.poll_all()
            await app.deliver_until_empty(1)
            hits = app.store.hits_by_watchlist(NOW - timedelta(days=1))
            assert hits == {"goita": 1, "wagner": 1}

    asyncio.run(go())
    printed = out.getvalue()
    assert "Wagner Group leaves Tessalit" in printed
    assert "Goïta à Kati" not in printed
