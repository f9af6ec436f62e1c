"""The Prometheus endpoint: series and labels as scraped over loopback, NoMetrics, closing."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from bot.ops.metrics import (
    CYCLE_BUCKETS,
    OTHER_REASON,
    Metrics,
    MetricsServer,
    NoMetrics,
    Recorder,
    failure_reason,
)
from bot.pipeline.poll import CycleReport, FeedOutcome
from tests.support.common import NOW

LOOPBACK = "127.0.0.1"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

# One morning's cycle over ten feeds: two bring news, three answer 304, one is unchanged,
# four fail in the ways fetch.py and poll.py describe them.
CYCLE = CycleReport((
    FeedOutcome("rfi-afrique", "new", items=30, new_items=4, hits=3, alerts=2),
    FeedOutcome("studio-tamani", "new", items=12, new_items=1, hits=1, alerts=1),
    FeedOutcome("le-monde-afrique", "not-modified"),
    FeedOutcome("jeune-afrique", "not-modified"),
    FeedOutcome("aa-afrique", "not-modified"),
    FeedOutcome("lefaso-net", "unchanged"),
    FeedOutcome("aniamey", "failed", error="timeout"),
    FeedOutcome("sahel-intelligence", "failed", error="http-404: Not Found"),
    FeedOutcome("actu-niger", "failed", error="not an RSS or Atom feed (syntax error)"),
    FeedOutcome("malijet", "failed", error="database: database is locked"),
))


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def server(metrics: Metrics) -> Iterator[MetricsServer]:
    with metrics.serve(LOOPBACK, 0) as running:
        yield running


def scrape(server: MetricsServer) -> Samples:
    """Every sample the endpoint exposes, keyed by name and labels."""
    # trust_env=False: a proxy from the environment must not stand between us and loopback.
    with httpx.Client(trust_env=False, timeout=5) as client:
        response = client.get(f"http://{LOOPBACK}:{server.port}/metrics")
    response.raise_for_status()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def test_a_cycle_is_scraped_with_its_statuses_reasons_and_share(
        metrics: Metrics, server: MetricsServer) -> None:
    metrics.observe_cycle(CYCLE, 4.2, NOW)
    samples = scrape(server)

    polled = "sahelwatch_feeds_polled_total"
    assert value(samples, polled, status="new") == 2
    assert value(samples, polled, status="not_modified") == 3
    assert value(samples, polled, status="unchanged") == 1
    assert value(samples, polled, status="failed") == 4
    failures = "sahelwatch_feed_failures_total"
    assert {dict(labels)["reason"]: v for (name, labels), v in samples.items()
            if name == failures} == {"timeout": 1, "http-404": 1, OTHER_REASON: 1,
                                     "database": 1}
    assert value(samples, "sahelwatch_last_cycle_not_modified_ratio") == pytest.approx(0.3)
    assert value(samples, "sahelwatch_items_stored_total") == 5
    assert value(samples, "sahelwatch_last_cycle_timestamp_seconds") == NOW.timestamp()
    assert value(samples, "sahelwatch_cycle_duration_seconds_count") == 1
    assert value(samples, "sahelwatch_cycle_duration_seconds_sum") == pytest.approx(4.2)
    assert value(samples, "sahelwatch_cycle_duration_seconds_bucket", le="2.5") == 0
    assert value(samples, "sahelwatch_cycle_duration_seconds_bucket", le="5.0") == 1
    assert value(samples, "sahelwatch_cycle_duration_seconds_bucket", le="+Inf") == 1


def test_counters_add_up_and_the_share_is_the_last_cycles(
        metrics: Metrics, server: MetricsServer) -> None:
    later = NOW + timedelta(minutes=5)
    metrics.observe_cycle(CYCLE, 4.2, NOW)
    metrics.observe_cycle(CycleReport((FeedOutcome("rfi-afrique", "not-modified"),
                                       FeedOutcome("aniamey", "failed", error="timeout"))),
                          0.3, later)
    samples = scrape(server)

    assert value(samples, "sahelwatch_feeds_polled_total", status="not_modified") == 4
    assert value(samples, "sahelwatch_feed_failures_total", reason="timeout") == 2
    assert value(samples, "sahelwatch_last_cycle_not_modified_ratio") == 0.5
    assert value(samples, "sahelwatch_cycle_duration_seconds_count") == 2
    assert value(samples, "sahelwatch_last_cycle_timestamp_seconds") == later.timestamp()


def test_an_idle_tick_marks_the_time_only(metrics: Metrics, server: MetricsServer) -> None:
    metrics.observe_cycle(CYCLE, 4.2, NOW)
    metrics.observe_cycle(CycleReport(), 0.001, NOW + timedelta(seconds=30))
    samples = scrape(server)

    assert value(samples, "sahelwatch_cycle_duration_seconds_count") == 1
    assert value(samples, "sahelwatch_last_cycle_not_modified_ratio") == pytest.approx(0.3)
    assert value(samples, "sahelwatch_last_cycle_timestamp_seconds") == \
        (NOW + timedelta(seconds=30)).timestamp()


def test_hits_alerts_pending_and_flood_control(metrics: Metrics, server: MetricsServer) -> None:
    metrics.hits_by_watchlist({"wagner-africa-corps": 3, "minusma": 1, "quiet": 0})
    metrics.hits_by_watchlist({"wagner-africa-corps": 2})
    metrics.alert_sent()
    metrics.alert_sent(4)
    metrics.rate_limited()
    metrics.set_pending(7)
    metrics.set_pending(2)
    samples = scrape(server)

    assert value(samples, "sahelwatch_hits_total", watchlist="wagner-africa-corps") == 5
    assert value(samples, "sahelwatch_hits_total", watchlist="minusma") == 1
    assert ("sahelwatch_hits_total", frozenset({("watchlist", "quiet")})) not in samples
    assert value(samples, "sahelwatch_alerts_sent_total") == 5
    assert value(samples, "sahelwatch_telegram_rate_limited_total") == 1
    assert value(samples, "sahelwatch_alerts_pending") == 2


def test_every_series_is_there_before_the_first_cycle(server: MetricsServer) -> None:
    samples = scrape(server)

    for status in ("new", "not_modified", "unchanged", "failed"):
        assert value(samples, "sahelwatch_feeds_polled_total", status=status) == 0
    for name in ("sahelwatch_items_stored_total", "sahelwatch_alerts_sent_total",
                 "sahelwatch_telegram_rate_limited_total", "sahelwatch_alerts_pending",
                 "sahelwatch_last_cycle_timestamp_seconds",
                 "sahelwatch_cycle_duration_seconds_count"):
        assert value(samples, name) == 0
    buckets = {dict(labels)["le"] for (name, labels) in samples
               if name == "sahelwatch_cycle_duration_seconds_bucket"}
    assert buckets == {*(str(float(b)) for b in CYCLE_BUCKETS), "+Inf"}


def test_each_metrics_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()  # a global registry would refuse the second
    first.alert_sent()

    assert first.registry.get_sample_value("sahelwatch_alerts_sent_total") == 1
    assert second.registry.get_sample_value("sahelwatch_alerts_sent_total") == 0
    assert REGISTRY.get_sample_value("sahelwatch_alerts_sent_total") is None


@pytest.mark.parametrize(("error", "reason"), [
    ("timeout", "timeout"),
    ("connect-failed: [Errno 111] Connection refused", "connect-failed"),
    ("http-404: Not Found", "http-404"),
    ("http-503: retry after 120s", "http-503"),
    ("too-large: body over 5000000 bytes", "too-large"),
    ("database: database is locked", "database"),
    ("not an RSS or Atom feed (syntax error)", OTHER_REASON),
    ("parser failed: SAXParseException: junk", OTHER_REASON),
    ("KeyError", OTHER_REASON),
    ("'title'", OTHER_REASON),
    ("x" * 40, OTHER_REASON),
    ("", OTHER_REASON),
    (None, OTHER_REASON),
])
def test_failure_reasons_stay_few(error: str | None, reason: str) -> None:
    assert failure_reason(error) == reason


@pytest.mark.parametrize("recorder", [Metrics(), NoMetrics()], ids=["metrics", "none"])
def test_both_recorders_take_the_same_calls(recorder: Recorder) -> None:
    recorder.observe_cycle(CYCLE, 1.5, NOW)
    recorder.hits_by_watchlist({"minusma": 2})
    recorder.alert_sent()
    recorder.alert_sent(3)
    recorder.rate_limited()
    recorder.set_pending(0)


def test_no_metrics_is_a_drop_in() -> None:
    recorder_methods = {name for name in vars(Recorder) if not name.startswith("_")}
    assert recorder_methods == {"observe_cycle", "hits_by_watchlist", "alert_sent",
                                "rate_limited", "set_pending"}

    for name in recorder_methods:
        assert inspect.signature(getattr(NoMetrics, name)) == \
            inspect.signature(getattr(Metrics, name)), name
    assert not hasattr(NoMetrics, "serve")  # the app serves only the Metrics it enabled


def test_the_server_closes_and_frees_its_port(metrics: Metrics) -> None:
    running = metrics.serve(LOOPBACK, 0)
    thread = running._thread
    assert scrape(running)

    running.close()
    running.close()  # twice is harmless

    assert not thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        scrape(running)
