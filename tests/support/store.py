"""A store in a temporary folder, and a poll saved the way the pipeline saves one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.ingest.items import ParsedItem
from bot.pipeline.render import Queued, queue_alerts
from bot.storage.records import (
    ALERT_HITS,
    ALERT_SIGNALS,
    FeedAnswer,
    FeedState,
    NewItem,
    Pace,
    PollBatch,
    RenderedAlert,
    Retitled,
    SignalStoryView,
    StoryView,
)
from bot.storage.store import Store

TEST_CHAT = "@c"
# Every migration of the schema, in the order they apply.
MIGRATION_NAMES = ["0001_initial", "0002_stories", "0003_commands", "0004_command_indexes",
              "0005_cadence", "0006_fts_on_text_changes", "0007_fts_in_bulk", "0008_cycles",
              "0009_signals", "0010_outbox_pictures", "0011_feed_kinds",
              "0012_feed_search"]
DEFAULT_INTERVAL = 600.0


def render(view: StoryView) -> RenderedAlert:
    """A watchlist alert a test can read: the story's title and its number of outlets."""
    return RenderedAlert(f"<b>{view.title}</b> ({len(view.outlets)})", silent=False,
                         targets=((TEST_CHAT, None),))


@dataclass(frozen=True)
class PlainComposer:
    """Alerts from plain functions, in place of the Telegram composer."""

    hits: Callable[[StoryView], RenderedAlert] = render
    signals: Callable[[SignalStoryView], RenderedAlert] | None = None

    @property
    def signals_on(self) -> bool:
        return self.signals is not None

    def story_alerts(self, view: StoryView | None, signals: SignalStoryView | None,
                     now: datetime) -> tuple[tuple[str, RenderedAlert], ...]:
        """Each kind of alert on its own (the storage tests' view of the outbox)."""
        alerts = []
        if view is not None and view.hits:
            alerts.append((ALERT_HITS, self.hits(view)))
        if signals is not None and self.signals is not None:
            alerts.append((ALERT_SIGNALS, self.signals(signals)))
        return tuple(alerts)


@dataclass(frozen=True)
class Saved:
    """What a saved poll stored and queued."""

    items: tuple[tuple[int, int, object], ...]
    alerts_new: int
    alerts_updated: int


def unseen(store: Store, feed: FeedState,
           items: Sequence[ParsedItem]) -> tuple[list[ParsedItem], list[Retitled]]:
    """The new items of a poll, and the retitled ones, as lists."""
    found = store.unseen(feed, items)
    return list(found.fresh), list(found.retitled)


def save_poll(store: Store, feed: FeedState, now: datetime, new_items: Sequence[NewItem],
              retitled: Sequence[Retitled] = (), *,
              render: Callable[[StoryView], RenderedAlert] = render,
              render_signals: Callable[[SignalStoryView], RenderedAlert] | None = None,
              etag: str | None = None, last_modified: str | None = None,
              body_hash: str | None = None, title: str | None = None,
              pace: Pace | None = None) -> Saved:
    """Save a poll and queue its alerts in one transaction, as the pipeline does."""
    pace = pace or Pace(now + timedelta(seconds=DEFAULT_INTERVAL), DEFAULT_INTERVAL, 0)
    batch = PollBatch(tuple(new_items), tuple(retitled),
                      FeedAnswer(etag, last_modified, body_hash, title, pace))
    with store.transaction():
        saved = store.save_poll(feed, now, batch)
        queued: Queued = queue_alerts(store, saved, PlainComposer(render, render_signals), now)
    return Saved(saved.items, queued.created, queued.updated)
