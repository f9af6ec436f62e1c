"""CPU time per stage of the poll, measured from outside: a wrapper the benchmark switches on."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.pipeline.poll import Poller

# Each timed stage of Poller, and the figure of the benchmark it counts towards.
STAGE_FIGURES = {
    "dedupe": "store", "match": "match", "group": "stories", "detect": "signals",
    "save": "store", "remember": "stories", "index_search": "store",
}


@dataclass
class StageTimes:
    """CPU seconds the poller's thread spent in each group of stages since timing began."""

    match: float = 0.0
    stories: float = 0.0
    store: float = 0.0
    signals: float = 0.0  # partnership detection (not a stage the benchmark targets)

    @property
    def total(self) -> float:
        """Match, story detection and store together."""
        return self.match + self.stories + self.store


def time_stages(poller: Poller, clock: Callable[[], float] = time.thread_time) -> StageTimes:
    """Wrap ``poller``'s stages so each adds the CPU time it takes to its figure; the
    poller's own code is unchanged and untimed unless this is called."""
    times = StageTimes()
    for stage, figure in STAGE_FIGURES.items():
        setattr(poller, stage, _timed(getattr(poller, stage), times, figure, clock))
    return times


def _timed(stage: Callable[..., Any], times: StageTimes, figure: str,
           clock: Callable[[], float]) -> Callable[..., Any]:
    @functools.wraps(stage)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = clock()
        try:
            return stage(*args, **kwargs)
        finally:
            setattr(times, figure, getattr(times, figure) + clock() - started)

    return timed
