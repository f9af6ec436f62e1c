"""Partnership messages: the map's caption, the weekly digest's caption, an actor's signals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from bot.matching.text import clip
from bot.partners.catalog import Partnerships
from bot.partners.matrix import Cell, PartnerMap, SignalRecord, actor_name, kind_name, period_text
from bot.telegram.html import CAPTION_LIMIT, bold, escape, fit, link, local_time
from bot.telegram.i18n import DEFAULT_LANGUAGE, LANGUAGES, t

MAX_CAPTION_CHANGES = 3  # changes named in a caption, biggest first
MAX_CAPTION_NEW_PAIRS = 4  # new pairs named in a caption; the rest are counted
MINUS = "\u2212"  # a typographic minus: "(−3)" reads better than "(-3)"
MAX_LISTED_TITLE = 200  # characters of an article's title under one of an actor's signals
MAX_LISTED_EVIDENCE = 300  # characters of the sentence that reports the signal


def caption(m: PartnerMap, partnerships: Partnerships, lang: str) -> str:
    """A few plain-text lines (not HTML: escape them before sending as HTML): the period and
    its total, the busiest pair, the biggest changes against the period before, new pairs."""
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    period = period_text(m.since, m.until, lang)
    busiest = m.busiest()
    if busiest is None:
        lines = [t(lang, "partners.none", period=period)]
    else:
        lines = [
            t(lang, "partners.caption_total", period=period, count=m.total),
            t(lang, "partners.caption_busiest",
              pair=pair_text(busiest.supplier, busiest.recipient, partnerships, lang),
              count=busiest.count, kind=kind_name(busiest.dominant_kind, partnerships, lang)),
        ]
    if m.changes and m.previous_total:
        shown = [_change_text(cell, partnerships, lang)
                 for cell in m.changes[:MAX_CAPTION_CHANGES]]
        lines.append(t(lang, "partners.caption_changes",
                       changes=t(lang, "partners.separator").join(shown)))
    elif busiest is not None:
        lines.append(t(lang, "partners.caption_no_previous"))
    if m.new_pairs:
        names = [pair_text(s, r, partnerships, lang)
                 for s, r in m.new_pairs[:MAX_CAPTION_NEW_PAIRS]]
        hidden = len(m.new_pairs) - len(names)
        if hidden:
            names.append(t(lang, "partners.more", count=hidden))
        lines.append(t(lang, "partners.caption_new", pairs=", ".join(names)))
    text = "\n".join(lines)
    return clip(text, CAPTION_LIMIT)


def digest_caption(partner_map: PartnerMap, partnerships: Partnerships, lang: str) -> str:
    """The weekly digest's caption (Telegram HTML): the map's caption and the new pairs."""
    title = t(lang, "partners.digest_title")
    text = caption(partner_map, partnerships, lang)  # it names the new pairs too
    return f"{bold(title)}\n{escape(text[:CAPTION_LIMIT - len(title) - 1])}"


def actor_signals(actor: str, records: Sequence[SignalRecord], partnerships: Partnerships,
                  lang: str, zone: tzinfo) -> str:
    """One actor's latest signals (Telegram HTML): when, who → whom and what, the evidence,
    the article."""
    name = actor_name(actor, partnerships, lang)
    if not records:
        return escape(t(lang, "partners.actor_none", actor=name))
    lines = [bold(t(lang, "partners.actor_header", actor=name))]
    for record in records:
        head = t(lang, "signal.header",
                 supplier=actor_name(record.supplier, partnerships, lang),
                 recipient=actor_name(record.recipient, partnerships, lang),
                 kind=kind_name(record.kind, partnerships, lang))
        linked = link(record.link, record.title[:MAX_LISTED_TITLE])
        lines.append(f"\n• {escape(local_time(record.seen_at, lang, zone))} · {bold(head)}"
                     f"\n«{escape(record.evidence[:MAX_LISTED_EVIDENCE])}»\n{linked}")
    return fit("\n".join(lines))


def pair_text(supplier: str, recipient: str, partnerships: Partnerships, lang: str) -> str:
    """"Turquie → Mali"."""
    return t(lang, "partners.pair", supplier=actor_name(supplier, partnerships, lang),
             recipient=actor_name(recipient, partnerships, lang))


def _change_text(cell: Cell, partnerships: Partnerships, lang: str) -> str:
    change = cell.change
    signed = f"+{change}" if change > 0 else f"{MINUS}{-change}"
    return t(lang, "partners.change", pair=pair_text(cell.supplier, cell.recipient,
                                                     partnerships, lang),
             count=cell.count, change=signed,
             kind=kind_name(cell.dominant_kind, partnerships, lang))
