"""Conditional, bounded, concurrent HTTP GET of feeds: bytes and validators out, no parsing."""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from urllib.parse import urlsplit

import httpx

from bot.errors import FetchError
from bot.ingest.addresses import AddressGuard
from bot.ingest.cadence import cache_lifetime
from bot.ingest.netbackend import REFUSED, asyncio_transport
from bot.settings.config import PollingConfig
from bot.settings.urls import url_problem

ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, "
          "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
ACCEPT_ENCODING = "gzip, deflate"
# Connection pools, chosen by host (see Fetcher._transport_for).
CLIENT_SHARDS = 128
HOSTS_PER_SHARD = 3  # hosts a pool has connections for at once, at their per-host limit
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# A redirect's body of a declared length up to this size is read (and dropped) so that its
# connection can serve the next request, if it comes within the time below; any other
# redirect's connection is closed instead.
REDIRECT_BODY_DRAINED = 64 * 1024
REDIRECT_DRAIN_SECONDS = 1.0
# Seconds an idle connection is kept for the next request to its host: under the 5 s after
# which common servers close theirs, so that a request is not sent down a closing one.
KEEPALIVE_SECONDS = 4.0
# Hosts that ask for a gap between two requests, in seconds: the open news index whose
# searches the bot ships allows one request every 5 seconds.
HOST_SPACING: Mapping[str, float] = MappingProxyType({"api.gdeltproject.org": 6.0})


@dataclass(frozen=True)
class FetchResult:
    """What one GET brought back."""

    url: str  # the final address, after redirects
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None
    cache_seconds: float | None = None  # how long the server says the answer stays fresh

    @property
    def not_modified(self) -> bool:
        """True for a 304 answer to a conditional request."""
        return self.status == 304


class _Turn:
    """The requests to one host that asks for a gap between them, one at a time."""

    def __init__(self, gap: float) -> None:
        self.gap = gap
        self._lock = asyncio.Lock()
        self._next = 0.0  # the loop time from which the host may be asked again

    async def wait(self) -> None:
        """Take the host's turn once the gap since its last request has passed."""
        await self._lock.acquire()
        try:
            wait = self._next - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)
        except BaseException:
            self._lock.release()
            raise

    def start(self) -> None:
        """The request starts now (or will not be made): the next may come after the gap."""
        self._next = asyncio.get_running_loop().time() + self.gap
        self._lock.release()


class RetryLater(FetchError):
    """The server asked us to come back later (429 or 503 with Retry-After)."""

    def __init__(self, reason: str, retry_after: float | None) -> None:
        super().__init__(reason, f"retry after {retry_after:.0f}s" if retry_after else "")
        self.retry_after = retry_after


def _utc_now() -> datetime:
    """The real clock, unless the bot hands the fetcher its own."""
    return datetime.now(UTC)


