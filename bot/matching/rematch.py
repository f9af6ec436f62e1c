"""Stored items against the current watchlists again, after a change: hits added and removed."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.errors import BotError
from bot.matching.matcher import Hit, Matcher
from bot.storage.records import HitChanges, HitKey, Relisted, StoredHit, StoredText
from bot.storage.store import Store

log = logging.getLogger(__name__)

# Items read, matched and written per transaction: a crash loses at most this much work, and
# memory holds one batch whatever the size of the database. Well under SQLite's limit of
# bound parameters, since a batch's ids go into one IN (...).
BATCH_SIZE = 500

@dataclass(frozen=True)
class RematchReport:
    """What a rematch changed."""

    items: int  # items read
    added: int  # hits the current watchlists find and the database did not have
    removed: int  # stored hits they no longer find
    updated: int  # stored hits kept with new evidence (text, field, score or position)
    kept: int  # hits of items without a summary that the title alone no longer shows
    stories_hit: Mapping[str, int]  # per watchlist: stories it newly hits
    stories_unhit: Mapping[str, int]  # per watchlist: stories it no longer hits


class Advancing(Protocol):
    """Where a rematch reports the items it has done (bot.ops.progress.Progress)."""

    def advance(self, n: int = 1) -> None: ...


@dataclass
class _Tally:
    items: int = 0
    added: int = 0
    removed: int = 0
    updated: int = 0
    kept: int = 0
    stories_hit: dict[str, int] = field(default_factory=dict)
    stories_unhit: dict[str, int] = field(default_factory=dict)
    # (story, watchlist) pairs this run unlisted: one item of a story may lose a watchlist
    # in an early batch while another gains it back in a later one, which is no change.
    unlisted: set[tuple[int, str]] = field(default_factory=set)

    def report(self) -> RematchReport:
        return RematchReport(self.items, self.added, self.removed, self.updated, self.kept,
                             dict(sorted(self.stories_hit.items())),
                             dict(sorted(self.stories_unhit.items())))


def count_items(store: Store, *, since: datetime | None = None) -> int:
    """How many items :func:`rematch` would read with ``since`` (the total of its progress)."""
    return store.count_items(since)


def rematch(store: Store, matcher: Matcher, *, since: datetime | None = None,
            watchlists: Collection[str] | None = None, progress: Advancing | None = None,
            batch_size: int = BATCH_SIZE) -> RematchReport:
    """Run ``matcher`` over the stored items again and make their hits agree with it.

    Items are read in id order, ``batch_size`` at a time, each batch matched and written in
    one transaction; only items stored (``fetched_at``) since ``since`` are read, when given.
    Only the ``watchlists`` named (every enabled one of ``matcher`` when None) are
    rematched: hits of other watchlists, including those no longer configured, stay.

    New hits are written as a poll writes them, dated when their item was stored, so that
    statistics and daily reports count them on the day the news came. The stories they hit
    appear in /hits and in exports, in their place by date. No alert is queued or changed:
    a backfill must not flood the channel with old news.

    An item whose summary is empty (pruned after ``storage.retention``, or never given) is
    judged on its title alone. It gains the hits its title shows; a stored hit its title no
    longer shows goes if its term has left the watchlist, or if it is in the title and its
    term needs no context, and otherwise stays (``kept``): it may rest on the summary,
    which cannot be read again.
    """
    scope = _scope(matcher, watchlists)
    # Each term of the rematched watchlists, and whether it needs context to count.
    terms = {(w.id, t.text): bool(t.context) for w in matcher.watchlists if w.id in scope
             for t in w.terms}
    tally = _Tally()
    last_id = 0
    while True:
        # Immediate: nothing may change the batch's hits between reading and writing them.
        with store.transaction(immediate=True):
            items = store.item_texts(last_id, since, batch_size)
            if items:
                stored = store.stored_hits([item.id for item in items], scope)
                changes = _changes(items, stored, matcher, scope, terms, tally)
                _tally(store.apply_hit_changes(changes), changes, tally)
        if not items:
            break
        last_id = items[-1].id
        tally.items += len(items)
        if progress is not None:
            progress.advance(len(items))
    report = tally.report()
    log.info("rematch done items=%d hits_added=%d hits_removed=%d hits_updated=%d "
             "hits_kept=%d stories_hit=%d stories_unhit=%d", report.items, report.added,
             report.removed, report.updated, report.kept, sum(report.stories_hit.values()),
             sum(report.stories_unhit.values()))
    return report


def format_report(report: RematchReport) -> str:
    """The report as the command line prints it."""
    lines = [f"rematched {report.items} items: {report.added} hits added, {report.removed} "
             f"removed, {report.updated} updated"]
    if report.kept:
        lines.append(f"kept {report.kept} hits of items whose summary is gone")
    for watchlist in sorted(set(report.stories_hit) | set(report.stories_unhit)):
        lines.append(f"{watchlist}: {report.stories_hit.get(watchlist, 0)} stories newly hit, "
                     f"{report.stories_unhit.get(watchlist, 0)} no longer hit")
    if not (report.added or report.removed or report.updated):
        lines.append("no change")
    return "\n".join(lines) + "\n"


def _scope(matcher: Matcher, watchlists: Collection[str] | None) -> frozenset[str]:
    enabled = {w.id for w in matcher.watchlists}
    if watchlists is None:
        return frozenset(enabled)
    unknown = sorted(set(watchlists) - enabled)
    if unknown:
        raise BotError(f"not an enabled watchlist: {', '.join(unknown)} "
                       f"(enabled: {', '.join(sorted(enabled)) or 'none'})")
    return frozenset(watchlists)


def _changes(items: Sequence[StoredText],
             stored: Mapping[int, Mapping[HitKey, list[StoredHit]]], matcher: Matcher,
             scope: frozenset[str], terms: Mapping[HitKey, bool], tally: _Tally) -> HitChanges:
    """What the batch's hits must become, item by item."""
    changes = HitChanges()
    for item_id, story_id, title, summary, fetched_at in items:
        found = {(h.watchlist, h.term): h for h in matcher.match(title, summary)
                 if h.watchlist in scope}
        had = stored.get(item_id, {})
        for key, hit in found.items():
            old = had.get(key)
            if not old:
                changes.insert.append((item_id, hit.watchlist, hit.term, hit.text, hit.field,
                                       hit.score, fetched_at, hit.start, hit.end))
            elif old[0].hit != hit:
                changes.update.append((hit.text, hit.field, hit.score, hit.start, hit.end,
                                       old[0].id))
            if story_id is not None:
                changes.listed[(story_id, hit.watchlist)] = None
        for key, olds in had.items():
            kept = key not in found and not summary and _unsure(olds[0].hit, terms)
            gone = olds[1:] if key in found or kept else olds  # a repeat always goes
            changes.delete.extend((old.id,) for old in gone)
            tally.kept += kept
            if story_id is None:
                continue
            if kept:
                changes.listed[(story_id, key[0])] = None
            if gone:
                changes.unlisted[(story_id, key[0])] = None
    return changes


