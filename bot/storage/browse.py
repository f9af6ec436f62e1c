"""What the web view may read of the database: which tables, and the canned queries' SQL."""

from __future__ import annotations

from bot.storage.listings import FEEDS_WINDOW, SEARCH_CANDIDATES

# Tables a reader meets.
SHOWN_TABLES = ("items", "stories", "story_watchlists", "hits", "signals", "cycles")
# Tables no reader needs, listed nowhere and closed to the web view: the outbox holds
# messages and chat ids, the audit and the mutes admins' names and ids, the feeds their
# full addresses, which can carry credentials (the feed_health query shows them redacted).
CLOSED_TABLES = ("alerts", "audit", "feeds", "mutes", "_sqlite_migrations")
# Of those, the tables no query reads: the web view's connections cannot read them at all,
# whatever route a page takes (a row page counts the rows that point to it, say).
UNREADABLE_TABLES = ("alerts", "audit", "mutes", "_sqlite_migrations")
HIDDEN_TABLES = ("items_fts",)  # searched through items, never read on its own
SEARCH_TABLE = "items_fts"
FACETS = {"items": ("lang", "feed_id"), "story_watchlists": ("watchlist",),
          "hits": ("watchlist", "field"), "signals": ("kind", "supplier", "recipient")}
SORT_DESC = {"items": "fetched_at", "stories": "last_seen_at", "hits": "created_at",
             "signals": "created_at", "cycles": "started_at",
             "story_watchlists": "first_seen_at"}
MAX_ROWS = 500  # rows a canned query returns at most
# The SQL functions the web view registers: an address without its credentials, the
# full-text query of a search's words (as /search reads them), and the bot's clock.
REDACT_FUNCTION = "redact_url"
SEARCH_FUNCTION = "search_words"
NOW_FUNCTION = "bot_now"
STORED_TIME = "%Y-%m-%dT%H:%M:%S"  # how stored times begin (UTC, then "+00:00")

# A period's bounds, as a reader types them: a date, or a date and time (UTC unless an
# offset says otherwise); a date alone as "until" takes in that whole day. An empty bound
# is open; one that is not a time matches nothing.
_PERIOD = (f"(:since = '' OR {{column}} >= strftime('{STORED_TIME}', :since)) "
           f"AND (:until = '' OR {{column}} < strftime('{STORED_TIME}', :until, "
           "CASE WHEN length(trim(:until)) = 10 THEN '+1 day' ELSE '+0 seconds' END))")
# The outlets that carried a story (items drive the loop: a story has few of them).
_OUTLETS = """(SELECT group_concat(DISTINCT feeds.name) FROM items AS i
    CROSS JOIN feeds ON feeds.id = i.feed_id WHERE i.story_id = stories.id)"""

QUERIES: dict[str, str] = {
    "watchlist_stories": f"""SELECT stories.id AS story, stories.title, first.link,
  story_watchlists.watchlist, story_watchlists.first_seen_at AS first_seen,
  {_OUTLETS} AS outlets,
  (SELECT group_concat(DISTINCT hits.term) FROM items AS i
    CROSS JOIN hits ON hits.item_id = i.id
    WHERE i.story_id = stories.id AND hits.watchlist = story_watchlists.watchlist) AS terms
FROM story_watchlists JOIN stories ON stories.id = story_watchlists.story_id
LEFT JOIN items AS first ON first.id = stories.first_item_id
WHERE (:watchlist = '' OR story_watchlists.watchlist = :watchlist)
  AND {_PERIOD.format(column="story_watchlists.first_seen_at")}
ORDER BY story_watchlists.first_seen_at DESC, stories.id DESC LIMIT {MAX_ROWS}""",
    "partnership_signals": f"""SELECT signals.created_at AS seen, signals.supplier,
  signals.recipient, signals.kind, signals.evidence, items.title, items.link,
  feeds.name AS outlet, signals.story_id AS story
FROM signals JOIN items ON items.id = signals.item_id JOIN feeds ON feeds.id = items.feed_id
WHERE (:supplier = '' OR signals.supplier = :supplier)
  AND (:recipient = '' OR signals.recipient = :recipient)
  AND (:kind = '' OR signals.kind = :kind)
  AND {_PERIOD.format(column="signals.created_at")}
ORDER BY signals.created_at DESC, signals.id DESC LIMIT {MAX_ROWS}""",
    "partnership_matrix": f"""SELECT supplier, recipient, count(DISTINCT story_id) AS stories,
  group_concat(DISTINCT kind) AS kinds, min(created_at) AS first_seen,
  max(created_at) AS last_seen
FROM signals WHERE {_PERIOD.format(column="created_at")}
GROUP BY supplier, recipient ORDER BY stories DESC, supplier, recipient""",
    "feed_health": f"""SELECT name, CASE WHEN search THEN 'search' ELSE kind END AS kind,
  {REDACT_FUNCTION}(url) AS address, lang, last_success_at AS last_success,
  consecutive_failures AS failures, checks,
  round(100.0 * not_modified / max(checks, 1), 1) AS not_modified_percent,
  round(delay_seconds / 60.0, 1) AS delay_minutes,
  round(coalesce(poll_every_seconds, interval_seconds) / 60.0, 1) AS every_minutes,
  last_error,
  (SELECT count(*) FROM items WHERE items.feed_id = feeds.id AND items.fetched_at >=
    strftime('{STORED_TIME}', {NOW_FUNCTION}(), '-{FEEDS_WINDOW.days} days')) AS items_recent
FROM feeds WHERE active = 1 ORDER BY consecutive_failures DESC, name""",
    "story_timeline": """SELECT items.fetched_at AS read_at, items.published_at AS published,
  feeds.name AS outlet, items.lang, items.title, items.link
FROM items JOIN feeds ON feeds.id = items.feed_id
WHERE items.story_id = :story ORDER BY items.fetched_at, items.id""",
    "search_articles": f"""SELECT items.id AS item, items.title, items.link,
  feeds.name AS outlet, items.lang, items.fetched_at AS read_at, items.story_id AS story
FROM (SELECT rowid, score FROM (SELECT rowid, bm25(items_fts) AS score FROM items_fts
        WHERE items_fts MATCH {SEARCH_FUNCTION}(:q) ORDER BY rowid DESC
        LIMIT {SEARCH_CANDIDATES})
      ORDER BY score, rowid LIMIT {MAX_ROWS}) AS found
CROSS JOIN items ON items.id = found.rowid JOIN feeds ON feeds.id = items.feed_id
ORDER BY found.score, found.rowid""",
}
