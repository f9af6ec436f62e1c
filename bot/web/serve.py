"""Build the web view for a configuration, and serve it over HTTP."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.errors import BotError
from bot.matching.watchlists import load_watchlists
from bot.settings.config import Config
from bot.storage.store import Store
from bot.web.metadata import DATABASE, Catalogue, build_metadata

if TYPE_CHECKING:
    from datasette.app import Datasette

log = logging.getLogger(__name__)
INSTALL_HINT = "pip install -c requirements.lock -e '.[web]'"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001
MEMORY = "_memory"  # the empty database Datasette opens when given no file
ANY_ADDRESS = frozenset({"0.0.0.0", "::", ""})  # listening on every address names none
# Datasette's settings: canned queries, search and facets, but no SQL of the reader's own
# and no download of the whole file; a slow query stops rather than holding a thread.
SETTINGS: dict[str, Any] = {
    "default_allow_sql": False,
    "allow_download": False,
    "sql_time_limit_ms": 5000,
    "facet_time_limit_ms": 500,
    "suggest_facets": False,
    "max_returned_rows": 1000,
    "default_page_size": 50,
}


class WebUnavailable(BotError):
    """The web view cannot start: Datasette is not installed, or there is no database."""


def catalogue_of(config: Config) -> Catalogue:
    """The watchlists' and partnership file's names, as the bot reads them."""
    watchlists = load_watchlists(config.watchlists_dir)
    partnerships = None
    if config.partnerships_file is not None:
        from bot.partners.catalog import load_partnerships

        partnerships = load_partnerships(config.partnerships_file, watchlists)
    return Catalogue({w.id: w.name for w in watchlists}, partnerships)


def build(config: Config, clock: Callable[[], datetime], *, base_url: str = "/",
          host: str = DEFAULT_HOST, allowed_hosts: Iterable[str] = ()) -> Datasette:
    """The web view of ``config``'s database, read-only, answering to the loopback names,
    ``host`` and ``allowed_hosts``.

    Datasette's plugin manager is one per process: the bot's plugin is registered in place
    of any earlier one, so the last view built is the one a process serves.
    """
    try:
        from datasette.app import Datasette
        from datasette.database import Database
        from datasette.plugins import pm
    except ImportError as exc:
        raise WebUnavailable(f"the web view needs Datasette: {INSTALL_HINT}") from exc
    from bot.web.plugin import PLUGIN_NAME, WebContext, WebPlugin

    path = config.storage_path
    Store.open_read_only(path).close()  # says clearly when there is no database yet
    catalogue = catalogue_of(config)
    base_url = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    names = {name.strip().lower() for name in allowed_hosts if name.strip()}
    if host.strip("[]") not in ANY_ADDRESS:
        names.add(host.strip("[]").lower())
    context = WebContext(path, catalogue, config.history, clock, base_url, frozenset(names))
    if pm.get_plugin(PLUGIN_NAME) is not None:
        pm.unregister(name=PLUGIN_NAME)
    pm.register(WebPlugin(context), name=PLUGIN_NAME)
    datasette = Datasette(metadata=build_metadata(catalogue, base_url),
                          settings={**SETTINGS, "base_url": base_url})
    datasette.add_database(Database(datasette, path=str(path), is_mutable=True), name=DATABASE)
    datasette.remove_database(MEMORY)
    return datasette


def serve(datasette: Datasette, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve a built web view until interrupted."""
    import uvicorn

    uvicorn.run(datasette.app(), host=host, port=port, log_level="warning")
