"""Partnership signals end to end: feeds in, signal alerts and /partners out, weekly digest."""

from __future__ import annotations

import asyncio
import io
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.runtime.app import BotApp
from bot.runtime.jobs import Jobs
from bot.settings.config import load_config
from bot.settings.credentials import Token
from tests.support.botapi import BotApiStandIn, SentMessage
from tests.support.botprocess import CHAT, TOKEN, bot_running
from tests.support.common import WATCHLISTS, write_config
from tests.support.feedserver import FeedServer, rss_feed
from tests.support.soak import SimClock

NOW = datetime.now(UTC).replace(microsecond=0)


def item(n: int, title: str, summary: str, hours_ago: float = 1) -> dict[str, object]:
    return {"title": title, "link": f"https://news.example/p{n}", "guid": f"urn:p:{n}",
            "summary": summary, "published": NOW - timedelta(hours=hours_ago)}


TRAINING = item(1, "Bamako : des instructeurs turcs forment les FAMa au maniement des drones",
                "Des instructeurs de Canik Academy forment depuis lundi les FAMa à Bamako, "
                "a indiqué l'état-major.")
PROTECTION = item(2, "Russia's Africa Corps deploys troops to guard Niger's junta in Niamey",
                  "Moscow has sent about a hundred Africa Corps troops to protect General "
                  "Tiani, Nigerien sources said.", hours_ago=2)
DENIAL = item(3, "Ankara dément toute livraison de drones à Bamako",
              "Le ministère turc de la Défense a démenti les informations de presse.",
              hours_ago=3)
WEATHER = item(4, "Météo : la saison sèche s'installe à Niamey", "Rien à signaler.",
               hours_ago=4)
SAME_STORY = item(5, "Mali : des instructeurs turcs forment les FAMa au maniement des drones",
                  "Des instructeurs de Canik Academy forment depuis lundi les FAMa à Bamako, "
                  "selon l'état-major malien.", hours_ago=0.5)


@dataclass
class Running:
    api: BotApiStandIn
    log: Path
    feeds: FeedServer


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("partners")
    watchlists = tmp / "watchlists"
    shutil.copytree(WATCHLISTS, watchlists)
    with FeedServer() as feeds, BotApiStandIn(token=TOKEN) as api:
        feeds.route("/rss", rss_feed("Actu Sahel", [TRAINING, PROTECTION, DENIAL, WEATHER]))
        feeds.route("/other", rss_feed("Le Sahélien", []))  # carries the story later
        config = write_config(
            tmp, [{"name": "Actu Sahel", "url": feeds.url("/rss"), "lang": "fr"},
                  {"name": "Le Sahélien", "url": feeds.url("/other"), "lang": "fr",
                   "interval": "2s"}],
            watchlists=watchlists, delivery={"edit_interval": '"1s"'},
            partnerships=watchlists / "partnerships" / "partnerships.toml",
            telegram=f'chat = "{CHAT}"\napi_base_url = "{api.base_url}"')
        log = tmp / "bot.log"
        with bot_running(config, log, TOKEN):
            api.wait_for_calls("deleteWebhook", 1, timeout=30)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(_signal_alerts(api)) < 2:
                time.sleep(0.05)
            yield Running(api, log, feeds)


def _signal_alerts(api: BotApiStandIn) -> list[SentMessage]:
    """The channel's messages that report a partnership."""
    return [m for m in api.sent if str(m.chat_id) == CHAT and "🤝" in m.plain_text]


def test_one_message_per_story_carries_its_hits_and_its_partnerships(
        running: Running) -> None:
    alerts = _signal_alerts(running.api)
    heads = sorted(line for m in alerts for line in m.plain_text.splitlines()
                   if line.startswith("🤝"))
    assert heads == ["🤝 Russie → Niger : protection et déploiement",
                     "🤝 Turquie → Mali : formation"], \
        running.log.read_text(encoding="utf-8")[-2000:]
    # Both stories name watched terms: the partnership sits inside the story's alert.
    assert all(m.plain_text.startswith("🔔") for m in alerts)
    channel = [m for m in running.api.sent if str(m.chat_id) == CHAT]
    assert len([m for m in channel if "instructeurs turcs" in m.text]) == 1
    assert len([m for m in channel if "Africa Corps" in m.text]) == 1
    protection = next(m for m in alerts if "Russie" in m.text)
    # The title says who protects whom: it is not quoted a second time.
    assert protection.plain_text.count("deploys troops to guard") == 1
    # The denial and the weather raise nothing.
    assert not any("dément" in m.text for m in alerts)


def test_the_story_alert_grows_with_the_story(running: Running) -> None:
    running.feeds.route("/other", rss_feed("Le Sahélien", [SAME_STORY]))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        edits = [e for e in running.api.edits if "Le Sahélien" in e.text and "🤝" in e.text]
        if edits:
            break
        time.sleep(0.05)
    assert edits, "the story's alert was not edited to name the second outlet"
    assert len([m for m in _signal_alerts(running.api) if "Turquie" in m.text]) == 1


