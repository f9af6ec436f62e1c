"""Conditional, bounded, concurrent HTTP GET of feeds: bytes and validators out, no parsing."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from bot.config import PollingConfig
from bot.errors import FetchError

ACCEPT = ("application/rss+xml, application/atom+xml, application/xml;q=0.9, "
          "text/xml;q=0.9, */*;q=0.5")
ACCEPT_ENCODING = "gzip, deflate"
# Connection pools, chosen by host (see Fetcher._client_for).
CLIENT_SHARDS = 32


@dataclass(frozen=True)
class FetchResult:
    """What one GET brought back."""

    url: str  # the final address, after redirects
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None

    @property
    def not_modified(self) -> bool:
        """True for a 304 answer to a conditional request."""
        return self.status == 304


class RetryLater(FetchError):
    """The server asked us to come back later (429 or 503 with Retry-After)."""

    def __init__(self, reason: str, retry_after: float | None) -> None:
        super().__init__(reason, f"retry after {retry_after:.0f}s" if retry_after else "")
        self.retry_after = retry_after


class Fetcher:
    """Fetches feeds with overall and per-host concurrency limits; one instance per run."""

    def __init__(self, config: PollingConfig,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self._overall = asyncio.Semaphore(config.max_concurrency)
        self._per_host: dict[str, asyncio.Semaphore] = {}
        self._transport = transport
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._tls = ssl.create_default_context()  # loading CA certificates once, not per pool

    def _client_for(self, host: str) -> httpx.AsyncClient:
        """One of a few connection pools, chosen by host.

        The HTTP library's pool scans every connection for every waiting request, which
        grows with the square of the pool: many small pools stay fast with thousands of
        feeds on hundreds of hosts.
        """
        shard = zlib.crc32(host.encode()) % CLIENT_SHARDS
        client = self._clients.get(shard)
        if client is None:
            size = max(self.config.per_host * 2,
                       -(-self.config.max_concurrency // CLIENT_SHARDS) + self.config.per_host)
            client = self._clients[shard] = httpx.AsyncClient(
                transport=self._transport,
                verify=self._tls,
                follow_redirects=True,
                max_redirects=self.config.max_redirects,
                timeout=httpx.Timeout(
                    connect=self.config.connect_timeout, read=self.config.read_timeout,
                    write=self.config.read_timeout, pool=self.config.total_timeout,
                ),
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                headers={"User-Agent": self.config.user_agent, "Accept": ACCEPT,
                         "Accept-Encoding": ACCEPT_ENCODING},
                trust_env=False,
            )
        return client

    async def aclose(self) -> None:
        """Close the connection pools."""
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def fetch(self, url: str, etag: str | None = None,
                    last_modified: str | None = None) -> FetchResult:
        """GET ``url`` conditionally; FetchError with a short reason on any failure."""
        host = (urlsplit(url).hostname or "").lower()
        per_host = self._per_host.setdefault(host, asyncio.Semaphore(self.config.per_host))
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        async with self._overall, per_host:
            try:
                async with asyncio.timeout(self.config.total_timeout):
                    return await self._get(url, headers)
            except TimeoutError:
                raise FetchError("timeout",
                                 f"no complete answer within {self.config.total_timeout:g}s"
                                 ) from None
            except httpx.TooManyRedirects:
                raise FetchError("too-many-redirects",
                                 f"more than {self.config.max_redirects}") from None
            except httpx.ConnectTimeout:
                raise FetchError("connect-timeout") from None
            except httpx.TimeoutException as exc:
                raise FetchError("read-timeout", type(exc).__name__) from None
            except httpx.ConnectError as exc:
                raise FetchError("connect-failed", str(exc) or type(exc).__name__) from None
            except httpx.UnsupportedProtocol as exc:
                raise FetchError("bad-url", str(exc)) from None
            except (httpx.HTTPError, zlib.error) as exc:
                raise FetchError("protocol-error", str(exc) or type(exc).__name__) from None

    async def _get(self, url: str, headers: dict[str, str]) -> FetchResult:
        host = (urlsplit(url).hostname or "").lower()
        async with self._client_for(host).stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status in (429, 503):
                raise RetryLater(f"http-{status}", retry_after_seconds(
                    response.headers.get("Retry-After"), datetime.now(UTC)))
            if status >= 400:
                raise FetchError(f"http-{status}", response.reason_phrase)
            body = b"" if status == 304 else await self._read_body(response)
            return FetchResult(
                url=str(response.url),
                status=status,
                body=body,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                content_type=response.headers.get("Content-Type"),
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

    Feeds proposed from chat must not turn the bot into a probe of its own network.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("refused", "only http and https addresses are accepted")
    if allow:
        return
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(parts.hostname, parts.port or 443)
    except OSError as exc:
        raise FetchError("dns-failed", str(exc)) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise FetchError("refused", f"{parts.hostname} is a private or local address")


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
