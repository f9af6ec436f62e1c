"""Time to alert on simulated time: a week of the shipped feed list under the bot's polling
policy, from each item's appearance in its feed to the poll that finds it, per kind of feed.

The feeds, their intervals and the ceiling come from config.toml. Each poll's next wait
comes from the bot's own ``next_interval`` (slower while a feed brings nothing new, never
past ``[polling] max_interval``); a watchlist's hit brings the searches that look for it
forward (``searches_about`` reads them with the real matcher, ``hastened`` says when),
as the poller does. What the feeds publish is drawn from a seed:

- newspapers publish all day and little at night (a Poisson process, by their interval:
  a feed polled every 10 minutes is a busy one);
- events about each watchlist, rare for some names, are reported by a few articles over
  the hours after them, in French or English; some articles are our newspapers' own, and
  each reaches the searches of its language that look for that watchlist: a news search
  lists it minutes later, the global index at one of its quarter-hourly updates;
- channels post in bursts, mostly by day (the shipped config has none enabled: the week
  adds ``--channels`` of them at its example's 5 minutes).

The delay is the wait for the poll that finds an item plus the outbox tick; the pipeline's
own time (parse, match, queue, send: about 3 s for a busy cycle, see bench/run.py) is not in
it, nor the time an index takes to list an article. Requests per day count every poll. The
whole bot on the simulated clock is tested in tests/runtime/test_hasten.py.

Besides before and now, it prints what the targets would cost, none of it shipped: the
shipped searches polled every few minutes after a hit, and fewer, broader searches (one per
language and source), with and without newspapers and channels slowed by day.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.ingest.cadence import hastened, next_interval  # noqa: E402
from bot.matching.matcher import Matcher  # noqa: E402
from bot.matching.watchlists import load_watchlists  # noqa: E402
from bot.pipeline.hasten import searches_about  # noqa: E402
from bot.settings.config import load_config  # noqa: E402
from bot.settings.urls import is_search  # noqa: E402
from bot.storage.records import FeedState  # noqa: E402

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
# Events a day about each watchlist (by its file name); each is reported by a few
# articles over the hours after it.
EVENTS_PER_DAY = {"canik-academy": 0.15, "wagner": 6.0, "fama": 8.0, "tb2": 1.0,
                  "goita": 3.0}
DEFAULT_EVENTS_PER_DAY = 1.0
ARTICLES = (2, 8)
ARTICLE_SPREAD = 3 * 3600.0  # mean seconds from an event to an article about it
OURS = 0.25  # the share of those articles our newspapers publish
# How each search lists an article: the share it lists, and then either its mean lag
# (seconds) or the period of its index's updates (it lists an article at the first update
# a period after the article).
LISTING = {"news.google.com": (0.85, 1200.0, None), "api.gdeltproject.org": (0.6, None, 900.0)}
DEFAULT_LISTING = (0.85, 1200.0, None)
# Channels: bursts a day, posts in a burst, and the minutes a burst lasts.
BURSTS_PER_DAY = 6.0
BURST_POSTS = (2, 6)
BURST_MINUTES = 20.0
# Targets (minutes): the median and 95th percentile for searches and channels, the 95th
# percentile overall, and the most requests a day may grow against the policy before.
KIND_P50, KIND_P95, OVERALL_P95 = 5.0, 15.0, 20.0
MAX_REQUEST_GROWTH = 0.25
# What the targets would cost, for comparison (not the bot's policy): searches polled every
# HOT_EVERY for HOT_WINDOW after a hit of their watchlist, and channels never slowed by day.
HOT_EVERY = 300.0
HOT_WINDOW = 2 * 3600.0
# And fewer, broader searches (not shipped): one per language and source, asking for every
# watchlist at once, each polled as often as its source renews: the news search every 5
# minutes, the index at each of its quarter-hourly updates.
BROAD_EVERY = {"news.google.com": 300.0, "api.gdeltproject.org": 900.0}


@dataclass
class Feed:
    """One polled feed: its kind, interval, and what it publishes over the run."""

    name: str
    url: str
    lang: str
    kind: str
    interval: float
    # (seconds from the start it appears in the feed, the watchlist it names or ""), sorted
    published: list[tuple[float, str]] = field(default_factory=list)


def kind_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return SEARCH if is_search(url) else CHANNEL if host == "t.me" else NEWSPAPER


def daytime(rng: random.Random, days: int, per_day: float) -> Iterator[float]:
    """Moments of a Poisson process of ``per_day`` a day, thinned at night."""
    day_share = (DAYTIME[1] - DAYTIME[0]) / 24
    peak = per_day / (day_share + NIGHT_SHARE * (1 - day_share))
    t = 0.0
    while True:
        t += rng.expovariate(peak / DAY)
        if t >= days * DAY:
            return
        hour = (t % DAY) / 3600
        if DAYTIME[0] <= hour < DAYTIME[1] or rng.random() < NIGHT_SHARE:
            yield t


def listed(rng: random.Random, search: Feed, at: float) -> float | None:
    """When ``search`` lists an article published at ``at``; None if it never does."""
    share, lag, period = LISTING.get(urlsplit(search.url).hostname or "", DEFAULT_LISTING)
    if rng.random() >= share:
        return None
    if period is not None:
        return (math.floor(at / period) + 2) * period
    return at + rng.expovariate(1 / (lag or 1.0))


def world(feeds: list[Feed], about: dict[str, frozenset[int]], days: int,
          rng: random.Random) -> None:
    """Fill each feed with what it publishes over ``days``."""
    for feed in feeds:
        if feed.kind == NEWSPAPER:
            per_day = next(n for limit, n in PER_DAY_BY_INTERVAL if feed.interval <= limit)
            feed.published = [(t, "") for t in daytime(rng, days, per_day)]
        elif feed.kind == CHANNEL:
            for burst in daytime(rng, days, BURSTS_PER_DAY):
                feed.published += [(burst + rng.uniform(0, BURST_MINUTES * MINUTE), "")
                                   for _ in range(rng.randint(*BURST_POSTS))]
    for watchlist in sorted(about):
        searches = [feeds[i] for i in sorted(about[watchlist])]
        for event in daytime(rng, days, EVENTS_PER_DAY.get(watchlist, DEFAULT_EVENTS_PER_DAY)):
            for _ in range(rng.randint(*ARTICLES)):
                at, lang = event + rng.expovariate(1 / ARTICLE_SPREAD), rng.choice(("fr", "en"))
                if rng.random() < OURS:
                    ours = [f for f in feeds if f.kind == NEWSPAPER and f.lang == lang]
                    rng.choice(ours).published.append((at, watchlist))
                for search in searches:
                    when = listed(rng, search, at) if search.lang == lang else None
                    if when is not None:
                        search.published.append((when, watchlist))
    for feed in feeds:
        feed.published = sorted(p for p in feed.published if p[0] < days * DAY)


@dataclass
class Outcome:
    """Delays (seconds) of the items found, and the polls made, per kind."""

    delays: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    polls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))


@dataclass
class Polled:
    """What the bot remembers of one feed between polls."""

    due: float
    quiet: int = 0
    found: int = 0
    last: float | None = None
    hot_until: float = -1.0


@dataclass(frozen=True)
class Policy:
    """How the run polls: ``hasten`` as the bot does; ``hot`` and ``awake`` only to show
    what the targets would cost."""

    hasten: bool
    hot: bool = False  # searches every HOT_EVERY for HOT_WINDOW after a hit
    awake: tuple[str, ...] = ()  # kinds of feed never slowed in the day's hours

    def wait(self, feed: Feed, polled: Polled, t: float, ceiling: float) -> float:
        if self.hot and polled.hot_until > t:
            return HOT_EVERY
        if feed.kind in self.awake and DAYTIME[0] <= (t % DAY) / 3600 < DAYTIME[1]:
            return feed.interval
        return next_interval(feed.interval, polled.quiet, None, ceiling)


def simulate(feeds: Sequence[Feed], about: dict[str, frozenset[int]], days: int,
             ceiling: float, rng: random.Random, policy: Policy) -> Outcome:
    """Poll every feed over the run, each from a random moment of its first interval; when
    the policy hastens, a poll finding news of a watchlist brings its searches forward."""
    outcome = Outcome()
    state = [Polled(rng.uniform(0, feed.interval)) for feed in feeds]
    queue = [(s.due, i) for i, s in enumerate(state)]
    heapq.heapify(queue)
    while queue:
        t, i = heapq.heappop(queue)
        feed, polled = feeds[i], state[i]
        if t != polled.due or t >= days * DAY:  # moved since, or the run is over
            continue
        outcome.polls[feed.kind] += 1
        named = set()
        first = polled.last is None
        while polled.found < len(feed.published) and feed.published[polled.found][0] <= t:
            at, watchlist = feed.published[polled.found]
            outcome.delays[feed.kind].append(t - at + OUTBOX_TICK)
            named.add(watchlist)
            polled.found += 1
        polled.quiet = 0 if named else polled.quiet + 1
        polled.last = t
        polled.due = t + policy.wait(feed, polled, t, ceiling)
        heapq.heappush(queue, (polled.due, i))
        if not policy.hasten or first:  # a first poll's items are a backlog
            continue
        for j in {j for w in named if w for j in about.get(w, ()) if j != i}:
            other = state[j]
            other.hot_until = t + HOT_WINDOW
            floor = HOT_EVERY if policy.hot else feeds[j].interval
            due = hastened(t, other.last, floor, None)
            other.quiet = 0  # not slowed for its next few polls, brought forward or not
            if due < other.due:
                other.due = due
                heapq.heappush(queue, (due, j))
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


def broad_searches(feeds: Sequence[Feed], watchlists: Sequence[str]) -> tuple[
        list[Feed], dict[str, frozenset[int]]]:
    """The feeds with their searches replaced by one per language and source, each about
    every watchlist; nothing published yet."""
    kept = [Feed(f.name, f.url, f.lang, f.kind, f.interval) for f in feeds if f.kind != SEARCH]
    broad = [Feed(f"Every watchlist ({host}, {lang})", f"https://{host}/", lang, SEARCH, every)
             for host, every in BROAD_EVERY.items() for lang in ("fr", "en")]
    ids = frozenset(range(len(kept), len(kept) + len(broad)))
    return kept + broad, dict.fromkeys(watchlists, ids)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DAYS} day, for tests")
    parser.add_argument("--channels", type=int, default=DEFAULT_CHANNELS,
                        help=f"channels added to the shipped feeds (default {DEFAULT_CHANNELS})")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    days = QUICK_DAYS if args.quick else DAYS
    config = load_config(ROOT / "config.toml", {})
    feeds = [Feed(f.name, f.url, f.lang, kind_of(f.url), f.interval) for f in config.feeds]
    feeds += [Feed(f"Channel {n + 1}", f"https://t.me/s/channel{n + 1}", "fr", CHANNEL,
                   CHANNEL_INTERVAL) for n in range(args.channels)]
    matcher = Matcher(load_watchlists(config.watchlists_dir))
    about = searches_about(matcher, [
        FeedState(i, f.name, f.url, f.lang, f.interval, None, None, None, 0, None,
                  search=f.kind == SEARCH) for i, f in enumerate(feeds)])
    world(feeds, about, days, random.Random(args.seed))
    ceiling = config.polling.max_interval
    runs = [simulate(feeds, about, days, ceiling, random.Random(args.seed + 1), policy)
            for policy in (Policy(hasten=False), Policy(hasten=True),
                           Policy(hasten=True, hot=True, awake=(CHANNEL,)))]
    before, now, costly = runs
    counts = {kind: sum(1 for f in feeds if f.kind == kind) for kind in KINDS}
    print(f"# Time to alert: {days} simulated day(s), seed {args.seed}\n")
    print(f"{counts[NEWSPAPER]} newspapers, {counts[SEARCH]} searches and {counts[CHANNEL]} "
          f"channels from config.toml; ceiling {ceiling / 3600:g} h.\n")
    print("## Before: each feed slowed on its own\n")
    print(report(before, days, None)[0])
    print("\n## Now: a watchlist's hit brings its searches forward\n")
    table, met = report(now, days, before)
    print(table)
    print(f"\nAll targets {'met' if met else 'not met'}.")
    print(f"\n## For comparison: searches every {HOT_EVERY / MINUTE:g} minutes for "
          f"{HOT_WINDOW / 3600:g} hours after a hit, channels never slowed by day\n")
    print(report(costly, days, before)[0])
    # The same world's rates, drawn again for the broad searches.
    broad, broad_about = broad_searches(feeds, sorted(about))
    world(broad, broad_about, days, random.Random(args.seed))
    count = sum(1 for f in broad if f.kind == SEARCH)
    for title, policy in (
            (f"{count} broad searches (one per language and source, every watchlist at "
             "once) at their sources' pace", Policy(hasten=True)),
            (f"{count} broad searches, and newspapers and channels never slowed by day",
             Policy(hasten=True, awake=(NEWSPAPER, CHANNEL)))):
        wide = simulate(broad, broad_about, days, ceiling, random.Random(args.seed + 1),
                        policy)
        print(f"\n## For comparison: {title}\n")
        print(report(wide, days, before)[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
