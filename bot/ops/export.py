"""Hits out of the database: a read-only query, and CSV, JSON-lines and Atom writers."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from bot.matching.text import NOT_XML_RE, clip
from bot.matching.watchlists import Watchlist
from bot.settings.atomicfile import replace_file
from bot.storage.records import ExportRow, iso
from bot.storage.store import Store

# The CLI writes CSV in this encoding: the byte-order mark makes Excel read UTF-8 (accents).
CSV_ENCODING = "utf-8-sig"
JSONL_ENCODING = "utf-8"
ATOM_ENCODING = "utf-8"
# Terms, matched texts and fields of one row share a cell in CSV, joined by this.
CSV_JOIN = "; "
CSV_COLUMNS = ("hit_at", "watchlist", "score", "terms", "matched", "fields", "title", "link",
               "published", "feed", "lang", "story_id", "outlets", "item_id", "summary")
# A cell starting with one of these is a formula to a spreadsheet; feed titles are written
# by strangers, so such a cell gets a leading apostrophe (OWASP's advice for CSV export).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_GUARD = "'"

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Tag URIs (RFC 4151): stable across runs and machines, never dereferenced.
TAG_PREFIX = "tag:sahel-watch,2026:"
GENERATOR = "sahel-watch"
ATOM_LIMIT = 50  # stories per watchlist file
ATOM_SUMMARY_CHARS = 1000  # of the article's own summary, after the matched terms
ATOM_SUFFIX = ".xml"
ATOM_FILE_MODE = 0o644  # read by whatever web server publishes the folder
# The feed's own <updated>, the first in the document: a file whose entries did not change
# is not rewritten just because it would carry a newer time.
FEED_UPDATED_RE = re.compile(r"<updated>[^<]*</updated>")

# CSV and JSON lines ------------------------------------------------------------------------


def _record(row: ExportRow) -> dict[str, Any]:
    """A row as plain values, in CSV_COLUMNS order."""
    return {
        "hit_at": iso(row.hit_at), "watchlist": row.watchlist, "score": row.score,
        "terms": list(row.terms), "matched": list(row.matched), "fields": list(row.fields),
        "title": row.title, "link": row.link,
        "published": iso(row.published) if row.published else None, "feed": row.feed,
        "lang": row.lang, "story_id": row.story_id, "outlets": row.outlets,
        "item_id": row.item_id, "summary": row.summary,
    }


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, list):
        value = CSV_JOIN.join(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return FORMULA_GUARD + value
    return value


def write_csv(rows: Iterable[ExportRow], out: TextIO) -> int:
    """Write a header and one line per row, quoted as RFC 4180 says (CRLF line ends);
    ``out`` should be opened with ``newline=""`` and CSV_ENCODING. Returns the rows written.
    Cells that a spreadsheet would run as a formula start with an apostrophe."""
    writer = csv.writer(out, dialect="excel")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([_cell(value) for value in _record(row).values()])
        count += 1
    return count


def write_jsonl(rows: Iterable[ExportRow], out: TextIO) -> int:
    """Write one JSON object per line (UTF-8 text, ISO times, lists for the terms, matched
    texts and fields, null when unknown); returns the rows written."""
    count = 0
    for row in rows:
        out.write(json.dumps(_record(row), ensure_ascii=False) + "\n")
        count += 1
    return count


# Atom ------------------------------------------------------------------------------------


def feed_tag(watchlist: str | None = None) -> str:
    """The Atom feed id of one watchlist's stories, or of all of them."""
    return f"{TAG_PREFIX}watchlist-{watchlist}" if watchlist else f"{TAG_PREFIX}hits"


def story_tag(row: ExportRow) -> str:
    """The Atom entry id of the row's story: the same in every run and every file."""
    if row.story_id is None:
        return f"{TAG_PREFIX}item-{row.item_id}"
    return f"{TAG_PREFIX}story-{row.story_id}"


@dataclass
class _StoryEntry:
    """One story being gathered from its rows."""

    row: ExportRow  # its most recent hit item
    watchlists: dict[str, None]
    terms: dict[str, None]


