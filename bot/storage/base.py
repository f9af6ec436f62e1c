"""The connection every part of the store shares: opening, upgrading, transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from sqlite_utils import Database

from bot.errors import StoreError
from bot.storage.schema import MIGRATIONS

BUSY_TIMEOUT_MS = 10_000


class StoreBase:
    """The database connection; the per-domain parts of the store build on it."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.saves = 0  # polls saved through this connection (see ItemsMixin.unseen)

    @classmethod
    def open(cls, path: Path) -> Self:
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
            MIGRATIONS.apply(db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot open the database: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the state folder: {exc.strerror}") from exc
        return cls(db)

    @classmethod
    def open_read_only(cls, path: Path) -> Self:
        """Open the database at ``path`` to read it as it stands, never writing or upgrading
        it: safe beside a bot writing it (a reader of its write-ahead log)."""
        if not path.is_file():
            raise StoreError(f"{path}: no database yet: run the bot first")
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                   timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
            db = Database(conn)
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            pending = MIGRATIONS.pending(db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot read the database: {exc}") from exc
        if pending:
            conn.close()
            raise StoreError(f"{path}: the database was written by an older version of the "
                             "bot: run the bot once to upgrade it")
        return cls(db)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def transaction(self, *, immediate: bool = False) -> Iterator[None]:
        """One transaction (a savepoint inside another): all of it is written, or none.
        Every write of the store goes through here. ``immediate`` takes the write lock at
        once, so nothing changes what the transaction reads before it writes."""
        conn = self.db.conn
        if not immediate or conn.in_transaction:
            with self.db.atomic():
                yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def schema_version(self) -> list[str]:
        """Names of the applied migrations, oldest first."""
        return [m.name for m in MIGRATIONS.applied(self.db)]

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
