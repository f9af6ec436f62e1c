"""Prometheus series for polling and delivery, served on an optional scrape endpoint."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from bot.pipeline.report import FAILED, NEW, NOT_MODIFIED, UNCHANGED, CycleReport

PREFIX = "sahelwatch"
# The statuses a FeedOutcome can carry; label values use underscores, as Prometheus does.
POLL_STATUSES = (NEW, NOT_MODIFIED, UNCHANGED, FAILED)
# A cycle of one local feed takes a tenth of a second; a hundred slow feeds, up to the
# fetch timeouts, about two minutes.
CYCLE_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
# A failure's reason label is the stable code before the first colon of its error
# ("timeout", "http-404: Not Found", "database: locked"); free text (a parse error, a crash)
# becomes OTHER_REASON, so that error messages cannot multiply the series.
REASON_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_REASON_LENGTH = 32
OTHER_REASON = "other"
# Seconds close() waits for the server thread to finish its last scrape.
CLOSE_TIMEOUT = 5.0


def status_label(status: str) -> str:
    """A FeedOutcome status as a label value: ``not-modified`` -> ``not_modified``."""
    return status.replace("-", "_")


def failure_reason(error: str | None) -> str:
    """The bounded reason label of a failed poll's error text."""
    head = (error or "").split(":", 1)[0].strip()
    if len(head) <= MAX_REASON_LENGTH and REASON_RE.fullmatch(head):
        return head
    return OTHER_REASON


class MetricsServer:
    """The running scrape endpoint; ``close()`` stops it and frees the port."""

    def __init__(self, server: WSGIServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self._closed = False

    @property
    def port(self) -> int:
        """The port bound, useful when 0 asked the system to choose one."""
        return int(self._server.server_port)

    def close(self) -> None:
        """Stop serving, close the socket and wait for the thread; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(CLOSE_TIMEOUT)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


class NoMetrics:
    """What the app, poller and deliverer report, with metrics switched off: each call
    records nothing. ``Metrics`` records the same calls."""

    def observe_cycle(self, report: CycleReport, seconds: float,
                      finished_at: datetime) -> None:
        """Count one finished poll cycle that took ``seconds``."""

    def hits_by_watchlist(self, counts: Mapping[str, int]) -> None:
        """Count new hits, per watchlist."""

    def alert_sent(self, count: int = 1) -> None:
        """Count alerts Telegram (or the console) accepted."""

    def rate_limited(self) -> None:
        """Count one 429 (flood control) answer from Telegram."""

    def set_pending(self, count: int) -> None:
        """Set the number of alerts waiting in the outbox."""


Recorder = NoMetrics  # the type the app, poller and deliverer hold: Metrics or NoMetrics


class Metrics(NoMetrics):
    """The bot's series, in a registry of their own (never prometheus-client's global one)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.feeds_polled = Counter(
            f"{PREFIX}_feeds_polled", "Feed polls, by outcome (new, not_modified, unchanged, "
            "failed).", ["status"], registry=registry)
        self.feed_failures = Counter(
            f"{PREFIX}_feed_failures", "Failed feed polls, by reason (timeout, http-404, "
            "database, other ...).", ["reason"], registry=registry)
        self.not_modified_ratio = Gauge(
            f"{PREFIX}_last_cycle_not_modified_ratio", "Share of the feeds polled in the last "
            "cycle that answered 304 Not Modified.", registry=registry)
        self.items_stored = Counter(
            f"{PREFIX}_items_stored", "New feed items stored.", registry=registry)
        self.hits = Counter(
            f"{PREFIX}_hits", "Watchlist hits found in new items, by watchlist.",
            ["watchlist"], registry=registry)
        self.alerts_sent = Counter(
            f"{PREFIX}_alerts_sent", "Alerts delivered to Telegram or the console.",
            registry=registry)
        self.alerts_pending = Gauge(
            f"{PREFIX}_alerts_pending", "Alerts waiting in the outbox.", registry=registry)
        self.telegram_rate_limited = Counter(
            f"{PREFIX}_telegram_rate_limited", "Telegram answers 429 Too Many Requests "
            "(flood control).", registry=registry)
        self.cycle_duration = Histogram(
            f"{PREFIX}_cycle_duration_seconds", "Wall-clock seconds of a poll cycle that "
            "polled at least one feed.", buckets=CYCLE_BUCKETS, registry=registry)
        self.last_cycle = Gauge(
            f"{PREFIX}_last_cycle_timestamp_seconds", "Unix time the last poll cycle finished.",
            registry=registry)
        for status in POLL_STATUSES:  # every status shows from the first scrape, at zero
            self.feeds_polled.labels(status=status_label(status))

    def observe_cycle(self, report: CycleReport, seconds: float,
                      finished_at: datetime) -> None:
        """Count one finished poll cycle; a cycle with no feed due only marks the time, so
        that idle ticks neither skew the durations nor blank the 304 share."""
        self.last_cycle.set(finished_at.timestamp())
        if not report.outcomes:
            return
        for outcome in report.outcomes:
            self.feeds_polled.labels(status=status_label(outcome.status)).inc()
            if outcome.status == "failed":
                self.feed_failures.labels(reason=failure_reason(outcome.error)).inc()
        self.items_stored.inc(report.total("new_items"))
        self.not_modified_ratio.set(report.count(NOT_MODIFIED) / len(report.outcomes))
        self.cycle_duration.observe(seconds)

    def hits_by_watchlist(self, counts: Mapping[str, int]) -> None:
        """Count new hits, per watchlist name."""
        for watchlist, count in counts.items():
            if count:
                self.hits.labels(watchlist=watchlist).inc(count)

    def alert_sent(self, count: int = 1) -> None:
        """Count alerts Telegram (or the console) accepted."""
        self.alerts_sent.inc(count)

    def rate_limited(self) -> None:
        """Count one 429 (flood control) answer from Telegram."""
        self.telegram_rate_limited.inc()

    def set_pending(self, count: int) -> None:
        """Set the number of alerts waiting in the outbox."""
        self.alerts_pending.set(count)

    def serve(self, host: str, port: int) -> MetricsServer:
        """Serve this registry at ``http://host:port/metrics`` from a daemon thread; port 0
        takes a free port (see ``MetricsServer.port``). OSError when it cannot listen."""
        server, thread = start_http_server(port, addr=host, registry=self.registry)
        return MetricsServer(server, thread)
