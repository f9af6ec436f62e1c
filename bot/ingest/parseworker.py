"""The parse workers' side: start-up, and parsing a fetched body with the CPU it took."""

from __future__ import annotations

import os
import select
import signal
import threading
import time

from bot.ingest.items import ParsedFeed
from bot.ingest.parse import parse_feed

PARENT_POLL_SECONDS = 2.0  # how often a worker looks for the bot where pidfd is missing


def start_worker(bot_pid: int) -> None:
    """Pool initializer: ignore the terminal's Ctrl-C (the bot stops its workers), and end
    this worker as soon as the bot process is gone, even killed outright: a pool worker
    whose parent died would otherwise wait for work forever, and keep its fork server."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(bot_pid,), name="bot-watch", daemon=True).start()


def _exit_with(bot_pid: int) -> None:
    try:
        handle = os.pidfd_open(bot_pid)
    except (AttributeError, OSError):  # not Linux 5.3+: look now and then
        while _alive(bot_pid):
            time.sleep(PARENT_POLL_SECONDS)
    else:
        select.select([handle], [], [])  # readable once the process has ended
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def parse_feed_timed(body: bytes, url: str,
                     content_type: str | None = None) -> tuple[ParsedFeed, float]:
    """:func:`bot.parse.parse_feed` and the CPU seconds it took in the worker process."""
    start = time.process_time()
    parsed = parse_feed(body, url, content_type)
    return parsed, time.process_time() - start
