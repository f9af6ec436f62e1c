"""Wiring: build the parts, run the scheduler (and Telegram when a token is set), stop cleanly."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bot.errors import BotError, ConfigError, ParseError
from bot.ingest.fetch import Fetcher, refuse_private_address
from bot.ingest.parse import ParsedFeed
from bot.ingest.parseworker import parse_feed_timed, start_worker
from bot.matching.matcher import Matcher
from bot.matching.reload import WatchlistReloader
from bot.matching.watchlists import Watchlist, load_watchlists
from bot.ops.collector import fewer_collections
from bot.ops.export import write_atom_files
from bot.ops.metrics import Metrics, NoMetrics, Recorder
from bot.partners.catalog import load_partnerships
from bot.partners.detect import SignalDetector
from bot.partners.digest import partner_digest_trigger, partner_map_from
from bot.partners.matrix import PartnerMap
from bot.pipeline.poll import AlertSettings, CycleReport, PartnerSettings, Poller
from bot.settings.config import Config
from bot.settings.credentials import TOKEN_ENV, Token
from bot.storage.store import CycleRecord, Store
from bot.stories.index import StoryIndex
from bot.telegram.commands import CommandDeps, Commands
from bot.telegram.deliver import ConsoleSender, Deliverer, Pacer, Sender, SendError, TelegramSender
from bot.telegram.notices import watchlists_refused_notice
from bot.telegram.partners import digest_caption

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
UPDATES_TIMEOUT = 30
TELEGRAM_START_ATTEMPTS = 3
PRUNE_EVERY = 3600.0
WEEK = timedelta(days=7)
TELEGRAM_START_BACKOFF = 2.0
PARSER_MODULE = "bot.ingest.parseworker"  # loaded once in the fork server, not per worker


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


class ParsePool:
    """Runs feedparser in worker processes, so parsing uses every core and never the loop."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.cpu_seconds = 0.0  # spent parsing, in the workers, since the start
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        # The fork server loads the parser once; workers forked from it share those pages.
        context.set_forkserver_preload([PARSER_MODULE])
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                   initializer=start_worker, initargs=(os.getpid(),))

    async def __call__(self, body: bytes, url: str, content_type: str | None) -> ParsedFeed:
        loop = asyncio.get_running_loop()
        try:
            parsed, spent = await loop.run_in_executor(self._pool, parse_feed_timed, body, url,
                                                       content_type)
        except BrokenProcessPool:
            # A worker died (killed, out of memory); start afresh for the other feeds.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            raise ParseError("parser process died while reading this feed") from None
        self.cpu_seconds += spent
        return parsed

    def close(self) -> None:
        """Stop the workers."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def api_urls(config: Config) -> dict[str, str]:
    """base_url and base_file_url for python-telegram-bot, when a local Bot API is set."""
    base = config.telegram.api_base_url
    return {"base_url": f"{base}/bot", "base_file_url": f"{base}/file/bot"} if base else {}


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
        self._running: set[asyncio.Task[object]] = set()

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
        self.reloader = WatchlistReloader(config.watchlists_dir)
        self.store = Store.open(config.storage_path)
        self._stack.callback(self.store.close)
        self.metrics: Recorder = NoMetrics()
        if config.metrics.port:
            metrics = Metrics()
            try:
                server = metrics.serve(config.metrics.host, config.metrics.port)
            except OSError as exc:
                raise ConfigError(config.path, f"[metrics] cannot listen on "
                                  f"{config.metrics.host}:{config.metrics.port}: "
                                  f"{exc.strerror or exc}") from None
            self._stack.callback(server.close)
            self.metrics = metrics
            log.info("metrics endpoint host=%s port=%d", config.metrics.host, server.port)
        self.store.sync_feeds(config.feeds)
        self.fetcher = Fetcher(config.polling)
        self._stack.push_async_callback(self.fetcher.aclose)
        pool = self.parse_pool = ParsePool(config.polling.parse_workers)
        self._stack.callback(pool.close)
        names: dict[str, str] = {}
        self.application: Application | None = None  # type: ignore[type-arg]
        sender: Sender
        if self.token:
            sender = await self._telegram_sender()
        else:
            sender = ConsoleSender(self.out)
        self.poller = Poller(
            store=self.store, fetcher=self.fetcher, parse=pool, matcher=Matcher(watchlists),
            alerts=AlertSettings(chat=sender.chat, language=config.telegram.language,
                                 timezone=self.timezone, names=names, priorities={}),
            config=config.polling, clock=self.clock,
            stories=self._story_index(), metrics=self.metrics,
        )
        pacer = Pacer(config.delivery.per_chat_per_minute, config.delivery.global_per_second,
                      time.monotonic, asyncio.sleep) if self.token else None
        self.deliverer = Deliverer(self.store, sender, config.delivery, self.clock, pacer,
                                   language=config.telegram.language,
                                   admins=config.telegram.admins, metrics=self.metrics)
        self._sent_before = 0
        self._atom_due = True  # the first cycle writes them, then cycles with new hits
        self.poller.alerts.muted.update(self.store.mutes(self.clock()))
        self.watchlists: tuple[Watchlist, ...] = ()
        self.commands = Commands(CommandDeps(
            store=self.store, config=config, watchlists=lambda: self.watchlists,
            matcher=lambda: self.poller.matcher, reload_watchlists=self.reload_watchlists,
            muted=self.poller.alerts.muted, check_feed=self.check_feed, clock=self.clock,
            partnerships=lambda: self.poller.partners.partnerships
            if self.poller.partners else None,
        ))
        self._use_watchlists(watchlists)
        log.info("bot ready feeds=%d watchlists=%d sender=%s db=%s", len(config.feeds),
                 len(watchlists), "telegram" if self.token else "console", config.storage_path)
        return self

    def _story_index(self) -> StoryIndex:
        """The recent items, by their words, so new reports join their stories."""
        window = timedelta(seconds=self.config.delivery.story_window)
        index = StoryIndex(window)
        for item_id, story_id, title, summary, when in self.store.recent_items(
                self.clock() - window):
            index.add(item_id, story_id, when, index.fingerprint(title, summary))
        return index

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def _telegram_sender(self) -> TelegramSender:
        assert self.token is not None and self.config.telegram.chat is not None
        application = self._build_application()
        self.application = application
        for attempt in range(1, TELEGRAM_START_ATTEMPTS + 1):
            try:
                await application.initialize()
                break
            except InvalidToken:
                # python-telegram-bot's own message quotes the token: never pass it on.
                raise ConfigError(TOKEN_ENV, "Telegram rejected the bot token") from None
            except TelegramError as exc:
                if attempt == TELEGRAM_START_ATTEMPTS:
                    raise BotError(f"Telegram is unreachable ({type(exc).__name__}); "
                                   "alerts stay queued for the next run") from None
                log.warning("telegram unreachable attempt=%d error=%s", attempt,
                            type(exc).__name__)
                await asyncio.sleep(TELEGRAM_START_BACKOFF * attempt)
        self._stack.push_async_callback(application.shutdown)
        return TelegramSender(application.bot, self.config.telegram.chat,
                              link_preview=self.config.telegram.link_preview)

    def _build_application(self) -> Application:  # type: ignore[type-arg]
        assert self.token is not None
        builder = Application.builder().token(self.token.reveal())
        urls = api_urls(self.config)
        if urls:
            builder = builder.base_url(urls["base_url"]).base_file_url(urls["base_file_url"])
        return builder.build()

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
            written = write_atom_files(self.store, directory, self.watchlists, self.clock())
        except OSError as exc:
            log.error("atom files not written dir=%s error=%s", directory, exc)
            return
        self._atom_due = False
        if written:
            log.info("atom files written dir=%s files=%d", directory, len(written))

    def _use_watchlists(self, watchlists: tuple[Watchlist, ...]) -> None:
        """Match with ``watchlists`` from now on (names are shared with the commands), and
        read the partnership file again: its actors reuse the watchlists' terms."""
        self.watchlists = watchlists
        self.poller.matcher = Matcher(watchlists)
        self._use_partnerships(watchlists)
        alerts = self.poller.alerts
        alerts.names.clear()
        alerts.names.update({w.id: w.name for w in watchlists})
        alerts.priorities = {w.id: w.priority for w in watchlists}
        alerts.routes = {w.id: (w.chat or alerts.chat, w.topic) for w in watchlists
                         if w.chat or w.topic}

    def _use_partnerships(self, watchlists: tuple[Watchlist, ...]) -> None:
        """Detect partnership signals with the partnership file, if there is one; an invalid
        file is reported and the previous one kept."""
        path = self.config.partnerships_file
        if path is None:
            return
        try:
            partnerships = load_partnerships(path, watchlists)
        except ConfigError as exc:
            log.error("partnership file refused error=%s", exc)
            return
        self.poller.partners = PartnerSettings(partnerships, SignalDetector(partnerships))

    def reload_watchlists(self) -> bool:
        """Take up edits of the watchlists folder; refuse, log and report an invalid edit."""
        outcome = self.reloader.poll()
        if outcome is None:
            return False
        if outcome.watchlists is not None:
            self._use_watchlists(outcome.watchlists)
            log.info("watchlists reloaded watchlists=%d terms=%d", len(outcome.watchlists),
                     sum(len(w.terms) for w in outcome.watchlists))
            return True
        for error in outcome.errors:
            log.error("watchlist edit refused error=%s", error)
        notice = watchlists_refused_notice(outcome.errors, self.config.telegram.language)
        for admin in self.config.telegram.admins:
            self.store.queue_message(str(admin), notice, self.clock())
        return False

    async def poll_due(self) -> CycleReport:
        """Take up watchlist edits, poll the feeds whose time has come, deliver the alerts."""
        started = self.clock()
        self.reload_watchlists()
        feeds = self.store.feeds(due_at=self.clock())
        report = await self.poller.poll(feeds) if feeds else CycleReport()
        if self.store.pending_count():
            await self.deliverer.deliver_due()
        self._finish_cycle(started, report)
        return report

    async def deliver_until_empty(self, deadline: float) -> int:
        """Deliver, waiting out Telegram's pauses, until nothing is due or time is up."""
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline
        while True:
            report = await self.deliverer.deliver_due()
            pending = self.store.pending_count()
            wake = self.store.next_alert_due()
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
        self._finish_cycle(started, report)
        return pending

    # Running for good --------------------------------------------------------------------

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run the scheduled jobs (and Telegram's updates) until ``stop`` is set."""
        scheduler = AsyncIOScheduler(timezone=UTC)
        jobs: list[tuple[Callable[[], Awaitable[object]], float]] = [
            (self.poll_due, self.config.polling.tick),
            (self.deliverer.deliver_due, self.config.delivery.tick),
            (self.prune, PRUNE_EVERY),
        ]
        for job, seconds in jobs:
            scheduler.add_job(self._guarded(job), "interval", seconds=seconds,
                              next_run_time=self.clock(), max_instances=1, coalesce=True,
                              misfire_grace_time=None)
        self.schedule_reports(scheduler)
        self.schedule_partner_digest(scheduler)
        if self.application is not None:
            await self._start_telegram(self.application)
        scheduler.start()
        log.info("bot running tick=%gs", self.config.polling.tick)
        try:
            await stop.wait()
        finally:
            log.info("bot stopping")
            scheduler.shutdown(wait=False)
            for task in list(self._running):
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)
            if self.application is not None:
                await self._stop_telegram(self.application)
            log.info("bot stopped")

    def _guarded(self, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job failed job=%s", getattr(job, "__name__", job))
            finally:
                self._running.discard(task)

        run.__name__ = getattr(job, "__name__", "job")
        return run

    async def prune(self) -> None:
        """Forget old article texts and old stories, as the storage settings say."""
        removed = self.store.prune(self.clock(), retention=self.config.retention,
                                   history=self.config.history)
        if any(removed.values()):
            log.info("pruned texts=%d items=%d stories=%d alerts=%d", removed["texts"],
                     removed["items"], removed["stories"], removed["alerts"])

    def schedule_reports(self, scheduler: AsyncIOScheduler) -> None:
        """The daily health report to the admins, at the configured local time."""
        daily = self.config.reports.daily_at
        if daily is None or not self.config.telegram.admins:
            return
        hour, minute = daily
        scheduler.add_job(self._guarded(self.daily_report), CronTrigger(
            hour=hour, minute=minute, timezone=self.timezone), id="daily-report",
            max_instances=1, coalesce=True, misfire_grace_time=3600)

    def schedule_partner_digest(self, scheduler: AsyncIOScheduler) -> None:
        """The weekly partnership digest in the channel, on the configured day and time."""
        weekly = self.config.reports.partners_weekly
        if weekly is None or self.poller.partners is None:
            return
        day, hour, minute = weekly
        scheduler.add_job(self._guarded(self.partner_digest), partner_digest_trigger(
            day, hour, minute, self.timezone), id="partner-digest", max_instances=1,
            coalesce=True, misfire_grace_time=3600)

    async def partner_digest(self) -> None:
        """Post the week's supplier × recipient map and its new pairs to the channel."""
        partners = self.poller.partners
        if partners is None:
            return
        from bot.partners.chart import partner_matrix_png  # matplotlib loads only when asked

        lang = self.config.telegram.language
        now = self.clock().astimezone(self.timezone)  # the week's dates as readers count them
        partner_map = self.partner_map(now - WEEK, now)
        png = partner_matrix_png(partner_map, partners.partnerships, lang)
        text = digest_caption(partner_map, partners.partnerships, lang)
        routing = partners.partnerships.routing
        chat = routing.chat or self.deliverer.sender.chat
        try:
            await self.deliverer.sender.send_photo(chat, png, text, thread_id=routing.topic)
        except SendError as exc:
            log.error("partner digest not sent chat=%s error=%s", chat, exc)
            return
        log.info("partner digest sent chat=%s pairs=%d new_pairs=%d", chat,
                 len(partner_map.cells), len(partner_map.new_pairs))

    def partner_map(self, since: datetime, until: datetime) -> PartnerMap:
        """The supplier × recipient map of [since, until), against the period before it."""
        partners = self.poller.partners
        if partners is None:
            raise ConfigError(self.config.path, "no partnership file (partnerships_file)")
        return partner_map_from(self.store, partners.partnerships, since, until,
                                self.config.history)

    async def daily_report(self) -> None:
        """Queue the health report for every admin and deliver it."""
        report = self.commands.health_report(self.config.telegram.language)
        for admin in self.config.telegram.admins:
            self.store.queue_message(str(admin), report, self.clock())
        log.info("daily report queued admins=%d", len(self.config.telegram.admins))
        await self.deliverer.deliver_due()

    async def check_feed(self, url: str) -> ParsedFeed:
        """Fetch and parse a feed an admin proposes; FetchError or ParseError if unusable."""
        await refuse_private_address(url, allow=self.config.polling.allow_private_feeds)
        result = await self.fetcher.fetch(url)
        return await self.poller.parse(result.body, result.url, result.content_type)

    async def _start_telegram(self, application: Application) -> None:  # type: ignore[type-arg]
        self.commands.install(application)
        application.add_error_handler(self._on_telegram_error)
        await application.start()
        try:
            await self.commands.register_descriptions(application)
        except Exception as exc:  # the command menu is a convenience, not a reason to stop
            log.warning("setMyCommands failed error=%s", exc)
        assert application.updater is not None
        await application.updater.start_polling(timeout=UPDATES_TIMEOUT,
                                                allowed_updates=Update.ALL_TYPES)

    async def _stop_telegram(self, application: Application) -> None:  # type: ignore[type-arg]
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()

    async def _on_telegram_error(self, update: object, context: object) -> None:
        error = getattr(context, "error", None)
        log.error("telegram handler failed error=%s", error, exc_info=error)


async def run(config: Config, token: Token | None, *, once: bool, out: TextIO = sys.stdout,
              clock: Clock = utc_now) -> int:
    """Run the bot; 0 on a clean stop, 2 when ``--once`` left alerts pending."""
    async with BotApp(config, token, out, clock) as app:
        if once:
            pending = await app.run_once()
            return 2 if pending else 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await app.run_forever(stop)
    return 0

