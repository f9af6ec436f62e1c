"""Stories per day per watchlist over the last days, as the charts draw them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from bot.storage.store import Store

DaySeries = tuple[list[date], dict[str, list[int]]]  # the days, each watchlist's count a day


def stories_per_day(store: Store, watchlists: Iterable[str], now: datetime,
                    days: int) -> DaySeries:
    """The last ``days`` days, today (in ``now``'s zone) included, and the stories each
    watchlist (those given, and any other the store names) had on each."""
    start = (now - timedelta(days=days - 1)).date()
    axis = [start + timedelta(days=n) for n in range(days)]
    counts = store.hits_per_day(datetime.combine(start, datetime.min.time(), tzinfo=now.tzinfo))
    series = {w: [counts.get(w, {}).get(d.isoformat(), 0) for d in axis]
              for w in sorted(set(watchlists) | set(counts))}
    return axis, series
