"""How long to wait before polling a feed again: slower while it brings nothing new (pure)."""

from __future__ import annotations

import re

# After this many polls in a row without a new item, the wait doubles (and again after as
# many more), up to the configured ceiling; one new item brings it back to the feed's own.
QUIET_POLLS_PER_DOUBLING = 4
MAX_AGE_RE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
NO_FRESHNESS_RE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\s*(?:,|$)", re.IGNORECASE)


def next_interval(base: float, quiet_polls: int, cache_seconds: float | None,
                  ceiling: float) -> float:
    """Seconds until the next poll.

    ``base`` is the feed's configured interval and the floor: a feed is never polled more
    often than its configuration says. ``quiet_polls`` is the number of polls in a row that
    brought no new item; ``cache_seconds`` is how long the server said its answer stays
    fresh (Cache-Control max-age). Neither can push the wait past ``ceiling`` (or past
    ``base``, when the ceiling is lower), so a feed never goes silent for good.
    """
    slowed = base * float(2 ** (max(quiet_polls, 0) // QUIET_POLLS_PER_DOUBLING))
    wait = max(slowed, cache_seconds or 0.0)
    return max(base, min(wait, ceiling))


def hastened(now: float, last_checked: float | None, interval: float,
             cache_seconds: float | None) -> float:
    """When a feed brought forward is polled (seconds, on the same scale as ``now``): at
    once, unless its own interval since its last poll, or the freshness its server gave
    the last answer, has not run out yet: a hit never makes a feed polled more often than
    its configuration and its server allow."""
    if last_checked is None:
        return now
    return max(now, last_checked + max(interval, cache_seconds or 0.0))


def cache_lifetime(cache_control: str | None, age: str | None) -> float | None:
    """Seconds an answer stays fresh by its Cache-Control max-age, less its Age; None if
    the server says nothing (or forbids reuse with no-cache or no-store)."""
    if not cache_control or NO_FRESHNESS_RE.search(cache_control):
        return None
    found = MAX_AGE_RE.search(cache_control)
    if found is None:
        return None
    elapsed = int(age) if age and age.strip().isdigit() else 0
    return float(max(int(found.group(1)) - elapsed, 0))