def _ask_photo(api: BotApiStandIn, text: str, lang: str) -> object:
    before = len(api.photos)
    api.push_message(text, user_id=7001, language_code=lang)
    deadline = time.monotonic() + 30
    while len(api.photos) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    return api.photos[-1]


def test_partners_answers_with_a_real_png_map(running: Running) -> None:
    photo = _ask_photo(running.api, "/partners 30d", "en")
    assert photo.data is not None  # type: ignore[attr-defined]
    image = Image.open(io.BytesIO(photo.data))  # type: ignore[attr-defined]
    assert image.format == "PNG" and image.width >= 600
    assert "Turkey → Mali" in photo.caption  # type: ignore[attr-defined]


def _ask(api: BotApiStandIn, text: str, user: int) -> SentMessage:
    before = len(api.sent)
    api.push_message(text, user_id=user, language_code="fr")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        reply = next((m for m in api.sent[before:] if m.chat_id == user), None)
        if reply is not None:
            return reply
        time.sleep(0.02)
    raise AssertionError(f"no reply to {text!r}")


def test_partners_for_one_actor_lists_the_evidence(running: Running) -> None:
    reply = _ask(running.api, "/partners Turquie", 7002)
    assert "Turquie → Mali : formation" in reply.text
    assert "«Bamako : des instructeurs turcs forment les FAMa" in reply.text
    assert "https://news.example/p1" in reply.text


def test_a_period_too_long_is_said_so_not_taken_for_an_actor(running: Running) -> None:
    reply = _ask(running.api, "/partners 120d", 7003)
    assert reply.plain_text.startswith("Période invalide : « 120d »")


def test_the_weekly_digest_is_scheduled_and_posts_the_map(
        tmp_path: Path, feed_server: FeedServer) -> None:
    wednesday = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    feed_server.route("/rss", rss_feed("Actu Sahel", [TRAINING, PROTECTION]))

    clock = SimClock(wednesday)
    with BotApiStandIn(token=TOKEN) as api:
        path = write_config(tmp_path, [{"name": "Actu Sahel", "url": feed_server.url("/rss"),
                                        "lang": "fr"}],
                            telegram=f'chat = "{CHAT}"\napi_base_url = "{api.base_url}"',
                            reports={"partners_weekly": '"mon 08:00"'})
        config = load_config(path, {"SAHEL_WATCH_PARTNERSHIPS_FILE": str(
            WATCHLISTS / "partnerships" / "partnerships.toml")})

        async def go() -> datetime | None:
            async with BotApp(config, Token(TOKEN), io.StringIO(), clock=clock) as app:
                await app.run_once()
                jobs = Jobs(app.clock)
                app.schedule(jobs)
                job = jobs.scheduler.get_job("partner-digest")
                assert job is not None
                fire = job.trigger.get_next_fire_time(None, clock.now)
                clock.now = wednesday + timedelta(days=5, hours=-2)  # Monday 08:00
                await app.partner_digest()
                return fire  # type: ignore[no-any-return]

        fire = asyncio.run(go())
        assert fire == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # "mon 08:00", UTC
        [photo] = api.photos
        assert Image.open(io.BytesIO(photo.data or b"")).format == "PNG"
        assert photo.caption is not None
        assert "Turquie → Mali" in photo.caption and "Russie → Niger" in photo.caption


def test_the_weekly_digest_goes_through_the_outbox_once_a_week(
        tmp_path: Path, feed_server: FeedServer) -> None:
    """Telegram failing when the digest is due delays it, never loses it; the job run
    again in the same week (a restart, a catch-up) sends nothing more."""
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    feed_server.route("/rss", rss_feed("Actu Sahel", [TRAINING, PROTECTION]))

    clock = SimClock(monday - timedelta(days=1))
    with BotApiStandIn(token=TOKEN) as api:
        path = write_config(tmp_path, [{"name": "Actu Sahel", "url": feed_server.url("/rss"),
                                        "lang": "fr"}],
                            telegram=f'chat = "{CHAT}"\napi_base_url = "{api.base_url}"')
        config = load_config(path, {"SAHEL_WATCH_PARTNERSHIPS_FILE": str(
            WATCHLISTS / "partnerships" / "partnerships.toml")})

        async def go() -> None:
            async with BotApp(config, Token(TOKEN), io.StringIO(), clock=clock) as app:
                await app.run_once()
                clock.now = monday
                api.fail_next(3, status=502, method="sendPhoto")
                await app.partner_digest()  # Telegram fails: the digest waits its turn
                assert api.photos == [] and app.store.pending_count() == 1
                await app.partner_digest()  # run again the same week: nothing more queued
                for _ in range(6):  # the deliveries that follow, as the bot's tick does
                    clock.now += timedelta(minutes=10)
                    await app.deliverer.deliver_due()
                assert app.store.pending_count() == 0
                clock.now = monday + timedelta(days=2)
                await app.partner_digest()  # still the same week
                await app.deliverer.deliver_due()
                clock.now = monday + timedelta(days=7)
                await app.partner_digest()  # the next week's
                await app.deliverer.deliver_due()

        asyncio.run(go())
        assert len(api.photos) == 2
        assert all(photo.caption and "Turquie → Mali" in photo.caption for photo in api.photos)

