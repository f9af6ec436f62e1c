"""Progress lines: redrawn on a terminal, sparse in logs, with a fake clock."""

from __future__ import annotations

import io
import itertools

import pytest

from bot.ops.progress import LINE_SECONDS, REDRAW_SECONDS, Progress


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(total: int | None, steps: list[tuple[float, int]], *, tty: bool | None = False,
        stream: io.StringIO | None = None) -> str:
    """Advance by each (seconds later, items) of ``steps``, then finish; what was written."""
    out = stream if stream is not None else io.StringIO()
    clock = FakeClock()
    with Progress(total, "rematch", out, tty=tty, clock=clock) as progress:
        for seconds, items in steps:
            clock.now += seconds
            progress.advance(items)
    return out.getvalue()


def frames(text: str) -> list[str]:
    """The successive states of a self-rewriting line."""
    return text.rstrip("\n").split("\r")[1:]


# Plain lines ------------------------------------------------------------------------------


def test_a_fast_run_writes_its_final_line_only() -> None:
    assert run(1000, [(0.1, 100)] * 10) == "rematch: 1000/1000 (100%), done in 0:01\n"


def test_a_slow_run_writes_a_line_per_tenth() -> None:
    lines = run(1000, [(10, 10)] * 100).splitlines()
    assert lines == [f"rematch: {n}/1000 ({n // 10}%)" for n in range(100, 1000, 100)] + [
        "rematch: 1000/1000 (100%), done in 16:40"]


def test_lines_come_no_more_often_than_every_few_seconds() -> None:
    # A tenth done every second: a line only once LINE_SECONDS have passed since the last.
    lines = run(1000, [(1, 100)] * 10).splitlines()
    assert lines == ["rematch: 500/1000 (50%)", "rematch: 1000/1000 (100%), done in 0:10"]
    assert LINE_SECONDS == 5


def test_unknown_total_writes_a_count_every_few_seconds() -> None:
    lines = run(None, [(1, 3)] * 12).splitlines()
    assert lines == ["rematch: 15", "rematch: 30", "rematch: 36, done in 0:12"]


def test_zero_total_is_done_at_once() -> None:
    assert run(0, []) == "rematch: 0/0 (100%), done in 0:00\n"


def test_more_than_the_total_stops_at_100_percent() -> None:
    assert run(10, [(1, 12)]) == "rematch: 12/10 (100%), done in 0:01\n"


def test_a_stream_that_is_not_a_terminal_gets_plain_lines() -> None:
    assert "\r" not in run(10, [(0.5, 5)] * 2, tty=None)


def test_finish_writes_once_even_after_an_error() -> None:
    out = io.StringIO()
    with pytest.raises(RuntimeError), Progress(5, "x", out, tty=False,
                                               clock=FakeClock()) as progress:
        progress.advance(2)
        raise RuntimeError("boom")
    progress.finish()
    assert out.getvalue() == "x: 2/5 (40%), done in 0:00\n"


# A terminal line --------------------------------------------------------------------------


def test_terminal_line_shows_bar_count_percent_rate_and_eta() -> None:
    text = run(1000, [(2, 500), (2, 500)], tty=True)
    drawn = frames(text)
    first, half, last = drawn[0], drawn[1], drawn[-1]
    assert first.split() == ["rematch", "[--------------------]", "0/1000", "0%", "-/s",
                             "ETA", "--:--"]
    assert half.split() == ["rematch", "[##########----------]", "500/1000", "50%", "250/s",
                            "ETA", "0:02"]
    assert last.split() == ["rematch", "[####################]", "1000/1000", "100%",
                            "250/s", "in", "0:04"]
    assert text.endswith("\n") and text.count("\n") == 1


def test_terminal_line_is_redrawn_at_most_every_tenth_of_a_second() -> None:
    text = run(100, [(REDRAW_SECONDS * 0.6, 1)] * 5, tty=True)
    # The first draw; a redraw at 0.12 and 0.24 s, none at 0.06, 0.18 and 0.3 s; the last.
    assert [f.split()[2] for f in frames(text)] == ["0/100", "2/100", "4/100", "5/100"]


def test_a_shorter_line_blanks_what_the_longer_one_left() -> None:
    drawn = frames(run(10, [(1, 10)], tty=True))
    assert all(len(later) >= len(earlier) for earlier, later in itertools.pairwise(drawn))


def test_terminal_line_with_unknown_total_shows_count_and_rate() -> None:
    last = frames(run(None, [(4, 2)], tty=True))[-1]
    assert last.split() == ["rematch", "2", "0.5/s", "in", "0:04"]


def test_terminal_line_with_zero_total() -> None:
    assert frames(run(0, [], tty=True))[-1].split()[2:4] == ["0/0", "100%"]


def test_a_terminal_stream_is_detected() -> None:
    assert run(3, [(1, 3)], tty=None, stream=Terminal()).startswith("\r")
