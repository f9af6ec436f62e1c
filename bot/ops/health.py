"""Is the bot alive? The age of its last completed poll cycle against a limit (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.settings.durations import format_duration

if TYPE_CHECKING:  # the verdict is pure: it reads a record, never the database
    from bot.storage.records import CycleRecord

# A cycle runs every polling tick; this many ticks without one means the bot is stuck.
MISSED_TICKS = 4
MIN_MAX_AGE = 300.0  # seconds: never stricter than this, whatever the tick


@dataclass(frozen=True)
class Health:
    """The verdict and the one line that explains it."""

    healthy: bool
    summary: str


def max_age_for(tick: float) -> float:
    """How old the last cycle may be, in seconds, for a bot polling every ``tick`` seconds."""
    return max(MIN_MAX_AGE, MISSED_TICKS * tick)


def assess(last: CycleRecord | None, now: datetime, max_age: float) -> Health:
    """Healthy when a poll cycle finished within ``max_age`` seconds of ``now``."""
    if last is None:
        return Health(False, "unhealthy: no poll cycle has completed yet")
    age = max(0.0, (now - last.finished_at).total_seconds())
    totals = (f"{last.feeds} feeds polled: {last.new} with news, {last.not_modified} not "
              f"modified, {last.unchanged} unchanged, {last.failed} failed; "
              f"{last.new_items} new items, {last.hits} hits, {last.alerts_sent} alerts sent")
    when = f"last cycle finished {format_duration(round(age))} ago"
    if age > max_age:
        return Health(False, f"unhealthy: {when} (limit {format_duration(max_age)}); {totals}")
    return Health(True, f"healthy: {when}; {totals}")
