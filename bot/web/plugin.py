"""The web view's own Datasette plugin: SQL functions and guards, charts, linked titles, and
what every request must be (a known host, a page a reader needs, read-only)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Request, Response
from markupsafe import Markup, escape

from bot.errors import StoreError
from bot.ops.series import stories_per_day
from bot.partners.digest import partner_map_from
from bot.settings.urls import redact_url
from bot.storage.browse import (
    NOW_FUNCTION,
    REDACT_FUNCTION,
    SEARCH_FUNCTION,
    STORED_TIME,
    UNREADABLE_TABLES,
)
from bot.storage.listings import fts_match
from bot.storage.store import Store
from bot.web.metadata import (
    CHARTS_PATH,
    DATABASE,
    PARTNERS_CHART,
    STORIES_CHART,
    Catalogue,
    chart_url,
)

log = logging.getLogger(__name__)
PLUGIN_NAME = "sahel-watch-web"
LANGUAGES = ("fr", "en")
CHART_LANGUAGE = "en"  # the charts' titles and dates, unless ?lang= says otherwise
DEFAULT_DAYS = {STORIES_CHART: 30, PARTNERS_CHART: 90}
MAX_DAYS = 366
CHART_CACHE_SECONDS = 60
NOTHING = '""'  # the full-text query that matches nothing (a search with no word)
# Answers are never framed by another site, never sniffed, and never tell where a reader
# came from: the history may be sensitive.
SECURITY_HEADERS = ((b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"))
# Names that always reach this machine; a request naming another host is refused unless
# configured (a page elsewhere could rebind its own name to the loopback address).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
READ_METHODS = frozenset({"GET", "HEAD"})
# Of Datasette's own pages under /-/, those a reader needs: its style sheets and scripts,
# and the charts. The rest (versions, settings, metadata with the queries' SQL, the
# database's path on disk) is not the reader's business.
OPEN_SPECIAL = ("static/", "static-plugins/", "charts/")

ASGIApp = Callable[[MutableMapping[str, Any], Callable[..., Awaitable[Any]],
                    Callable[..., Awaitable[Any]]], Awaitable[None]]


@dataclass(frozen=True)
class WebContext:
    """What the plugin reads beside the database: names, the partnership file, the clock."""

    database: Path
    catalogue: Catalogue
    history: float  # seconds signals are kept (the partnership map's comparison)
    clock: Callable[[], datetime]
    base_url: str = "/"
    allowed_hosts: frozenset[str] = frozenset()  # names a reverse proxy reaches it by


class WebPlugin:
    """Registered once per web view (Datasette's plugins are hooks on objects)."""

    def __init__(self, context: WebContext) -> None:
        self.context = context
        self.__name__ = PLUGIN_NAME  # Datasette names its plugins as it names modules

    @hookimpl
    def prepare_connection(self, conn: sqlite3.Connection, database: str) -> None:
        if database != DATABASE:
            return
        conn.create_function(REDACT_FUNCTION, 1, _redacted, deterministic=True)
        conn.create_function(SEARCH_FUNCTION, 1, _search_words, deterministic=True)
        clock = self.context.clock
        conn.create_function(NOW_FUNCTION, 0, lambda: clock().strftime(STORED_TIME))
        conn.set_authorizer(_unreadable_closed)

    @hookimpl
    def register_routes(self) -> list[tuple[str, Callable[..., Awaitable[Response]]]]:
        names = "|".join((STORIES_CHART, PARTNERS_CHART))
        return [(rf"^/{CHARTS_PATH}/(?P<name>{names})\.png$", self.chart)]

    @hookimpl
    def render_cell(self, row: Any, value: Any, column: str, database: str) -> Markup | None:
        """A title links to its article when the row has the article's address."""
        if database != DATABASE or column != "title" or not isinstance(value, str):
            return None
        try:
            link = row["link"]
        except (KeyError, IndexError, TypeError):
            return None
        if not isinstance(link, str) or not link.startswith(("https://", "http://")):
            return None
        return Markup(f'<a href="{escape(link)}" rel="noopener noreferrer">{escape(value)}</a>')

    @hookimpl
    def menu_links(self) -> list[dict[str, str]]:
        base = self.context.base_url
        return [{"href": chart_url(base, STORIES_CHART), "label": "Chart: stories per day"},
                {"href": chart_url(base, PARTNERS_CHART), "label": "Chart: who supplies whom"}]

    @hookimpl
    def asgi_wrapper(self) -> Callable[[ASGIApp], ASGIApp]:
        context = self.context
        hosts = LOOPBACK_HOSTS | context.allowed_hosts

        def wrap(app: ASGIApp) -> ASGIApp:
            return _guarded(app, hosts)
        return wrap

    async def chart(self, request: Request, datasette: Any) -> Response:
        """A chart as PNG: ``days`` back from today (1 to 366), titles in ``lang``."""
        await datasette.ensure_permissions(request.actor, ["view-instance"])
        name = request.url_vars["name"]
        days = _bounded(request.args.get("days"), DEFAULT_DAYS[name])
        lang = request.args.get("lang", CHART_LANGUAGE)
        lang = lang if lang in LANGUAGES else CHART_LANGUAGE
        try:
            png = await asyncio.to_thread(self._draw, name, days, lang)
        except (StoreError, ValueError) as exc:  # no database; nothing a map could show
            log.warning("chart failed chart=%s error=%s", name, exc)
            raise NotFound(str(exc)) from exc
        if png is None:
            raise NotFound("No partnership file is configured: there is no map to draw")
        return Response(png, content_type="image/png",
                        headers={"Cache-Control": f"max-age={CHART_CACHE_SECONDS}"})

    def _draw(self, name: str, days: int, lang: str) -> bytes | None:
        from bot.partners.chart import partner_matrix_png  # matplotlib loads when asked
        from bot.telegram.charts import hits_per_day_png

        context = self.context
        now = context.clock()
        store = Store.open_read_only(context.database)
        try:
            if name == STORIES_CHART:
                axis, series = stories_per_day(store, context.catalogue.watchlists, now, days)
                title = ("Stories per day per watchlist" if lang == "en"
                         else "Histoires par jour et par liste")
                return hits_per_day_png(axis, series, title=title,
                                        labels=context.catalogue.watchlists, lang=lang)
            partnerships = context.catalogue.partnerships
            if partnerships is None:
                return None
            since = now - timedelta(days=days)
            matrix = partner_map_from(store, partnerships, since, now, context.history)
            return partner_matrix_png(matrix, partnerships, lang)
        finally:
            store.close()


def _redacted(url: object) -> str | None:
    return redact_url(url) if isinstance(url, str) else None


def _search_words(query: object) -> str:
    return (fts_match(query) if isinstance(query, str) else None) or NOTHING


def _bounded(text: str | None, default: int) -> int:
    """A number of days from a query parameter, kept within 1 and MAX_DAYS."""
    try:
        days = int(text) if text else default
    except ValueError:
        days = default
    return max(1, min(days, MAX_DAYS))


def _unreadable_closed(action: int, table: str | None, *_: str | None) -> int:
    """SQLite's authorizer: a column of a table no query needs reads as NULL."""
    if action == sqlite3.SQLITE_READ and table in UNREADABLE_TABLES:
        return sqlite3.SQLITE_IGNORE
    return sqlite3.SQLITE_OK


def host_name(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The host a request names (its Host header without the port), lower case."""
    raw = next((value for key, value in headers if key.lower() == b"host"), b"")
    host = raw.decode("latin-1").strip().lower()
    if host.startswith("["):  # [::1]:8001
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def refusal(request_scope: MutableMapping[str, Any], hosts: frozenset[str]) -> tuple[int, str]:
    """Why a request is refused (status and text); (0, "") when it may go on."""
    if host_name(request_scope.get("headers", [])) not in hosts:
        return 421, ("This web view answers to its own address only (start it with "
                     "--allowed-host NAME for the name a proxy gives it).\n")
    if request_scope.get("method", "GET") not in READ_METHODS:
        return 405, "The history is read-only.\n"
    path = request_scope.get("path", "/")
    if "/-/" in path and not path.split("/-/", 1)[1].startswith(OPEN_SPECIAL):
        return 404, "Not found.\n"
    return 0, ""


def _guarded(app: ASGIApp, hosts: frozenset[str]) -> ASGIApp:
    async def guarded(scope: MutableMapping[str, Any], receive: Callable[..., Awaitable[Any]],
                      send: Callable[..., Awaitable[Any]]) -> None:
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        status, text = refusal(scope, hosts)
        if status:
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    *SECURITY_HEADERS]})
            await send({"type": "http.response.body", "body": text.encode()})
            return

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await app(scope, receive, send_with_headers)
    return guarded
