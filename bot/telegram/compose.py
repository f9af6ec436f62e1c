"""A story's alerts as subscribers get them: the text, the chats and topics, and the ring."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.matching.matcher import Hit
from bot.partners.catalog import Partnerships
from bot.storage.records import RenderedAlert, SignalStoryView, StoryView, Target
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

    def hits_alert(self, view: StoryView, now: datetime) -> RenderedAlert:
        """The watchlist alert of a story as it stands, and the chats it goes to."""
        content = self._content(view.title, view.link, view.summary, view.source,
                                view.published, view.outlets, now, view.summary_hits)
        html = format_alert(content, view.hits, self.names, self.language)
        # Only a high-priority watchlist rings the reader's phone; the rest arrive silently.
        silent = all(self.priorities.get(h.watchlist) != HIGH_PRIORITY for h in view.hits)
        default: Target = (self.chat, None)
        # A muted watchlist still has its hits stored, but sends nothing anywhere.
        live = [h for h in view.hits if self.muted.get(h.watchlist, now) <= now]
        targets = tuple(dict.fromkeys(self.routes.get(h.watchlist, default) for h in live))
        return RenderedAlert(html, silent, targets)

    def signals_alert(self, view: SignalStoryView, now: datetime) -> RenderedAlert:
        """The partnership alert of a story, routed by the partnership file's settings."""
        if self.partnerships is None:
            raise RuntimeError("partnership alerts composed with partnerships off")
        content = self._content(view.title, view.link, "", view.source, view.published,
                                view.outlets, now)
        html = format_signal_alert(content, view.signals, self.partnerships, self.language)
        routing = self.partnerships.routing
        target: Target = (routing.chat or self.chat, routing.topic)
        return RenderedAlert(html, routing.priority != HIGH_PRIORITY, (target,))

    def _content(self, title: str, link: str | None, summary: str, source: str,
                 published: datetime | None, outlets: tuple[str, ...], now: datetime,
                 summary_hits: tuple[Hit, ...] = ()) -> AlertContent:
        return AlertContent(
            title=title, link=link, summary=summary, source=source,
            published=shown_time(published, now).astimezone(self.timezone), outlets=outlets,
            summary_hits=summary_hits)
