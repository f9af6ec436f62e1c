"""Days of the real bot on a simulated clock: alerts owed are delivered exactly once, the
outbox drains, reports come on time, memory and storage stay bounded (bench/soak.py runs the
month and prints the curve)."""

from __future__ import annotations

import pytest

from tests.support.soak import Outage, SoakPlan, SoakResult, run_soak

SHORT = SoakPlan(
    days=5, history_days=2, retention_days=1, story_window_hours=12,
    restarts=(1.6, 3.3), outages=(Outage(0, 0.5, 5, 503), Outage(1, 2.1, 3, 429),
                                  Outage(2, 3.6, 8, 500)),
    telegram_storms=(0.8, 2.7), telegram_failures=(1.4,), watchlist_edit_day=1.25)
SETTLED_DAY = 3  # past the story window and the history: from here on, nothing should grow
RSS_GROWTH_MB = 15.0


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory) -> SoakResult:
    return run_soak(SHORT, tmp_path_factory.mktemp("soak"))


@pytest.mark.soak
def test_every_owed_alert_is_delivered_exactly_once_and_reports_come_on_time(
        soak: SoakResult) -> None:
    assert soak.problems == []
    assert soak.owed_events >= 20  # enough alerts owed for "exactly once" to mean something
    assert soak.checked_events >= 0.85 * soak.events  # all but the last hours' events
    assert soak.commands_answered == SHORT.days  # the command loop lived through restarts
    assert soak.photos == 1 and soak.admin_reports == SHORT.days
    assert soak.days[-1].pending == 0


@pytest.mark.soak
def test_memory_and_storage_stay_bounded(soak: SoakResult) -> None:
    days = soak.days
    per_day = soak.items_per_day
    # The story index holds one window (12 hours) of items, not the days behind it.
    assert max(day.index_entries for day in days) <= per_day
    # Items are kept for the history (2 days) and the day being pruned, not for the run.
    assert days[-1].items <= per_day * (SHORT.history_days + 1)
    assert days[-1].items < 0.7 * soak.published
    settled = days[SETTLED_DAY - 1]
    assert days[-1].rss_mb - settled.rss_mb < RSS_GROWTH_MB
    assert days[-1].db_mb < settled.db_mb * 1.25
