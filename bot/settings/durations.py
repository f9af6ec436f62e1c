"""Durations written by people ("90s", "15m", "2h", "7d") to seconds, and back."""

from __future__ import annotations

import math
import re

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Ten years: longer is a typo (1e300 seconds, inf), and would overflow the clock's arithmetic.
MAX_DURATION_SECONDS = 10 * 365 * 86400.0
DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)


def parse_duration(value: object) -> float:
    """Seconds from an int/float (seconds) or a string such as "15m"; ValueError if unusable."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 15m, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := DURATION_RE.match(value)):
        seconds = float(m.group(1)) * UNIT_SECONDS[(m.group(2) or "s").lower()]
    else:
        raise ValueError(f"expected a duration such as 90s, 15m, 2h or 7d, got {value!r}")
    if not math.isfinite(seconds):
        raise ValueError(f"a duration must be a number of seconds, got {value!r}")
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, got {value!r}")
    if seconds > MAX_DURATION_SECONDS:
        raise ValueError(f"a duration must be at most {format_duration(MAX_DURATION_SECONDS)} "
                         f"(ten years), got {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """The largest whole unit that divides ``seconds`` ("900" -> "15m")."""
    for unit in ("d", "h", "m"):
        size = UNIT_SECONDS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
