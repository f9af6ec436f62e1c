"""Local HTTP server on 127.0.0.1 serving RSS/Atom feeds and misbehaving routes to tests."""

from __future__ import annotations

import contextlib
import gzip as gziplib
import socket
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol, Required, Self, TypedDict
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

RouteFunction = Callable[[dict[str, str]], tuple[int, Mapping[str, str], bytes | str]]
"""Custom route: gets request headers (names lower-cased), returns (status, headers, body)."""


class FeedItem(TypedDict, total=False):
    """One item for rss_feed() / atom_feed(); plain dicts with these keys work too."""

    title: Required[str]
    link: Required[str]
    guid: str
    summary: str  # may contain HTML: it is escaped into the XML
    published: datetime  # naive means UTC


@dataclass(frozen=True)
class RequestRecord:
    """One request as seen by the server."""

    path: str  # request path without the query string
    target: str  # raw request target, query string included
    method: str
    headers: dict[str, str]  # header names lower-cased
    status: int | None  # None when the connection was closed without a response
    time: float  # time.monotonic() when the request was received


class FeedServer:
    """HTTP server in a background thread; register routes, point the code under test at url()."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host  # any loopback address: 127.0.0.2 stands for another machine
        self._lock = threading.Lock()
        self._routes: dict[str, _Route] = {}
        self._records: list[RequestRecord] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            raise RuntimeError("FeedServer already started")
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FeedServer:{self._httpd.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut open connections; returns promptly even mid-response."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._httpd = self._thread = None
        httpd.stopping.set()  # wakes handlers sleeping in a delay or a drip
        httpd.shutdown()  # waits at most one poll_interval
        httpd.server_close()
        httpd.abort_connections()  # unblocks handlers stuck writing to a slow reader
        thread.join(timeout=1.0)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("FeedServer is not running")
        return f"http://{self.host}:{self._httpd.server_port}"

    def url(self, path: str) -> str:
        return self.base_url + ("" if path.startswith("/") else "/") + path

    # Routes ------------------------------------------------------------------------------------

    def route(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = "application/rss+xml; charset=utf-8",
        status: int = 200,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        gzip: bool = False,
    ) -> None:
        """Register or atomically replace a route serving a fixed body.

        With etag / last_modified set, answers 304 to a matching If-None-Match, or (when the
        request has no If-None-Match) to an If-Modified-Since equal to last_modified, as nginx
        does. With gzip=True the body is gzip-encoded for clients that accept it. `headers`
        are sent after, and override, the generated ones.
        """
        data = body.encode() if isinstance(body, str) else body
        self._set_route(
            path,
            _FixedRoute(
                status=status,
                body=data,
                content_type=content_type,
                etag=etag,
                last_modified=last_modified,
                headers=dict(headers or {}),
                delay=delay,
                gzipped=gziplib.compress(data, mtime=0) if gzip else None,
            ),
        )

    def route_redirect(self, path: str, to_path: str, status: int = 301) -> None:
        """Redirect path to to_path (a path or an absolute URL); redirect loops are allowed."""
        self._set_route(
            path,
            _FixedRoute(status=status, content_type="text/plain", headers={"Location": to_path}),
        )

    def route_status(
        self,
        path: str,
        status: int,
        body: bytes | str = b"",
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer with a bare status (e.g. 404, 410, 429 with Retry-After, 503)."""
        data = body.encode() if isinstance(body, str) else body
        self._set_route(
            path,
            _FixedRoute(
                status=status,
                body=data,
                content_type="text/plain; charset=utf-8",
                headers=dict(headers or {}),
            ),
        )

    def route_slow_drip(
        self,
        path: str,
        total_bytes: int,
        bytes_per_second: float,
        *,
        content_type: str = "application/rss+xml; charset=utf-8",
    ) -> None:
        """Send headers at once, then trickle total_bytes of filler at bytes_per_second.

        The body comes in pieces of about 1/20 s worth of bytes (at least one byte), each piece
        preceded by its share of the wait: below 1 byte/s the gaps exceed one second.
        """
        if bytes_per_second <= 0:
            raise ValueError("bytes_per_second must be positive")
        self._set_route(path, _DripRoute(total_bytes, bytes_per_second, content_type))

    def route_huge(
        self,
        path: str,
        size_bytes: int,
        chunk: int = 64 * 1024,
        *,
        content_length: bool = True,
        content_type: str = "application/rss+xml; charset=utf-8",
    ) -> None:
        """Stream size_bytes of filler generated chunk by chunk, never held in memory whole.

        Without Content-Length the end of the body is signalled by closing the connection.
        """
        if chunk <= 0:
            raise ValueError("chunk must be positive")
        self._set_route(path, _HugeRoute(size_bytes, chunk, content_length, content_type))

    def route_gzip_bomb(self, path: str, decompressed_size: int) -> None:
        """Serve a small gzip body (Content-Encoding: gzip) expanding to decompressed_size zeros."""
        self._set_route(
            path,
            _FixedRoute(
                body=_gzipped_zeros(decompressed_size),
                content_type="application/rss+xml; charset=utf-8",
                headers={"Content-Encoding": "gzip"},
            ),
        )

    def route_reset(self, path: str, *, rst: bool = False) -> None:
        """Close the connection without any response (rst=True aborts it with a TCP RST)."""
        self._set_route(path, _ResetRoute(rst))

    def route_callable(self, path: str, fn: RouteFunction) -> None:
        """Answer with fn(request_headers) -> (status, headers, body), called per request."""
        self._set_route(path, _CallableRoute(fn))

    # Request log -------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Snapshot of the requests received so far, oldest first."""
        with self._lock:
            return list(self._records)

    def hits(self, path: str) -> int:
        """Number of requests for path (compared without query string, or as the raw target)."""
        return sum(1 for record in self.requests if path in (record.path, record.target))

    def clear_requests(self) -> None:
        with self._lock:
            self._records.clear()

    # Used by the request handler ---------------------------------------------------------------

    def _set_route(self, path: str, route: _Route) -> None:
        with self._lock:
            self._routes[path] = route

    def _find_route(self, path: str) -> _Route:
        with self._lock:
            route = self._routes.get(path)
        return route or _FixedRoute(404, b"not found\n", content_type="text/plain")

    def _log(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)


