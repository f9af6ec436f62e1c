"""The bot as a separate process (`python -m bot run`), its errors logged to a file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import ROOT

STOP_SECONDS = 30
LOG_TAIL = 3000  # characters of the log shown when the bot did not stop cleanly


def bot_env(token: str | None) -> dict[str, str]:
    """This environment without any Telegram token but ``token``, unbuffered, no proxy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["NO_PROXY"] = "127.0.0.1,localhost"
    if token:
        env["TELEGRAM_BOT_TOKEN"] = token
    return env


@contextmanager
def bot_running(config: Path, log: Path, token: str | None) -> Iterator[subprocess.Popen[bytes]]:
    """The bot running on ``config``, its standard error in ``log``; stopped with SIGTERM on
    the way out, and it must then stop cleanly."""
    with log.open("w") as stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=ROOT,
            env=bot_env(token), stdout=subprocess.DEVNULL, stderr=stream)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=STOP_SECONDS)
    assert process.returncode == 0, log.read_text(encoding="utf-8")[-LOG_TAIL:]
