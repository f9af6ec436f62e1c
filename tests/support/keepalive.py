"""A small HTTP/1.1 server that keeps connections open and notes the client port of each request."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BODY = b"<rss><channel><title>Le Quotidien</title></channel></rss>"
ETAG = '"v1"'


class _Handler(BaseHTTPRequestHandler):
    """/slow answers after a second, /close closes after answering, /old redirects to
    /feed (/old-long with a long body); anything else is BODY with ETAG, or a 304 when the
    request already has it (/stray sends a body after its 304, as broken servers do)."""

    protocol_version = "HTTP/1.1"
    server: KeepAliveServer

    def do_GET(self) -> None:
        self.server.peers.append(self.client_address)
        if self.path == "/slow":
            time.sleep(1.0)
        if self.path == "/old":
            self._answer(301, b"<html><body>Moved to /feed</body></html>", Location="/feed")
        elif self.path == "/old-long":
            self._answer(301, b"<p>Moved to /feed</p>" * 5_000, Location="/feed")
        elif self.headers.get("If-None-Match") == ETAG and self.path == "/stray":
            self._answer(304, b"hello", ETag=ETAG, **{"Content-Length": "5"})
        elif self.headers.get("If-None-Match") == ETAG:
            self._answer(304, b"", ETag=ETAG)
        elif self.path == "/close":
            self._answer(200, BODY, Connection="close")
        else:
            self._answer(200, BODY, ETag=ETAG)

    def _answer(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class KeepAliveServer(ThreadingHTTPServer):
    """The server; ``peers`` holds the client address of every request, in order."""

    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.peers: list[tuple[str, int]] = []
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client refusing our certificate is what one test wants

    @property
    def connections(self) -> int:
        """Distinct connections the requests came over."""
        return len({port for _, port in self.peers})


@contextmanager
def serving(tls: ssl.SSLContext | None = None) -> Iterator[KeepAliveServer]:
    """A running server, shut down on the way out."""
    server = KeepAliveServer(tls)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
