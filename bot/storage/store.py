"""The SQLite database: schema and migrations, and the queries of the running bot.

Two command-line tools keep their SQL beside what they serve: bot/export.py (read-only
exports) and bot/rematch.py (rewriting hits after a watchlist edit). Each write that must
not be seen half done (a feed's new items with their hits and alerts) is one transaction.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.errors import StoreError
from bot.ingest.parse import ParsedItem
from bot.matching.matcher import Hit
from bot.partners.detect import Signal
from bot.partners.matrix import SignalRecord
from bot.settings.config import FeedConfig
from bot.stories.index import canonical_url, guid_key

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 10_000
MIGRATION_SET = "sahel-watch"
ALERT_PENDING, ALERT_SENT, ALERT_FAILED = "pending", "sent", "failed"


def iso(moment: datetime) -> str:
    """The one text form of a time in the database: UTC, to the second, sortable."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_iso(text: str | None) -> datetime | None:
    """Read back a time written by :func:`iso`."""
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class FeedState:
    """A configured feed and what the bot remembers of it."""

    id: int
    name: str
    url: str
    lang: str
    interval: float
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    consecutive_failures: int
    next_check_at: datetime | None
    quiet_polls: int = 0  # polls in a row that brought no new item


@dataclass(frozen=True)
class Pace:
    """When a feed is polled next, and what decided it."""

    next_check: datetime
    every: float  # seconds: the feed's interval, longer while quiet or by its cache lifetime
    quiet_polls: int
    cache_seconds: float | None = None


@dataclass(frozen=True)
class NewItem:
    """A parsed item not seen before, with its hits and the story it seems to join."""

    item: ParsedItem
    hits: tuple[Hit, ...]
    story_id: int | None = None  # an existing story found by similarity; None for a new one
    signals: tuple[Signal, ...] = ()  # partnerships the item reports


@dataclass(frozen=True)
class Retitled:
    """A stored item its feed now publishes under another title (same GUID)."""

    item_id: int
    story_id: int
    item: ParsedItem


@dataclass(frozen=True)
class StoryView:
    """Everything an alert about one story shows."""

    story_id: int
    title: str
    link: str | None
    source: str
    published: datetime | None
    outlets: tuple[str, ...]  # every feed that carried the story, first one first
    hits: tuple[Hit, ...]  # one per watchlist term, first occurrence
    summary: str  # the summary the excerpt comes from
    summary_hits: tuple[Hit, ...]  # hits inside that summary, with their positions


@dataclass(frozen=True)
class SignalStoryView:
    """Everything a partnership alert about one story shows."""

    story_id: int
    title: str
    link: str | None
    source: str
    published: datetime | None
    outlets: tuple[str, ...]
    signals: tuple[Signal, ...]  # one per (supplier, recipient, kind), first evidence


Target = tuple[str, int | None]  # a chat, and a forum topic in it (message_thread_id)
Keys = tuple[str | None, str | None]  # an item's GUID key and canonical link key


@dataclass(frozen=True)
class RenderedAlert:
    """An alert's text, how it is sent, and where."""

    html: str
    silent: bool
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class CycleRecord:
    """One completed poll cycle, as the ``cycles`` table keeps it."""

    started_at: datetime
    finished_at: datetime
    feeds: int = 0
    new: int = 0
    not_modified: int = 0
    unchanged: int = 0
    failed: int = 0
    new_items: int = 0
    hits: int = 0
    alerts_queued: int = 0
    alerts_sent: int = 0


@dataclass(frozen=True)
class PollSaved:
    """What one stored poll added."""

    items: tuple[tuple[int, int, ParsedItem], ...]  # (item id, story id, item)
    alerts_new: int
    alerts_updated: int


Renderer = Callable[[StoryView], RenderedAlert]
SignalRenderer = Callable[[SignalStoryView], RenderedAlert]
ALERT_HITS, ALERT_SIGNALS = "hits", "signals"  # the two kinds of alert a story can have


@dataclass(frozen=True)
class Alert:
    """One message of the outbox: to send, or (``message_id`` set) to edit."""

    id: int
    story_id: int | None
    chat: str
    html: str
    silent: bool
    attempts: int
    message_id: int | None = None
    thread_id: int | None = None


NEVER = datetime(1970, 1, 1, tzinfo=UTC)
EARLIEST = ""  # sorts before every stored time: a listing with no start
NO_LIMIT = -1  # SQLite's LIMIT for "every row"
FTS_WORD_RE = re.compile(r"\w+")
MAX_SEARCH_WORDS = 12
# /search ranks the newest matches only: a word found in a third of a million items would
# otherwise be scored in full (a quarter of a second) for a page of five.
SEARCH_CANDIDATES = 2000
CYCLES_KEPT = 7 * 86400.0  # seconds of cycle history kept in the cycles table
LOOKUP_CHUNK = 500  # keys per IN (...) lookup, well under SQLite's bound-parameter limit


@dataclass(frozen=True)
class StorySummary:
    """One line of /recent or /hits."""

    story_id: int
    title: str
    link: str | None
    source: str
    outlets: int
    when: datetime
    watchlists: tuple[str, ...]


@dataclass(frozen=True)
class SearchResult:
    """One item found by /search."""

    item_id: int
    title: str
    link: str | None
    source: str
    when: datetime


@dataclass(frozen=True)
class FeedHealth:
    """One line of /feeds."""

    name: str
    url: str
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failures: int
    checks: int
    not_modified: int
    items_recent: int
    every: float | None = None  # the current wait between polls, in seconds
    interval: float | None = None  # the configured one
    cache_seconds: float | None = None


def _migrations() -> Migrations:
    migrations = Migrations(MIGRATION_SET)

    @migrations(name="0001_initial")
    def initial(db: Database) -> None:
        for statement in SCHEMA_V1:
            db.execute(statement)

    @migrations(name="0002_stories")
    def stories(db: Database) -> None:
        for statement in SCHEMA_V2:
            db.execute(statement)

    @migrations(name="0003_commands")
    def commands(db: Database) -> None:
        for statement in SCHEMA_V3:
            db.execute(statement)
        # Accent-insensitive full-text search over items, kept current by triggers.
        items = db.table("items")
        items.enable_fts(["title", "summary"], create_triggers=True,
                         tokenize="unicode61 remove_diacritics 2")
        items.populate_fts(["title", "summary"])

    @migrations(name="0004_command_indexes")
    def command_indexes(db: Database) -> None:
        for statement in SCHEMA_V4:
            db.execute(statement)

    @migrations(name="0005_cadence")
    def cadence(db: Database) -> None:
        for statement in SCHEMA_V5:
            db.execute(statement)

    @migrations(name="0006_fts_on_text_changes")
    def fts_on_text_changes(db: Database) -> None:
        for statement in SCHEMA_V6:
            db.execute(statement)

    @migrations(name="0007_fts_in_bulk")
    def fts_in_bulk(db: Database) -> None:
        for statement in SCHEMA_V7:
            db.execute(statement)

    @migrations(name="0008_cycles")
    def cycles(db: Database) -> None:
        for statement in SCHEMA_V8:
            db.execute(statement)

    @migrations(name="0009_signals")
    def signals(db: Database) -> None:
        for statement in SCHEMA_V9:
            db.execute(statement)

    return migrations


