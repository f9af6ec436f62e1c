"""Answer times of /recent, /hits, /search and /feeds over a database of a million items."""

from __future__ import annotations

import argparse
import bisect
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.match import ranked_vocabularies, zipf_weights  # noqa: E402
from bot.errors import BotError  # noqa: E402
from bot.ingest.items import ParsedFeed  # noqa: E402
from bot.matching.matcher import Matcher  # noqa: E402
from bot.matching.watchlists import Watchlist, load_watchlists  # noqa: E402
from bot.settings.config import DEFAULT_RETENTION, Config  # noqa: E402
from bot.storage.store import Store  # noqa: E402
from bot.telegram.commands import DEFAULT_PERIOD, MAX_PERIOD, RECENT_MAX, CommandDeps, Commands  # noqa: E402

WATCHLISTS_DIR = ROOT / "watchlists"
SEED = 20_241_126
DEFAULT_ITEMS = 1_000_000

# The stored history: its size, its sources and its span.
FEEDS = 1_000
FRENCH_FEED_SHARE = 0.55
HISTORY_DAYS = 90  # the default storage history: what /hits and /stats can show
# Store.prune empties summaries older than the retention (30 days by default): older items
# keep their titles only, in the table and in the full-text index.
SUMMARY_DAYS = DEFAULT_RETENTION / 86400
UNDATED_SHARE = 0.1  # items whose feed gives no publication date
PUBLISH_LAG_HOURS = 6.0  # how long before its fetch an item may have been published

# The text of items.
VOCABULARY_SIZE = 20_000
TITLE_WORDS = (7, 14)
SUMMARY_WORDS = (30, 60)

# Stories and hits.
JOIN_SHARE = 0.15  # items that are one more report of a recent story
JOIN_WINDOW = 400  # a report joins one of this many latest stories (about an hour)
HIT_SHARE = 0.03  # stories naming something on a watchlist; all their items carry the hit
SECOND_WATCHLIST_SHARE = 0.1  # of those, stories naming two watchlists
WATCHLIST_SHARES = {"fama": 0.45, "wagner": 0.3, "goita": 0.16, "tb2": 0.085,
                    "canik-academy": 0.005}
OTHER_WATCHLIST_SHARE = 0.05  # a watchlist not listed above
MENTION_TERMS = 3  # the first terms of a watchlist are the ones its stories name
HIT_SCORE = 100

# Loading.
BATCH_ITEMS = 50_000
LOAD_CACHE_KIB = 400_000  # page cache while loading and indexing; the bot keeps the default

# Timing.
RUNS = 20
TARGET_MS = 100.0
COMMON_WORD = "président"  # in about 6% of the items
VERY_COMMON_WORD = "la"  # in about a third, as the country's name is in a Sahel feed
ACCENTED_WORD = "Ménaka"
TWO_WORDS = "attaque frontière"
RECENT_DEEP_PAGE = 5
LANG = "fr"

# What Store.save_poll writes, table by table, in the order the rows are loaded.
COLUMNS = {
    "items": ("id", "feed_id", "guid", "guid_key", "link", "link_key", "title", "summary",
              "lang", "published_at", "fetched_at", "story_id"),
    "hits": ("item_id", "watchlist", "term", "matched_text", "field", "score", "created_at",
             "start_offset", "end_offset"),
    "stories": ("id", "title", "first_item_id", "first_seen_at", "last_seen_at"),
    "story_watchlists": ("story_id", "watchlist", "first_seen_at"),
}
BULK_TABLES = ("items", "hits", "stories")  # their indexes are built after the load

Row = tuple[str, float, float]  # what was asked, median and worst answer time in ms
Batch = dict[str, list[tuple[object, ...]]]  # rows to insert, by table


@dataclass
class _Story:
    """A story while reports may still join it."""

    id: int
    title: str
    first_item: int
    first_seen: str
    last_seen: str
    hits: tuple[tuple[str, str, int, int], ...]  # watchlist, term, start and end in the title


@dataclass(frozen=True)
class Built:
    """A filled database and how long filling it took."""

    path: Path
    now: datetime
    items: int
    seconds: float


# ---------------------------------------------------------------- corpus


