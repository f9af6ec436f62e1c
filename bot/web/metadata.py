"""Datasette's metadata for the bot's database: titles, notes, hidden tables, queries (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from bot.partners.catalog import Partnerships
from bot.storage.browse import (
    CLOSED_TABLES,
    FACETS,
    HIDDEN_TABLES,
    QUERIES,
    SEARCH_TABLE,
    SHOWN_TABLES,
    SORT_DESC,
)
from bot.web.notes import QUERY_NOTES, TABLE_NOTES

DATABASE = "history"  # the database's name in the web view's addresses
TITLE = "Sahel Watch"
DESCRIPTION = ("What the bot has read: articles, the stories they report, watchlist hits "
               "and partnership signals. Read-only; every page and query also comes as CSV "
               "and JSON.")
SOURCE = "The feeds listed in config.toml, read by the bot"
LICENSE = "Articles remain their publishers'; titles and summaries are quoted for research"
CHARTS_PATH = "-/charts"
STORIES_CHART, PARTNERS_CHART = "stories", "partners"
# Queries whose page shows a chart, and which one.
QUERY_CHARTS = {"watchlist_stories": STORIES_CHART, "partnership_matrix": PARTNERS_CHART}


@dataclass(frozen=True)
class Catalogue:
    """The names a reader needs to fill the queries' parameters."""

    watchlists: Mapping[str, str]  # id -> name
    partnerships: Partnerships | None = None


def chart_url(base_url: str, name: str) -> str:
    """The address of a chart, under the web view's base address."""
    return f"{base_url.rstrip('/')}/{CHARTS_PATH}/{name}.png"


def build_metadata(catalogue: Catalogue, base_url: str = "/") -> dict[str, Any]:
    """The metadata Datasette is given: every table a reader meets described, internal ones
    hidden and closed, the canned queries with their parameters explained."""
    tables: dict[str, Any] = {}
    for table in SHOWN_TABLES:
        description, columns = TABLE_NOTES[table]
        options: dict[str, Any] = {"description": description, "columns": dict(columns)}
        if table in FACETS:
            options["facets"] = list(FACETS[table])
        if table in SORT_DESC:
            options["sort_desc"] = SORT_DESC[table]
        tables[table] = options
    tables["items"].update(fts_table=SEARCH_TABLE, searchmode="escaped")
    tables["stories"]["label_column"] = "title"
    for table in HIDDEN_TABLES:
        tables[table] = {"hidden": True}
    for table in CLOSED_TABLES:
        tables[table] = {"hidden": True, "allow": False}
    queries = {name: {"title": QUERY_NOTES[name][0], "sql": sql, "hide_sql": True,
                      "description_html": _query_notes(name, QUERY_NOTES[name][1], catalogue,
                                                       base_url)}
               for name, sql in QUERIES.items()}
    return {"title": TITLE, "description_html": _front_page(base_url), "source": SOURCE,
            "license": LICENSE,
            "databases": {DATABASE: {"description": DESCRIPTION, "tables": tables,
                                     "queries": queries}}}


def _front_page(base_url: str) -> str:
    """The front page: what this is, and a link to each question it answers."""
    root = base_url.rstrip("/")
    links = "".join(f'<li><a href="{escape(f"{root}/{DATABASE}/{name}")}">'
                    f"{escape(title)}</a>: {escape(description)}</li>"
                    for name, (title, description) in QUERY_NOTES.items())
    charts = "".join(f'<li><a href="{escape(chart_url(base_url, name))}">{escape(label)}</a></li>'
                     for name, label in ((STORIES_CHART, "Chart: stories per day per watchlist"),
                                         (PARTNERS_CHART, "Chart: who supplies whom")))
    return f"<p>{escape(DESCRIPTION)}</p><ul>{links}{charts}</ul>"


def _query_notes(name: str, description: str, catalogue: Catalogue, base_url: str) -> str:
    """A query's description, the values its parameters take, and its chart."""
    notes = [f"<p>{escape(description)}</p>"]
    if name == "watchlist_stories":
        notes.append(_values("watchlist", catalogue.watchlists))
    partnerships = catalogue.partnerships
    if name.startswith("partnership_") and partnerships is not None:
        notes.append(_values("supplier and recipient",
                             {a.id: a.names.get("en", a.id) for a in partnerships.actors}))
        notes.append(_values("kind", {k.id: k.names.get("en", k.id)
                                      for k in partnerships.kinds}))
    if name in QUERY_CHARTS:
        src = chart_url(base_url, QUERY_CHARTS[name])
        notes.append(f'<p><img src="{escape(src)}" alt="{escape(name)} chart" '
                     'style="max-width: 100%"></p>')
    return "\n".join(notes)


def _values(parameter: str, names: Mapping[str, str]) -> str:
    shown = ", ".join(f"<code>{escape(key)}</code> ({escape(value)})"
                      for key, value in names.items())
    return f"<p>Values of {escape(parameter)}: {shown}.</p>"
