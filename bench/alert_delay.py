"""Time to alert on simulated time: a week of the shipped feed list under the bot's polling
policy, from each item's publication to the poll that finds it, per kind of feed.

The feeds, their intervals and the ceiling come from config.toml; each poll's next wait
comes from the bot's own ``next_interval`` (slower while a feed brings nothing new, never
past ``[polling] max_interval``). What the feeds publish is drawn from a seed:

- newspapers publish all day and little at night (a Poisson process, by their interval:
  a feed polled every 10 minutes is a busy one);
- searches (news search and the global index) carry the reports of events about their
  watchlist, a few hours' worth after each event, and events are rare for some names;
- channels post in bursts, mostly by day (the shipped config has none enabled: the week
  adds ``--channels`` of them at its example's 5 minutes).

The delay is the wait for the poll that finds an item plus the outbox tick; the pipeline's
own time (parse, match, queue, send: about 3 s for a busy cycle, see bench/run.py) is not in
it. Requests per day count every poll.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.ingest.cadence import next_interval  # noqa: E402
from bot.settings.config import load_config  # noqa: E402
from bot.settings.urls import is_search  # noqa: E402

SEED = 20_261_206
DAYS = 7
QUICK_DAYS = 1
DAY = 86_400.0
MINUTE = 60.0
NEWSPAPER, SEARCH, CHANNEL = "newspaper", "search", "channel"
KINDS = (NEWSPAPER, SEARCH, CHANNEL)
OUTBOX_TICK = 5.0  # seconds: [delivery] tick, the longest an alert waits in the outbox
CHANNEL_INTERVAL = 300.0
DEFAULT_CHANNELS = 3
# Newspapers: items a day by the interval they are polled at (busy ones are polled often).
PER_DAY_BY_INTERVAL = ((600.0, 40.0), (900.0, 25.0), (float("inf"), 8.0))
DAYTIME = (6, 22)  # UTC hours of the day's news
NIGHT_SHARE = 0.15  # how much less is published at night
# Searches: events a day about each watchlist, by a word of the feed's name; each event is
# carried by a search in each language with this chance, in 1 to 3 reports over the hours
# after it.
EVENTS_PER_DAY = (("canik", 0.15), ("wagner", 6.0), ("africa corps", 6.0), ("fama", 8.0),
                  ("malian army", 8.0), ("tb2", 1.0), ("goïta", 3.0), ("goita", 3.0))
DEFAULT_EVENTS_PER_DAY = 1.0
CARRIED = 0.7
REPORTS = (1, 3)
REPORT_SPREAD = 3 * 3600.0  # mean seconds from an event to a search's report of it
# Channels: bursts a day, posts in a burst, and the minutes a burst lasts.
BURSTS_PER_DAY = 6.0
BURST_POSTS = (2, 6)
BURST_MINUTES = 20.0
# Targets (minutes): the median and 95th percentile for searches and channels, the 95th
# percentile overall, and the most requests a day may grow against the policy before.
KIND_P50, KIND_P95, OVERALL_P95 = 5.0, 15.0, 20.0
MAX_REQUEST_GROWTH = 0.25


@dataclass
class Feed:
    """One polled feed: its kind, interval, and what it publishes over the run."""

    name: str
    kind: str
    interval: float
    published: list[float] = field(default_factory=list)  # seconds from the start, sorted


Policy = Callable[[Feed, int], float]  # (feed, quiet polls) -> seconds to the next poll


def kind_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return SEARCH if is_search(url) else CHANNEL if host == "t.me" else NEWSPAPER


def daytime(rng: random.Random, start: float, days: int, per_day: float) -> Iterator[float]:
    """Moments of a Poisson process of ``per_day`` a day, thinned at night."""
    peak = per_day / ((DAYTIME[1] - DAYTIME[0]) / 24 + NIGHT_SHARE * (1 - (DAYTIME[1]
                                                                           - DAYTIME[0]) / 24))
    t = start
    while True:
        t += rng.expovariate(peak / DAY)
        if t >= days * DAY:
            return
        hour = (t % DAY) / 3600
        if DAYTIME[0] <= hour < DAYTIME[1] or rng.random() < NIGHT_SHARE:
            yield t


def world(feeds: list[Feed], days: int, rng: random.Random) -> None:
    """Fill each feed with what it publishes over ``days``."""
    events: dict[str, list[float]] = {}
    for feed in feeds:
        if feed.kind == NEWSPAPER:
            per_day = next(n for limit, n in PER_DAY_BY_INTERVAL if feed.interval <= limit)
            feed.published = list(daytime(rng, 0.0, days, per_day))
        elif feed.kind == CHANNEL:
            for burst in daytime(rng, 0.0, days, BURSTS_PER_DAY):
                feed.published += [burst + rng.uniform(0, BURST_MINUTES * MINUTE)
                                   for _ in range(rng.randint(*BURST_POSTS))]
        else:
            name = feed.name.lower()
            word = next((w for w, _ in EVENTS_PER_DAY if w in name), name)
            if word not in events:
                rate = next((r for w, r in EVENTS_PER_DAY if w == word), DEFAULT_EVENTS_PER_DAY)
                events[word] = list(daytime(rng, 0.0, days, rate))
            for event in events[word]:
                if rng.random() < CARRIED:
                    feed.published += [event + rng.expovariate(1 / REPORT_SPREAD)
                                       for _ in range(rng.randint(*REPORTS))]
        feed.published = sorted(t for t in feed.published if t < days * DAY)


@dataclass
class Outcome:
    """Delays (seconds) of the items found, and the polls made, per kind."""

    delays: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    polls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))


def simulate(feeds: Sequence[Feed], days: int, policy: Policy, rng: random.Random) -> Outcome:
    """Poll every feed over the run under ``policy``; each feed starts at a random moment
    of its first interval, as the bot's feeds fall due from their last poll."""
    outcome = Outcome()
    for feed in feeds:
        t, quiet, found = rng.uniform(0, feed.interval), 0, 0
        while t < days * DAY:
            outcome.polls[feed.kind] += 1
            new = 0
            while found < len(feed.published) and feed.published[found] <= t:
                outcome.delays[feed.kind].append(t - feed.published[found] + OUTBOX_TICK)
                found += 1
                new += 1
            quiet = 0 if new else quiet + 1
            t += policy(feed, quiet)
    return outcome


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)] if ordered \
        else float("nan")


