"""A month of the bot on a simulated clock: memory, story index and database size per day."""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from tests.support.soak import SoakPlan

# The bot and the harness are imported inside main(): the parse worker re-imports this file
# (as the script that started it) and needs none of them.

MONTH = 30
FLAT_AFTER_DAY = 10  # past the story window (3 days) and the history (7 days)
FLAT_RSS_MB = 10.0  # the most memory may grow from that day to the end
FLAT_BLOCKS_SHARE = 0.05  # the most Python's allocated blocks may grow from that day on
FLAT_DB_SHARE = 0.10  # the most the database may grow from that day to the end


def month_plan(days: int) -> SoakPlan:
    """The month's plan: a small deployment's storage settings, and trouble every week."""
    from tests.support.soak import Outage, SoakPlan

    return SoakPlan(
        days=days, history_days=7, retention_days=3, story_window_hours=72,
        restarts=(4.4, 11.7, 18.2, 25.9),
        outages=(Outage(0, 2.3, 6, 503), Outage(1, 8.6, 4, 429), Outage(2, 15.1, 12, 500),
                 Outage(3, 22.4, 30, 503)),
        telegram_storms=(3.5, 9.4, 16.6, 23.3), telegram_failures=(6.2, 20.8),
        watchlist_edit_day=13.25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=MONTH)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the run's own warnings are expected

    from bench.results import write_section
    from tests.support.soak import DayRecord, run_soak

    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    say(f"# Soak: {args.days} simulated days, run {time.strftime('%Y-%m-%d %H:%M UTC')} on "
        f"{platform.machine()}, Python {platform.python_version()}")
    say()
    say("| day | real s | RSS (MB) | Python objects | Python blocks | story index | DB (MB) "
        "| items | stories | alerts | pending | channel messages | edits |")
    say("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: |")

    def row(day: DayRecord) -> None:
        say(f"| {day.day} | {day.seconds:.1f} | {day.rss_mb:.0f} | {day.objects:,} | "
            f"{day.blocks:,} | {day.index_entries:,} | {day.db_mb:.1f} | {day.items:,} | "
            f"{day.stories:,} | {day.alerts:,} | {day.pending} | {day.messages:,} | "
            f"{day.edits:,} |")

    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        result = run_soak(month_plan(args.days), Path(tmp), progress=row)
    wall = time.monotonic() - started
    days = result.days
    say()
    say(f"{result.published:,} items published ({result.items_per_day:.0f} a day) by six "
        f"feeds; {result.checked_events:,} events checked, {result.owed_events:,} owed an "
        f"alert; {result.commands_answered} daily /recent answered; {result.admin_reports} "
        f"daily reports; {result.photos} weekly digests; {wall:.0f} s of real time.")
    say()
    say("| promise | measured | kept |")
    say("| --- | --- | --- |")
    say(f"| every owed alert delivered exactly once, reports on time | "
        f"{len(result.problems)} problems | {'yes' if not result.problems else 'no'} |")
    if len(days) > FLAT_AFTER_DAY:
        base, last = days[FLAT_AFTER_DAY - 1], days[-1]
        rss = last.rss_mb - base.rss_mb
        blocks = last.blocks / base.blocks - 1
        db = last.db_mb / base.db_mb - 1
        peak_index = max(d.index_entries for d in days)
        say(f"| memory flat after day {FLAT_AFTER_DAY} (< {FLAT_RSS_MB:.0f} MB more) | "
            f"{rss:+.1f} MB | {'yes' if rss < FLAT_RSS_MB else 'no'} |")
        say(f"| Python's heap flat after day {FLAT_AFTER_DAY} (< {FLAT_BLOCKS_SHARE:.0%} more "
            f"blocks) | {blocks:+.1%} | {'yes' if blocks < FLAT_BLOCKS_SHARE else 'no'} |")
        say(f"| database flat after day {FLAT_AFTER_DAY} (< {FLAT_DB_SHARE:.0%} more) | "
            f"{db:+.1%} | {'yes' if db < FLAT_DB_SHARE else 'no'} |")
        say(f"| story index within the window | peak {peak_index:,} entries, last "
            f"{last.index_entries:,} | yes |")
    for problem in result.problems:
        say(f"- {problem}")
    if args.days == MONTH:
        write_section("soak", "\n".join(lines))
    return 1 if result.problems else 0

if __name__ == "__main__":
    sys.exit(main())
