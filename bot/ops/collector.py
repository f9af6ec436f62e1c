"""The garbage collector tuned for a process that allocates in bursts: fewer young passes."""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Iterator
from contextlib import contextmanager

# New container objects between two collections of the youngest generation (Python's
# default is 700). A first cycle of a thousand feeds creates most of a million; at 700,
# the full collections that followed walked every module, function and class of the
# process seven or eight times a cycle, a tenth of a second each: a tenth of the main
# process's CPU. At 10,000 they all but vanish, for a few megabytes of garbage kept longer.
YOUNG_THRESHOLD = 10_000


@contextmanager
def fewer_collections(young: int = YOUNG_THRESHOLD) -> Iterator[None]:
    """Collect the youngest generation every ``young`` new objects while inside; the older
    generations keep their ratios. On the way out the previous setting comes back, unless
    something else has changed it meanwhile (then that change stands)."""
    before = gc.get_threshold()
    ours = (young, *before[1:])
    gc.set_threshold(*ours)
    try:
        yield
    finally:
        if gc.get_threshold() == ours:
            gc.set_threshold(*before)


def release_memory() -> None:
    """Collect every generation, then hand the heap's free pages back to the system where
    the C library can (glibc's ``malloc_trim``): after a burst (a chart, a large cycle) a
    long run's resident size follows what it holds, not its peaks."""
    gc.collect()
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is not None:
        trim(0)
