"""The asyncio network backend: HTTPS, keep-alive, closed connections and timeouts, for real."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from typing import Any

import httpcore
import httpx
import pytest
import trustme

from bot.ingest.netbackend import AsyncioBackend, asyncio_transport
from tests.support.keepalive import BODY, KeepAliveServer, serving

LIMITS = httpx.Limits(max_connections=2, max_keepalive_connections=2)
TIMEOUTS = httpx.Timeout(2.0).as_dict()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_server(ca: trustme.CA) -> Iterator[KeepAliveServer]:
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(tls)
    with serving(tls) as server:
        yield server


@pytest.fixture
def http_server() -> Iterator[KeepAliveServer]:
    with serving() as server:
        yield server


def _get(transport: httpx.AsyncHTTPTransport, url: str) -> Any:
    async def go() -> tuple[int, bytes]:
        request = httpx.Request("GET", url, extensions={"timeout": TIMEOUTS})
        response = await transport.handle_async_request(request)
        try:
            return response.status_code, b"".join([c async for c in response.aiter_raw()])
        finally:
            await response.aclose()
    return go()


def test_the_transport_runs_on_the_asyncio_backend() -> None:
    # If httpx ever builds its pool differently, this says so (the fetcher still works).
    transport = asyncio_transport(ssl.create_default_context(), LIMITS)
    pool = getattr(transport, "_pool", None)
    assert isinstance(pool, httpcore.AsyncConnectionPool)
    assert isinstance(pool._network_backend, AsyncioBackend)


def test_https_with_keep_alive(ca: trustme.CA, https_server: KeepAliveServer) -> None:
    tls = ssl.create_default_context()
    ca.configure_trust(tls)
    url = f"https://localhost:{https_server.server_address[1]}/feed"

    async def go() -> list[tuple[int, bytes]]:
        transport = asyncio_transport(tls, LIMITS)
        try:
            return [await _get(transport, url) for _ in range(3)]
        finally:
            await transport.aclose()

    assert asyncio.run(go()) == [(200, BODY)] * 3
    assert https_server.connections == 1  # one connection, reused


def test_an_untrusted_certificate_is_a_connect_error(https_server: KeepAliveServer) -> None:
    url = f"https://localhost:{https_server.server_address[1]}/feed"

    async def go() -> None:
        transport = asyncio_transport(ssl.create_default_context(), LIMITS)
        try:
            await _get(transport, url)
        finally:
            await transport.aclose()

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        asyncio.run(go())


def test_a_connection_the_server_closed_is_not_reused(http_server: KeepAliveServer) -> None:
    base = f"http://127.0.0.1:{http_server.server_address[1]}"

    async def go() -> list[tuple[int, bytes]]:
        transport = asyncio_transport(ssl.create_default_context(), LIMITS)
        try:
            first = await _get(transport, f"{base}/close")
            await asyncio.sleep(0.1)  # the server's close reaches us: the socket is readable
            return [first, await _get(transport, f"{base}/feed")]
        finally:
            await transport.aclose()

    assert asyncio.run(go()) == [(200, BODY)] * 2
    assert http_server.connections == 2


def test_read_timeout_and_refused_connection(http_server: KeepAliveServer) -> None:
    base = f"http://127.0.0.1:{http_server.server_address[1]}"
    quick = httpx.Timeout(2.0, read=0.2).as_dict()

    async def go() -> None:
        transport = asyncio_transport(ssl.create_default_context(), LIMITS)
        try:
            request = httpx.Request("GET", f"{base}/slow", extensions={"timeout": quick})
            with pytest.raises(httpx.ReadTimeout):
                await transport.handle_async_request(request)
            with pytest.raises(httpx.ConnectError, match="Connect call failed"):
                await _get(transport, "http://127.0.0.1:9/feed")  # discard port: closed
        finally:
            await transport.aclose()

    asyncio.run(go())