def report(outcome: Outcome, days: int, before: Outcome | None) -> tuple[str, bool]:
    """The table, and whether every target is met."""
    rows = ["| feeds | items | p50 (min) | p95 (min) | requests a day | target | met |",
            "| --- | ---: | ---: | ---: | ---: | --- | --- |"]
    met_all = True
    every: list[float] = []
    for kind in KINDS:
        delays = outcome.delays[kind]
        every += delays
        p50, p95 = percentile(delays, 0.5) / MINUTE, percentile(delays, 0.95) / MINUTE
        target, met = "—", True
        if kind in (SEARCH, CHANNEL):
            target = f"p50 ≤ {KIND_P50:g}, p95 ≤ {KIND_P95:g}"
            met = p50 <= KIND_P50 and p95 <= KIND_P95
        met_all &= met
        rows.append(f"| {kind} | {len(delays):,} | {p50:.1f} | {p95:.1f} | "
                    f"{outcome.polls[kind] / days:,.0f} | {target} | "
                    f"{'yes' if met else '**no**'} |")
    p50, p95 = percentile(every, 0.5) / MINUTE, percentile(every, 0.95) / MINUTE
    requests = sum(outcome.polls.values()) / days
    met = p95 <= OVERALL_P95
    if before is not None:
        budget = sum(before.polls.values()) / days * (1 + MAX_REQUEST_GROWTH)
        met = met and requests <= budget
        target = f"p95 ≤ {OVERALL_P95:g}, ≤ {budget:,.0f} requests a day"
    else:
        target = f"p95 ≤ {OVERALL_P95:g}"
    met_all &= met
    rows.append(f"| all | {len(every):,} | {p50:.1f} | {p95:.1f} | {requests:,.0f} | {target} "
                f"| {'yes' if met else '**no**'} |")
    return "\n".join(rows), met_all


def shipped_policy(ceiling: float) -> Policy:
    """The bot's policy: the feed's interval, doubled every four quiet polls, up to the
    ceiling (``next_interval``, as the poller calls it)."""
    return lambda feed, quiet: next_interval(feed.interval, quiet, None, ceiling)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DAYS} day, for tests")
    parser.add_argument("--channels", type=int, default=DEFAULT_CHANNELS,
                        help=f"channels added to the shipped feeds (default {DEFAULT_CHANNELS})")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    days = QUICK_DAYS if args.quick else DAYS
    config = load_config(ROOT / "config.toml", {})
    feeds = [Feed(f.name, kind_of(f.url), f.interval) for f in config.feeds]
    feeds += [Feed(f"Channel {n + 1}", CHANNEL, CHANNEL_INTERVAL) for n in range(args.channels)]
    world(feeds, days, random.Random(args.seed))
    outcome = simulate(feeds, days, shipped_policy(config.polling.max_interval),
                       random.Random(args.seed + 1))
    table, met = report(outcome, days, None)
    counts = {kind: sum(1 for f in feeds if f.kind == kind) for kind in KINDS}
    print(f"# Time to alert: {days} simulated day(s), seed {args.seed}\n")
    print(f"{counts[NEWSPAPER]} newspapers, {counts[SEARCH]} searches and {counts[CHANNEL]} "
          f"channels from config.toml; ceiling {config.polling.max_interval / 3600:g} h.\n")
    print(table)
    print(f"\nAll targets {'met' if met else 'not met'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
