"""What the web view may show of the database: tables, their columns, and canned queries."""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage.listings import SEARCH_CANDIDATES

# Tables a reader meets, with what they hold, and what each column means.
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "items": ("Every article the bot read from its feeds, kept [storage] history days.", {
        "feed_id": "The feed (outlet) it came from",
        "guid": "The identifier the feed gave it",
        "link": "Its address",
        "title": "Its title, as published",
        "summary": "Its summary, as text",
        "lang": "The language of its feed (fr or en)",
        "published_at": "When the feed says it was published (UTC)",
        "fetched_at": "When the bot first read it (UTC)",
        "story_id": "The story it belongs to (reports of one event, across outlets)",
    }),
    "stories": ("Reports of one event, across outlets and languages.", {
        "title": "The title of its first report",
        "first_item_id": "Its first report",
        "first_seen_at": "When the bot read its first report (UTC)",
        "last_seen_at": "When the bot read its latest report (UTC)",
    }),
    "story_watchlists": ("Which watchlists each story names, and since when.", {
        "story_id": "The story",
        "watchlist": "The watchlist (its file name in watchlists/)",
        "first_seen_at": "When a report of the story first named the watchlist (UTC)",
    }),
    "hits": ("Each watchlist term found in an article, with the text that matched.", {
        "item_id": "The article",
        "watchlist": "The watchlist (its file name in watchlists/)",
        "term": "The watchlist's term",
        "matched_text": "The words of the article that matched it",
        "field": "Where: title or summary",
        "score": "How close the words are to the term (100: exact, accents and case aside)",
        "created_at": "When it was found (UTC)",
        "start_offset": "Where the matched words start in the field",
        "end_offset": "Where they end",
    }),
    "signals": ("Partnership signals: a supplier doing something for a recipient.", {
        "item_id": "The article that reports it",
        "story_id": "The article's story",
        "supplier": "Who trains, arms, protects, funds… (an actor of the partnership file)",
        "recipient": "For whom",
        "kind": "What: training, arms, protection, … (a kind of the partnership file)",
        "evidence": "The sentence that says it",
        "field": "Where: title or summary",
        "created_at": "When it was found (UTC)",
    }),
    "cycles": ("Each poll cycle: how many feeds answered what, and what it brought.", {
        "started_at": "When it started (UTC)",
        "finished_at": "When it finished (UTC)",
        "feeds": "Feeds polled",
        "new": "Feeds with a new answer",
        "not_modified": "Feeds answering 304 Not Modified",
        "unchanged": "Feeds whose answer had not changed",
        "failed": "Feeds that failed",
        "new_items": "Articles never seen before",
        "hits": "Watchlist hits in them",
        "alerts_queued": "Alerts written to the outbox",
        "alerts_sent": "Alerts sent during the cycle",
    }),
    "mutes": ("Watchlists muted from chat, and until when.", {
        "watchlist": "The watchlist", "until": "Muted until (UTC)",
        "user_id": "The admin who muted it", "created_at": "When (UTC)",
    }),
}
# Tables no reader needs: listed nowhere, and closed to the web view (the outbox holds
# messages and chat ids, the audit admins' names, the feeds their full addresses, which can
# carry credentials: /feeds and the feed_health query show them redacted).
CLOSED_TABLES = ("alerts", "audit", "feeds", "_sqlite_migrations")
HIDDEN_TABLES = ("items_fts",)  # searched through items, never read on its own
SEARCH_TABLE = "items_fts"
FACETS = {"items": ("lang", "feed_id"), "story_watchlists": ("watchlist",),
          "hits": ("watchlist", "field"), "signals": ("kind", "supplier", "recipient")}
SORT_DESC = {"items": "fetched_at", "stories": "last_seen_at", "hits": "created_at",
             "signals": "created_at", "cycles": "started_at",
             "story_watchlists": "first_seen_at"}
MAX_ROWS = 500  # rows a canned query returns at most
# The SQL functions the web view registers: an address without its credentials, and the
# full-text query of a search's words (as /search reads them).
REDACT_FUNCTION = "redact_url"
SEARCH_FUNCTION = "search_words"


@dataclass(frozen=True)
class CannedQuery:
    """A named query with named parameters; an empty parameter means "any"."""

    name: str
    title: str
    description: str
    sql: str


# Items with the name of their feed, for the queries below.
_OUTLETS = """(SELECT group_concat(DISTINCT feeds.name) FROM items AS i
    JOIN feeds ON feeds.id = i.feed_id WHERE i.story_id = stories.id)"""
_PERIOD = """(:since = '' OR {column} >= :since) AND (:until = '' OR {column} < :until)"""

