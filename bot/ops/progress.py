"""Progress of long command-line work: a line redrawn on a terminal, sparse lines elsewhere."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

# On a terminal the line is redrawn no more often than this: drawing costs more than the work
# of a few items, and the eye cannot follow faster.
REDRAW_SECONDS = 0.1
# Elsewhere (a log, a pipe) a line is written when another tenth of the work is done, and no
# more often than every few seconds, so a fast run writes its final line only and a slow one
# about ten; with no known total, a line every few seconds shows the work is alive.
LINE_STEP_PERCENT = 10
LINE_SECONDS = 5.0
BAR_WIDTH = 20
BAR_DONE, BAR_TODO = "#", "-"
SECONDS_PER_MINUTE, SECONDS_PER_HOUR = 60, 3600
FAST_RATE = 10  # items per second from which the rate is shown without decimals


class Progress:
    """How far a counted piece of work has gone, written to ``stream`` as it goes.

    Use as a context manager: ``advance()`` as items are done; leaving the block (or
    ``finish()``) writes the final state. ``total`` may be None when unknown, or 0.
    """

    def __init__(self, total: int | None, label: str, stream: TextIO, *,
                 tty: bool | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.label = label
        self.stream = stream
        self.tty = _is_terminal(stream) if tty is None else tty
        self.clock = clock
        self.count = 0
        self._started = clock()
        self._last_write = self._started
        self._last_step = 0
        self._width = 0  # length of the line on screen, to blank what a shorter one leaves
        self._finished = False

    def __enter__(self) -> Progress:
        if self.tty:
            self._draw(self.clock())
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.finish()

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more items done, and show it when it is time to."""
        self.count += n
        now = self.clock()
        if self.tty:
            if now - self._last_write >= REDRAW_SECONDS:
                self._draw(now)
        elif self._line_due(now):
            self._write_line(now)

    def finish(self) -> None:
        """Write the final state once: the line ends on a terminal, a last line elsewhere."""
        if self._finished:
            return
        self._finished = True
        now = self.clock()
        if self.tty:
            self._draw(now)
            self.stream.write("\n")
            self.stream.flush()
        else:
            self._write_line(now, final=True)

    def _line_due(self, now: float) -> bool:
        if now - self._last_write < LINE_SECONDS:
            return False
        if self.total is not None and self.count >= self.total:
            return False  # the final line says it
        step = self._step()
        return step is None or step > self._last_step

    def _step(self) -> int | None:
        """Tenths (``LINE_STEP_PERCENT``) of the work done; None when the total is unknown."""
        percent = self._percent()
        return None if percent is None else percent // LINE_STEP_PERCENT

    def _percent(self) -> int | None:
        if self.total is None:
            return None
        if self.total <= 0:
            return 100
        return min(100, self.count * 100 // self.total)

    def _write_line(self, now: float, *, final: bool = False) -> None:
        step = self._step()
        if step is not None:
            self._last_step = step
        self._last_write = now
        line = f"{self.label}: {self._counted()}"
        if final:
            line += f", done in {_clock_time(now - self._started)}"
        self.stream.write(line + "\n")
        self.stream.flush()

    def _counted(self) -> str:
        percent = self._percent()
        if percent is None:
            return f"{self.count}"
        return f"{self.count}/{self.total} ({percent}%)"

    def _draw(self, now: float) -> None:
        self._last_write = now
        elapsed = now - self._started
        rate = self.count / elapsed if elapsed > 0 else None
        percent = self._percent()
        if percent is None:
            parts = [self.label, f"{self.count}"]
        else:
            filled = BAR_WIDTH * percent // 100
            bar = BAR_DONE * filled + BAR_TODO * (BAR_WIDTH - filled)
            parts = [self.label, f"[{bar}]", f"{self.count}/{self.total}", f"{percent:3d}%"]
        parts.append(_rate(rate))
        if percent is not None and not self._finished:
            parts.append(f"ETA {self._eta(rate)}")
        elif self._finished:
            parts.append(f"in {_clock_time(elapsed)}")
        line = " ".join(parts)
        self.stream.write("\r" + line + " " * max(0, self._width - len(line)))
        self.stream.flush()
        self._width = len(line)

    def _eta(self, rate: float | None) -> str:
        left = max(0, (self.total or 0) - self.count)
        if left == 0:
            return _clock_time(0)
        if not rate:
            return "--:--"
        return _clock_time(left / rate)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _rate(rate: float | None) -> str:
    if rate is None:
        return "-/s"
    return f"{rate:,.0f}/s" if rate >= FAST_RATE else f"{rate:.1f}/s"


def _clock_time(seconds: float) -> str:
    """``seconds`` as M:SS, or H:MM:SS from an hour."""
    whole = round(seconds)
    hours, rest = divmod(whole, SECONDS_PER_HOUR)
    minutes, secs = divmod(rest, SECONDS_PER_MINUTE)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
