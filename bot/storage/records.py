"""The values the store takes and gives: feeds, items, stories, alerts, listings (no SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from bot.ingest.items import ParsedItem
from bot.matching.matcher import Hit
from bot.partners.detect import Signal

ALERT_PENDING, ALERT_SENT, ALERT_FAILED = "pending", "sent", "failed"
ORIGIN_CONFIG, ORIGIN_CHAT = "config", "chat"  # where a feed comes from
# The outbox target of a bot run without a token: alerts printed, never sent to Telegram.
CONSOLE_CHAT = "console"
Target = tuple[str, int | None]  # a chat, and a forum topic in it (message_thread_id)
Keys = tuple[str | None, str | None]  # an item's GUID key and canonical link key


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
    origin: str = ORIGIN_CONFIG  # ORIGIN_CONFIG or ORIGIN_CHAT (added by an admin)
    search: bool = False  # a search of the news (by its address, or ``search = true``)
    last_checked_at: datetime | None = None
    cache_seconds: float | None = None  # how long the server said its last answer stays fresh


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
    keys: Keys | None = None  # its (GUID key, link key), from Unseen.keys; computed if None


@dataclass(frozen=True)
class Unseen:
    """What a feed's latest items hold that the store has not seen yet."""

    fresh: tuple[ParsedItem, ...]  # not stored before, first of each duplicate, feed order
    keys: tuple[Keys, ...]  # each fresh item's (GUID key, canonical link key)
    retitled: tuple[Retitled, ...]  # stored items back under the same GUID, retitled
    checked_at: int  # the store's count of saved polls when it looked


@dataclass(frozen=True)
class FeedAnswer:
    """What a successful poll leaves a feed with: validators, its title, the next poll."""

    etag: str | None
    last_modified: str | None
    body_hash: str | None
    title: str | None
    pace: Pace
    kind: str | None = None  # what the body was read as
    delay: float | None = None  # seconds from publication to this poll, typical of its news


@dataclass(frozen=True)
class PollBatch:
    """One successful poll of a feed, to store in one transaction."""

    new_items: tuple[NewItem, ...]
    retitled: tuple[Retitled, ...]
    answer: FeedAnswer
    # Unseen.checked_at: when no poll was saved since, the items are known to be new
    # without asking the database again. None: ask.
    checked_at: int | None = None


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
    languages: tuple[str, ...] = ()  # the language of each outlet, in the same order


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
    """What one stored poll added, and the stories whose alerts must be written again."""

    items: tuple[tuple[int, int, ParsedItem], ...]  # (item id, story id, item)
    hit_stories: tuple[int, ...]  # stories whose watchlist alert may have changed
    signal_stories: tuple[int, ...]  # stories whose partnership alert may have changed


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
    photo: bytes | None = None  # a picture, ``html`` its caption


NEVER = datetime(1970, 1, 1, tzinfo=UTC)


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
    kind: str | None = None  # what its body was read as (RSS, Atom, JSON Feed, channel)
    delay: float | None = None  # seconds its news typically takes to reach the bot
    search: bool = False  # a search of the news (by its address, or ``search = true``)


HitKey = tuple[str, str]  # (watchlist, term): the matcher gives an item at most one hit per key


class StoredText(NamedTuple):
    """A stored item's text, as a rematch reads it again."""

    id: int
    story_id: int | None
    title: str
    summary: str
    fetched_at: str  # as stored (iso)


@dataclass(frozen=True)
class StoredHit:
    """A hit as stored, with its row id."""

    id: int
    hit: Hit


@dataclass
class HitChanges:
    """One rematch batch's writes to the hits, and the stories they may list or unlist."""

    insert: list[tuple[Any, ...]] = field(default_factory=list)  # rows of the hits table
    delete: list[tuple[int]] = field(default_factory=list)  # hit ids
    update: list[tuple[Any, ...]] = field(default_factory=list)  # new evidence, hit id last
    listed: dict[tuple[int, str], None] = field(default_factory=dict)  # pairs with a hit
    unlisted: dict[tuple[int, str], None] = field(default_factory=dict)  # pairs that lost one


class StoredSignal(NamedTuple):
    """A stored partnership signal of one item, as a rematch compares it."""

    id: int
    evidence: str
    field: str


@dataclass(frozen=True)
class SignalChanges:
    """One rematch batch's writes to the signals table."""

    # (item id, story id, supplier, recipient, kind, evidence, field, created_at)
    insert: list[tuple[Any, ...]] = field(default_factory=list)
    delete: list[tuple[int]] = field(default_factory=list)  # signal ids
    update: list[tuple[str, str, int]] = field(default_factory=list)  # evidence, field, id


@dataclass(frozen=True)
class Relisted:
    """What applying HitChanges did to the story listings: (story, watchlist) pairs."""

    listed: tuple[tuple[int, str], ...]  # newly listed
    unlisted: tuple[tuple[int, str], ...]  # no longer listed (no other item carries it)


@dataclass(frozen=True)
class ExportRow:
    """One item's hits on one watchlist."""

    hit_at: datetime  # when the bot stored the item and found the hits
    watchlist: str
    terms: tuple[str, ...]  # watchlist terms found, first found first, each once
    matched: tuple[str, ...]  # the texts in the article that matched them
    fields: tuple[str, ...]  # where: title, summary
    score: int  # the best of the hits (100 is exact)
    item_id: int
    title: str
    link: str | None
    summary: str
    published: datetime | None  # as the feed gave it
    feed: str
    lang: str  # the language of the feed that carried the item
    story_id: int | None
    outlets: int  # feeds that carried the story so far