SCHEMA_V1 = (
    """CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        lang TEXT NOT NULL,
        interval_seconds REAL NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        title TEXT,
        etag TEXT,
        last_modified TEXT,
        body_hash TEXT,
        last_checked_at TEXT,
        last_success_at TEXT,
        last_error TEXT,
        last_error_at TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        next_check_at TEXT,
        checks INTEGER NOT NULL DEFAULT 0,
        not_modified INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        feed_id INTEGER NOT NULL REFERENCES feeds(id),
        guid TEXT,
        guid_key TEXT,
        link TEXT,
        link_key TEXT,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        lang TEXT NOT NULL,
        published_at TEXT,
        fetched_at TEXT NOT NULL
    )""",
    "CREATE INDEX items_guid_key ON items(guid_key) WHERE guid_key IS NOT NULL",
    "CREATE INDEX items_link_key ON items(link_key) WHERE link_key IS NOT NULL",
    "CREATE INDEX items_fetched_at ON items(fetched_at)",
    """CREATE TABLE hits (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        watchlist TEXT NOT NULL,
        term TEXT NOT NULL,
        matched_text TEXT NOT NULL,
        field TEXT NOT NULL,
        score INTEGER NOT NULL,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX hits_item ON hits(item_id)",
    "CREATE INDEX hits_watchlist_created ON hits(watchlist, created_at)",
    "CREATE INDEX hits_created ON hits(created_at)",
    """CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        item_id INTEGER REFERENCES items(id) ON DELETE SET NULL,
        chat TEXT NOT NULL,
        html TEXT NOT NULL,
        silent INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        message_id INTEGER,
        created_at TEXT NOT NULL,
        sent_at TEXT
    )""",
    "CREATE INDEX alerts_status_next ON alerts(status, next_attempt_at, id)",
)

# Chat commands: mutes, an audit trail of admin changes, feeds added from chat.
SCHEMA_V3 = (
    """CREATE TABLE mutes (
        watchlist TEXT PRIMARY KEY,
        until TEXT NOT NULL,
        user_id INTEGER,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL,
        username TEXT,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT,
        at TEXT NOT NULL
    )""",
    "ALTER TABLE feeds ADD COLUMN origin TEXT NOT NULL DEFAULT 'config'",
    "ALTER TABLE feeds ADD COLUMN removed INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX stories_first_seen ON stories(first_seen_at)",
)

# Stories group the items of one event; an alert belongs to a story and grows with it.
SCHEMA_V2 = (
    """CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        first_item_id INTEGER REFERENCES items(id) ON DELETE SET NULL,
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL
    )""",
    "CREATE INDEX stories_last_seen ON stories(last_seen_at)",
    "ALTER TABLE items ADD COLUMN story_id INTEGER REFERENCES stories(id)",
    "CREATE INDEX items_story ON items(story_id)",
    "ALTER TABLE hits ADD COLUMN start_offset INTEGER",
    "ALTER TABLE hits ADD COLUMN end_offset INTEGER",
    "ALTER TABLE alerts ADD COLUMN story_id INTEGER REFERENCES stories(id)",
    "ALTER TABLE alerts ADD COLUMN thread_id INTEGER",
    "ALTER TABLE alerts ADD COLUMN sent_html TEXT",
    "ALTER TABLE alerts ADD COLUMN edit_after TEXT",
    "ALTER TABLE alerts ADD COLUMN digest INTEGER NOT NULL DEFAULT 0",
    # Items stored before stories existed become one story each.
    """INSERT INTO stories (id, title, first_item_id, first_seen_at, last_seen_at)
       SELECT id, title, id, fetched_at, fetched_at FROM items""",
    "UPDATE items SET story_id = id",
    """UPDATE alerts SET story_id = item_id,
       sent_html = CASE WHEN status = 'sent' THEN html END""",
    """CREATE UNIQUE INDEX alerts_story_target
       ON alerts(story_id, chat, coalesce(thread_id, 0)) WHERE story_id IS NOT NULL""",
    """CREATE INDEX alerts_edits ON alerts(status, edit_after)
       WHERE sent_html IS NOT NULL""",
)


# Chat commands over a million items. The stories each watchlist hit, with the time that
# orders the listings: /recent and /hits walk one small index newest first and stop at the
# page, and count from it, instead of joining every hit to its item and story. save_poll adds
# a row with each new hit; a story's rows go with it (ON DELETE CASCADE). And each feed's
# items by time, for the counts of /feeds.
SCHEMA_V4 = (
    """CREATE TABLE story_watchlists (
        story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
        watchlist TEXT NOT NULL,
        first_seen_at TEXT NOT NULL,
        PRIMARY KEY (story_id, watchlist)
    ) WITHOUT ROWID""",
    "CREATE INDEX story_watchlists_listing ON story_watchlists(watchlist, first_seen_at)",
    "CREATE INDEX story_watchlists_first_seen ON story_watchlists(first_seen_at)",
    """INSERT OR IGNORE INTO story_watchlists (story_id, watchlist, first_seen_at)
       SELECT items.story_id, hits.watchlist, stories.first_seen_at FROM hits
       JOIN items ON items.id = hits.item_id JOIN stories ON stories.id = items.story_id""",
    "CREATE INDEX items_feed_fetched ON items(feed_id, fetched_at)",
)

# Politeness: how long a feed is left alone, and why.
SCHEMA_V5 = (
    "ALTER TABLE feeds ADD COLUMN quiet_polls INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE feeds ADD COLUMN poll_every_seconds REAL",
    "ALTER TABLE feeds ADD COLUMN cache_seconds REAL",
)

# The full-text index is rewritten only when the text changes, not when an item joins a
# story (re-indexing every new item twice was a fifth of the cost of storing it).
SCHEMA_V6 = (
    'DROP TRIGGER IF EXISTS "items_au"',
    """CREATE TRIGGER "items_au" AFTER UPDATE OF "title", "summary" ON "items" BEGIN
         INSERT INTO "items_fts" ("items_fts", rowid, "title", "summary")
           VALUES ('delete', old.rowid, old."title", old."summary");
         INSERT INTO "items_fts" (rowid, "title", "summary")
           VALUES (new.rowid, new."title", new."summary");
       END""",
)

# New items are added to the full-text index in bulk (see Store.index_search), not one by
# one: the index of a whole cycle written at once costs a third less. Its high-water mark
# is its own largest row, so an update or delete touches the index only for rows in it.
INDEXED_UP_TO = "coalesce((SELECT max(id) FROM items_fts_docsize), 0)"
SCHEMA_V7 = (
    'DROP TRIGGER IF EXISTS "items_ai"',
    'DROP TRIGGER IF EXISTS "items_ad"',
    'DROP TRIGGER IF EXISTS "items_au"',
    f"""CREATE TRIGGER "items_ad" AFTER DELETE ON "items" WHEN old.id <= {INDEXED_UP_TO}
        BEGIN
         INSERT INTO "items_fts" ("items_fts", rowid, "title", "summary")
           VALUES ('delete', old.rowid, old."title", old."summary");
       END""",
    f"""CREATE TRIGGER "items_au" AFTER UPDATE OF "title", "summary" ON "items"
        WHEN old.id <= {INDEXED_UP_TO} BEGIN
         INSERT INTO "items_fts" ("items_fts", rowid, "title", "summary")
           VALUES ('delete', old.rowid, old."title", old."summary");
         INSERT INTO "items_fts" (rowid, "title", "summary")
           VALUES (new.rowid, new."title", new."summary");
       END""",
)

# One row per completed poll cycle: what `python -m bot health` and operators look at.
SCHEMA_V8 = (
    """CREATE TABLE cycles (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        feeds INTEGER NOT NULL,
        new INTEGER NOT NULL,
        not_modified INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        new_items INTEGER NOT NULL,
        hits INTEGER NOT NULL,
        alerts_queued INTEGER NOT NULL,
        alerts_sent INTEGER NOT NULL
    )""",
    "CREATE INDEX cycles_finished ON cycles(finished_at)",
)

# Partnership signals (supplier, recipient, kind, evidence) per item; their alerts are a
# second kind of alert of a story, beside the watchlists' one.
SCHEMA_V9 = (
    """CREATE TABLE signals (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
        supplier TEXT NOT NULL,
        recipient TEXT NOT NULL,
        kind TEXT NOT NULL,
        evidence TEXT NOT NULL,
        field TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX signals_item ON signals(item_id, supplier, recipient, kind)",
    "CREATE INDEX signals_story ON signals(story_id)",
    "CREATE INDEX signals_created ON signals(created_at)",
    "ALTER TABLE alerts ADD COLUMN kind TEXT NOT NULL DEFAULT 'hits'",
    "DROP INDEX alerts_story_target",
    """CREATE UNIQUE INDEX alerts_story_target
       ON alerts(story_id, chat, coalesce(thread_id, 0), kind) WHERE story_id IS NOT NULL""",
)