# Feed builders -------------------------------------------------------------------------------


def rss_feed(
    title: str,
    items: Iterable[Mapping[str, Any]],
    *,
    link: str = "https://example.org/",
    lang: str = "fr",
    description: str | None = None,
) -> str:
    """RSS 2.0 document; items have title, link and optionally guid, summary, published."""
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0">',
        "  <channel>",
        _element("title", title, indent=4),
        _element("link", link, indent=4),
        _element("description", title if description is None else description, indent=4),
        _element("language", lang, indent=4),
    ]
    for item in items:
        lines.append("    <item>")
        lines.append(_element("title", item["title"], indent=6))
        lines.append(_element("link", item["link"], indent=6))
        if item.get("guid") is not None:
            lines.append(_element("guid", item["guid"], {"isPermaLink": "false"}, indent=6))
        if item.get("summary") is not None:
            lines.append(_element("description", item["summary"], indent=6))
        if item.get("published") is not None:
            pub_date = format_datetime(_aware(item["published"]))
            lines.append(_element("pubDate", pub_date, indent=6))
        lines.append("    </item>")
    lines += ["  </channel>", "</rss>", ""]
    return "\n".join(lines)


def atom_feed(
    title: str,
    items: Iterable[Mapping[str, Any]],
    *,
    link: str = "https://example.org/",
    lang: str = "en",
    updated: datetime | None = None,
    author: str = "Newsroom",
) -> str:
    """Atom 1.0 document; entries use guid (else link) as id, summary as type="html".

    The feed's updated defaults to the newest published date, else 2000-01-01 UTC.
    """
    entries = list(items)
    if updated is None:
        dates = [_aware(entry["published"]) for entry in entries if entry.get("published")]
        updated = max(dates, default=datetime(2000, 1, 1, tzinfo=UTC))
    feed_updated = _rfc3339(updated)
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(lang)}>',
        _element("id", link, indent=2),
        _element("title", title, indent=2),
        _element("updated", feed_updated, indent=2),
        _element("link", None, {"rel": "alternate", "href": link}, indent=2),
        f"  <author>{_element('name', author)}</author>",
    ]
    for entry in entries:
        published = entry.get("published")
        lines.append("  <entry>")
        lines.append(_element("id", entry.get("guid") or entry["link"], indent=4))
        lines.append(_element("title", entry["title"], indent=4))
        link_attrs = {"rel": "alternate", "type": "text/html", "href": entry["link"]}
        lines.append(_element("link", None, link_attrs, indent=4))
        lines.append(
            _element("updated", _rfc3339(published) if published else feed_updated, indent=4)
        )
        if published:
            lines.append(_element("published", _rfc3339(published), indent=4))
        if entry.get("summary") is not None:
            lines.append(_element("summary", entry["summary"], {"type": "html"}, indent=4))
        lines.append("  </entry>")
    lines += ["</feed>", ""]
    return "\n".join(lines)


