"""Hits to Telegram-HTML alert messages: everything escaped, within Telegram's limits (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.matching.matcher import Hit
from bot.matching.text import ELLIPSIS, clip
from bot.partners.catalog import Partnerships
from bot.partners.detect import Signal
from bot.partners.matrix import actor_name, kind_name
from bot.telegram.html import (
    MAX_MESSAGE_UTF16,
    bold,
    escape,
    italic,
    link,
    local_time,
    visible_length,
)

# Read from here by tests of the whole pipeline; the primitive lives in bot.telegram.html.
from bot.telegram.html import attribute as attribute
from bot.telegram.i18n import t

MAX_TITLE_CHARS = 300
MAX_SOURCE_CHARS = 120
EXCERPT_RADIUS = 140  # characters of context kept on each side of a summary hit
MAX_EVIDENCE = 6
MAX_OUTLETS_SHOWN = 12
ALERT_ICON = "🔔"
SIGNAL_ICON = "🤝"
MAX_SIGNALS_SHOWN = 3  # partnerships named at the head of one alert
MAX_EVIDENCE_CHARS = 400  # one evidence sentence, clipped


@dataclass(frozen=True)
class AlertContent:
    """What an alert says about one item."""

    title: str
    link: str | None
    summary: str
    source: str
    published: datetime | None  # already in the reader's time zone
    outlets: tuple[str, ...] = ()  # every outlet that carried the story, the source first
    summary_hits: tuple[Hit, ...] = ()  # hits inside ``summary``, for the excerpt
    languages: tuple[str, ...] = ()  # each outlet's language, when known


def format_alert(content: AlertContent, hits: Sequence[Hit], names: Mapping[str, str],
                 lang: str, signals: Sequence[Signal] = (),
                 partnerships: Partnerships | None = None) -> str:
    """The HTML message for one story: watchlists, the partnerships it reports (when
    ``partnerships`` is given), linked title, source, time, evidence."""
    watchlists = list(dict.fromkeys(hit.watchlist for hit in hits))
    header = f"{ALERT_ICON} " + " · ".join(bold(names.get(w, w)) for w in watchlists)
    heads = _signal_heads(signals, partnerships, lang) if partnerships is not None else []
    evidence = ", ".join(
        f"{_quoted(hit.text)} ({escape(t(lang, 'alert.field.' + hit.field))}"
        + (f", {hit.score}%" if hit.score < 100 else "") + ")"
        for hit in best_evidence(hits)[:MAX_EVIDENCE]
    )
    lines = [header, *heads, _title_line(content, lang), _source_line(content, lang)]
    essential = len(lines)
    lines += _outlets_line(content, lang)
    lines.append(f"{escape(t(lang, 'alert.matched'))} {evidence}")
    summary_hits = content.summary_hits or [h for h in hits if h.field == "summary"]
    excerpt = _excerpt(content.summary, summary_hits)
    if excerpt:
        lines.append(f"<blockquote>{excerpt}</blockquote>")
    if heads:
        lines += _signal_evidence(signals, content)
    return _within_limit(lines, essential)


def format_signal_alert(content: AlertContent, signals: Sequence[Signal],
                        partnerships: Partnerships, lang: str) -> str:
    """The HTML message for a story reporting partnerships and no watched term (or one
    routed apart): who → whom and what, the linked title, source and time, and the
    sentences that say so."""
    lines = [*_signal_heads(signals, partnerships, lang), _title_line(content, lang)]
    lines += [_source_line(content, lang), *_outlets_line(content, lang)]
    essential = len(lines)
    lines += _signal_evidence(signals, content)
    return _within_limit(lines, essential)


def _signal_heads(signals: Sequence[Signal], partnerships: Partnerships,
                  lang: str) -> list[str]:
    """One line per partnership reported: supplier → recipient : kind."""
    return [
        f"{SIGNAL_ICON} " + bold(t(
            lang, "signal.header", supplier=actor_name(s.supplier, partnerships, lang),
            recipient=actor_name(s.recipient, partnerships, lang),
            kind=kind_name(s.kind, partnerships, lang)))
        for s in signals[:MAX_SIGNALS_SHOWN]
    ]


def _signal_evidence(signals: Sequence[Signal], content: AlertContent) -> list[str]:
    """The sentences that report the partnerships, each once, unless it is the title."""
    return [f"<blockquote>{escape(clip(evidence, MAX_EVIDENCE_CHARS))}</blockquote>"
            for evidence in dict.fromkeys(s.evidence for s in signals[:MAX_SIGNALS_SHOWN])
            if not _same_words(evidence, content.title)]


def _within_limit(lines: list[str], essential: int) -> str:
    """The lines as one message, the last ones dropped until it fits Telegram's limit
    (quotes first, then evidence; never the header, the title or the source)."""
    message = "\n".join(lines)
    while visible_length(message) > MAX_MESSAGE_UTF16 and len(lines) > essential:
        lines.pop()
        message = "\n".join(lines)
    return message


def best_evidence(hits: Sequence[Hit]) -> list[Hit]:
    """One hit per matched text and field, the best scored, in the order first seen: the
    same words matched by several terms are one piece of evidence."""
    best: dict[tuple[str, str], Hit] = {}
    for hit in hits:
        key = (hit.text, hit.field)
        if key not in best or hit.score > best[key].score:
            best[key] = hit
    return list(best.values())


def _quoted(text: str) -> str:
    """The matched words between quotation marks that cannot be mistaken for its own."""
    if "«" in text or "»" in text:
        return f"“{escape(text)}”"
    return f"«{escape(text)}»"


def _same_words(a: str, b: str) -> bool:
    """Whether two texts read the same, case, spacing and final punctuation aside."""
    def words(text: str) -> str:
        return " ".join(text.casefold().split()).rstrip(" .!?…")
    return words(a) == words(b)


def _title_line(content: AlertContent, lang: str) -> str:
    """The item's title, linked to the article when its address is safe, else in bold."""
    title = clip(content.title or t(lang, "alert.no_title"), MAX_TITLE_CHARS)
    return link(content.link, title, bold_if_unlinked=True)