def atom_feed(rows: Iterable[ExportRow], *, title: str, feed_id: str, self_url: str | None,
              updated: datetime, limit: int | None = None,
              labels: Mapping[str, str] | None = None) -> str:
    """An Atom 1.0 document with one entry per story, newest first: the story's most recent
    hit item, with a category per watchlist (labelled from ``labels``, id to name).

    ``rows`` come newest first, as :meth:`Store.exported_hits` yields them; with ``limit`` the
    reading stops at the first row of a story beyond the ``limit``-th.
    """
    entries: dict[str, _StoryEntry] = {}
    for row in rows:
        key = story_tag(row)
        entry = entries.get(key)
        if entry is None:
            if limit is not None and len(entries) >= limit:
                break
            entry = entries[key] = _StoryEntry(row, {}, {})
        elif (row.hit_at, row.item_id) > (entry.row.hit_at, entry.row.item_id):
            entry.row = row
        entry.watchlists[row.watchlist] = None
        entry.terms.update(dict.fromkeys(row.terms))
    feed = ET.Element("feed", xmlns=ATOM_NS)
    _text(feed, "id", feed_id)
    _text(feed, "title", title)
    _text(feed, "updated", iso(updated))
    if self_url:
        ET.SubElement(feed, "link", rel="self", type="application/atom+xml",
                      href=_clean(self_url))
    author = ET.SubElement(feed, "author")
    _text(author, "name", GENERATOR)
    _text(feed, "generator", GENERATOR)
    ordered = sorted(entries.items(), key=lambda e: (e[1].row.hit_at, e[1].row.item_id),
                     reverse=True)
    for key, entry in ordered:
        feed.append(_atom_entry(key, entry, labels or {}))
    ET.indent(feed)
    return (f'<?xml version="1.0" encoding="{ATOM_ENCODING}"?>\n'
            + ET.tostring(feed, encoding="unicode") + "\n")


def _atom_entry(key: str, entry: _StoryEntry, labels: Mapping[str, str]) -> ET.Element:
    row = entry.row
    element = ET.Element("entry", {XML_LANG: row.lang} if row.lang else {})
    _text(element, "id", key)
    _text(element, "title", row.title)
    if row.link:
        ET.SubElement(element, "link", rel="alternate", href=_clean(row.link))
    _text(element, "updated", iso(row.hit_at))
    if row.published:
        _text(element, "published", iso(row.published))
    author = ET.SubElement(element, "author")
    _text(author, "name", row.feed)
    for watchlist in entry.watchlists:
        attributes = {"term": watchlist}
        if watchlist in labels:
            attributes["label"] = labels[watchlist]
        ET.SubElement(element, "category", {k: _clean(v) for k, v in attributes.items()})
    summary = _summary(row, tuple(entry.terms))
    _text(element, "summary", summary, type="text")
    if not row.link:  # Atom wants an alternate link or content
        _text(element, "content", summary, type="text")
    return element


def _summary(row: ExportRow, terms: Sequence[str]) -> str:
    outlets = f"{row.outlets} outlet" + ("s" if row.outlets != 1 else "")
    head = f"Matched: {', '.join(terms)}. Source: {row.feed} ({outlets})."
    text = row.summary.strip()
    text = clip(text, ATOM_SUMMARY_CHARS)
    return f"{head}\n\n{text}" if text else head


def _clean(text: str) -> str:
    """Text XML can carry: ElementTree escapes &, < and quotes, not control characters."""
    return NOT_XML_RE.sub("", text)


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = _clean(text)
    return element


def write_atom_files(store: Store, directory: Path, watchlists: Iterable[Watchlist],
                     now: datetime, limit: int = ATOM_LIMIT) -> list[Path]:
    """Write ``directory/<watchlist id>.xml`` for each watchlist, with its ``limit`` most
    recent stories; a file is replaced atomically, and only when an entry changed (the
    feed's updated time is then ``now``). Returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for watchlist in watchlists:
        with closing(store.exported_hits(watchlist=watchlist.id)) as rows:
            document = atom_feed(rows, title=f"{GENERATOR}: {watchlist.name}",
                                 feed_id=feed_tag(watchlist.id), self_url=None, updated=now,
                                 limit=limit, labels={watchlist.id: watchlist.name})
        path = directory / f"{watchlist.id}{ATOM_SUFFIX}"
        if _same_entries(path, document):
            continue
        replace_file(path, document.encode(ATOM_ENCODING), mode=ATOM_FILE_MODE)
        written.append(path)
    return written


def _same_entries(path: Path, document: str) -> bool:
    try:
        old = path.read_text(encoding=ATOM_ENCODING)
    except (OSError, UnicodeDecodeError):
        return False
    return FEED_UPDATED_RE.sub("", old, count=1) == FEED_UPDATED_RE.sub("", document, count=1)