class _Writer:
    """Made-up French and English titles and summaries, words drawn by Zipf's law."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.vocabulary = ranked_vocabularies(rng, VOCABULARY_SIZE)
        self.weights = {lang: zipf_weights(len(words))
                        for lang, words in self.vocabulary.items()}

    def words(self, lang: str, count: int) -> list[str]:
        return self.rng.choices(self.vocabulary[lang], cum_weights=self.weights[lang], k=count)

    def title(self, lang: str, mentions: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
        """A title naming ``mentions``, with where each one stands in it."""
        words = self.words(lang, self.rng.randint(*TITLE_WORDS))
        words[0] = words[0][:1].upper() + words[0][1:]
        for mention in mentions:
            words.insert(self.rng.randint(1, len(words)), mention)
        title = " ".join(words)
        return title, [(title.index(m), title.index(m) + len(m)) for m in mentions]

    def summary(self, lang: str) -> str:
        words = self.words(lang, self.rng.randint(*SUMMARY_WORDS))
        cut = self.rng.randint(8, len(words) - 8)
        first, second = " ".join(words[:cut]), " ".join(words[cut:])
        return f"{first[:1].upper()}{first[1:]}. {second[:1].upper()}{second[1:]}."

    def rare_word(self) -> str:
        """The least frequent word of the French vocabulary."""
        return self.vocabulary["fr"][-1]


# ---------------------------------------------------------------- database


def build_database(path: Path, items: int = DEFAULT_ITEMS, *, seed: int = SEED,
                   watchlists: Sequence[Watchlist] | None = None) -> Built:
    """Create ``path`` through Store.open and fill it with ``items`` items, their stories
    and hits, spread over the last HISTORY_DAYS days."""
    started = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    chosen = tuple(watchlists if watchlists is not None else load_watchlists(WATCHLISTS_DIR))
    store = Store.open(path)
    conn = store.db.conn
    try:
        _load(conn, items, now, chosen, random.Random(seed))
    finally:
        store.close()
    return Built(path, now, items, time.perf_counter() - started)


def _load(conn: sqlite3.Connection, items: int, now: datetime,
          watchlists: Sequence[Watchlist], rng: random.Random) -> None:
    """Bulk-load the rows: indexes and full-text triggers set aside, rebuilt at the end."""
    conn.commit()
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
    saved = conn.execute(
        """SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL
           AND ((type = 'index' AND tbl_name IN (?, ?, ?))
                OR (type = 'trigger' AND tbl_name = 'items'))""", BULK_TABLES).fetchall()
    for kind, name, _ in saved:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    langs = ["fr" if rng.random() < FRENCH_FEED_SHARE else "en" for _ in range(FEEDS + 1)]
    conn.executemany(
        "INSERT INTO feeds (id, url, name, lang, interval_seconds) VALUES (?, ?, ?, ?, ?)",
        [(feed, f"https://outlet{feed}.example/rss", f"Média {feed}", langs[feed], 900.0)
         for feed in range(1, FEEDS + 1)])
    for batch in _batches(items, now, watchlists, langs, rng):
        for table, rows in batch.items():
            conn.executemany(_insert(table, COLUMNS[table]), rows)
    conn.commit()
    for kind, _, sql in saved:
        if kind == "index":
            conn.execute(sql)
    conn.execute("INSERT INTO items_fts (items_fts) VALUES ('rebuild')")
    for kind, _, sql in saved:
        if kind == "trigger":
            conn.execute(sql)
    conn.commit()
    conn.execute("PRAGMA journal_mode = WAL")
    conn.commit()


def _insert(table: str, columns: Sequence[str]) -> str:
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})")


def _batches(items: int, now: datetime, watchlists: Sequence[Watchlist], langs: list[str],
             rng: random.Random) -> Iterator[Batch]:
    """Items in time order, BATCH_ITEMS at a time, with their hits, and the stories no
    later report can join any more."""
    writer = _Writer(rng)
    shares = [WATCHLIST_SHARES.get(w.id, OTHER_WATCHLIST_SHARE) for w in watchlists]
    cumulative = [sum(shares[: n + 1]) for n in range(len(shares))]
    start = now.timestamp() - HISTORY_DAYS * 86400
    summaries_from = now.timestamp() - SUMMARY_DAYS * 86400
    step = HISTORY_DAYS * 86400 / items
    open_stories: deque[_Story] = deque()
    batch: Batch = {table: [] for table in COLUMNS}
    story_count = 0

    def pick() -> Watchlist:
        return watchlists[bisect.bisect(cumulative, rng.random() * cumulative[-1])]

    for item_id in range(1, items + 1):
        moment = start + item_id * step
        fetched = _iso(moment)
        feed = rng.randint(1, FEEDS)
        lang = langs[feed]
        if open_stories and rng.random() < JOIN_SHARE:
            story = open_stories[rng.randrange(len(open_stories))]
            story.last_seen = fetched
        else:
            story_count += 1
            named: list[tuple[str, str]] = []
            if watchlists and rng.random() < HIT_SHARE:
                first = pick()
                named.append((first.id, rng.choice(first.terms[:MENTION_TERMS]).text))
                second = pick()
                if rng.random() < SECOND_WATCHLIST_SHARE and second.id != first.id:
                    named.append((second.id, rng.choice(second.terms[:MENTION_TERMS]).text))
            title, spans = writer.title(lang, [term for _, term in named])
            story = _Story(story_count, title, item_id, fetched, fetched, tuple(
                (wl, term, s, e) for (wl, term), (s, e) in zip(named, spans, strict=True)))
            open_stories.append(story)
            batch["story_watchlists"].extend((story.id, wl, fetched) for wl, _ in named)
            if len(open_stories) > JOIN_WINDOW:
                batch["stories"].append(_story_row(open_stories.popleft()))
        link = f"https://outlet{feed}.example/articles/{item_id}"
        published = (None if rng.random() < UNDATED_SHARE
                     else _iso(moment - rng.random() * PUBLISH_LAG_HOURS * 3600))
        summary = writer.summary(lang) if moment >= summaries_from else ""
        batch["items"].append((item_id, feed, link, link, link, link.split("://", 1)[1],
                               story.title, summary, lang, published, fetched, story.id))
        batch["hits"].extend((item_id, wl, term, term, "title", HIT_SCORE, fetched, s, e)
                             for wl, term, s, e in story.hits)
        if len(batch["items"]) >= BATCH_ITEMS:
            yield batch
            batch = {table: [] for table in COLUMNS}
    batch["stories"].extend(_story_row(story) for story in open_stories)
    yield batch


def _story_row(story: _Story) -> tuple[object, ...]:
    return story.id, story.title, story.first_item, story.first_seen, story.last_seen


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).isoformat()


# ---------------------------------------------------------------- timing


def commands_for(store: Store, now: datetime, directory: Path,
                 watchlists: Sequence[Watchlist]) -> Commands:
    """The bot's commands over ``store``, at a fixed ``now``, as the app wires them."""
    chosen = tuple(watchlists)
    matcher = Matcher(chosen)

    async def no_feeds(url: str) -> ParsedFeed:
        raise BotError(f"{url}: not in a benchmark")

    config = Config(path=directory / "config.toml", storage_path=directory / "bench.db",
                    watchlists_dir=WATCHLISTS_DIR, feeds=())
    return Commands(CommandDeps(
        store=store, config=config, watchlists=lambda: chosen, matcher=lambda: matcher,
        reload_watchlists=lambda: False, muted=dict, mutes_changed=lambda: None,
        check_feed=no_feeds, clock=lambda: now))


