"""The SQLite database: schema and migrations, and every query the bot makes.

This is the only module that talks to SQLite. Each write that must not be seen half done
(a feed's new items with their hits and alerts) is one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.config import FeedConfig
from bot.errors import StoreError
from bot.match import Hit
from bot.parse import ParsedItem
from bot.stories import canonical_url, guid_key

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


@dataclass(frozen=True)
class NewItem:
    """A parsed item not seen before, with its hits and the alert text, ready to store."""

    item: ParsedItem
    hits: tuple[Hit, ...]
    alert_html: str | None
    silent: bool = False  # send without a notification sound


@dataclass(frozen=True)
class Alert:
    """One message waiting in the outbox."""

    id: int
    item_id: int | None
    chat: str
    html: str
    silent: bool
    attempts: int


@dataclass(frozen=True)
class RecentHit:
    """An item with hits, for /recent."""

    item_id: int
    title: str
    link: str | None
    feed: str
    published_at: datetime | None
    fetched_at: datetime
    watchlists: tuple[str, ...]


def _migrations() -> Migrations:
    migrations = Migrations(MIGRATION_SET)

    @migrations(name="0001_initial")
    def initial(db: Database) -> None:
        for statement in SCHEMA_V1:
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


class Store:
    """All reads and writes of the bot's SQLite database."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
        """Make the feeds table follow the configuration: add, update, deactivate."""
        with self.db.atomic():
            self.db.execute("UPDATE feeds SET active = 0")
            for feed in feeds:
                self.db.execute(
                    """INSERT INTO feeds (url, name, lang, interval_seconds, active)
                       VALUES (?, ?, ?, ?, 1)
                       ON CONFLICT(url) DO UPDATE SET name = excluded.name,
                         lang = excluded.lang, interval_seconds = excluded.interval_seconds,
                         active = 1""",
                    [feed.url, feed.name, feed.lang, feed.interval],
                )

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

    def record_not_modified(self, feed_id: int, now: datetime, next_check: datetime) -> None:
        """A 304, or a body identical to the last one: nothing to parse."""
        self.db.execute(
            """UPDATE feeds SET last_checked_at = ?, last_success_at = ?, last_error = NULL,
               consecutive_failures = 0, next_check_at = ?, checks = checks + 1,
               not_modified = not_modified + 1 WHERE id = ?""",
            [iso(now), iso(now), iso(next_check), feed_id],
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

    def unseen(self, feed: FeedState, items: Iterable[ParsedItem]) -> list[ParsedItem]:
        """The items not stored before (by GUID or canonical link), first of each duplicate."""
        fresh: list[ParsedItem] = []
        keys_in_batch: set[str] = set()
        for item in items:
            keys = _identity(item, feed.url)
            if any(k in keys_in_batch for k in keys if k) or self._known(*keys, item.link):
                continue
            keys_in_batch.update(k for k in keys if k)
            fresh.append(item)
        return fresh

    def _known(self, gkey: str | None, lkey: str | None, link: str | None) -> bool:
        if gkey:
            row = self.db.execute(
                "SELECT link_key FROM items WHERE guid_key = ? LIMIT 1", [gkey]
            ).fetchone()
            # The same GUID over a different article is a feed reusing ids, not a repeat.
            if row is not None and (row[0] is None or lkey is None or row[0] == lkey):
                return True
        if lkey:
            row = self.db.execute(
                "SELECT 1 FROM items WHERE link_key = ? LIMIT 1", [lkey]
            ).fetchone()
            if row is not None:
                return True
        return False

    def save_poll(self, feed: FeedState, now: datetime, new_items: Sequence[NewItem], *,
                  chat: str, etag: str | None, last_modified: str | None,
                  body_hash: str | None, title: str | None, next_check: datetime) -> int:
        """Store one successful poll in one transaction; returns the number of alerts queued.

        Items already known (another feed may have stored them meanwhile) are skipped, so
        an article is stored, and alerted, at most once.
        """
        alerts = 0
        with self.db.atomic():
            for new in new_items:
                gkey, lkey = _identity(new.item, feed.url)
                if self._known(gkey, lkey, new.item.link):
                    continue
                item_id = self._insert_item(feed, new.item, gkey, lkey, now)
                for hit in new.hits:
                    self.db.execute(
                        """INSERT INTO hits (item_id, watchlist, term, matched_text, field,
                           score, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                        [item_id, hit.watchlist, hit.term, hit.text, hit.field, hit.score,
                         iso(now)],
                    )
                if new.alert_html is not None:
                    self.db.execute(
                        """INSERT INTO alerts (item_id, chat, html, silent, status,
                           next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                        [item_id, chat, new.alert_html, int(new.silent), ALERT_PENDING, iso(now),
                         iso(now)],
                    )
                    alerts += 1
            self.db.execute(
                """UPDATE feeds SET etag = ?, last_modified = ?, body_hash = ?,
                   title = COALESCE(?, title), last_checked_at = ?, last_success_at = ?,
                   last_error = NULL, consecutive_failures = 0, next_check_at = ?,
                   checks = checks + 1 WHERE id = ?""",
                [etag, last_modified, body_hash, title, iso(now), iso(now), iso(next_check),
                 feed.id],
            )
        return alerts

    def _insert_item(self, feed: FeedState, item: ParsedItem, gkey: str | None,
                     lkey: str | None, now: datetime) -> int:
        cursor = self.db.execute(
            """INSERT INTO items (feed_id, guid, guid_key, link, link_key, title, summary, lang,
               published_at, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [feed.id, item.guid, gkey, item.link, lkey, item.title, item.summary, feed.lang,
             iso(item.published) if item.published else None, iso(now)],
        )
        return int(cursor.lastrowid or 0)

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
        """Pending alerts whose next attempt is due, oldest first."""
        rows = self.db.query(
            """SELECT id, item_id, chat, html, silent, attempts FROM alerts
               WHERE status = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?""",
            [ALERT_PENDING, iso(now), limit],
        )
        return [Alert(id=r["id"], item_id=r["item_id"], chat=r["chat"], html=r["html"],
                      silent=bool(r["silent"]), attempts=r["attempts"]) for r in rows]

    def pending_count(self) -> int:
        """How many alerts wait in the outbox."""
        row = self.db.execute(
            "SELECT count(*) FROM alerts WHERE status = ?", [ALERT_PENDING]
        ).fetchone()
        return int(row[0])

    def next_alert_due(self) -> datetime | None:
        """When the earliest pending alert may next be tried."""
        row = self.db.execute(
            "SELECT min(next_attempt_at) FROM alerts WHERE status = ?", [ALERT_PENDING]
        ).fetchone()
        return from_iso(row[0]) if row else None

    def mark_sent(self, alert_id: int, message_id: int | None, now: datetime) -> None:
        """Record a delivered alert; called right after the send returns."""
        self.db.execute(
            """UPDATE alerts SET status = ?, message_id = ?, sent_at = ?,
               attempts = attempts + 1, last_error = NULL WHERE id = ?""",
            [ALERT_SENT, message_id, iso(now), alert_id],
        )
        self.db.conn.commit()

    def mark_retry(self, alert_id: int, error: str, next_attempt: datetime) -> None:
        """Keep an alert pending after a transient failure."""
        self.db.execute(
            """UPDATE alerts SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
               WHERE id = ?""",
            [error, iso(next_attempt), alert_id],
        )
        self.db.conn.commit()

    def mark_failed(self, alert_id: int, error: str) -> None:
        """Give up on an alert Telegram refused for good (bad message, forbidden chat)."""
        self.db.execute(
            "UPDATE alerts SET status = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
            [ALERT_FAILED, error, alert_id],
        )
        self.db.conn.commit()

    def postpone_pending(self, chat: str, until: datetime) -> None:
        """Hold every pending alert for ``chat`` until ``until`` (flood control)."""
        self.db.execute(
            """UPDATE alerts SET next_attempt_at = max(next_attempt_at, ?)
               WHERE status = ? AND chat = ?""",
            [iso(until), ALERT_PENDING, chat],
        )
        self.db.conn.commit()

    # Queries for commands ----------------------------------------------------------------

    def recent_hits(self, limit: int) -> list[RecentHit]:
        """The latest items with hits, newest first."""
        rows = self.db.query(
            """SELECT items.id, items.title, items.link, feeds.name AS feed,
                 items.published_at, items.fetched_at,
                 group_concat(DISTINCT hits.watchlist) AS watchlists
               FROM items JOIN hits ON hits.item_id = items.id
               JOIN feeds ON feeds.id = items.feed_id
               WHERE items.id IN (SELECT DISTINCT item_id FROM hits ORDER BY item_id DESC
                                  LIMIT ?)
               GROUP BY items.id ORDER BY items.id DESC""",
            [limit],
        )
        return [
            RecentHit(
                item_id=r["id"], title=r["title"], link=r["link"], feed=r["feed"],
                published_at=from_iso(r["published_at"]),
                fetched_at=from_iso(r["fetched_at"]) or datetime.now(UTC),
                watchlists=tuple(sorted((r["watchlists"] or "").split(","))),
            )
            for r in rows
        ]

    def counts(self) -> dict[str, int]:
        """Row counts per table, for logs and checks."""
        return {
            table: int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("feeds", "items", "hits", "alerts")
        }


def _identity(item: ParsedItem, feed_url: str) -> tuple[str | None, str | None]:
    return guid_key(item.guid, feed_url), canonical_url(item.link) if item.link else None


def _feed_state(row: dict[str, Any]) -> FeedState:
    return FeedState(
        id=row["id"], name=row["name"], url=row["url"], lang=row["lang"],
        interval=row["interval_seconds"], etag=row["etag"], last_modified=row["last_modified"],
        body_hash=row["body_hash"], consecutive_failures=row["consecutive_failures"],
        next_check_at=from_iso(row["next_check_at"]),
    )
