"""Sockets for the HTTP library straight on asyncio streams: the same I/O at less CPU."""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

# Seconds before the next address of a host is tried alongside one that does not answer
# (RFC 8305), as httpx's own backend does.
HAPPY_EYEBALLS_DELAY = 0.25
# One entry per exception the streams may raise, in httpcore's terms.
ErrorMap = dict[type[Exception], type[Exception]]
READ_ERRORS: ErrorMap = {TimeoutError: httpcore.ReadTimeout, OSError: httpcore.ReadError}
WRITE_ERRORS: ErrorMap = {TimeoutError: httpcore.WriteTimeout, OSError: httpcore.WriteError}
CONNECT_ERRORS: ErrorMap = {TimeoutError: httpcore.ConnectTimeout, OSError: httpcore.ConnectError}
TLS_ERRORS: ErrorMap = {TimeoutError: httpcore.ConnectTimeout, ssl.SSLError: httpcore.ConnectError,
              OSError: httpcore.ConnectError}


@contextmanager
def _mapped(errors: ErrorMap,
            timeout: float | None) -> Iterator[None]:
    """Raise httpcore's exception for a timeout or socket error, as its own backends do."""
    try:
        yield
    except tuple(errors) as exc:
        for caught, raised in errors.items():
            if isinstance(exc, caught):
                raise raised(str(exc) or f"{type(exc).__name__} (timeout {timeout}s)") from exc
        raise  # pragma: no cover (every key is a base of what was caught)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection as an asyncio reader and writer pair."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _mapped(READ_ERRORS, timeout):
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        with _mapped(WRITE_ERRORS, timeout):
            async with asyncio.timeout(timeout):
                self._writer.write(buffer)
                await self._writer.drain()

    async def aclose(self) -> None:
        self._writer.close()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        try:
            with _mapped(TLS_ERRORS, timeout):
                async with asyncio.timeout(timeout):
                    await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except Exception:
            await self.aclose()
            raise
        return self

    def get_extra_info(self, info: str) -> Any:
        sock = self._writer.get_extra_info("socket")
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return sock
        if info == "is_readable":  # asked of an idle kept-alive connection before reuse
            return _readable(sock)
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend on plain asyncio, without a compatibility layer."""

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        with _mapped(CONNECT_ERRORS, timeout):
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, local_addr=(local_address, 0) if local_address else None,
                    happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY, interleave=1)
        stream = AsyncioStream(reader, writer)
        for option in socket_options or ():
            stream.get_extra_info("socket").setsockopt(*option)
        return stream

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        with _mapped(CONNECT_ERRORS, timeout):
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path)
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def asyncio_transport(tls: ssl.SSLContext, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """httpx's transport (HTTP/1.1, no proxy from the environment) over ``AsyncioBackend``.

    httpx builds its connection pool without a way to name the backend, so the pool is
    rebuilt with the same settings; should a future httpx keep it elsewhere, its own
    pool is kept and only the saving is lost.
    """
    transport = httpx.AsyncHTTPTransport(verify=tls, trust_env=False, limits=limits)
    if isinstance(getattr(transport, "_pool", None), httpcore.AsyncConnectionPool):
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, http1=True, http2=False,
            network_backend=AsyncioBackend())
    return transport


def _readable(sock: socket.socket | None) -> bool:
    """True when a read would not block: data waiting, or the peer has closed."""
    if sock is None or sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(0))
