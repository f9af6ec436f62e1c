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

from bot.ingest.addresses import AddressGuard

# Seconds before the next address of a host is tried alongside one that does not answer
# (RFC 8305), as httpx's own backend does.
HAPPY_EYEBALLS_DELAY = 0.25
REFUSED = "refused"  # how a refused address starts its error message
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


class AddressRefused(httpcore.ConnectError):
    """A connection to an address a guarded backend may not reach."""


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend on plain asyncio, without a compatibility layer.

    A guarded backend resolves each host itself, refuses it unless every address is
    public, and connects to the addresses it checked: the check belongs to the connection
    (every redirect hop, every poll), so neither a redirect nor a name that resolves
    differently the next time (DNS rebinding) reaches the bot's own network.
    """

    def __init__(self, guard: AddressGuard | None = None) -> None:
        self.guard = guard  # None: any address (feeds from the config file are trusted)

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        with _mapped(CONNECT_ERRORS, timeout):
            async with asyncio.timeout(timeout):
                targets = [host] if self.guard is None else await self._checked(host, port)
                reader, writer = await self._open(targets, port, local_address)
        stream = AsyncioStream(reader, writer)
        for option in socket_options or ():
            stream.get_extra_info("socket").setsockopt(*option)
        return stream

    async def _checked(self, host: str, port: int) -> list[str]:
        """The addresses of ``host``, all of them public, or AddressRefused."""
        assert self.guard is not None
        addresses, reason = await self.guard.checked(host, port)
        if reason is not None:
            raise AddressRefused(f"{REFUSED}: {reason}")
        return addresses

    @staticmethod
    async def _open(targets: list[str], port: int, local_address: str | None,
                    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to the first of ``targets`` that answers."""
        local = (local_address, 0) if local_address else None
        if len(targets) == 1:
            return await asyncio.open_connection(
                targets[0], port, local_addr=local, happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY,
                interleave=1)
        error: OSError | None = None
        for address in targets:  # already resolved: each is tried in turn
            try:
                return await asyncio.open_connection(address, port, local_addr=local)
            except OSError as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        with _mapped(CONNECT_ERRORS, timeout):
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path)
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def asyncio_transport(tls: ssl.SSLContext, limits: httpx.Limits, *,
                      guard: AddressGuard | None = None) -> httpx.AsyncHTTPTransport:
    """httpx's transport (HTTP/1.1, no proxy from the environment) over ``AsyncioBackend``.

    httpx builds its connection pool without a way to name the backend, so the pool is
    rebuilt with the same settings; should a future httpx keep it elsewhere, its own
    pool is kept and only the saving is lost (but a guarded transport, whose check
    lives in the backend, refuses to be built).
    """
    transport = httpx.AsyncHTTPTransport(verify=tls, trust_env=False, limits=limits)
    replaceable = isinstance(getattr(transport, "_pool", None), httpcore.AsyncConnectionPool)
    if guard is not None and not replaceable:  # never fall back to a pool that checks nothing
        raise RuntimeError("this httpx keeps its connection pool elsewhere: the address "
                           "check of chat-added feeds cannot be installed")
    if replaceable:
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, http1=True, http2=False,
            network_backend=AsyncioBackend(guard))
    return transport


def _readable(sock: socket.socket | None) -> bool:
    """True when a read would not block: data waiting, or the peer has closed."""
    if sock is None or sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(0))