def questions(store: Store, watchlists: Sequence[Watchlist],
              rare_word: str) -> list[tuple[str, str, str, int]]:
    """(label, kind, argument, page) of each timed answer, as the chat commands ask them."""
    by_share = sorted(watchlists, key=lambda w: WATCHLIST_SHARES.get(w.id, OTHER_WATCHLIST_SHARE))
    busy, rare = by_share[-1].id, by_share[0].id

    def found(words: str) -> str:
        match = " ".join(f'"{w}"' for w in words.split())
        count = store.db.execute("SELECT count(*) FROM items_fts WHERE items_fts MATCH ?",
                                 [match]).fetchone()[0]
        return f"{count:,} items"

    week, most = f"{DEFAULT_PERIOD:g}", f"{MAX_PERIOD:g}"
    return [
        ("/recent", "r", "10", 1),
        (f"/recent {RECENT_MAX}, page {RECENT_DEEP_PAGE}", "r", str(RECENT_MAX),
         RECENT_DEEP_PAGE),
        (f"/hits {busy} (busy, 7 days)", "h", f"{busy} {week}", 1),
        (f"/hits {busy} 90d, page {RECENT_DEEP_PAGE}", "h", f"{busy} {most}",
         RECENT_DEEP_PAGE),
        (f"/hits {rare} (rare, 7 days)", "h", f"{rare} {week}", 1),
        (f"/feeds ({FEEDS:,} feeds)", "f", "", 1),
        (f"/search {COMMON_WORD} (common: {found(COMMON_WORD)})", "s", COMMON_WORD, 1),
        (f"/search {VERY_COMMON_WORD} (very common: {found(VERY_COMMON_WORD)})", "s",
         VERY_COMMON_WORD, 1),
        (f"/search {rare_word} (rare: {found(rare_word)})", "s", rare_word, 1),
        (f"/search {TWO_WORDS} (two words: {found(TWO_WORDS)})", "s", TWO_WORDS, 1),
        (f"/search {ACCENTED_WORD} (accented: {found(ACCENTED_WORD)})", "s", ACCENTED_WORD, 1),
        (f"/search {ACCENTED_WORD}, page 2", "s", ACCENTED_WORD, 2),
    ]


