"""The bot as a separate process (`python -m bot run`), its errors logged to a file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from tests.support.botapi import BotApiStandIn
from tests.support.common import ROOT, SECRET_TOKENS

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


TOKEN = SECRET_TOKENS[0]
CHAT = "@sahel_test"
WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

GOITA_ITEM = {
    "title": "Bamako : le colonel Assimi Goita reçoit des instructeurs turcs",
    "link": "https://news.example/afrique/goita-instructeurs?utm_source=rss",
    "guid": "https://news.example/afrique/goita-instructeurs",
    "summary": "<p>Le chef de la transition a rencontré les <b>FAMa</b> &amp; leurs "
               "partenaires.</p>",
    "published": WHEN,
}
WAGNER_ITEM = {
    "title": "Wagner Group fighters leave Mali as Africa Corps takes over",
    "link": "https://wire.example/world/africa-corps-mali",
    "guid": "urn:uuid:5b7d1c2e-0000-4000-8000-000000000001",
    "summary": "Russian paramilitaries are being reorganised under the Defence Ministry.",
    "published": WHEN,
}
DRONE_ITEM = {
    "title": "Niger receives a second batch of Bayraktar TB2 drones",
    "link": "https://wire.example/world/niger-tb2",
    "summary": "The drones were delivered to Niamey air base.",
    "published": WHEN,
}
QUIET_ITEM = {
    "title": "Dakar : la saison des pluies s'achève",
    "link": "https://news.example/meteo/dakar",
    "summary": "Rien à signaler.",
    "published": WHEN,
}


def run_bot(config: Path, *args: str, token: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the bot; its output is also kept beside the config for the token check."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "run", *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=bot_env(token))
    runs = len(list(config.parent.glob("run-*.log")))
    (config.parent / f"run-{runs}.log").write_text(result.stdout + result.stderr,
                                                   encoding="utf-8")
    return result


def telegram_section(api: BotApiStandIn) -> str:
    """The [telegram] table for the stand-in: its address, the test chat, one admin."""
    return f'chat = "{CHAT}"\napi_base_url = "{api.base_url}"\nadmins = [1001]'
