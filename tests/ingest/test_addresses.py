"""Feeds added from chat reach public addresses only: on every connection, redirects and
new resolutions included, judged on the address actually connected to."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.errors import FetchError
from bot.ingest.addresses import AddressGuard, IPAddress, is_public, system_resolver
from bot.ingest.fetch import Fetcher
from bot.runtime.app import BotApp
from bot.settings.config import FeedConfig, PollingConfig, load_config
from bot.storage.store import Store
from tests.support.common import write_config
from tests.support.feedserver import FeedServer, rss_feed

PUBLIC_STAND_IN = "127.0.0.2"  # a loopback address the tests' guard takes for the internet
SECRET = {"title": "Internal admin page: database password", "link": "http://intranet/x",
          "guid": "secret-1"}
NEWS = {"title": "Des instructeurs turcs à Bamako", "link": "https://news.example/a",
        "guid": "news-1"}


@pytest.mark.parametrize(("address", "public"), [
    ("8.8.8.8", True), ("2606:4700::1111", True), ("::ffff:8.8.8.8", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False),
    ("224.0.0.1", False), ("255.255.255.255", False), ("192.0.2.1", False),
    ("::1", False), ("::", False), ("fe80::1", False), ("fc00::1", False), ("ff02::1", False),
    ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False),
    ("64:ff9b::7f00:1", False), ("64:ff9b::808:808", False), ("64:ff9b:1::a00:1", False),
    ("2002:7f00:1::", False), ("2002:808:808::", False), ("::127.0.0.1", False),
    ("::8.8.8.8", False),
])
def test_what_counts_as_a_public_address(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def stand_in_guard(resolve: AddressGuard | None = None) -> AddressGuard:
    """The real check, except that PUBLIC_STAND_IN counts as the public internet."""
    def allowed(address: IPAddress) -> bool:
        return str(address) == PUBLIC_STAND_IN or is_public(address)

    return AddressGuard(resolve=resolve.resolve if resolve else system_resolver,
                        allowed=allowed)


@pytest.fixture
def public_server() -> Iterator[FeedServer]:
    with FeedServer(host=PUBLIC_STAND_IN) as server:
        yield server


def fetch(url: str, guard: AddressGuard, *, public_only: bool = True) -> bytes:
    async def go() -> bytes:
        fetcher = Fetcher(PollingConfig(), guard=guard)
        try:
            return (await fetcher.fetch(url, public_only=public_only)).body
        finally:
            await fetcher.aclose()

    return asyncio.run(go())


def test_a_public_feed_is_fetched(public_server: FeedServer) -> None:
    public_server.route("/rss", rss_feed("News", [NEWS]))
    assert b"Bamako" in fetch(public_server.url("/rss"), stand_in_guard())


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/secret",
                                    "http://localhost:{port}/secret",
                                    "http://[::ffff:127.0.0.1]:{port}/secret",
                                    "http://169.254.169.254/latest/meta-data/"])
def test_a_redirect_to_a_private_address_is_refused(
        public_server: FeedServer, feed_server: FeedServer, target: str) -> None:
    feed_server.route("/secret", rss_feed("Intranet", [SECRET]))
    port = feed_server.base_url.rsplit(":", 1)[1]
    public_server.route_redirect("/rss", target.format(port=port), status=302)
    with pytest.raises(FetchError) as caught:
        fetch(public_server.url("/rss"), stand_in_guard())
    assert caught.value.reason == "refused"
    assert not [r for r in feed_server.requests if r.path == "/secret"]  # never connected


def test_a_name_that_rebinds_to_loopback_is_refused_at_the_next_connection(
        public_server: FeedServer, feed_server: FeedServer) -> None:
    public_server.route("/rss", rss_feed("News", [NEWS]))
    feed_server.route("/rss", rss_feed("Intranet", [SECRET]))
    answers = iter([[PUBLIC_STAND_IN], ["127.0.0.1"]])  # public at check time, then not

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    guard = stand_in_guard(AddressGuard(resolve=rebinding))
    port = public_server.base_url.rsplit(":", 1)[1]
    assert feed_server.base_url.endswith(f":{port}") is False  # two servers, two ports
    url = f"http://news.example:{port}/rss"
    assert b"Bamako" in fetch(url, guard)
    with pytest.raises(FetchError) as caught:
        fetch(url, guard)
    assert caught.value.reason == "refused"


def test_a_mixed_answer_with_one_private_address_is_refused(public_server: FeedServer) -> None:
    public_server.route("/rss", rss_feed("News", [NEWS]))

    async def mixed(host: str, port: int) -> list[str]:
        return [PUBLIC_STAND_IN, "10.0.0.5"]

    with pytest.raises(FetchError, match="private or local"):
        fetch(public_server.url("/rss").replace(PUBLIC_STAND_IN, "news.example"),
              stand_in_guard(AddressGuard(resolve=mixed)))


def test_feeds_from_the_config_file_stay_trusted(feed_server: FeedServer) -> None:
    feed_server.route("/rss", rss_feed("Local", [NEWS]))
    assert b"Bamako" in fetch(feed_server.url("/rss"), AddressGuard(), public_only=False)


def test_a_chat_feed_is_checked_at_every_poll_not_only_when_added(
        tmp_path: Path, feed_server: FeedServer) -> None:
    """A feed stored as added from chat, on an address that is (now) private, is refused at
    the poll, and nothing it serves is stored."""
    feed_server.route("/rss", rss_feed("Intranet", [SECRET]))
    config = load_config(write_config(tmp_path, []))
    store = Store.open(config.storage_path)
    store.add_feed(FeedConfig("Added", feed_server.url("/rss"), "fr", 600))
    store.close()

    async def go() -> None:
        async with BotApp(config, None) as app:
            report = await app.poll_all()
            [outcome] = report.outcomes
            assert outcome.status == "failed" and outcome.error
            assert "private or local" in outcome.error

    asyncio.run(go())
    store = Store.open(config.storage_path)
    assert store.counts()["items"] == 0
    store.close()