def _unsure(hit: Hit, terms: Mapping[HitKey, bool]) -> bool:
    """Whether a hit of an item without summary, which its title alone no longer shows, may
    still be right: found in the summary, or needing context the summary may have given.
    A hit whose term has left its watchlist is never right."""
    needs_context = terms.get((hit.watchlist, hit.term))
    return needs_context is not None and (hit.field != "title" or needs_context)


def _tally(relisted: Relisted, changes: HitChanges, tally: _Tally) -> None:
    """Count one batch's changes to hits and to the stories each watchlist lists."""
    tally.added += len(changes.insert)
    tally.removed += len(changes.delete)
    tally.updated += len(changes.update)
    for story_id, watchlist in relisted.listed:
        if (story_id, watchlist) in tally.unlisted:
            tally.unlisted.discard((story_id, watchlist))
            _count(tally.stories_unhit, watchlist, -1)
        else:
            _count(tally.stories_hit, watchlist, 1)
    for pair in relisted.unlisted:
        tally.unlisted.add(pair)
        _count(tally.stories_unhit, pair[1], 1)


def _count(counts: dict[str, int], watchlist: str, step: int) -> None:
    counts[watchlist] = counts.get(watchlist, 0) + step
    if not counts[watchlist]:
        del counts[watchlist]
