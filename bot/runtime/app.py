"""Wiring: build the parts, run the scheduler (and Telegram when a token is set), stop cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from telegram.ext import Application

from bot.errors import ConfigError
from bot.ingest.fetch import Fetcher, refuse_private_address
from bot.ingest.items import ParsedFeed
from bot.ingest.workers import ParsePool
from bot.matching.matcher import Matcher
from bot.matching.watchlists import load_watchlists
from bot.ops.collector import fewer_collections, release_memory
from bot.ops.export import write_atom_files
from bot.ops.metrics import Metrics, NoMetrics, Recorder
from bot.partners.digest import partner_map_from
from bot.partners.matrix import PartnerMap
from bot.pipeline.poll import Poller
from bot.pipeline.report import CycleReport
from bot.runtime.jobs import Jobs
from bot.runtime.rules import Rules
from bot.runtime.telegram import (
    UpdatesWatch,
    initialized_application,
    start_updates,
    stop_updates,
)
from bot.settings.config import Config
from bot.settings.credentials import Token
from bot.storage.records import CycleRecord
from bot.storage.store import Store
from bot.stories.index import StoryIndex
from bot.telegram.commands import CommandDeps, Commands
from bot.telegram.compose import AlertComposer
from bot.telegram.deliver import ConsoleSender, Deliverer, Pacer, Sender, TelegramSender
from bot.telegram.partners import digest_caption

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
PRUNE_EVERY = 3600.0
RELEASE_EVERY = timedelta(days=1)  # a full collection walks the whole heap: once a day
DAILY_REPORT_JOB, PARTNER_DIGEST_JOB = "daily-report", "partner-digest"
WEEK = timedelta(days=7)
DIGEST_KEY = "partner-digest"  # with the chat and the ISO week: one digest per week


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


class BotApp:
    """The running bot: store, poller, deliverer, scheduler and the optional Telegram side."""

    def __init__(self, config: Config, token: Token | None, out: TextIO = sys.stdout,
                 clock: Clock = utc_now) -> None:
        self.config = config
        self.token = token
        self.out = out
        self.clock = clock
        self.timezone = ZoneInfo(config.timezone)
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> BotApp:
        try:
            return await self._start()
        except BaseException:
            try:  # what did start (database, workers) is undone; the first error is the news
                await self._stack.aclose()
            except Exception:
                log.exception("stopping what had started failed")
            raise

    async def _start(self) -> BotApp:
        config = self.config
        self._stack.enter_context(fewer_collections())
        if self.token and not config.telegram.chat:
            raise ConfigError(config.path, "a Telegram token is set but [telegram] chat is "
                              "empty: say which channel or chat receives the alerts")
        watchlists = load_watchlists(config.watchlists_dir)
        self.store = Store.open(config.storage_path)
        self._stack.callback(self.store.close)
        self.metrics = self._open_metrics()
        self.store.sync_feeds(config.feeds)
        self.fetcher = Fetcher(config.polling, clock=self.clock)
        self._stack.push_async_callback(self.fetcher.aclose)
        pool = self.parse_pool = ParsePool(config.polling.parse_workers)
        self._stack.callback(pool.close)
        self.application: Application | None = None  # type: ignore[type-arg]
        sender: Sender
        if self.token:
            sender = await self._telegram_sender()
        else:
            sender = ConsoleSender(self.out)
        self.poller = Poller(
            store=self.store, fetcher=self.fetcher, parse=pool, matcher=Matcher(watchlists),
            composer=AlertComposer(sender.chat, config.telegram.language, self.timezone,
                                   muted=self.store.mutes(self.clock())),
            config=config.polling, clock=self.clock,
            stories=StoryIndex(timedelta(seconds=config.delivery.story_window)),
            metrics=self.metrics, history=config.history,
        )
        pacer = Pacer(config.delivery.per_chat_per_minute, config.delivery.global_per_second,
                      time.monotonic, asyncio.sleep) if self.token else None
        self.deliverer = Deliverer(self.store, sender, config.delivery, self.clock, pacer,
                                   language=config.telegram.language,
                                   admins=config.telegram.admins, metrics=self.metrics)
        self._sent_before = 0
        self._released = self.clock()  # when memory was last handed back
        self._atom_due = True  # the first cycle writes them, then cycles with new hits
        rules = self.rules = Rules(config, self.poller, self.store, self.deliverer.admins,
                                   self.clock)
        self.commands = Commands(CommandDeps(
            store=self.store, config=config, watchlists=lambda: rules.watchlists,
            matcher=lambda: self.poller.matcher, reload_watchlists=rules.reload,
            muted=lambda: self.poller.composer.muted, mutes_changed=self.mutes_changed,
            check_feed=self.check_feed, clock=self.clock,
            partnerships=lambda: rules.partnerships,
        ))
        rules.use(watchlists)
        self.poller.stories = self._story_index()  # read with the watchlists' names
        log.info("bot ready feeds=%d watchlists=%d sender=%s db=%s", len(config.feeds),
                 len(watchlists), "telegram" if self.token else "console", config.storage_path)
        return self

    def _open_metrics(self) -> Recorder:
        """The Prometheus endpoint, when a port is set; otherwise metrics that do nothing."""
        settings = self.config.metrics
        if not settings.port:
            return NoMetrics()
        metrics = Metrics()
        try:
            server = metrics.serve(settings.host, settings.port)
        except OSError as exc:
            raise ConfigError(self.config.path, f"[metrics] cannot listen on "
                              f"{settings.host}:{settings.port}: "
                              f"{exc.strerror or exc}") from None
        self._stack.callback(server.close)
        log.info("metrics endpoint host=%s port=%d", settings.host, server.port)
        return metrics

    def _story_index(self) -> StoryIndex:
        """The recent items, by their words and names, so new reports join their stories;
        read from the database the first time a new item needs them."""
        window = timedelta(seconds=self.config.delivery.story_window)
        return StoryIndex(window, self.poller.stories.aliases,
                          source=lambda: self.store.recent_items(self.clock() - window))

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def _telegram_sender(self) -> TelegramSender:
        assert self.token is not None and self.config.telegram.chat is not None
        application = await initialized_application(self.config, self.token)
        self.application = application
        self._stack.push_async_callback(application.shutdown)
        return TelegramSender(application.bot, self.config.telegram.chat,
                              link_preview=self.config.telegram.link_preview)

    # One cycle ---------------------------------------------------------------------------

    async def poll_all(self) -> CycleReport:
        """Poll every active feed now, whatever its schedule (``--once``)."""
        return await self.poller.poll(self.store.feeds())

    def _finish_cycle(self, started: datetime, report: CycleReport) -> None:
        """The cycle's summary line, and its row in the cycles table (the heartbeat)."""
        sent = self.deliverer.sent_total - self._sent_before
        self._sent_before = self.deliverer.sent_total
        cycle = CycleRecord(
            started_at=started, finished_at=self.clock(), feeds=len(report.outcomes),
            new=report.count("new"), not_modified=report.count("not-modified"),
            unchanged=report.count("unchanged"), failed=report.count("failed"),
            new_items=report.total("new_items"), hits=report.total("hits"),
            alerts_queued=report.total("alerts"), alerts_sent=sent)
        seconds = (cycle.finished_at - started).total_seconds()
        if cycle.feeds or sent:
            log.info(
                "cycle done feeds=%d new=%d not_modified=%d unchanged=%d failed=%d "
                "new_items=%d hits=%d alerts_queued=%d alerts_sent=%d seconds=%.1f",
                cycle.feeds, cycle.new, cycle.not_modified, cycle.unchanged, cycle.failed,
                cycle.new_items, cycle.hits, cycle.alerts_queued, cycle.alerts_sent,
                seconds)
        self.metrics.observe_cycle(report, seconds, cycle.finished_at)
        try:
            self.store.record_cycle(cycle)
            self.metrics.set_pending(self.store.pending_count())
            if cycle.hits or self._atom_due:
                self._write_atom_files()
        except sqlite3.Error as exc:  # the next cycle writes its own row
            log.error("cycle record failed error=%s", exc)

    def _write_atom_files(self) -> None:
        """Rewrite the Atom feed of each watchlist whose recent hits changed."""
        directory = self.config.atom_dir
        if directory is None:
            return
        try:
            written = write_atom_files(self.store, directory, self.rules.watchlists,
                                       self.clock())
        except OSError as exc:
            log.error("atom files not written dir=%s error=%s", directory, exc)
            return
        self._atom_due = False
        if written:
            log.info("atom files written dir=%s files=%d", directory, len(written))

    def mutes_changed(self) -> None:
        """Take up the mutes stored in the database (after /mute or /unmute)."""
        self.poller.composer = replace(self.poller.composer,
                                       muted=self.store.mutes(self.clock()))

    async def poll_due(self) -> CycleReport:
        """Take up watchlist edits, poll the feeds whose time has come, deliver the alerts."""
        started = self.clock()
        # Reading and checking a large folder takes time: not on the loop that answers chat.
        self.rules.take_up(await asyncio.to_thread(self.rules.reloader.poll))
        feeds = self.store.feeds(due_at=self.clock())
        report = await self.poller.poll(feeds) if feeds else CycleReport()
        if self.store.pending_count(console=self.deliverer.sender.console):
            await self.deliverer.deliver_due()
        self._finish_cycle(started, report)
        return report

    async def deliver_until_empty(self, deadline: float) -> int:
        """Deliver, waiting out Telegram's pauses, until nothing is due or time is up."""
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline
        console = self.deliverer.sender.console
        while True:
            report = await self.deliverer.deliver_due()
            pending = self.store.pending_count(console=console)
            wake = self.store.next_alert_due(console=console)
            if not pending or wake is None:
                return 0
            wait = (wake - self.clock()).total_seconds()
            if loop.time() + wait > end:
                log.warning("alerts still pending pending=%d next_attempt=%s", pending,
                            wake.isoformat())
                return pending
            if report.sent == 0 and wait > 0:
                await asyncio.sleep(wait)

    async def run_once(self) -> int:
        """One poll of every feed and one delivery pass; the number of alerts left pending."""
        started = self.clock()
        report = await self.poll_all()
        pending = await self.deliver_until_empty(self.config.delivery.once_deadline)
        if self.deliverer.sender.console:
            owed = self.store.pending_count(console=False)
            if owed:  # never printed here: printing would not deliver them to Telegram
                log.warning("alerts kept for telegram pending=%d (sent at the next run "
                            "with a token)", owed)
        self._finish_cycle(started, report)
        return pending

    # Running for good --------------------------------------------------------------------

    def schedule(self, jobs: Jobs) -> None:
        """The bot's jobs: polling, delivery and pruning on their intervals, the daily
        report to the admins and the weekly partnership digest at their local times."""
        jobs.every(self.poll_due, self.config.polling.tick)
        jobs.every(self.deliverer.deliver_due, self.config.delivery.tick)
        jobs.every(self.prune, PRUNE_EVERY)
        reports = self.config.reports
        if reports.daily_at is not None and self.config.telegram.admins:
            jobs.daily(self.daily_report, reports.daily_at, self.timezone, DAILY_REPORT_JOB)
        if reports.partners_weekly is not None and self.rules.partnerships is not None:
            jobs.weekly(self.partner_digest, reports.partners_weekly, self.timezone,
                        PARTNER_DIGEST_JOB)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run the scheduled jobs (and Telegram's updates) until ``stop`` is set."""
        jobs = Jobs(self.clock)
        self.schedule(jobs)
        watch = UpdatesWatch(stop)
        if self.application is not None:
            await start_updates(self.application, self.commands, watch.died)
        jobs.start()
        log.info("bot running tick=%gs", self.config.polling.tick)
        try:
            await stop.wait()
        finally:
            log.info("bot stopping")
            await jobs.stop()
            if self.application is not None:
                await stop_updates(self.application)
            log.info("bot stopped")
        watch.raise_if_dead()

    async def prune(self) -> None:
        """Forget old article texts and old stories, as the storage settings say."""
        now = self.clock()
        removed = self.store.prune(now, retention=self.config.retention,
                                   history=self.config.history)
        forgotten = self.poller.stories.prune(now)  # items older than the story window
        if forgotten:
            log.info("story index pruned items=%d kept=%d", forgotten, len(self.poller.stories))
        if any(removed.values()):
            log.info("pruned texts=%d items=%d stories=%d alerts=%d", removed["texts"],
                     removed["items"], removed["stories"], removed["alerts"])
        if now - self._released >= RELEASE_EVERY:
            self._released = now
            release_memory()  # what the day's cycles and the pruning freed

    async def partner_digest(self) -> None:
        """Post the week's supplier × recipient map and its new pairs to the channel."""
        partnerships = self.rules.partnerships
        if partnerships is None:
            return
        from bot.partners.chart import partner_matrix_png  # matplotlib loads only when asked

        lang = self.config.telegram.language
        now = self.clock().astimezone(self.timezone)  # the week's dates as readers count them
        partner_map = self.partner_map(now - WEEK, now)
        png = partner_matrix_png(partner_map, partnerships, lang)
        release_memory()  # a chart's figure is a web of cycles the young collections miss
        routing = partnerships.routing
        chat = routing.chat or self.deliverer.sender.chat
        # Through the outbox: retried while Telegram fails, and queued once per week
        # however often the job runs (a restart, a catch-up).
        week = "{}-W{:02d}".format(*now.isocalendar()[:2])
        queued = self.store.queue_photo(chat, png, digest_caption(partner_map, partnerships,
                                                                  lang),
                                        self.clock(), key=f"{DIGEST_KEY}:{chat}:{week}",
                                        thread_id=routing.topic)
        log.info("partner digest %s chat=%s week=%s pairs=%d new_pairs=%d",
                 "queued" if queued else "already queued", chat, week,
                 len(partner_map.cells), len(partner_map.new_pairs))
        await self.deliverer.deliver_due()

    def partner_map(self, since: datetime, until: datetime) -> PartnerMap:
        """The supplier × recipient map of [since, until), against the period before it."""
        partnerships = self.rules.partnerships
        if partnerships is None:
            raise ConfigError(self.config.path, "no partnership file (partnerships_file)")
        return partner_map_from(self.store, partnerships, since, until,
                                self.config.history)

    async def daily_report(self) -> None:
        """Queue the health report for every admin and deliver it."""
        report = self.commands.health_report(self.config.telegram.language)
        for chat in self.deliverer.admins:
            self.store.queue_message(chat, report, self.clock())
        log.info("daily report queued admins=%d", len(self.config.telegram.admins))
        await self.deliverer.deliver_due()

    async def check_feed(self, url: str) -> ParsedFeed:
        """Fetch and parse a feed an admin proposes; FetchError or ParseError if unusable."""
        allow = self.config.polling.allow_private_feeds
        await refuse_private_address(url, allow=allow)
        result = await self.fetcher.fetch(url, public_only=not allow)
        return await self.poller.parse(result.body, result.url, result.content_type)


async def run(config: Config, token: Token | None, *, once: bool, out: TextIO = sys.stdout,
              clock: Clock = utc_now) -> int:
    """Run the bot until stopped, or one cycle with ``once``; returns how many alerts are
    still owed to Telegram at the end of a ``once`` run (0 otherwise)."""
    async with BotApp(config, token, out, clock) as app:
        if once:
            return await app.run_once()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await app.run_forever(stop)
    return 0

