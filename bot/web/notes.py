"""What the web view tells its readers: each table and column, each query (English)."""

from __future__ import annotations

# What each table a reader meets holds, and what each column means.
TABLE_NOTES: dict[str, tuple[str, dict[str, str]]] = {
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
}

PERIOD = ("A period is given as dates (2026-03-01) or dates and times, in UTC; an empty bound "
          "is open, and a date alone as until takes in that whole day.")
# Each canned query's title and description.
QUERY_NOTES: dict[str, tuple[str, str]] = {
    "watchlist_stories": (
        "Latest stories of a watchlist",
        "Stories naming a watchlist (all of them when left empty), newest first, with the "
        f"outlets that carried each and the terms found. {PERIOD}"),
    "partnership_signals": (
        "Partnership signals",
        "Signals by supplier, recipient and kind (each left empty for any), with the sentence "
        f"that says it and the article. {PERIOD}"),
    "partnership_matrix": (
        "Who supplies whom",
        "Supplier × recipient: the stories that report each pair, and their kinds. "
        f"{PERIOD}"),
    "feed_health": (
        "Feed health",
        "Each active feed: its kind, last success, failures in a row, the share of 304 "
        "answers, its measured delay, its pace, and its articles in the last days "
        "(addresses without credentials)."),
    "story_timeline": (
        "A story's timeline",
        "Which outlet carried a story (its number, as the other queries show it) when, "
        "first report first."),
    "search_articles": (
        "Search the articles",
        "Articles containing every word, accents and case ignored, best first, as /search "
        "ranks them."),
}