def time_answer(answer: Callable[[], object], runs: int = RUNS) -> tuple[float, float]:
    """Median and worst of ``runs`` calls, in milliseconds (the first, colder call included)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def time_commands(built: Built, directory: Path, *, runs: int = RUNS,
                  watchlists: Sequence[Watchlist] | None = None) -> list[Row]:
    """Open the built database as the bot does and time each command's answer text."""
    chosen = tuple(watchlists if watchlists is not None else load_watchlists(WATCHLISTS_DIR))
    rare_word = _Writer(random.Random(SEED)).rare_word()
    store = Store.open(built.path)
    try:
        commands = commands_for(store, built.now, directory, chosen)
        rows = []
        for label, kind, argument, number in questions(store, chosen, rare_word):
            median, worst = time_answer(partial(commands.page, kind, argument, number, LANG),
                                        runs)
            rows.append((label, median, worst))
        return rows
    finally:
        store.close()


def command_timings(directory: Path, items: int = DEFAULT_ITEMS) -> list[Row]:
    """Build a database of ``items`` items in ``directory`` and time the commands over it."""
    built = build_database(directory / "commands.db", items)
    return time_commands(built, directory)


def format_table(rows: Sequence[Row]) -> str:
    """The timings as a markdown table; a target is met when even the worst run is under it."""
    lines = ["| command | median (ms) | worst (ms) | target | met |",
             "| --- | ---: | ---: | --- | --- |"]
    for label, median, worst in rows:
        met = "yes" if worst < TARGET_MS else "**no**"
        lines.append(f"| {label} | {median:.1f} | {worst:.1f} | < {TARGET_MS:g} ms | {met} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=DEFAULT_ITEMS,
                        help=f"items stored (default {DEFAULT_ITEMS:,})")
    parser.add_argument("--runs", type=int, default=RUNS, help="timed runs per command")
    parser.add_argument("--keep", type=Path,
                        help="build the database in this folder and keep it (default: a "
                        "temporary folder, removed afterwards)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.items < 1 or args.runs < 1:
        parser.error("--items and --runs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sahel-bench-") as temporary:
        directory = args.keep or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "commands.db"
        reused = bool(args.keep and path.exists())
        built = _reuse(path) if reused else build_database(path, args.items)
        started = time.perf_counter()
        Store.open(path).close()
        opened = time.perf_counter() - started
        rows = time_commands(built, directory, runs=args.runs)
    print(f"{built.items:,} items over {HISTORY_DAYS} days from {FEEDS:,} feeds; "
          f"database {'reused' if reused else f'built in {built.seconds:.1f} s'}, "
          f"opened in {opened:.2f} s; "
          f"{args.runs} runs per command.\n")
    print(format_table(rows))
    return 1 if args.check and any(worst >= TARGET_MS for _, _, worst in rows) else 0


def _reuse(path: Path) -> Built:
    """A database kept by an earlier run, timed at the ``now`` it was built for."""
    conn = sqlite3.connect(path)
    try:
        newest, items = conn.execute("SELECT max(fetched_at), count(*) FROM items").fetchone()
    finally:
        conn.close()
    return Built(path, datetime.fromisoformat(newest), items, 0.0)


if __name__ == "__main__":
    sys.exit(main())
