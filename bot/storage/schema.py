"""The database schema: every migration, declared once, in the order it is applied."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.settings.urls import is_search

MIGRATION_SET = "sahel-watch"


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


# Pictures in the outbox (the weekly partnership map), and a key that queues a message once
# whatever how often the job that queues it runs (a restart, a catch-up).
SCHEMA_V10 = (
    "ALTER TABLE alerts ADD COLUMN photo BLOB",
    "ALTER TABLE alerts ADD COLUMN once_key TEXT",
    "CREATE UNIQUE INDEX alerts_once_key ON alerts(once_key) WHERE once_key IS NOT NULL",
)


# What each feed's body was read as, and how long its news takes to reach the bot.
SCHEMA_V11 = (
    "ALTER TABLE feeds ADD COLUMN kind TEXT",
    "ALTER TABLE feeds ADD COLUMN delay_seconds REAL",
)

SCHEMA_V12 = (
    "ALTER TABLE feeds ADD COLUMN search INTEGER NOT NULL DEFAULT 0",
)


def _run(db: Database, statements: tuple[str, ...]) -> None:
    for statement in statements:
        db.execute(statement)


# Applied in this order, each once, recorded in the _sqlite_migrations table.
MIGRATIONS = Migrations(MIGRATION_SET)


@MIGRATIONS(name="0001_initial")
def _initial(db: Database) -> None:
    _run(db, SCHEMA_V1)


@MIGRATIONS(name="0002_stories")
def _stories(db: Database) -> None:
    _run(db, SCHEMA_V2)


@MIGRATIONS(name="0003_commands")
def _commands(db: Database) -> None:
    _run(db, SCHEMA_V3)
    # Accent-insensitive full-text search over items, kept current by triggers.
    items = db.table("items")
    items.enable_fts(["title", "summary"], create_triggers=True,
                     tokenize="unicode61 remove_diacritics 2")
    items.populate_fts(["title", "summary"])


@MIGRATIONS(name="0004_command_indexes")
def _command_indexes(db: Database) -> None:
    _run(db, SCHEMA_V4)


@MIGRATIONS(name="0005_cadence")
def _cadence(db: Database) -> None:
    _run(db, SCHEMA_V5)


@MIGRATIONS(name="0006_fts_on_text_changes")
def _fts_on_text_changes(db: Database) -> None:
    _run(db, SCHEMA_V6)


@MIGRATIONS(name="0007_fts_in_bulk")
def _fts_in_bulk(db: Database) -> None:
    _run(db, SCHEMA_V7)


@MIGRATIONS(name="0008_cycles")
def _cycles(db: Database) -> None:
    _run(db, SCHEMA_V8)


@MIGRATIONS(name="0009_signals")
def _signals(db: Database) -> None:
    _run(db, SCHEMA_V9)


@MIGRATIONS(name="0010_outbox_pictures")
def _outbox_pictures(db: Database) -> None:
    _run(db, SCHEMA_V10)


@MIGRATIONS(name="0011_feed_kinds")
def _feed_kinds(db: Database) -> None:
    _run(db, SCHEMA_V11)


@MIGRATIONS(name="0012_feed_search")
def _feed_search(db: Database) -> None:
    _run(db, SCHEMA_V12)
    # The searches the bot knows by their address, whether configured or added from chat.
    searches = [row[0] for row in db.execute("SELECT id, url FROM feeds").fetchall()
                if is_search(row[1])]
    db.conn.executemany("UPDATE feeds SET search = 1 WHERE id = ?", [[i] for i in searches])
