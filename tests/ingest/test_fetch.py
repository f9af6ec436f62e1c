"""Fetching over real HTTP on loopback: validators, limits, timeouts, failures."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import threading
import time
from datetime import UTC, datetime

import pytest

from bot.errors import FetchError
from bot.ingest.fetch import (
    HOST_SPACING,
    Fetcher,
    FetchResult,
    RetryLater,
    refuse_private_address,
    retry_after_seconds,
)
from bot.settings.config import PollingConfig
from tests.support.feedserver import FeedServer, rss_feed
from tests.support.keepalive import BODY as KEEP_ALIVE_BODY
from tests.support.keepalive import serving

CONFIG = PollingConfig(connect_timeout=2, read_timeout=1, total_timeout=3,
                       max_bytes=1_000_000, max_redirects=3, per_host=2, max_concurrency=10)
BODY = rss_feed("Feed", [{"title": "Goïta", "link": "https://ex.org/1"}])


def fetch(url: str, config: PollingConfig = CONFIG, **kwargs: str | None) -> FetchResult:
    async def go() -> FetchResult:
        fetcher = Fetcher(config)
        try:
            return await fetcher.fetch(url, **kwargs)
        finally:
            await fetcher.aclose()

    return asyncio.run(go())


def reason_of(url: str, config: PollingConfig = CONFIG) -> str:
    with pytest.raises(FetchError) as caught:
        fetch(url, config)
    return caught.value.reason


def test_conditional_get_with_etag_and_last_modified(feed_server: FeedServer) -> None:
    stamp = "Tue, 24 Nov 2026 10:00:00 GMT"
    feed_server.route("/rss", BODY, etag='"v1"', last_modified=stamp)
    first = fetch(feed_server.url("/rss"))
    assert first.status == 200 and first.body == BODY.encode()
    assert (first.etag, first.last_modified) == ('"v1"', stamp)
    again = fetch(feed_server.url("/rss"), etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.body == b""
    sent = feed_server.requests[-1].headers
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == stamp
    assert sent["user-agent"].startswith("sahel-watch/")


def test_not_modified_and_redirect_answers_keep_the_connection() -> None:
    async def go(base: str) -> list[int]:
        fetcher = Fetcher(CONFIG)
        try:
            first = await fetcher.fetch(f"{base}/feed")
            again = [await fetcher.fetch(f"{base}/feed", etag=first.etag) for _ in range(2)]
            moved = await fetcher.fetch(f"{base}/old")
            return [first.status, *(r.status for r in again), moved.status]
        finally:
            await fetcher.aclose()

    with serving() as server:
        statuses = asyncio.run(go(f"http://127.0.0.1:{server.server_address[1]}"))
    assert statuses == [200, 304, 304, 200]
    assert len(server.peers) == 5  # the redirect took two requests
    assert server.connections == 1  # all of them over one connection


def test_a_304_with_a_stray_body_or_a_long_redirect_costs_its_connection_only() -> None:
    async def go(base: str) -> list[tuple[int, bytes]]:
        fetcher = Fetcher(CONFIG)
        try:
            first = await fetcher.fetch(f"{base}/stray")
            results = [first, await fetcher.fetch(f"{base}/stray", etag=first.etag),
                       await fetcher.fetch(f"{base}/feed"), await fetcher.fetch(f"{base}/old-long"),
                       await fetcher.fetch(f"{base}/feed")]
            return [(r.status, r.body) for r in results]
        finally:
            await fetcher.aclose()

    with serving() as server:
        answers = asyncio.run(go(f"http://127.0.0.1:{server.server_address[1]}"))
    assert answers == [(200, KEEP_ALIVE_BODY), (304, b""), (200, KEEP_ALIVE_BODY),
                       (200, KEEP_ALIVE_BODY), (200, KEEP_ALIVE_BODY)]
    # The 304 that announced a body and the long redirect each closed their connection.
    assert server.connections == 3


def test_gzip_is_decoded(feed_server: FeedServer) -> None:
    feed_server.route("/gz", BODY, gzip=True)
    assert fetch(feed_server.url("/gz")).body == BODY.encode()


def test_gzip_bomb_is_cut_at_the_cap(feed_server: FeedServer) -> None:
    feed_server.route_gzip_bomb("/bomb", 200_000_000)
    assert reason_of(feed_server.url("/bomb")) == "too-large"


@pytest.mark.parametrize("declared", [True, False])
def test_oversize_body_is_refused_while_streaming(feed_server: FeedServer,
                                                  declared: bool) -> None:
    feed_server.route_huge("/huge", 300_000_000, content_length=declared)
    started = time.monotonic()
    assert reason_of(feed_server.url("/huge")) == "too-large"
    assert time.monotonic() - started < 3


def test_whole_fetch_is_bounded_in_time(feed_server: FeedServer) -> None:
    feed_server.route_slow_drip("/drip", total_bytes=100_000, bytes_per_second=2_000)
    started = time.monotonic()
    assert reason_of(feed_server.url("/drip")) == "timeout"
    assert time.monotonic() - started < CONFIG.total_timeout + 1


def test_redirect_loop(feed_server: FeedServer) -> None:
    feed_server.route_redirect("/a", "/b")
    feed_server.route_redirect("/b", "/a")
    assert reason_of(feed_server.url("/a")) == "too-many-redirects"


def test_redirect_is_followed_and_final_url_reported(feed_server: FeedServer) -> None:
    feed_server.route_redirect("/old", "/new")
    feed_server.route("/new", BODY)
    assert fetch(feed_server.url("/old")).url == feed_server.url("/new")


@pytest.mark.parametrize("status", [404, 410, 500])
def test_http_errors(feed_server: FeedServer, status: int) -> None:
    feed_server.route_status("/x", status)
    assert reason_of(feed_server.url("/x")) == f"http-{status}"


def test_retry_after_is_reported(feed_server: FeedServer) -> None:
    feed_server.route_status("/busy", 429, headers={"Retry-After": "120"})
    with pytest.raises(RetryLater) as caught:
        fetch(feed_server.url("/busy"))
    assert caught.value.retry_after == 120


def test_a_retry_after_date_is_counted_from_the_fetchers_clock(feed_server: FeedServer) -> None:
    simulated = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a soak test's clock, not today's
    later = "Wed, 25 Nov 2026 12:10:00 GMT"
    feed_server.route_status("/busy", 503, headers={"Retry-After": later})

    async def go() -> float | None:
        fetcher = Fetcher(CONFIG, clock=lambda: simulated)
        try:
            await fetcher.fetch(feed_server.url("/busy"))
        except RetryLater as exc:
            return exc.retry_after
        finally:
            await fetcher.aclose()
        return None

    assert asyncio.run(go()) == 600


def test_connection_refused_and_reset(feed_server: FeedServer) -> None:
    feed_server.route_reset("/reset")
    assert reason_of(feed_server.url("/reset")) == "protocol-error"
    port = feed_server.base_url.rsplit(":", 1)[1]
    feed_server.stop()
    assert reason_of(f"http://127.0.0.1:{port}/gone") == "connect-failed"


class InFlight:
    """A route that counts how many requests the server holds at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def __call__(self, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(0.2)
        with self.lock:
            self.now -= 1
        return 200, {"Content-Type": "application/rss+xml"}, BODY


def peak_in_flight(feed_server: FeedServer, config: PollingConfig, count: int) -> int:
    counter = InFlight()
    feed_server.route_callable("/count", counter)

    async def go() -> None:
        fetcher = Fetcher(config)
        try:
            await asyncio.gather(*(fetcher.fetch(feed_server.url(f"/count?n={n}"))
                                   for n in range(count)))
        finally:
            await fetcher.aclose()

    asyncio.run(go())
    assert feed_server.hits("/count") == count
    return counter.peak


def test_per_host_concurrency_is_bounded(feed_server: FeedServer) -> None:
    assert peak_in_flight(feed_server, CONFIG, 6) == 2


def test_fetches_run_concurrently_up_to_the_overall_limit(feed_server: FeedServer) -> None:
    config = dataclasses.replace(CONFIG, per_host=20, max_concurrency=4)
    assert peak_in_flight(feed_server, config, 12) == 4


def test_a_host_that_asks_for_a_gap_gets_it(feed_server: FeedServer) -> None:
    feed_server.route("/search", rss_feed("Search", []))
    gap = 0.3

    async def go() -> None:
        fetcher = Fetcher(CONFIG, spacing={"127.0.0.1": gap})
        try:
            await asyncio.gather(*(fetcher.fetch(feed_server.url(f"/search?q={n}"))
                                   for n in range(3)))
        finally:
            await fetcher.aclose()

    asyncio.run(go())
    times = sorted(r.time for r in feed_server.requests if r.path == "/search")
    assert len(times) == 3
    assert all(later - earlier >= gap * 0.9 for earlier, later in itertools.pairwise(times))
    assert HOST_SPACING["api.gdeltproject.org"] >= 5  # the shipped searches' index


def test_retry_after_header_forms() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("30", now) == 30
    assert retry_after_seconds("Wed, 25 Nov 2026 12:01:00 GMT", now) == 60
    assert retry_after_seconds("soon", now) is None


@pytest.mark.parametrize(("url", "allowed"), [
    ("http://127.0.0.1:8080/rss", False),
    ("http://[::1]/rss", False),
    ("http://10.1.2.3/rss", False),
    ("http://192.168.1.10/rss", False),
    ("http://169.254.169.254/latest/meta-data", False),
    ("ftp://93.184.216.34/rss", False),
    ("file:///etc/passwd", False),
    ("http://93.184.216.34/rss", True),
])
def test_feeds_from_chat_must_be_public_http(url: str, allowed: bool) -> None:
    async def check() -> None:
        await refuse_private_address(url, allow=False)

    if allowed:
        asyncio.run(check())
    else:
        with pytest.raises(FetchError) as caught:
            asyncio.run(check())
        assert caught.value.reason == "refused"


def test_private_addresses_can_be_allowed_by_config() -> None:
    asyncio.run(refuse_private_address("http://127.0.0.1/rss", allow=True))