def _element(
    tag: str, text: str | None, attrs: Mapping[str, str] | None = None, *, indent: int = 0
) -> str:
    """One XML element with escaped text and attributes (self-closing when text is None)."""
    attributes = "".join(f" {name}={quoteattr(value)}" for name, value in (attrs or {}).items())
    if text is None:
        return f"{' ' * indent}<{tag}{attributes}/>"
    return f"{' ' * indent}<{tag}{attributes}>{escape(text)}</{tag}>"


def _aware(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _rfc3339(moment: datetime) -> str:
    return _aware(moment).isoformat(timespec="seconds")


# HTTP machinery ------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # server_close() must not wait for slow handlers
    # listen() backlog: tests open dozens of connections at once, and a full queue makes the
    # kernel drop handshakes, which a busy machine turns into spurious read timeouts.
    request_queue_size = 256

    def __init__(self, feeds: FeedServer) -> None:
        self.feeds = feeds
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((feeds.host, 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def abort_connections(self) -> None:
        """Shut down every open connection, making blocked reads and writes fail at once."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # client went away or server stopping: expected in these tests
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"  # every response still carries Connection: close

    def do_GET(self) -> None:
        self.received = time.monotonic()
        self.request_headers = {name.lower(): value for name, value in self.headers.items()}
        self.close_connection = True
        route = self.server.feeds._find_route(urlsplit(self.path).path)
        with contextlib.suppress(OSError):  # client hung up, or stop() cut the connection
            route.respond(self)

    def start_response(self, status: int, headers: Mapping[str, str]) -> None:
        """Log the request, then send the status line and headers."""
        self._log(status)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()

    def drop_connection(self, *, rst: bool) -> None:
        """Close without responding; with rst, abort (SO_LINGER 0) so the peer gets a RST."""
        self._log(None)
        if rst:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()  # drop the file's reference so close() really closes
            self.connection.close()

    def pause(self, seconds: float) -> bool:
        """Sleep, waking early when the server stops; True if the server is still running."""
        return not self.server.stopping.wait(seconds)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet; see FeedServer.requests instead

    def _log(self, status: int | None) -> None:
        self.server.feeds._log(
            RequestRecord(
                path=urlsplit(self.path).path,
                target=self.path,
                method=self.command,
                headers=self.request_headers,
                status=status,
                time=self.received,
            )
        )


class _Route(Protocol):
    def respond(self, handler: _Handler) -> None: ...


@dataclass(frozen=True)
class _FixedRoute:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    gzipped: bytes | None = None  # compressed body, when the route offers gzip

    def respond(self, handler: _Handler) -> None:
        if self.delay and not handler.pause(self.delay):
            return
        validators = {}
        if self.etag is not None:
            validators["ETag"] = self.etag
        if self.last_modified is not None:
            validators["Last-Modified"] = self.last_modified
        if self.gzipped is not None:
            validators["Vary"] = "Accept-Encoding"
        if self._not_modified(handler.request_headers):
            handler.start_response(304, _merge(validators, self.headers))
            return
        headers = {"Content-Type": self.content_type, **validators}
        body = self.body
        if self.gzipped is not None and _accepts_gzip(handler.request_headers):
            body = self.gzipped
            headers["Content-Encoding"] = "gzip"
        headers["Content-Length"] = str(len(body))
        handler.start_response(self.status, _merge(headers, self.headers))
        handler.wfile.write(body)

    def _not_modified(self, request_headers: Mapping[str, str]) -> bool:
        if_none_match = request_headers.get("if-none-match")
        if if_none_match is not None:  # takes precedence over If-Modified-Since
            return self.etag is not None and _etag_matches(if_none_match, self.etag)
        if_modified_since = request_headers.get("if-modified-since")
        return if_modified_since is not None and if_modified_since == self.last_modified


@dataclass(frozen=True)
class _DripRoute:
    total_bytes: int
    bytes_per_second: float
    content_type: str

    def respond(self, handler: _Handler) -> None:
        headers = {"Content-Type": self.content_type, "Content-Length": str(self.total_bytes)}
        handler.start_response(200, headers)
        piece = max(1, int(self.bytes_per_second / 20))
        interval = piece / self.bytes_per_second
        sent = 0
        while sent < self.total_bytes:
            if not handler.pause(interval):
                return
            size = min(piece, self.total_bytes - sent)
            handler.wfile.write(_filler(size))
            sent += size


@dataclass(frozen=True)
class _HugeRoute:
    size_bytes: int
    chunk: int
    content_length: bool
    content_type: str

    def respond(self, handler: _Handler) -> None:
        headers = {"Content-Type": self.content_type}
        if self.content_length:
            headers["Content-Length"] = str(self.size_bytes)
        handler.start_response(200, headers)
        block = memoryview(_filler(min(self.chunk, self.size_bytes)))
        remaining = self.size_bytes
        while remaining > 0 and not handler.server.stopping.is_set():
            size = min(remaining, len(block))
            handler.wfile.write(block[:size])
            remaining -= size


@dataclass(frozen=True)
class _ResetRoute:
    rst: bool

    def respond(self, handler: _Handler) -> None:
        handler.drop_connection(rst=self.rst)


@dataclass(frozen=True)
class _CallableRoute:
    fn: RouteFunction

    def respond(self, handler: _Handler) -> None:
        status, headers, body = self.fn(dict(handler.request_headers))
        data = body.encode() if isinstance(body, str) else body
        defaults = {} if status in (204, 304) else {"Content-Length": str(len(data))}
        handler.start_response(status, _merge(defaults, headers))
        handler.wfile.write(data)


def _merge(defaults: Mapping[str, str], overrides: Mapping[str, str]) -> dict[str, str]:
    """Headers from defaults, replaced case-insensitively by overrides."""
    overridden = {name.lower() for name in overrides}
    kept = {name: value for name, value in defaults.items() if name.lower() not in overridden}
    return {**kept, **overrides}


def _etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison, as If-None-Match requires."""
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag.removeprefix("W/") in candidates


def _accepts_gzip(request_headers: Mapping[str, str]) -> bool:
    for coding in request_headers.get("accept-encoding", "").split(","):
        name, _, params = coding.partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            quality = params.strip().removeprefix("q=") or "1"
            return float(quality) > 0
    return False


def _filler(size: int) -> bytes:
    """size bytes of XML comments, harmless wherever they end up."""
    pattern = b"<!-- filler -->\n"
    return (pattern * (size // len(pattern) + 1))[:size]


def _gzipped_zeros(size: int) -> bytes:
    """Gzip stream of size zero bytes, compressed 1 MiB at a time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(min(size, 1 << 20))
    parts = []
    remaining = size
    while remaining > 0:
        piece = block if remaining >= len(block) else block[:remaining]
        parts.append(compressor.compress(piece))
        remaining -= len(piece)
    parts.append(compressor.flush())
    return b"".join(parts)
