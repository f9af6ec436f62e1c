"""Delivery against the local Bot API with Telegram's limits enforced, on a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from telegram import Bot

from bot.ingest.items import ParsedItem
from bot.matching.matcher import Hit
from bot.settings.config import DeliveryConfig, FeedConfig
from bot.storage.records import Alert, NewItem, Pace, RenderedAlert, StoryView
from bot.storage.store import Store
from bot.telegram.deliver import Deliverer, Pacer, TelegramSender, pack_digests
from bot.telegram.html import MAX_MESSAGE_UTF16, visible_length
from tests.support.botapi import BotApiStandIn
from tests.support.common import NOW
from tests.support.store import save_poll

TOKEN = "123456:TEST-token-for-delivery"
CHANNEL = "@sahel_test"
ADMIN = 1001
HIT = Hit("goita", "Goïta", "Goïta", "title", 100, 0, 5)


class FakeClock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.elapsed = 0.0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return 1_000.0 + self.elapsed

    async def sleep(self, seconds: float) -> None:
        self.elapsed += max(0.0, seconds)
        await asyncio.sleep(0)


def render(view: StoryView) -> RenderedAlert:
    body = f"<b>{view.title}</b>\n" + "Texte de l'alerte. " * 12
    return RenderedAlert(body, silent=True, targets=((CHANNEL, None),))


def fill(store: Store, count: int, now: datetime) -> None:
    feed = store.feeds()[0]
    items = [NewItem(ParsedItem(None, f"https://news.example/{n}", f"Alerte numéro {n}", "",
                                now), (HIT,)) for n in range(count)]
    save_poll(store, feed, now, items, [], render=render, etag=None, last_modified=None,
                    body_hash=None, title=None, pace=Pace(now, 600.0, 0))


class Rig:
    """A store, a deliverer and a rate-limited Bot API, all on one fake clock."""

    def __init__(self, store: Store, api: BotApiStandIn, deliverer: Deliverer,
                 clock: FakeClock) -> None:
        self.store, self.api, self.deliverer, self.clock = store, api, deliverer, clock

    async def drain(self, limit: int = 200) -> None:
        for _ in range(limit):
            report = await self.deliverer.deliver_due()
            if not self.store.pending_count():
                return
            wake = self.store.next_alert_due()
            if report.sent == 0 and wake is not None:
                await self.clock.sleep((wake - self.clock.now()).total_seconds())
        raise AssertionError("the outbox never emptied")

    def statuses(self) -> dict[str, int]:
        rows = self.store.db.execute("SELECT status, count(*) FROM alerts GROUP BY status")
        return {status: count for status, count in rows}


Scenario = Callable[[Rig], Awaitable[None]]


def with_rig(tmp_path: Path, scenario: Scenario, **config: float) -> None:
    """Run ``scenario`` against a fresh rig (an event loop of its own, no plugin needed)."""

    async def go() -> None:
        clock = FakeClock(NOW)
        store = Store.open(tmp_path / "bot.db")
        store.sync_feeds([FeedConfig("Actu", "https://actu.example/rss", "fr", 600)])
        with BotApiStandIn(token=TOKEN) as api:
            api.enforce_rate_limits(per_chat_per_minute=20, global_per_second=30,
                                    clock=clock.monotonic)
            bot = Bot(TOKEN, base_url=f"{api.base_url}/bot")
            await bot.initialize()
            settings = replace(DeliveryConfig(retry_base=5, max_hold=300, edit_interval=60),
                               **config)
            pacer = Pacer(settings.per_chat_per_minute, settings.global_per_second,
                          clock.monotonic, clock.sleep)
            deliverer = Deliverer(store, TelegramSender(bot, CHANNEL, link_preview=False),
                                  settings, clock.now, pacer, language="fr", admins=[ADMIN])
            try:
                await scenario(Rig(store, api, deliverer, clock))
            finally:
                await bot.shutdown()
        store.close()

    asyncio.run(go())


def test_a_burst_is_paced_with_no_flood_errors_and_digests_what_would_wait(
        tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        fill(rig.store, 100, rig.clock.now())
        await rig.drain()
        assert rig.api.count_429 == 0
        assert rig.statuses() == {"sent": 100}
        sent = rig.api.sent
        digests = [m for m in sent if "alertes regroupées" in m.text]
        assert digests, "the backlog should have been sent as digests"
        assert all(visible_length(m.text) <= MAX_MESSAGE_UTF16 for m in sent)
        titles = [f"Alerte numéro {n}</b>" for n in range(100)]
        assert all(sum(t in m.text for m in sent) == 1 for t in titles)  # each exactly once
        assert rig.clock.elapsed < 300  # nothing held back beyond max_hold

    with_rig(tmp_path, scenario)


def test_a_small_burst_goes_out_one_by_one_within_the_limits(tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        fill(rig.store, 30, rig.clock.now())
        await rig.drain()
        assert rig.api.count_429 == 0
        assert len(rig.api.sent) == 30
        assert not any("regroupées" in m.text for m in rig.api.sent)
        assert rig.clock.elapsed >= 29 * 3  # 20 a minute in one channel

    with_rig(tmp_path, scenario)


def test_a_storm_of_429s_is_waited_out_and_nothing_is_dropped(tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        fill(rig.store, 5, rig.clock.now())
        rig.api.fail_next(6, status=429, retry_after=7, method="sendMessage")
        await rig.drain()
        texts = [m.text.split("</b>")[0] for m in rig.api.sent]
        assert texts == [f"<b>Alerte numéro {n}" for n in range(5)]  # all, in order
        assert rig.clock.elapsed >= 6 * 7  # every retry_after was honoured

    with_rig(tmp_path, scenario)


def test_server_errors_back_off_then_everything_arrives_once_in_order(tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        fill(rig.store, 4, rig.clock.now())
        rig.api.fail_next(8, status=502, method="sendMessage")
        await rig.drain()
        texts = [m.text.split("</b>")[0] for m in rig.api.sent]
        assert texts == [f"<b>Alerte numéro {n}" for n in range(4)]

    with_rig(tmp_path, scenario)


def test_a_forbidden_channel_fails_its_alerts_once_and_tells_the_admins(
        tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        fill(rig.store, 3, rig.clock.now())
        rig.api.forbid_chat(CHANNEL)
        await rig.drain()
        assert rig.statuses() == {"failed": 3, "sent": 1}
        [notice] = rig.api.sent
        assert notice.chat_id == ADMIN and "Forbidden" in notice.text
        calls = [c for c in rig.api.calls if c.method == "sendMessage"]
        assert len(calls) == 4  # one try each, no spinning

    with_rig(tmp_path, scenario)


def test_a_grown_story_edits_its_message_after_the_pause(tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        fill(rig.store, 1, rig.clock.now())
        await rig.drain()
        [first] = rig.api.sent
        rig.store.db.execute("UPDATE alerts SET html = html || '\nAussi : B'")
        rig.store.db.conn.commit()
        await rig.drain()
        [edit] = rig.api.edits
        assert edit.message_id == first.message_id and edit.text.endswith("Aussi : B")
        assert rig.clock.elapsed >= 60  # the edit waited for edit_interval

    with_rig(tmp_path, scenario)


def test_digests_split_between_alerts_within_the_limit() -> None:
    alerts = [Alert(n, n, CHANNEL, f"<b>{n}</b> " + "é" * 900, True, 0) for n in range(10)]
    packed = pack_digests(alerts, "en")
    assert [len(group) for group, _ in packed] == [4, 4, 2]
    for group, text in packed:
        assert visible_length(text) <= MAX_MESSAGE_UTF16
        assert text.startswith(f"<b>🗞 {len(group)} alerts in one message</b>")


def test_ten_minutes_of_server_errors_then_every_alert_once_in_order(tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        fill(rig.store, 12, rig.clock.now())
        rig.api.fail_next(100_000, status=503, method="sendMessage")
        while rig.store.pending_count():
            if rig.clock.elapsed >= 600:
                rig.api.clear_faults()  # Telegram is back after ten minutes
            await rig.deliverer.deliver_due()
            wake = rig.store.next_alert_due()
            if wake is not None and wake > rig.clock.now():
                await rig.clock.sleep((wake - rig.clock.now()).total_seconds())
        texts = [m.text.split("</b>")[0] for m in rig.api.sent]
        assert texts == [f"<b>Alerte numéro {n}" for n in range(12)]  # in order, none twice
        failures = [c for c in rig.api.calls if c.method == "sendMessage" and c.status == 503]
        assert 5 <= len(failures) <= 20  # backed off, not hammering
        assert rig.clock.elapsed < 600 + 3600  # back soon after the outage, within retry_max

    with_rig(tmp_path, scenario, retry_max=600)
