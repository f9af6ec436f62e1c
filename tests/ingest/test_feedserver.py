"""Tests for the local feed server used by the rest of the test suite."""

from __future__ import annotations

import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import feedparser
import httpx
import pytest

from tests.support.feedserver import FeedItem, FeedServer, atom_feed, rss_feed

ITEMS: list[FeedItem] = [
    {
        "title": "Sahel : l'AES & la CEDEAO signent un accord « sécurité » <analyse>",
        "link": "https://news.example.org/articles/1?ref=rss&lang=fr",
        "guid": "urn:example:article:1&v2",
        "summary": '<p>Coopération <b>Niger–Bénin</b> &amp; <a href="https://x.example/?a=1&amp;b=2">'
        "lien</a></p>",
        "published": datetime(2024, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=1))),
    },
    {"title": "Deuxième article", "link": "https://news.example.org/articles/2"},
]


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as feed_server:
        yield feed_server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as http_client:
        yield http_client


def test_plain_route_serves_a_parseable_feed(server: FeedServer, client: httpx.Client) -> None:
    server.route("/feed.xml", rss_feed("Flux Sahel", ITEMS))

    response = client.get(server.url("/feed.xml"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert response.headers["content-length"] == str(len(response.content))
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0
    assert [entry.title for entry in parsed.entries] == [item["title"] for item in ITEMS]


def test_url_and_lifecycle() -> None:
    feed_server = FeedServer()
    with pytest.raises(RuntimeError):
        _ = feed_server.base_url
    with feed_server:
        assert feed_server.base_url.startswith("http://127.0.0.1:")
        assert feed_server.url("a/b") == feed_server.url("/a/b") == feed_server.base_url + "/a/b"
    with pytest.raises(RuntimeError):
        _ = feed_server.base_url
    feed_server.stop()  # idempotent


def test_unknown_path_is_404(server: FeedServer, client: httpx.Client) -> None:
    assert client.get(server.url("/nothing")).status_code == 404


def test_route_is_replaced_in_place(server: FeedServer, client: httpx.Client) -> None:
    server.route("/feed", "version 1", content_type="text/plain")
    assert client.get(server.url("/feed")).text == "version 1"

    server.route("/feed", "version 2", content_type="text/plain")
    assert client.get(server.url("/feed")).text == "version 2"


def test_concurrent_replacement_never_mixes_versions(server: FeedServer) -> None:
    done = threading.Event()

    def keep_replacing() -> None:
        version = 0
        while not done.is_set():
            version += 1
            server.route("/feed", f"v{version}", etag=f'"v{version}"')
            time.sleep(0.001)

    writer = threading.Thread(target=keep_replacing)
    writer.start()
    try:
        with httpx.Client(timeout=5.0) as http_client:
            for _ in range(30):
                response = http_client.get(server.url("/feed"))
                assert response.headers["etag"] == f'"{response.text}"'
    finally:
        done.set()
        writer.join()


def test_etag_round_trip(server: FeedServer, client: httpx.Client) -> None:
    server.route("/feed", rss_feed("Flux", ITEMS), etag='"v1"')

    first = client.get(server.url("/feed"))
    assert first.status_code == 200
    assert first.headers["etag"] == '"v1"'

    cached = client.get(server.url("/feed"), headers={"If-None-Match": first.headers["etag"]})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == '"v1"'

    server.route("/feed", rss_feed("Flux", ITEMS[:1]), etag='"v2"')
    changed = client.get(server.url("/feed"), headers={"If-None-Match": '"v1"'})
    assert changed.status_code == 200
    assert changed.headers["etag"] == '"v2"'


def test_last_modified_round_trip(server: FeedServer, client: httpx.Client) -> None:
    stamp = "Wed, 01 May 2024 12:00:00 GMT"
    server.route("/feed", rss_feed("Flux", ITEMS), last_modified=stamp)

    first = client.get(server.url("/feed"))
    assert first.status_code == 200
    assert first.headers["last-modified"] == stamp

    cached = client.get(server.url("/feed"), headers={"If-Modified-Since": stamp})
    assert cached.status_code == 304
    assert cached.content == b""

    older = client.get(
        server.url("/feed"), headers={"If-Modified-Since": "Tue, 30 Apr 2024 12:00:00 GMT"}
    )
    assert older.status_code == 200


def test_gzip_is_decoded_by_httpx(server: FeedServer, client: httpx.Client) -> None:
    body = rss_feed("Flux", ITEMS * 20)
    server.route("/feed", body, gzip=True)

    with client.stream("GET", server.url("/feed")) as response:
        assert response.headers["content-encoding"] == "gzip"
        wire_size = sum(len(part) for part in response.iter_raw())
    assert wire_size < len(body.encode()) / 5

    assert client.get(server.url("/feed")).text == body

    identity = client.get(server.url("/feed"), headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in identity.headers
    assert identity.text == body


def test_redirect(server: FeedServer) -> None:
    server.route("/new", rss_feed("Flux", ITEMS))
    server.route_redirect("/old", "/new", status=308)

    with httpx.Client(timeout=5.0, follow_redirects=True) as http_client:
        response = http_client.get(server.url("/old"))

    assert response.status_code == 200
    assert response.url == server.url("/new")
    assert [hop.status_code for hop in response.history] == [308]


def test_redirect_loop(server: FeedServer) -> None:
    server.route_redirect("/a", "/b")
    server.route_redirect("/b", "/a")

    with (
        httpx.Client(timeout=5.0, follow_redirects=True, max_redirects=5) as http_client,
        pytest.raises(httpx.TooManyRedirects),
    ):
        http_client.get(server.url("/a"))


def test_slow_drip_trips_a_read_timeout(server: FeedServer) -> None:
    server.route_slow_drip("/drip", total_bytes=10, bytes_per_second=0.5)  # a byte every 2 s

    started = time.monotonic()
    with (
        httpx.Client(timeout=httpx.Timeout(5.0, read=1.0)) as http_client,
        http_client.stream("GET", server.url("/drip")) as response,
    ):
        assert response.status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            response.read()
    assert 0.9 < time.monotonic() - started < 1.9


def test_slow_drip_trickles_the_whole_body(server: FeedServer, client: httpx.Client) -> None:
    server.route_slow_drip("/drip", total_bytes=40, bytes_per_second=100)

    started = time.monotonic()
    response = client.get(server.url("/drip"))

    assert len(response.content) == 40
    assert time.monotonic() - started >= 0.35


def test_huge_route_can_be_abandoned_early(server: FeedServer, client: httpx.Client) -> None:
    size = 50 * 1024 * 1024
    server.route_huge("/huge", size)

    tracemalloc.start()
    try:
        received = 0
        with client.stream("GET", server.url("/huge")) as response:
            assert response.headers["content-length"] == str(size)
            for part in response.iter_bytes():
                received += len(part)
                if received >= 2 * 1024 * 1024:
                    break
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert 2 * 1024 * 1024 <= received < size
    assert peak < 8 * 1024 * 1024  # neither side ever held the 50 MB

    server.route("/ok", "still serving")
    assert client.get(server.url("/ok")).text == "still serving"


@pytest.mark.parametrize("content_length", [True, False])
def test_huge_route_exact_size(
    server: FeedServer, client: httpx.Client, content_length: bool
) -> None:
    size = 2 * 1024 * 1024 + 123
    server.route_huge("/huge", size, chunk=10_000, content_length=content_length)

    response = client.get(server.url("/huge"))

    assert len(response.content) == size
    assert ("content-length" in response.headers) is content_length


def test_gzip_bomb_is_small_on_the_wire(server: FeedServer, client: httpx.Client) -> None:
    expanded = 200 * 1024 * 1024
    server.route_gzip_bomb("/bomb", expanded)

    with client.stream("GET", server.url("/bomb")) as response:
        assert response.headers["content-encoding"] == "gzip"
        compressed = b"".join(response.iter_raw())
    assert len(compressed) < 1024 * 1024
    assert response.headers["content-length"] == str(len(compressed))

    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    total, pending = 0, compressed
    while pending:
        total += len(decompressor.decompress(pending, 1024 * 1024))
        pending = decompressor.unconsumed_tail
    assert decompressor.eof
    assert total == expanded


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_status_routes(server: FeedServer, client: httpx.Client, status: int) -> None:
    server.route_status("/feed", status, f"error {status}")

    response = client.get(server.url("/feed"))

    assert response.status_code == status
    assert response.text == f"error {status}"


def test_status_route_with_headers(server: FeedServer, client: httpx.Client) -> None:
    server.route_status("/feed", 429, headers={"Retry-After": "120"})

    response = client.get(server.url("/feed"))

    assert response.status_code == 429
    assert response.headers["retry-after"] == "120"
    assert response.content == b""


def test_reset_closes_without_response(server: FeedServer, client: httpx.Client) -> None:
    server.route_reset("/closed")
    server.route_reset("/rst", rst=True)

    with pytest.raises(httpx.RemoteProtocolError):
        client.get(server.url("/closed"))
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        client.get(server.url("/rst"))

    assert [record.status for record in server.requests] == [None, None]


def test_callable_route(server: FeedServer, client: httpx.Client) -> None:
    def echo_agent(headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
        return 201, {"X-Agent": headers["user-agent"]}, f"hello {headers['user-agent']}"

    server.route_callable("/custom", echo_agent)

    response = client.get(server.url("/custom"), headers={"User-Agent": "sahel-watch/0.1"})

    assert response.status_code == 201
    assert response.headers["x-agent"] == "sahel-watch/0.1"
    assert response.text == "hello sahel-watch/0.1"


def test_delay(server: FeedServer, client: httpx.Client) -> None:
    server.route("/slow", "late", delay=0.3)

    started = time.monotonic()
    assert client.get(server.url("/slow")).text == "late"
    assert time.monotonic() - started >= 0.3


def test_request_log(server: FeedServer, client: httpx.Client) -> None:
    server.route("/feed", rss_feed("Flux", ITEMS), etag='"v1"')
    before = time.monotonic()

    client.get(server.url("/feed?since=1"), headers={"User-Agent": "sahel-watch/0.1"})
    client.get(server.url("/feed"), headers={"If-None-Match": '"v1"'})
    client.get(server.url("/missing"))

    records = server.requests
    assert [(r.path, r.target, r.method, r.status) for r in records] == [
        ("/feed", "/feed?since=1", "GET", 200),
        ("/feed", "/feed", "GET", 304),
        ("/missing", "/missing", "GET", 404),
    ]
    assert records[0].headers["user-agent"] == "sahel-watch/0.1"
    assert records[1].headers["if-none-match"] == '"v1"'
    assert before <= records[0].time <= records[1].time <= records[2].time <= time.monotonic()
    assert server.hits("/feed") == 2
    assert server.hits("/feed?since=1") == 1
    assert server.hits("/other") == 0

    server.clear_requests()
    assert server.requests == []


def test_stop_is_prompt_during_slow_drip() -> None:
    feed_server = FeedServer().start()
    feed_server.route_slow_drip("/drip", total_bytes=1000, bytes_per_second=2)
    failures: list[Exception] = []

    def read_drip() -> None:
        try:
            httpx.get(feed_server.url("/drip"), timeout=10.0)
        except httpx.HTTPError as error:
            failures.append(error)

    reader = threading.Thread(target=read_drip)
    reader.start()
    deadline = time.monotonic() + 5
    while feed_server.hits("/drip") == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert feed_server.hits("/drip") == 1

    started = time.monotonic()
    feed_server.stop()
    assert time.monotonic() - started < 1.0

    reader.join(timeout=2.0)
    assert not reader.is_alive()
    assert len(failures) == 1


def test_rss_feed_round_trips_through_feedparser() -> None:
    parsed = feedparser.parse(
        rss_feed("Flux « Sahel » & co", ITEMS, link="https://news.example.org/").encode()
    )

    assert parsed.bozo == 0
    assert parsed.version == "rss20"
    assert parsed.feed.title == "Flux « Sahel » & co"
    assert parsed.feed.link == "https://news.example.org/"
    assert parsed.feed.language == "fr"
    first, second = parsed.entries
    assert first.title == ITEMS[0]["title"]
    assert first.link == ITEMS[0]["link"]
    assert first.id == ITEMS[0]["guid"]
    assert first.guidislink is False
    assert first.summary == ITEMS[0]["summary"]
    assert first.published_parsed[:6] == (2024, 5, 1, 11, 30, 0)
    assert second.title == "Deuxième article"
    assert second.link == ITEMS[1]["link"]
    assert "summary" not in second


def test_atom_feed_round_trips_through_feedparser() -> None:
    parsed = feedparser.parse(atom_feed("Feed & co", ITEMS).encode())

    assert parsed.bozo == 0
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Feed & co"
    assert parsed.feed.language == "en"
    assert parsed.feed.updated_parsed[:6] == (2024, 5, 1, 11, 30, 0)
    first, second = parsed.entries
    assert first.title == ITEMS[0]["title"]
    assert first.link == ITEMS[0]["link"]
    assert first.id == ITEMS[0]["guid"]
    assert first.summary == ITEMS[0]["summary"]
    assert first.published_parsed[:6] == (2024, 5, 1, 11, 30, 0)
    assert second.id == second.link == ITEMS[1]["link"]


def test_naive_datetimes_are_utc() -> None:
    item: FeedItem = {
        "title": "t",
        "link": "https://x.example/",
        "published": datetime(2024, 1, 2, 3, 4),
    }

    rss = feedparser.parse(rss_feed("f", [item]).encode())
    atom = feedparser.parse(
        atom_feed("f", [item], updated=datetime(2024, 1, 3, tzinfo=UTC)).encode()
    )

    assert rss.entries[0].published_parsed[:5] == (2024, 1, 2, 3, 4)
    assert atom.entries[0].published_parsed[:5] == (2024, 1, 2, 3, 4)
    assert atom.feed.updated_parsed[:3] == (2024, 1, 3)
