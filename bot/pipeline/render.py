"""The last stage of a poll: the alerts of the stories it touched, written to the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.storage.records import (
    PollSaved,
    RenderedAlert,
    SignalStoryView,
    StoryView,
)
from bot.storage.store import Store


class Composer(Protocol):
    """What writes a story's alerts (bot.telegram.compose.AlertComposer in the bot)."""

    @property
    def signals_on(self) -> bool:
        """Whether stories get partnership alerts."""

    def story_alerts(self, view: StoryView | None, signals: SignalStoryView | None,
                     now: datetime) -> tuple[tuple[str, RenderedAlert], ...]:
        """A story's alerts as (kind, alert), each with the chats it goes to."""


@dataclass(frozen=True)
class Queued:
    """Alerts a poll put in the outbox: new ones, and sent ones to edit."""

    created: int = 0
    updated: int = 0

    def __add__(self, other: Queued) -> Queued:
        return Queued(self.created + other.created, self.updated + other.updated)


def queue_alerts(store: Store, saved: PollSaved, composer: Composer,
                 now: datetime) -> Queued:
    """Write (or rewrite) the alerts of every story ``saved`` touched: one per story and
    target, hits and partnership signals together where they go to the same place. Called
    inside the poll's transaction, so items and alerts go in together."""
    queued = Queued()
    for story_id in dict.fromkeys(saved.hit_stories + saved.signal_stories):
        view = store.story_view(story_id)
        # None for a story without signals, or when partnership alerts are off.
        signals = store.signal_view(story_id) if composer.signals_on else None
        for kind, rendered in composer.story_alerts(view, signals, now):
            queued += Queued(*store.upsert_alerts(story_id, rendered, now, kind))
    return queued
