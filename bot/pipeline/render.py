"""The last stage of a poll: the alerts of the stories it touched, written to the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.storage.records import (
    ALERT_HITS,
    ALERT_SIGNALS,
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

    def hits_alert(self, view: StoryView, now: datetime) -> RenderedAlert:
        """The watchlist alert of a story, and where it goes."""

    def signals_alert(self, view: SignalStoryView, now: datetime) -> RenderedAlert:
        """The partnership alert of a story, and where it goes."""


@dataclass(frozen=True)
class Queued:
    """Alerts a poll put in the outbox: new ones, and sent ones to edit."""

    created: int = 0
    updated: int = 0

    def __add__(self, other: Queued) -> Queued:
        return Queued(self.created + other.created, self.updated + other.updated)


def queue_alerts(store: Store, saved: PollSaved, composer: Composer,
                 now: datetime) -> Queued:
    """Write (or rewrite) the alerts of every story ``saved`` touched: one per story, kind
    and target. Called inside the poll's transaction, so items and alerts go in together."""
    queued = Queued()
    for story_id in saved.hit_stories:
        view = store.story_view(story_id)
        if view is not None and view.hits:  # a story without a hit has no alert
            rendered = composer.hits_alert(view, now)
            queued += Queued(*store.upsert_alerts(story_id, rendered, now, ALERT_HITS))
    if composer.signals_on:
        for story_id in saved.signal_stories:
            signal_view = store.signal_view(story_id)  # None for a story without signals
            if signal_view is not None:
                rendered = composer.signals_alert(signal_view, now)
                queued += Queued(*store.upsert_alerts(story_id, rendered, now, ALERT_SIGNALS))
    return queued