class Fetcher:
    """Fetches feeds with overall and per-host concurrency limits; one instance per run.

    Requests go straight to httpx's transport: a feed poll needs no cookies, no auth and no
    header merging, and skipping the client layer halves the CPU an unchanged feed costs.
    """

    def __init__(self, config: PollingConfig,
                 transport: httpx.AsyncBaseTransport | None = None, *,
                 guard: AddressGuard | None = None,
                 clock: Callable[[], datetime] = _utc_now,
                 spacing: Mapping[str, float] = HOST_SPACING) -> None:
        self.config = config
        self._spacing = spacing  # host -> least seconds between two requests to it
        self._spaced: dict[str, _Turn] = {}
        self.clock = clock  # a Retry-After date is counted from it
        self._guard = guard or AddressGuard()  # for the feeds that reach public addresses only
        self._overall = asyncio.Semaphore(config.max_concurrency)
        self._per_host: dict[str, asyncio.Semaphore] = {}
        self._given_transport = transport
        self._transports: dict[tuple[int, bool], httpx.AsyncBaseTransport] = {}
        self._tls = ssl.create_default_context()  # loading CA certificates once, not per pool
        self._headers = {"User-Agent": config.user_agent, "Accept": ACCEPT,
                         "Accept-Encoding": ACCEPT_ENCODING}
        self._timeouts = httpx.Timeout(
            connect=config.connect_timeout, read=config.read_timeout,
            write=config.read_timeout, pool=config.total_timeout,
        ).as_dict()

    def _transport_for(self, host: str, public_only: bool) -> httpx.AsyncBaseTransport:
        """One of many small connection pools, chosen by host.

        The HTTP library's pool scans every connection for every request it places, which
        grows with the square of the pool: small pools stay fast with thousands of feeds on
        hundreds of hosts (128 pools instead of 32 cut the pools' share of the work by 60%).
        Each pool has room for three hosts at their full number of connections. Feeds that
        may reach public addresses only have pools of their own, whose backend checks every
        connection.
        """
        if self._given_transport is not None:
            return self._given_transport
        shard = (zlib.crc32(host.encode()) % CLIENT_SHARDS, public_only)
        transport = self._transports.get(shard)
        if transport is None:
            size = max(self.config.per_host * HOSTS_PER_SHARD,
                       -(-self.config.max_concurrency // CLIENT_SHARDS) + self.config.per_host)
            transport = self._transports[shard] = asyncio_transport(
                self._tls, httpx.Limits(max_connections=size, max_keepalive_connections=size,
                                        keepalive_expiry=KEEPALIVE_SECONDS),
                guard=self._guard if public_only else None)
        return transport

    async def _wait_turn(self, host: str) -> _Turn | None:
        """For a host that asks for a gap between requests: wait, without holding a
        connection slot, until it may be asked again, and hold its turn until the request
        starts (``_Turn.start``); None for any other host."""
        gap = self._spacing.get(host)
        if not gap:
            return None
        turn = self._spaced.setdefault(host, _Turn(gap))
        await turn.wait()
        return turn

    async def aclose(self) -> None:
        """Close the connection pools."""
        for transport in self._transports.values():
            await transport.aclose()
        self._transports.clear()

    async def fetch(self, url: str, etag: str | None = None,
                    last_modified: str | None = None, *,
                    public_only: bool = False) -> FetchResult:
        """GET ``url`` conditionally; FetchError with a short reason on any failure.

        ``public_only``: every connection (each redirect hop) must reach a public address,
        checked on the address actually connected to; FetchError("refused") otherwise.
        """
        host = (urlsplit(url).hostname or "").lower()
        per_host = self._per_host.setdefault(host, asyncio.Semaphore(self.config.per_host))
        headers = dict(self._headers)
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        turn = await self._wait_turn(host)
        try:
            async with self._overall, per_host:
                if turn is not None:  # the gap runs from when this request really starts
                    turn.start()
                    turn = None
                return await self._request(url, host, headers, public_only)
        finally:
            if turn is not None:
                turn.start()

    async def _request(self, url: str, host: str, headers: dict[str, str],
                       public_only: bool) -> FetchResult:
        """One GET within its bounds; FetchError with a short reason on any failure."""
        try:
            async with asyncio.timeout(self.config.total_timeout):
                return await self._get(url, host, headers, public_only)
        except TimeoutError:
            raise FetchError("timeout",
                             f"no complete answer within {self.config.total_timeout:g}s"
                             ) from None
        except httpx.ConnectTimeout:
            raise FetchError("connect-timeout") from None
        except httpx.TimeoutException as exc:
            raise FetchError("read-timeout", type(exc).__name__) from None
        except httpx.ConnectError as exc:
            if str(exc).startswith(f"{REFUSED}:"):
                raise FetchError(REFUSED, str(exc).partition(": ")[2]) from None
            raise FetchError("connect-failed", str(exc) or type(exc).__name__) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise FetchError("bad-url", str(exc)) from None
        except (httpx.HTTPError, zlib.error) as exc:
            raise FetchError("protocol-error", str(exc) or type(exc).__name__) from None

    async def _get(self, url: str, host: str, headers: dict[str, str],
                   public_only: bool) -> FetchResult:
        target = httpx.URL(url)
        for _ in range(self.config.max_redirects + 1):
            request = httpx.Request("GET", target, headers=headers,
                                    extensions={"timeout": self._timeouts})
            transport = self._transport_for(host, public_only)
            response = await transport.handle_async_request(request)
            try:
                location = response.headers.get("Location")
                if response.status_code in REDIRECT_STATUSES and location:
                    await _drain_redirect(response)
                    target = target.join(location)
                    host = (target.host or "").lower()
                    continue
                return await self._result(target, response)
            finally:
                await response.aclose()
        raise FetchError("too-many-redirects", f"more than {self.config.max_redirects}")

    async def _result(self, url: httpx.URL, response: httpx.Response) -> FetchResult:
        status = response.status_code
        if status in (429, 503):
            raise RetryLater(f"http-{status}", retry_after_seconds(
                response.headers.get("Retry-After"), self.clock()))
        if status >= 400:
            raise FetchError(f"http-{status}", response.reason_phrase)
        if status == 304:
            await _finish_not_modified(response)
            body = b""
        else:
            body = await self._read_body(response)
        return FetchResult(
            url=str(url),
            status=status,
            body=body,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_type=response.headers.get("Content-Type"),
            cache_seconds=cache_lifetime(response.headers.get("Cache-Control"),
                                         response.headers.get("Age")),
        )

    async def _read_body(self, response: httpx.Response) -> bytes:
        limit = self.config.max_bytes
        declared = response.headers.get("Content-Length", "")
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding in ("", "identity") and declared.isdigit() and int(declared) > limit:
            raise FetchError("too-large", f"Content-Length {declared} > {limit} bytes")
        # gzip and deflate are decoded here, never more than the cap at a time, so a
        # compressed bomb costs no more memory than the cap.
        decoder = _decoder(encoding)
        body = bytearray()
        async for chunk in response.aiter_raw():
            if decoder is None:
                body += chunk
            else:
                pending = chunk
                while pending:
                    body += decoder.decompress(pending, limit - len(body) + 1)
                    pending = decoder.unconsumed_tail
                    if len(body) > limit:
                        break
            if len(body) > limit:
                raise FetchError("too-large", f"body over {limit} bytes")
        return bytes(body)


async def refuse_private_address(url: str, *, allow: bool) -> None:
    """FetchError("refused") unless ``url`` is http(s) on a public address (or ``allow``).

    Feeds proposed from chat must not turn the bot into a probe of its own network. This
    early look gives the admin a clear answer; what protects is the check of every
    connection (``Fetcher.fetch(..., public_only=True)``).
    """
    problem = url_problem(url)
    if problem is not None:
        raise FetchError(REFUSED, problem)
    if allow:
        return
    parts = urlsplit(url)
    assert parts.hostname is not None  # url_problem saw to it
    default_port = 443 if parts.scheme.lower() == "https" else 80
    try:
        _, reason = await AddressGuard().checked(parts.hostname, parts.port or default_port)
    except OSError as exc:
        raise FetchError("dns-failed", str(exc)) from None
    if reason is not None:
        raise FetchError(REFUSED, reason)


async def _finish_not_modified(response: httpx.Response) -> None:
    """Read the end of a 304 that says it has no body: that is what lets the connection
    serve the next request to the host (left unread, the connection is closed and the next
    feed reconnects). A 304 that announces a body is left unread, so its connection is
    closed: stray bytes after it would otherwise be read as the start of the next answer."""
    headers = response.headers
    if "Transfer-Encoding" in headers or headers.get("Content-Length", "0").strip() != "0":
        return
    async for _ in response.aiter_raw():
        pass


async def _drain_redirect(response: httpx.Response) -> None:
    """Read and drop a redirect's short body, so its connection can be reused; any failure,
    slowness or unknown length only means the connection is closed instead."""
    declared = response.headers.get("Content-Length", "")
    if ("Transfer-Encoding" in response.headers or not declared.isdigit()
            or int(declared) > REDIRECT_BODY_DRAINED):
        return
    try:
        async with asyncio.timeout(REDIRECT_DRAIN_SECONDS):
            async for _ in response.aiter_raw():
                pass
    except (TimeoutError, httpx.HTTPError):
        return


def _decoder(encoding: str) -> zlib._Decompress | None:
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS | 32)
    raise FetchError("unsupported-encoding", encoding)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
