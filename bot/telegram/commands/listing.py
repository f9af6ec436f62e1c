"""How stories, search results and feeds read in a paged list (Telegram HTML)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo

from bot.settings.durations import format_duration
from bot.settings.urls import redact_text
from bot.storage.records import FeedHealth, StorySummary
from bot.telegram.html import bold, escape, fit, italic, link, local_time
from bot.telegram.i18n import t

MAX_LISTED_TITLE = 200
MAX_LISTED_ERROR = 150  # characters of a feed's last error
FAILING_FEED = 3  # failures in a row that turn a feed's warning into a failure
NO_SHARE = "–"  # a feed never checked has no share of 304 answers
UNTITLED = "…"
OK_ICON, WARNING_ICON, FAILING_ICON = "✅", "⚠️", "❌"
SEARCH = "search"
MIN_SHOWN_DELAY = 60  # seconds: a delay is shown to the minute


def listed_line(title: str, url: str | None, source: str, when: datetime, lang: str,
                zone: tzinfo) -> str:
    """A bullet with the linked title, then the source and the time."""
    linked = link(url, title[:MAX_LISTED_TITLE] or UNTITLED)
    return f"• {linked}\n{escape(source)} · {escape(local_time(when, lang, zone))}"


def story_entry(story: StorySummary, names: Mapping[str, str], lang: str,
                zone: tzinfo) -> str:
    """A story: its line, then its watchlists and, when several, how many outlets."""
    line = listed_line(story.title, story.link, story.source, story.when, lang, zone)
    tags = ", ".join(escape(names.get(w, w)) for w in story.watchlists)
    outlets = f" · {escape(t(lang, 'story.outlets', count=story.outlets))}" \
        if story.outlets > 1 else ""
    return f"{line}\n<i>{tags}</i>{outlets}"


def feed_entry(feed: FeedHealth, lang: str, zone: tzinfo) -> str:
    """A feed's health: its state, last success, failures, 304 share, pace, last error."""
    icon = FAILING_ICON if feed.failures >= FAILING_FEED else \
        WARNING_ICON if feed.failures else OK_ICON
    share = f"{100 * feed.not_modified / feed.checks:.0f} %" if feed.checks else NO_SHARE
    success = (local_time(feed.last_success, lang, zone) if feed.last_success
               else t(lang, "feeds.never"))
    kind = source_kind(feed)
    shown_kind = f" · {escape(t(lang, f'feeds.kind.{kind}'))}" if kind else ""
    entry = (f"{icon} {bold(redact_text(feed.name))}{shown_kind}\n" + escape(t(
        lang, "feeds.line", success=success, failures=feed.failures, share=share,
        items=feed.items_recent)))
    pace = feed_pace(feed, lang)
    if pace:
        entry += f"\n{escape(pace)}"
    if feed.last_error:
        entry += f"\n{italic(redact_text(feed.last_error)[:MAX_LISTED_ERROR])}"
    return entry


def feed_pace(feed: FeedHealth, lang: str) -> str:
    """How often a feed is polled now, and why, once it has been polled."""
    if feed.every is None:
        return ""
    every = format_duration(feed.every)
    parts = [t(lang, "feeds.pace", every=every)]
    if feed.interval is not None and feed.every > feed.interval and (
            feed.cache_seconds is None or feed.every > feed.cache_seconds):
        parts = [t(lang, "feeds.slowed", every=every, interval=format_duration(feed.interval))]
    if feed.cache_seconds:
        parts.append(t(lang, "feeds.cache", cache=format_duration(feed.cache_seconds)))
    if feed.delay is not None:
        parts.append(t(lang, "feeds.delay", delay=format_duration(
            max(MIN_SHOWN_DELAY, round(feed.delay / MIN_SHOWN_DELAY) * MIN_SHOWN_DELAY))))
    return " · ".join(parts)


def source_kind(feed: FeedHealth) -> str:
    """What a feed is, as /feeds names it: a search (the store marks one by its address or
    its configuration), else what its body was read as; "" before its first successful
    poll."""
    return SEARCH if feed.search else feed.kind or ""


def page_text(header: str, entries: Sequence[str], number: int, pages: int, lang: str) -> str:
    """The header in bold, the entries, and "page n/m" when there are several pages, all
    within one message."""
    footer = f"\n{italic(t(lang, 'cmd.page', page=number, pages=pages))}" if pages > 1 else ""
    return fit(f"{bold(header)}\n\n" + "\n\n".join(entries), footer)
