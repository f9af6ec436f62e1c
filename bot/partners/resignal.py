"""Stored items read again with the partnership file after an edit: signals added, removed."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.matching.rematch import BATCH_SIZE, Advancing
from bot.partners.detect import Signal
from bot.storage.records import SignalChanges, StoredSignal, StoredText, from_iso
from bot.storage.store import Store

log = logging.getLogger(__name__)

SUMMARY = "summary"  # the field of a signal read in the summary


class Detecting(Protocol):
    """What finds the signals of one item (bot.partners.detect.SignalDetector)."""

    def detect(self, title: str, summary: str, *, year: int | None = None) -> list[Signal]: ...


@dataclass(frozen=True)
class ResignalReport:
    """What a signal rematch changed."""

    items: int
    added: int  # signals the file now finds and the database did not have
    removed: int  # stored signals it no longer finds
    updated: int  # kept with another sentence as evidence
    kept: int  # read in a summary that is gone (pruned): they cannot be read again


def resignal(store: Store, detector: Detecting, *, since: datetime | None = None,
             progress: Advancing | None = None, batch_size: int = BATCH_SIZE) -> ResignalReport:
    """Run ``detector`` over the stored items again and make their signals agree with it.

    Items are read in id order, a batch per transaction, only those stored since ``since``
    when given. New signals are dated when their item was stored, so that the weekly
    digest and `/partners` count them in the week the news came; no alert is queued or
    changed (a backfill must not flood the channel with old news). An item whose summary
    is gone is judged on its title: a stored signal read in the summary stays.
    """
    added = removed = updated = kept = count = 0
    last_id = 0
    while True:
        with store.transaction(immediate=True):
            items = store.item_texts(last_id, since, batch_size)
            if items:
                stored = store.stored_signals([item.id for item in items])
                changes, batch_kept = _changes(items, stored, detector)
                store.apply_signal_changes(changes)
                added += len(changes.insert)
                removed += len(changes.delete)
                updated += len(changes.update)
                kept += batch_kept
        if not items:
            break
        last_id = items[-1].id
        count += len(items)
        if progress is not None:
            progress.advance(len(items))
    report = ResignalReport(count, added, removed, updated, kept)
    log.info("signal rematch done items=%d signals_added=%d signals_removed=%d "
             "signals_updated=%d signals_kept=%d", count, added, removed, updated, kept)
    return report


def _changes(items: Sequence[StoredText],
             stored: Mapping[int, Mapping[tuple[str, str, str], StoredSignal]],
             detector: Detecting) -> tuple[SignalChanges, int]:
    """What the batch's signals must become, and how many stay unread (summary gone)."""
    changes = SignalChanges()
    kept = 0
    for item_id, story_id, title, summary, fetched_at in items:
        found = {(s.supplier, s.recipient, s.kind): s
                 for s in detector.detect(title, summary, year=_year(fetched_at))}
        had = stored.get(item_id, {})
        for key, signal in found.items():
            old = had.get(key)
            if old is None:
                if story_id is not None:
                    changes.insert.append((item_id, story_id, *key, signal.evidence,
                                           signal.field, fetched_at))
            elif (old.evidence, old.field) != (signal.evidence, signal.field):
                changes.update.append((signal.evidence, signal.field, old.id))
        for key, old in had.items():
            if key in found:
                continue
            if not summary and old.field == SUMMARY:
                kept += 1
            else:
                changes.delete.append((old.id,))
    return changes, kept


def format_report(report: ResignalReport) -> str:
    """The report as the command line prints it."""
    line = (f"signals: {report.added} added, {report.removed} removed, {report.updated} "
            f"updated")
    if report.kept:
        line += f", {report.kept} kept (their summary is gone)"
    return line + "\n"


def _year(stored: str) -> int | None:
    """The year of a stored ISO time ("2026-12-06T…"), None when there is none."""
    when = from_iso(stored)
    return when.year if when else None
