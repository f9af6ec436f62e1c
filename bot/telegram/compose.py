"""A story's alerts as subscribers get them: the text, the chats and topics, and the ring."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.matching.matcher import Hit
from bot.partners.catalog import Partnerships
from bot.partners.detect import Signal
from bot.storage.records import (
    ALERT_HITS,
    ALERT_SIGNALS,
    RenderedAlert,
    SignalStoryView,
    StoryView,
    Target,
)
from bot.telegram.alerts import AlertContent, format_alert, format_signal_alert

# A feed date ahead of our clock is a feed's mistake (or its clock's): the alert shows ours.
MAX_FUTURE_SKEW = timedelta(0)
HIGH_PRIORITY = "high"


def shown_time(published: datetime | None, now: datetime) -> datetime:
    """The time an item reports: its own date, unless missing or in the future."""
    return now if published is None or published > now + MAX_FUTURE_SKEW else published


@dataclass(frozen=True)
class AlertComposer:
    """How alerts read and where they go, as the config, watchlists and mutes say now.

    Immutable: when watchlists, the partnership file or mutes change, the app makes a new
    one and hands it to the poller.
    """

    chat: str
    language: str
    timezone: ZoneInfo
    names: Mapping[str, str] = field(default_factory=dict)  # watchlist id -> name
    priorities: Mapping[str, str] = field(default_factory=dict)
    routes: Mapping[str, Target] = field(default_factory=dict)  # watchlists sent elsewhere
    muted: Mapping[str, datetime] = field(default_factory=dict)  # watchlist -> end of mute
    partnerships: Partnerships | None = None  # None: partnership alerts are off

    @property
    def signals_on(self) -> bool:
        """Whether stories get partnership alerts (a partnership file is loaded)."""
        return self.partnerships is not None

    def story_alerts(self, view: StoryView | None, signals: SignalStoryView | None,
                     now: datetime) -> tuple[tuple[str, RenderedAlert], ...]:
        """A story's alerts, as (kind, alert): one message per chat and topic, carrying its
        watchlist hits and its partnership signals together. A partnership message of its
        own goes only where the routing sends signals that the hits do not reach, or for
        a story that reports a partnership and no watched term."""
        reported = signals.signals if signals is not None else ()
        signal_target = self._signal_target() if reported else None
        alerts: list[tuple[str, RenderedAlert]] = []
        hits = self._hits_alert(view, reported, signal_target, now) if view else None
        if hits is not None and hits.targets:
            alerts.append((ALERT_HITS, hits))
        if signals is not None and signal_target is not None and (
                hits is None or signal_target not in hits.targets):
            alerts.append((ALERT_SIGNALS, self._signals_alert(signals, signal_target, now)))
        return tuple(alerts)

    def _hits_alert(self, view: StoryView, signals: tuple[Signal, ...],
                    signal_target: Target | None, now: datetime) -> RenderedAlert | None:
        """The watchlist alert of a story as it stands, with its partnerships when they go
        to the same chat and topic, and the chats it goes to."""
        if not view.hits:
            return None  # a story without a watched term has no watchlist alert
        default: Target = (self.chat, None)
        # A muted watchlist still has its hits stored, but sends nothing anywhere.
        live = [h for h in view.hits if self.muted.get(h.watchlist, now) <= now]
        targets = tuple(dict.fromkeys(self.routes.get(h.watchlist, default) for h in live))
        together = signal_target is not None and signal_target in targets
        content = self._content(view.title, view.link, view.summary, view.source,
                                view.published, view.outlets, now, view.summary_hits,
                                view.languages)
        html = format_alert(content, view.hits, self.names, self.language,
                            signals if together else (),
                            self.partnerships if together else None)
        # Only a high-priority watchlist (or partnership routing) rings the reader's phone.
        silent = all(self.priorities.get(h.watchlist) != HIGH_PRIORITY for h in view.hits)
        if together and self.partnerships is not None:
            silent = silent and self.partnerships.routing.priority != HIGH_PRIORITY
        return RenderedAlert(html, silent, targets)

    def _signal_target(self) -> Target | None:
        """Where partnership signals go, or None when they are off."""
        if self.partnerships is None:
            return None
        routing = self.partnerships.routing
        return (routing.chat or self.chat, routing.topic)

    def _signals_alert(self, view: SignalStoryView, target: Target,
                       now: datetime) -> RenderedAlert:
        """The partnership alert of a story, on its own, where the routing sends it."""
        assert self.partnerships is not None
        content = self._content(view.title, view.link, "", view.source, view.published,
                                view.outlets, now)
        html = format_signal_alert(content, view.signals, self.partnerships, self.language)
        silent = self.partnerships.routing.priority != HIGH_PRIORITY
        return RenderedAlert(html, silent, (target,))

    def _content(self, title: str, link: str | None, summary: str, source: str,
                 published: datetime | None, outlets: tuple[str, ...], now: datetime,
                 summary_hits: tuple[Hit, ...] = (),
                 languages: tuple[str, ...] = ()) -> AlertContent:
        return AlertContent(
            title=title, link=link, summary=summary, source=source,
            published=shown_time(published, now).astimezone(self.timezone), outlets=outlets,
            summary_hits=summary_hits, languages=languages)