class Store:
    """All reads and writes of the bot's SQLite database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Canonical keys of the items the last unseen() looked at, for save_poll() to reuse,
        # and those it found unknown, still unknown while no poll has been saved since.
        self._keys: dict[tuple[str | None, str | None, str], Keys] = {}
        self._unknown: set[Keys] = set()
        self._saves = 0
        self._unknown_as_of = -1

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (creating if needed) and upgrade the database at ``path``."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
            db = Database(conn)
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA foreign_keys = ON")
            db.enable_wal()
            # In WAL mode this survives any crash of the process; only a power cut can
            # lose the last commits, and it cannot corrupt the file.
            db.execute("PRAGMA synchronous = NORMAL")
            check = db.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise StoreError(f"{path}: database is damaged ({check[0] if check else '?'}); "
                                 "restore a backup or move the file away to start afresh")
            _migrations().apply(db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot open the database: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the state folder: {exc.strerror}") from exc
        return cls(db)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def schema_version(self) -> list[str]:
        """Names of the applied migrations, oldest first."""
        return [m.name for m in _migrations().applied(self.db)]

    # Feeds -------------------------------------------------------------------------------

    def sync_feeds(self, feeds: Sequence[FeedConfig]) -> None:
        """Make the feeds table follow the configuration: add, update, deactivate.

        Feeds added from chat stay; feeds an admin removed from chat stay removed.
        """
        with self.db.atomic():
            self.db.execute("UPDATE feeds SET active = 0 WHERE origin = 'config'")
            for feed in feeds:
                self.db.execute(
                    """INSERT INTO feeds (url, name, lang, interval_seconds, active)
                       VALUES (?, ?, ?, ?, 1)
                       ON CONFLICT(url) DO UPDATE SET name = excluded.name,
                         lang = excluded.lang, interval_seconds = excluded.interval_seconds,
                         active = 1 - removed""",
                    [feed.url, feed.name, feed.lang, feed.interval],
                )

    def add_feed(self, feed: FeedConfig) -> None:
        """A feed added from chat: polled from now on, kept across restarts."""
        with self.db.atomic():
            self.db.execute(
                """INSERT INTO feeds (url, name, lang, interval_seconds, active, origin)
                   VALUES (?, ?, ?, ?, 1, 'chat')
                   ON CONFLICT(url) DO UPDATE SET name = excluded.name, active = 1,
                     removed = 0""",
                [feed.url, feed.name, feed.lang, feed.interval])

    def remove_feed(self, name: str) -> bool:
        """Stop polling the feed called ``name`` (kept removed across restarts)."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE feeds SET active = 0, removed = 1 WHERE name = ? AND active = 1",
                [name])
        return cursor.rowcount > 0

    def feeds(self, *, due_at: datetime | None = None) -> list[FeedState]:
        """Active feeds, all of them or only those due at ``due_at``, soonest first."""
        where = "active = 1"
        params: list[Any] = []
        if due_at is not None:
            where += " AND (next_check_at IS NULL OR next_check_at <= ?)"
            params.append(iso(due_at))
        rows = self.db.query(
            f"SELECT * FROM feeds WHERE {where} ORDER BY next_check_at IS NOT NULL, "
            "next_check_at, id",
            params,
        )
        return [_feed_state(row) for row in rows]

    def record_not_modified(self, feed_id: int, now: datetime, pace: Pace) -> None:
        """A 304, or a body identical to the last one: nothing to parse."""
        self.db.execute(
            """UPDATE feeds SET last_checked_at = ?, last_success_at = ?, last_error = NULL,
               consecutive_failures = 0, next_check_at = ?, checks = checks + 1,
               not_modified = not_modified + 1, quiet_polls = ?, poll_every_seconds = ?,
               cache_seconds = ? WHERE id = ?""",
            [iso(now), iso(now), iso(pace.next_check), pace.quiet_polls, pace.every,
             pace.cache_seconds, feed_id],
        )
        self.db.conn.commit()

    def record_failure(self, feed_id: int, now: datetime, error: str,
                       next_check: datetime) -> int:
        """Note a failed poll; returns the number of failures in a row."""
        with self.db.atomic():
            self.db.execute(
                """UPDATE feeds SET last_checked_at = ?, last_error = ?, last_error_at = ?,
                   consecutive_failures = consecutive_failures + 1, next_check_at = ?,
                   checks = checks + 1 WHERE id = ?""",
                [iso(now), error, iso(now), iso(next_check), feed_id],
            )
            row = self.db.execute(
                "SELECT consecutive_failures FROM feeds WHERE id = ?", [feed_id]
            ).fetchone()
        return int(row[0]) if row else 0

    # Items -------------------------------------------------------------------------------

    def unseen(self, feed: FeedState,
               items: Iterable[ParsedItem]) -> tuple[list[ParsedItem], list[Retitled]]:
        """Items not stored before (by GUID or canonical link), first of each duplicate, and
        stored items that came back under the same GUID with another title."""
        self._keys.clear()
        batch: list[tuple[ParsedItem, Keys]] = []
        seen = _SeenKeys()
        for item in items:
            keys = self._identity(item, feed.url)
            if seen.add(keys):
                batch.append((item, keys))
        fresh: list[ParsedItem] = []
        retitled: list[Retitled] = []
        self._unknown.clear()
        self._unknown_as_of = self._saves
        for (item, keys), known in zip(batch, self._known([k for _, k in batch]), strict=True):
            if known is None:
                fresh.append(item)
                self._unknown.add(keys)
            elif known[2] != item.title and keys[0] and item.title:
                retitled.append(Retitled(known[0], known[1], item))
        return fresh, retitled

    def _identity(self, item: ParsedItem, feed_url: str) -> Keys:
        """The item's (GUID key, canonical link key), computed once per poll."""
        memo = (item.guid, item.link, feed_url)
        keys = self._keys.get(memo)
        if keys is None:
            keys = self._keys[memo] = _identity(item, feed_url)
        return keys

    def _still_unknown(self, keys: Sequence[Keys]) -> list[tuple[int, int, str] | None]:
        """``_known``, without asking the database again about items unseen() has just
        found unknown when no poll was saved in between (the poller's usual sequence)."""
        if self._unknown_as_of == self._saves - 1 and self._unknown.issuperset(keys):
            return [None] * len(keys)
        return self._known(keys)

    def _known(self, keys: Sequence[Keys]) -> list[tuple[int, int, str] | None]:
        """For each (GUID key, link key): (item id, story id, title) of the stored item with
        that GUID or link, if any; two indexed queries per batch, not two per item."""
        by_guid = self._first_rows("guid_key", {g for g, _ in keys if g})
        by_link = self._first_rows("link_key", {lk for _, lk in keys if lk})
        found: list[tuple[int, int, str] | None] = []
        for gkey, lkey in keys:
            row = by_guid.get(gkey) if gkey else None
            # The same GUID over a different article is a feed reusing ids, not a repeat.
            if row is None or not (row[3] is None or lkey is None or row[3] == lkey):
                row = by_link.get(lkey) if lkey else None
            found.append((int(row[0]), int(row[1]), str(row[2])) if row else None)
        return found

    def _first_rows(self, column: str, values: set[str]) -> dict[str, tuple[Any, ...]]:
        """The oldest item for each value of an indexed key ``column``."""
        first: dict[str, tuple[Any, ...]] = {}
        ordered = sorted(values)
        for start in range(0, len(ordered), LOOKUP_CHUNK):
            chunk = ordered[start : start + LOOKUP_CHUNK]
            rows = self.db.execute(
                f"""SELECT id, story_id, title, link_key, {column} FROM items
                    WHERE {column} IN ({", ".join("?" * len(chunk))}) ORDER BY id""", chunk)
            for row in rows:
                first.setdefault(row[4], row)
        return first

    def save_poll(self, feed: FeedState, now: datetime, new_items: Sequence[NewItem],
                  retitled: Sequence[Retitled], *, render: Renderer,
                  etag: str | None, last_modified: str | None, body_hash: str | None,
                  title: str | None, pace: Pace,
                  render_signals: SignalRenderer | None = None) -> PollSaved:
        """Store one successful poll in one transaction: items, hits, stories and alerts.

        Items already known (another feed may have stored them meanwhile) are skipped, so
        an article is stored at most once; a story has at most one alert of each kind
        (watchlist hits, partnership signals) per chat, rewritten as the story grows.
        """
        stored: list[tuple[int, int, ParsedItem]] = []
        touched: dict[int, None] = {}
        signalled: dict[int, None] = {}
        stamp = iso(now)
        with self.db.atomic():
            keys = [self._identity(new.item, feed.url) for new in new_items]
            saved = _SeenKeys()
            todo: list[tuple[NewItem, Keys, int | None]] = []  # item, keys, story it joins
            self._saves += 1
            for new, known, item_keys in zip(new_items, self._still_unknown(keys), keys,
                                             strict=True):
                if known is None and saved.add(item_keys):
                    todo.append((new, item_keys, self._story_for(new, stamp)))
            # Rows go in with one statement per table; a new story starts with its item.
            new_stories = iter(self._insert_rows(
                "stories", "title, first_seen_at, last_seen_at",
                [(new.item.title, stamp, stamp) for new, _, joined in todo if joined is None]))
            story_ids = [joined or next(new_stories) for _, _, joined in todo]
            item_ids = self._insert_rows(
                "items", "feed_id, guid, guid_key, link, link_key, title, summary, lang, "
                "published_at, fetched_at, story_id",
                [(feed.id, new.item.guid, gkey, new.item.link, lkey, new.item.title,
                  new.item.summary, feed.lang,
                  iso(new.item.published) if new.item.published else None, stamp, story_id)
                 for (new, (gkey, lkey), _), story_id in zip(todo, story_ids, strict=True)])
            self.db.conn.executemany(
                "UPDATE stories SET first_item_id = ? WHERE id = ?",
                [(item_id, story_id) for (_, _, joined), item_id, story_id
                 in zip(todo, item_ids, story_ids, strict=True) if joined is None])
            self._insert_hits([(item_id, story_id, new.hits) for (new, _, _), item_id, story_id
                               in zip(todo, item_ids, story_ids, strict=True) if new.hits],
                              stamp)
            for (new, _, joined), item_id, story_id in zip(todo, item_ids, story_ids,
                                                           strict=True):
                if new.signals:
                    self._insert_signals(item_id, story_id, new.signals, stamp)
                    signalled[story_id] = None
                elif joined is not None:
                    signalled[story_id] = None  # the story's signal alert lists outlets
                stored.append((item_id, story_id, new.item))
                if joined is not None or new.hits:  # a new story without a hit has no alert
                    touched[story_id] = None
            for change in retitled:
                self.db.execute("UPDATE items SET title = ? WHERE id = ?",
                                [change.item.title, change.item_id])
                self.db.execute(
                    "UPDATE stories SET title = ?, last_seen_at = ? WHERE id = ? "
                    "AND first_item_id = ?",
                    [change.item.title, iso(now), change.story_id, change.item_id])
                touched[change.story_id] = None
                signalled[change.story_id] = None
            created = updated = 0
            for story_id in touched:
                added, changed = self._refresh_alerts(story_id, render, now)
                created += added
                updated += changed
            for story_id in signalled if render_signals else ():
                view = self.signal_view(story_id)
                if view is not None and render_signals is not None:
                    added, changed = self._upsert_alerts(story_id, render_signals(view), now,
                                                         ALERT_SIGNALS)
                    created += added
                    updated += changed
            self.db.execute(
                """UPDATE feeds SET etag = ?, last_modified = ?, body_hash = ?,
                   title = COALESCE(?, title), last_checked_at = ?, last_success_at = ?,
                   last_error = NULL, consecutive_failures = 0, next_check_at = ?,
                   checks = checks + 1, quiet_polls = ?, poll_every_seconds = ?,
                   cache_seconds = ? WHERE id = ?""",
                [etag, last_modified, body_hash, title, iso(now), iso(now),
                 iso(pace.next_check), pace.quiet_polls, pace.every, pace.cache_seconds,
                 feed.id],
            )
        return PollSaved(tuple(stored), created, updated)

    def _insert_hits(self, found: Sequence[tuple[int, int, Sequence[Hit]]],
                     stamp: str) -> None:
        """The hits of a poll's items, given as (item id, story id, hits): one statement
        for the hits, one for the watchlists their stories now appear under."""
        self.db.conn.executemany(
            """INSERT INTO hits (item_id, watchlist, term, matched_text, field,
               score, created_at, start_offset, end_offset)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(item_id, hit.watchlist, hit.term, hit.text, hit.field, hit.score,
              stamp, hit.start, hit.end) for item_id, _, hits in found for hit in hits])
        self.db.conn.executemany(
            """INSERT OR IGNORE INTO story_watchlists (story_id, watchlist, first_seen_at)
               SELECT id, ?, first_seen_at FROM stories WHERE id = ?""",
            [(watchlist, story_id) for watchlist, story_id in dict.fromkeys(
                (hit.watchlist, story_id) for _, story_id, hits in found for hit in hits)])

    def _insert_signals(self, item_id: int, story_id: int, signals: Sequence[Signal],
                        stamp: str) -> None:
        self.db.conn.executemany(
            """INSERT OR IGNORE INTO signals (item_id, story_id, supplier, recipient, kind,
               evidence, field, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [(item_id, story_id, s.supplier, s.recipient, s.kind, s.evidence, s.field, stamp)
             for s in signals])

    def signal_view(self, story_id: int) -> SignalStoryView | None:
        """The story as its partnership alert shows it: first item, outlets, signals; None
        for a story without signals (most), before anything else is read."""
        rows = self.db.execute(
            """SELECT supplier, recipient, kind, evidence, field FROM signals
               WHERE story_id = ? ORDER BY id""", [story_id]).fetchall()
        if not rows:
            return None
        view = self.story_view(story_id)
        if view is None:
            return None
        found: dict[tuple[str, str, str], Signal] = {}
        for row in rows:  # in the order they were first seen, each with its first evidence
            found.setdefault((row[0], row[1], row[2]), Signal(*row))
        return SignalStoryView(view.story_id, view.title, view.link, view.source,
                               view.published, view.outlets, tuple(found.values()))

    def signal_records(self, since: datetime, until: datetime,
                       actor: str | None = None, limit: int = NO_LIMIT) -> list[SignalRecord]:
        """Signals seen in [since, until), one per story and (supplier, recipient, kind),
        newest first; only those of ``actor`` (either side) when given."""
        where = "signals.created_at >= ? AND signals.created_at < ?"
        params: list[Any] = [iso(since), iso(until)]
        if actor is not None:
            where += " AND (signals.supplier = ? OR signals.recipient = ?)"
            params += [actor, actor]
        rows = self.db.execute(
            f"""SELECT signals.supplier, signals.recipient, signals.kind,
                  min(signals.created_at), signals.evidence, items.title, items.link,
                  signals.story_id
                FROM signals JOIN items ON items.id = signals.item_id
                WHERE {where}
                GROUP BY signals.story_id, signals.supplier, signals.recipient, signals.kind
                ORDER BY min(signals.created_at) DESC, signals.story_id DESC LIMIT ?""",
            [*params, limit]).fetchall()
        return [SignalRecord(r[0], r[1], r[2], from_iso(r[3]) or since, r[4], r[5], r[6],
                             int(r[7])) for r in rows]

    def signal_pairs_before(self, moment: datetime) -> set[tuple[str, str]]:
        """Every (supplier, recipient) pair seen together before ``moment``."""
        rows = self.db.execute(
            "SELECT DISTINCT supplier, recipient FROM signals WHERE created_at < ?",
            [iso(moment)]).fetchall()
        return {(r[0], r[1]) for r in rows}

    def _story_for(self, new: NewItem, stamp: str) -> int | None:
        if new.story_id is None:
            return None
        cursor = self.db.conn.execute("UPDATE stories SET last_seen_at = ? WHERE id = ?",
                                      [stamp, new.story_id])
        return new.story_id if cursor.rowcount else None

    def _refresh_alerts(self, story_id: int, render: Renderer, now: datetime) -> tuple[int, int]:
        """Create or rewrite the story's alert in each of its targets (none without a hit);
        returns how many were created and how many rewritten."""
        view = self.story_view(story_id)
        if view is None or not view.hits:
            return 0, 0
        return self._upsert_alerts(story_id, render(view), now, ALERT_HITS)

    def _upsert_alerts(self, story_id: int, rendered: RenderedAlert, now: datetime,
                       kind: str) -> tuple[int, int]:
        """Create or rewrite the story's alert of ``kind`` in each target."""
        created = updated = 0
        for chat, thread in rendered.targets:
            row = self.db.execute(
                """SELECT id, html FROM alerts WHERE story_id = ? AND chat = ?
                   AND coalesce(thread_id, 0) = ? AND kind = ?""",
                [story_id, chat, thread or 0, kind],
            ).fetchone()
            if row is None:
                self.db.execute(
                    """INSERT INTO alerts (story_id, chat, thread_id, html, silent, status,
                       next_attempt_at, created_at, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [story_id, chat, thread, rendered.html, int(rendered.silent),
                     ALERT_PENDING, iso(now), iso(now), kind],
                )
                created += 1
            elif row[1] != rendered.html:
                self.db.execute(
                    "UPDATE alerts SET html = ?, edit_after = coalesce(edit_after, ?) "
                    "WHERE id = ?", [rendered.html, iso(now), row[0]],
                )
                updated += 1
        return created, updated

    def story_view(self, story_id: int) -> StoryView | None:
        """The story as its alert shows it: first item, outlets, hits and an excerpt."""
        items = self.db.execute(
            """SELECT items.id, items.title, items.link, items.summary, items.published_at,
                 items.fetched_at, feeds.name FROM items JOIN feeds ON feeds.id = items.feed_id
               WHERE items.story_id = ? ORDER BY items.id""", [story_id],
        ).fetchall()
        if not items:
            return None
        story = self.db.execute("SELECT title FROM stories WHERE id = ?", [story_id]).fetchone()
        hits: dict[tuple[str, str], Hit] = {}
        summary, summary_hits = "", tuple[Hit, ...]()
        by_item: dict[int, list[Hit]] = {}
        for r in self.db.execute(  # every hit of the story at once, not a query per item
                """SELECT hits.item_id, watchlist, term, matched_text, field, score,
                     start_offset, end_offset FROM hits JOIN items ON items.id = hits.item_id
                   WHERE items.story_id = ? ORDER BY hits.id""", [story_id]):
            by_item.setdefault(r[0], []).append(
                Hit(r[1], r[2], r[3], r[4], r[5], r[6] or 0, r[7] or 0))
        for item in items:
            found = by_item.get(item[0], ())
            for hit in found:
                hits.setdefault((hit.watchlist, hit.term), hit)
            in_summary = tuple(h for h in found if h.field == "summary" and h.end > h.start)
            if in_summary and not summary_hits:
                summary, summary_hits = item[3], in_summary
        first = items[0]
        return StoryView(
            story_id=story_id, title=story[0] if story else first[1], link=first[2],
            source=first[6], published=from_iso(first[4]) or from_iso(first[5]),
            outlets=tuple(dict.fromkeys(item[6] for item in items)),
            hits=tuple(hits.values()), summary=summary, summary_hits=summary_hits,
        )

    def _insert_rows(self, table: str, columns: str,
                     rows: Sequence[tuple[Any, ...]]) -> range:
        """Insert ``rows`` with one statement; returns their ids. Within the transaction
        nothing else writes, and SQLite gives each new row the largest id plus one."""
        if not rows:
            return range(0)
        before = int(self.db.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
                     .fetchone()[0])
        self.db.conn.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(rows[0]))})", rows)
        ids = range(before + 1, before + 1 + len(rows))
        after = self.db.conn.execute(f"SELECT max(id) FROM {table}").fetchone()[0]
        if after != ids[-1]:  # never store under guessed ids
            raise StoreError(f"{table}: expected new ids up to {ids[-1]}, found {after}")
        return ids

    def recent_items(self, since: datetime) -> Iterator[tuple[int, int, str, str, datetime]]:
        """(item id, story id, title, summary, time) of the items seen since ``since``."""
        rows = self.db.execute(
            """SELECT id, story_id, title, summary, coalesce(published_at, fetched_at),
                 fetched_at FROM items WHERE fetched_at >= ? ORDER BY id""", [iso(since)])
        for row in rows:
            when = from_iso(row[4]) or from_iso(row[5]) or since
            yield int(row[0]), int(row[1]), row[2], row[3], min(when, from_iso(row[5]) or when)

    # Outbox ------------------------------------------------------------------------------

    def queue_message(self, chat: str, html: str, now: datetime, *, silent: bool = False) -> int:
        """Put a message that belongs to no item (a notice to admins) in the outbox."""
        cursor = self.db.execute(
            """INSERT INTO alerts (item_id, chat, html, silent, status, next_attempt_at,
               created_at) VALUES (NULL, ?, ?, ?, ?, ?, ?)""",
            [chat, html, int(silent), ALERT_PENDING, iso(now), iso(now)],
        )
        self.db.conn.commit()
        return int(cursor.lastrowid or 0)

    def due_alerts(self, now: datetime, limit: int) -> list[Alert]:
        """Outbox work that is due, oldest first: alerts to send, and sent alerts whose
        story changed since (to edit), once their edit pause is over."""
        rows = self.db.query(
            """SELECT id, story_id, chat, html, silent, attempts, message_id, thread_id
               FROM alerts WHERE (status = ? AND next_attempt_at <= ?)
                 OR (status = ? AND digest = 0 AND sent_html IS NOT NULL
                     AND html != sent_html AND edit_after <= ?)
               ORDER BY id LIMIT ?""",
            [ALERT_PENDING, iso(now), ALERT_SENT, iso(now), limit],
        )
        return [Alert(id=r["id"], story_id=r["story_id"], chat=r["chat"], html=r["html"],
                      silent=bool(r["silent"]), attempts=r["attempts"],
                      message_id=r["message_id"], thread_id=r["thread_id"]) for r in rows]

    def pending_sends(self, chat: str, now: datetime) -> int:
        """How many story alerts wait to be sent to ``chat`` (not edits)."""
        row = self.db.execute(
            """SELECT count(*) FROM alerts WHERE status = ? AND chat = ?
               AND story_id IS NOT NULL AND next_attempt_at <= ?""",
            [ALERT_PENDING, chat, iso(now)]).fetchone()
        return int(row[0])

    def pending_alerts(self, chat: str, now: datetime) -> list[Alert]:
        """Every due alert waiting to be sent to ``chat``, oldest first."""
        rows = self.db.query(
            """SELECT id, story_id, chat, html, silent, attempts, message_id, thread_id
               FROM alerts WHERE status = ? AND chat = ? AND next_attempt_at <= ?
               ORDER BY id""", [ALERT_PENDING, chat, iso(now)])
        return [Alert(id=r["id"], story_id=r["story_id"], chat=r["chat"], html=r["html"],
                      silent=bool(r["silent"]), attempts=r["attempts"],
                      message_id=r["message_id"], thread_id=r["thread_id"]) for r in rows]

    def pending_count(self) -> int:
        """How many sends and edits wait in the outbox."""
        row = self.db.execute(
            """SELECT count(*) FROM alerts WHERE status = 'pending' OR (status = 'sent'
                 AND digest = 0 AND sent_html IS NOT NULL AND html != sent_html)""").fetchone()
        return int(row[0])

    def next_alert_due(self) -> datetime | None:
        """When the earliest pending send or edit may next be tried."""
        row = self.db.execute(
            """SELECT min(CASE WHEN status = 'pending' THEN next_attempt_at ELSE edit_after END)
               FROM alerts WHERE status = 'pending' OR (status = 'sent' AND digest = 0
                 AND sent_html IS NOT NULL AND html != sent_html)""").fetchone()
        return from_iso(row[0]) if row else None

    def mark_sent(self, alert: Alert, message_id: int | None, now: datetime,
                  next_edit: datetime, *, digest: bool = False) -> None:
        """Record a delivered alert (or edit) right after Telegram accepted it."""
        self.db.execute(
            """UPDATE alerts SET status = ?, message_id = coalesce(?, message_id),
               sent_at = coalesce(sent_at, ?), attempts = attempts + 1, last_error = NULL,
               sent_html = ?, edit_after = ?, digest = ? WHERE id = ?""",
            [ALERT_SENT, message_id, iso(now), alert.html, iso(next_edit), int(digest),
             alert.id],
        )
        self.db.conn.commit()

    def mark_retry(self, alert_id: int, error: str, next_attempt: datetime) -> None:
        """Try again later after a transient failure (a send, or an edit)."""
        self.db.execute(
            """UPDATE alerts SET attempts = attempts + 1, last_error = ?,
               next_attempt_at = CASE WHEN status = 'pending' THEN ? ELSE next_attempt_at END,
               edit_after = CASE WHEN status = 'sent' THEN ? ELSE edit_after END
               WHERE id = ?""",
            [error, iso(next_attempt), iso(next_attempt), alert_id],
        )
        self.db.conn.commit()

    def mark_failed(self, alert: Alert, error: str) -> None:
        """Give up on what Telegram refused for good: a send fails the alert; a refused
        edit leaves the sent message as it is."""
        if alert.message_id is None:
            self.db.execute(
                "UPDATE alerts SET status = ?, attempts = attempts + 1, last_error = ? "
                "WHERE id = ?", [ALERT_FAILED, error, alert.id])
        else:
            self.db.execute(
                "UPDATE alerts SET sent_html = ?, last_error = ? WHERE id = ?",
                [alert.html, error, alert.id])
        self.db.conn.commit()

    def postpone_pending(self, chat: str, until: datetime) -> None:
        """Hold every send and edit for ``chat`` until ``until`` (flood control)."""
        self.db.execute(
            """UPDATE alerts SET next_attempt_at = max(next_attempt_at, ?),
               edit_after = CASE WHEN edit_after IS NULL THEN NULL ELSE max(edit_after, ?) END
               WHERE status IN (?, ?) AND chat = ?""",
            [iso(until), iso(until), ALERT_PENDING, ALERT_SENT, chat],
        )
        self.db.conn.commit()

    # Queries for commands ----------------------------------------------------------------

    def recent_stories(self, limit: int, offset: int = 0, *, watchlist: str | None = None,
                       since: datetime | None = None) -> list[StorySummary]:
        """Stories with hits, newest first, optionally for one watchlist and period."""
        where, params, watchlists = _listing(watchlist, since)
        # The index walk gives the first-seen order and stops at the page: only the stories
        # first seen in the same second are sorted by the rest of the key.
        rows = self.db.execute(
            f"""SELECT stories.id, stories.title, stories.first_seen_at, {watchlists}
                FROM story_watchlists AS listed
                CROSS JOIN stories ON stories.id = listed.story_id
                WHERE {where}
                ORDER BY listed.first_seen_at DESC,
                  (SELECT coalesce(published_at, fetched_at) FROM items AS first
                   WHERE first.id = stories.first_item_id) DESC, stories.id DESC
                LIMIT ? OFFSET ?""", [*params, limit, offset]).fetchall()
        return [self._summary(r[0], r[1], r[2], r[3]) for r in rows]

    def count_stories(self, *, watchlist: str | None = None, since: datetime | None = None,
                      at_most: int | None = None) -> int:
        """How many stories :meth:`recent_stories` could list, counting no further than
        ``at_most`` when it is given."""
        where, params, _ = _listing(watchlist, since)
        row = self.db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM story_watchlists AS listed WHERE {where} "
            "LIMIT ?)", [*params, NO_LIMIT if at_most is None else at_most]).fetchone()
        return int(row[0])

    def _summary(self, story_id: int, title: str, first_seen: str,
                 watchlists: str | None) -> StorySummary:
        first = self.db.execute(
            """SELECT items.link, feeds.name, items.published_at FROM items
               JOIN feeds ON feeds.id = items.feed_id WHERE items.story_id = ?
               ORDER BY items.id LIMIT 1""", [story_id]).fetchone()
        outlets = self.db.execute(
            """SELECT count(DISTINCT feed_id) FROM items WHERE story_id = ?""",
            [story_id]).fetchone()[0]
        return StorySummary(
            story_id=story_id, title=title, link=first[0] if first else None,
            source=first[1] if first else "", outlets=int(outlets),
            when=from_iso(first[2] if first and first[2] else first_seen) or NEVER,
            watchlists=tuple(sorted((watchlists or "").split(","))),
        )

    def index_search(self) -> int:
        """Add the items stored since the last call to the full-text index, in one
        transaction; returns how many. Called after each poll cycle and before a search."""
        with self.db.conn:
            cursor = self.db.conn.execute(
                f"""INSERT INTO items_fts (rowid, title, summary)
                    SELECT id, title, summary FROM items WHERE id > {INDEXED_UP_TO}
                    ORDER BY id""")
        return max(cursor.rowcount, 0)

    def search(self, query: str, limit: int, offset: int = 0) -> list[SearchResult]:
        """Items matching every word of ``query`` (accents ignored), best first."""
        try:
            self.index_search()
        except sqlite3.Error as exc:  # search what is indexed; the next cycle indexes the rest
            log.warning("search index update failed error=%s", exc)
        words = [w for w in FTS_WORD_RE.findall(query)][:MAX_SEARCH_WORDS]
        if not words:
            return []
        match = " ".join(f'"{w}"' for w in words)
        # FTS5 walks the matches newest first and stops at SEARCH_CANDIDATES; only those are
        # ranked by bm25() and only the page is joined to items and feeds. Equal scores
        # stay oldest first.
        rows = self.db.execute(
            """SELECT items.id, items.title, items.link, feeds.name,
                 coalesce(items.published_at, items.fetched_at)
               FROM (SELECT rowid, score FROM
                       (SELECT rowid, bm25(items_fts) AS score FROM items_fts
                        WHERE items_fts MATCH ? ORDER BY rowid DESC LIMIT ?)
                     ORDER BY score, rowid LIMIT ? OFFSET ?) AS found
               CROSS JOIN items ON items.id = found.rowid
               JOIN feeds ON feeds.id = items.feed_id
               ORDER BY found.score, found.rowid""",
            [match, SEARCH_CANDIDATES, limit, offset]).fetchall()
        return [SearchResult(r[0], r[1], r[2], r[3], from_iso(r[4]) or NEVER) for r in rows]

    def hits_by_watchlist(self, since: datetime) -> dict[str, int]:
        """Stories per watchlist since ``since``."""
        rows = self.db.execute(
            """SELECT hits.watchlist, count(DISTINCT items.story_id) FROM hits
               JOIN items ON items.id = hits.item_id WHERE hits.created_at >= ?
               GROUP BY hits.watchlist""", [iso(since)]).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def hits_per_day(self, since: datetime) -> dict[str, dict[str, int]]:
        """Stories per watchlist per UTC day (ISO date) since ``since``."""
        rows = self.db.execute(
            """SELECT hits.watchlist, substr(hits.created_at, 1, 10),
                 count(DISTINCT items.story_id) FROM hits
               JOIN items ON items.id = hits.item_id WHERE hits.created_at >= ?
               GROUP BY 1, 2""", [iso(since)]).fetchall()
        days: dict[str, dict[str, int]] = {}
        for watchlist, day, count in rows:
            days.setdefault(watchlist, {})[day] = int(count)
        return days

    def feed_health(self, since: datetime) -> list[FeedHealth]:
        """Every active feed's health, failing feeds first."""
        rows = self.db.execute(
            """SELECT feeds.name, feeds.url, feeds.last_success_at, feeds.last_error,
                 feeds.last_error_at, feeds.consecutive_failures, feeds.checks,
                 feeds.not_modified,
                 (SELECT count(*) FROM items WHERE items.feed_id = feeds.id
                    AND items.fetched_at >= ?),
                 feeds.poll_every_seconds, feeds.interval_seconds, feeds.cache_seconds
               FROM feeds WHERE active = 1
               ORDER BY consecutive_failures DESC, name""", [iso(since)]).fetchall()
        return [FeedHealth(r[0], r[1], from_iso(r[2]), r[3], from_iso(r[4]), int(r[5]),
                           int(r[6]), int(r[7]), int(r[8]), r[9], r[10], r[11]) for r in rows]

    def alert_counts(self, since: datetime) -> dict[str, int]:
        """Alerts sent, failed and pending since ``since``."""
        rows = self.db.execute(
            """SELECT status, count(*) FROM alerts WHERE created_at >= ? OR status = 'pending'
               GROUP BY status""", [iso(since)]).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def mutes(self, now: datetime) -> dict[str, datetime]:
        """Watchlists muted at ``now``, with the end of each mute."""
        rows = self.db.execute("SELECT watchlist, until FROM mutes WHERE until > ?",
                               [iso(now)]).fetchall()
        return {r[0]: from_iso(r[1]) or now for r in rows}

    def set_mute(self, watchlist: str, until: datetime | None, user_id: int,
                 now: datetime) -> None:
        """Mute ``watchlist`` until ``until``; None unmutes it."""
        with self.db.atomic():
            if until is None:
                self.db.execute("DELETE FROM mutes WHERE watchlist = ?", [watchlist])
            else:
                self.db.execute(
                    """INSERT INTO mutes (watchlist, until, user_id, created_at)
                       VALUES (?, ?, ?, ?) ON CONFLICT(watchlist) DO UPDATE
                       SET until = excluded.until, user_id = excluded.user_id,
                       created_at = excluded.created_at""",
                    [watchlist, iso(until), user_id, iso(now)])

    def audit(self, user_id: int, username: str | None, action: str, target: str,
              detail: str, now: datetime) -> None:
        """Record who changed what, and when."""
        with self.db.atomic():
            self.db.execute(
                """INSERT INTO audit (user_id, username, action, target, detail, at)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                [user_id, username, action, target, detail, iso(now)])

    def prune(self, now: datetime, *, retention: float, history: float) -> dict[str, int]:
        """Forget article texts after ``retention`` seconds, and everything about a story
        (items, hits, alerts) after ``history`` seconds, in one transaction."""
        text_before = iso(now - timedelta(seconds=retention))
        story_before = iso(now - timedelta(seconds=history))
        with self.db.atomic():
            emptied = self.db.execute(
                "UPDATE items SET summary = '' WHERE fetched_at < ? AND summary != ''",
                [text_before]).rowcount
            old = "SELECT id FROM stories WHERE last_seen_at < ?"
            alerts = self.db.execute(
                f"""DELETE FROM alerts WHERE status != 'pending' AND story_id IN ({old})""",
                [story_before]).rowcount
            self.db.execute(f"UPDATE stories SET first_item_id = NULL WHERE id IN ({old})",
                            [story_before])
            items = self.db.execute(
                f"DELETE FROM items WHERE story_id IN ({old}) AND story_id NOT IN "
                "(SELECT story_id FROM alerts WHERE story_id IS NOT NULL)",
                [story_before]).rowcount
            stories = self.db.execute(
                """DELETE FROM stories WHERE last_seen_at < ?
                   AND id NOT IN (SELECT story_id FROM items WHERE story_id IS NOT NULL)""",
                [story_before]).rowcount
            self.db.execute("DELETE FROM alerts WHERE story_id IS NULL AND status != 'pending' "
                            "AND created_at < ?", [story_before])
            self.db.execute("DELETE FROM cycles WHERE finished_at < ?",
                            [iso(now - timedelta(seconds=CYCLES_KEPT))])
        return {"texts": emptied, "items": items, "stories": stories, "alerts": alerts}

    def record_cycle(self, cycle: CycleRecord) -> None:
        """Keep the totals of a completed cycle (the heartbeat ``health`` reads)."""
        row = dataclasses.asdict(cycle)
        row["started_at"], row["finished_at"] = iso(cycle.started_at), iso(cycle.finished_at)
        with self.db.conn:
            self.db.conn.execute(
                f"INSERT INTO cycles ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()))

    def health(self) -> dict[str, object]:
        """What ``check`` says of the database: integrity, schema, sizes, the outbox."""
        integrity = self.db.execute("PRAGMA quick_check").fetchone()[0]
        return {"integrity": integrity, "schema": self.schema_version()[-1:],
                "journal": self.db.execute("PRAGMA journal_mode").fetchone()[0],
                **self.counts(), "pending": self.pending_count()}

    def counts(self) -> dict[str, int]:
        """Row counts per table, for logs and checks."""
        return {
            table: int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("feeds", "items", "hits", "alerts")
        }


def _listing(watchlist: str | None, since: datetime | None) -> tuple[str, list[Any], str]:
    """The rows of story_watchlists (as ``listed``) that the story listings show, one per
    story: the WHERE clause, its parameters, and the watchlists column of a row."""
    after = iso(since) if since is not None else EARLIEST
    if watchlist is not None:
        return ("listed.watchlist = ? AND listed.first_seen_at >= ?", [watchlist, after],
                "listed.watchlist")
    # A story hit by several watchlists is listed once, through the first of them.
    return ("""listed.first_seen_at >= ? AND listed.watchlist = (SELECT min(watchlist)
                 FROM story_watchlists AS other WHERE other.story_id = listed.story_id)""",
            [after], """(SELECT group_concat(watchlist) FROM story_watchlists AS other
                         WHERE other.story_id = listed.story_id)""")


class _SeenKeys:
    """The articles of one batch: same canonical link, or same GUID unless the links say
    they are different articles, is the same article."""

    def __init__(self) -> None:
        self._links: set[str] = set()
        self._guid_links: dict[str, set[str | None]] = {}

    def add(self, keys: Keys) -> bool:
        """Remember ``keys``; False when the batch already has that article."""
        gkey, lkey = keys
        if lkey and lkey in self._links:
            return False
        links = self._guid_links.get(gkey) if gkey else None
        if links is not None and (lkey is None or None in links or lkey in links):
            return False
        if lkey:
            self._links.add(lkey)
        if links is not None:
            links.add(lkey)
        elif gkey:
            self._guid_links[gkey] = {lkey}
        return True


def _identity(item: ParsedItem, feed_url: str) -> Keys:
    return guid_key(item.guid, feed_url), canonical_url(item.link) if item.link else None


def _feed_state(row: dict[str, Any]) -> FeedState:
    return FeedState(
        id=row["id"], name=row["name"], url=row["url"], lang=row["lang"],
        interval=row["interval_seconds"], etag=row["etag"], last_modified=row["last_modified"],
        body_hash=row["body_hash"], consecutive_failures=row["consecutive_failures"],
        next_check_at=from_iso(row["next_check_at"]), quiet_polls=row["quiet_polls"],
    )


def last_cycle(path: Path) -> CycleRecord | None:
    """The latest completed cycle in the database at ``path``, read without writing
    (no migration, no lock); None when the bot has not completed one yet.

    StoreError when the file is missing or is not this bot's database.
    """
    if not path.exists():
        raise StoreError(f"{path}: no database (the bot has not run here yet)")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor = conn.execute("SELECT * FROM cycles ORDER BY finished_at DESC LIMIT 1")
            names = [d[0] for d in cursor.description]
            row = cursor.fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot read the cycle history: {exc}") from exc
    if row is None:
        return None
    values = dict(zip(names, row, strict=True))
    values.pop("id")
    values["started_at"] = from_iso(values["started_at"])
    values["finished_at"] = from_iso(values["finished_at"])
    return CycleRecord(**values)