def _source_line(content: AlertContent, lang: str) -> str:
    """The outlet, in italics, and the time."""
    line = italic(clip(content.source, MAX_SOURCE_CHARS))
    if content.published:
        line += f" · {escape(local_time(content.published, lang))}"
    return line


def _outlets_line(content: AlertContent, lang: str) -> list[str]:
    """The other outlets that carried the story, if any, as one line."""
    others = content.outlets[1:]
    if not others:
        return []
    first = content.languages[0] if content.languages else ""
    languages = content.languages[1:] or ("",) * len(others)
    shown = ", ".join(
        escape(clip(outlet, MAX_SOURCE_CHARS)) + (f" ({other})" if other and other != first
                                                   else "")
        for outlet, other in zip(others[:MAX_OUTLETS_SHOWN], languages, strict=False))
    more = "…" if len(others) > MAX_OUTLETS_SHOWN else ""
    # " · 3 médias", as /recent writes it: the outlet's language is the only parenthesis.
    return [f"{escape(t(lang, 'alert.also'))} {shown}{more} · "
            f"{escape(t(lang, 'alert.outlets', count=len(content.outlets)))}"]


def _excerpt(summary: str, hits: Sequence[Hit]) -> str:
    """A window of the summary around the first hit, the matched words in bold (escaped)."""
    if not hits:
        return ""
    hit = min(hits, key=lambda h: h.start)
    if hit.end > len(summary) or summary[hit.start : hit.end] != hit.text:
        return ""  # positions from another version of the text: no excerpt rather than a wrong one
    start = max(0, hit.start - EXCERPT_RADIUS)
    end = min(len(summary), hit.end + EXCERPT_RADIUS)
    before = summary[start : hit.start]
    after = summary[hit.end : end]
    if start > 0:
        before = ELLIPSIS + before.split(" ", 1)[-1]
    if end < len(summary):
        after = after.rsplit(" ", 1)[0] + ELLIPSIS
    return f"{escape(before)}<b>{escape(summary[hit.start : hit.end])}</b>{escape(after)}"