QUERIES = (
    CannedQuery(
        "watchlist_stories", "Latest stories of a watchlist",
        "Stories naming a watchlist (all of them when left empty), newest first, in a period "
        "given as dates (2026-03-01); the outlets that carried each and the terms found.",
        f"""SELECT stories.id AS story, stories.title, first.link,
  story_watchlists.watchlist, story_watchlists.first_seen_at AS first_seen,
  {_OUTLETS} AS outlets,
  (SELECT group_concat(DISTINCT hits.term) FROM hits JOIN items AS i ON i.id = hits.item_id
    WHERE i.story_id = stories.id AND hits.watchlist = story_watchlists.watchlist) AS terms
FROM story_watchlists JOIN stories ON stories.id = story_watchlists.story_id
LEFT JOIN items AS first ON first.id = stories.first_item_id
WHERE (:watchlist = '' OR story_watchlists.watchlist = :watchlist)
  AND {_PERIOD.format(column="story_watchlists.first_seen_at")}
ORDER BY story_watchlists.first_seen_at DESC, stories.id DESC LIMIT {MAX_ROWS}"""),
    CannedQuery(
        "partnership_signals", "Partnership signals",
        "Signals by supplier, recipient and kind (each left empty for any) in a period, "
        "with the sentence that says it and the article.",
        f"""SELECT signals.created_at AS seen, signals.supplier, signals.recipient,
  signals.kind, signals.evidence, items.title, items.link, feeds.name AS outlet,
  signals.story_id AS story
FROM signals JOIN items ON items.id = signals.item_id JOIN feeds ON feeds.id = items.feed_id
WHERE (:supplier = '' OR signals.supplier = :supplier)
  AND (:recipient = '' OR signals.recipient = :recipient)
  AND (:kind = '' OR signals.kind = :kind)
  AND {_PERIOD.format(column="signals.created_at")}
ORDER BY signals.created_at DESC, signals.id DESC LIMIT {MAX_ROWS}"""),
    CannedQuery(
        "partnership_matrix", "Who supplies whom",
        "Supplier × recipient in a period: the stories that report each pair, and their kinds.",
        f"""SELECT supplier, recipient, count(DISTINCT story_id) AS stories,
  group_concat(DISTINCT kind) AS kinds, min(created_at) AS first_seen,
  max(created_at) AS last_seen
FROM signals WHERE {_PERIOD.format(column="created_at")}
GROUP BY supplier, recipient ORDER BY stories DESC, supplier, recipient"""),
    CannedQuery(
        "feed_health", "Feed health",
        "Each active feed: its kind, last success, failures in a row, the share of 304 "
        "answers, its measured delay and its pace (addresses without credentials).",
        f"""SELECT name, CASE WHEN search THEN 'search' ELSE kind END AS kind,
  {REDACT_FUNCTION}(url) AS address, lang, last_success_at AS last_success,
  consecutive_failures AS failures, checks,
  round(100.0 * not_modified / max(checks, 1), 1) AS not_modified_percent,
  round(delay_seconds / 60.0, 1) AS delay_minutes,
  round(coalesce(poll_every_seconds, interval_seconds) / 60.0, 1) AS every_minutes,
  last_error,
  (SELECT count(*) FROM items WHERE items.feed_id = feeds.id
    AND items.fetched_at >= strftime('%Y-%m-%dT%H:%M:%S', 'now', '-7 days')) AS items_7_days
FROM feeds WHERE active = 1 ORDER BY consecutive_failures DESC, name"""),
    CannedQuery(
        "story_timeline", "A story's timeline",
        "Which outlet carried a story when, first report first.",
        """SELECT items.fetched_at AS read_at, items.published_at AS published,
  feeds.name AS outlet, items.lang, items.title, items.link
FROM items JOIN feeds ON feeds.id = items.feed_id
WHERE items.story_id = :story ORDER BY items.fetched_at, items.id"""),
    CannedQuery(
        "search_articles", "Search the articles",
        "Articles containing every word, accents and case ignored, best first (among the "
        f"newest {SEARCH_CANDIDATES:,} that match, as /search ranks them).",
        f"""SELECT items.id AS item, items.title, items.link, feeds.name AS outlet, items.lang,
  items.fetched_at AS read_at, items.story_id AS story
FROM (SELECT rowid, score FROM (SELECT rowid, bm25(items_fts) AS score FROM items_fts
        WHERE items_fts MATCH {SEARCH_FUNCTION}(:q) ORDER BY rowid DESC
        LIMIT {SEARCH_CANDIDATES})
      ORDER BY score, rowid LIMIT {MAX_ROWS}) AS found
CROSS JOIN items ON items.id = found.rowid JOIN feeds ON feeds.id = items.feed_id
ORDER BY found.score, found.rowid"""),
)
