"""The polling pace: adaptive slowing, its bounds, and Cache-Control max-age."""

from __future__ import annotations

import pytest

from bot.ingest.cadence import QUIET_POLLS_PER_DOUBLING, cache_lifetime, next_interval

BASE = 600.0
CEILING = 4 * 3600.0


def test_a_lively_feed_keeps_its_own_interval() -> None:
    assert next_interval(BASE, 0, None, CEILING) == BASE
    assert next_interval(BASE, QUIET_POLLS_PER_DOUBLING - 1, None, CEILING) == BASE


def test_quiet_polls_double_the_wait_step_by_step_up_to_the_ceiling() -> None:
    waits = [next_interval(BASE, n * QUIET_POLLS_PER_DOUBLING, None, CEILING)
             for n in range(8)]
    assert waits[:4] == [BASE, 2 * BASE, 4 * BASE, 8 * BASE]
    assert waits[-1] == CEILING
    assert waits == sorted(waits)


def test_the_configured_interval_is_a_floor_even_above_the_ceiling() -> None:
    assert next_interval(8 * 3600.0, 40, None, CEILING) == 8 * 3600.0


def test_max_age_delays_the_next_poll_within_the_ceiling() -> None:
    assert next_interval(BASE, 0, 1800.0, CEILING) == 1800.0
    assert next_interval(BASE, 0, 60.0, CEILING) == BASE  # never faster than configured
    assert next_interval(BASE, 0, 365 * 86400.0, CEILING) == CEILING


@pytest.mark.parametrize(("header", "age", "expected"), [
    ("max-age=900", None, 900.0),
    ("public, max-age=300, must-revalidate", None, 300.0),
    ('MAX-AGE="120"', None, 120.0),
    ("max-age=900", "300", 600.0),
    ("max-age=100", "500", 0.0),
    ("s-maxage=900", None, None),
    ("no-cache, max-age=900", None, None),
    ("no-store", None, None),
    ("max-age=soon", None, None),
    (None, None, None),
    ("", "10", None),
])
def test_cache_lifetime(header: str | None, age: str | None, expected: float | None) -> None:
    assert cache_lifetime(header, age) == expected
