"""What a poll did: one outcome per feed, and the totals of a cycle."""

from __future__ import annotations

from dataclasses import dataclass, field

NEW, NOT_MODIFIED, UNCHANGED, FAILED = "new", "not-modified", "unchanged", "failed"


@dataclass(frozen=True)
class FeedOutcome:
    """What polling one feed did."""

    feed: str
    status: str  # NEW, NOT_MODIFIED, UNCHANGED or FAILED
    items: int = 0
    new_items: int = 0
    hits: int = 0
    alerts: int = 0
    error: str | None = None


@dataclass(frozen=True)
class CycleReport:
    """Totals of one poll cycle, for the summary log line."""

    outcomes: tuple[FeedOutcome, ...] = field(default_factory=tuple)

    def count(self, status: str) -> int:
        """Feeds that ended with ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    def total(self, attribute: str) -> int:
        """Sum of one numeric attribute over the feeds."""
        return sum(int(getattr(o, attribute)) for o in self.outcomes)
