"""Fault injection: SIGKILL the bot at random moments, restart it, and count what arrives."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.botapi import BotApiStandIn
from tests.support.botprocess import CHAT, TOKEN, bot_env, run_bot
from tests.support.common import ROOT, write_config
from tests.support.feedserver import FeedServer, rss_feed
from tests.support.procs import descendants

KILLS = 32
FEEDS = 5
SEED = 20261125
TOWNS = ["Kati", "Gao", "Mopti", "Ségou", "Kayes", "Sikasso", "Tombouctou", "Ménaka"]


@pytest.mark.slow
def test_killed_at_random_the_bot_delivers_every_alert_it_owes(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    owed: list[str] = []
    published: dict[int, list[dict[str, object]]] = {n: [] for n in range(FEEDS)}
    with FeedServer() as feeds, BotApiStandIn(token=TOKEN) as api:

        def publish(round_number: int) -> None:
            for k in range(3):
                n = len(owed) + k
                feed = rng.randrange(FEEDS)
                title = (f"Assimi Goïta reçoit la délégation {n} venue de "
                         f"{TOWNS[n % len(TOWNS)]}")
                published[feed].append({"title": title, "link": f"https://n{feed}.example/{n}",
                                        "summary": f"Audience numéro {n} au palais."})
                owed.append(title)
            quiet = {"title": f"Bulletin météo {round_number}",
                     "link": f"https://meteo.example/{round_number}"}
            published[rng.randrange(FEEDS)].append(quiet)
            for feed, items in published.items():
                feeds.route(f"/f{feed}", rss_feed(f"Média {feed}", items[-60:]),
                            delay=rng.uniform(0.0, 0.3))

        config = write_config(
            tmp_path, [{"name": f"Média {n}", "url": feeds.url(f"/f{n}"), "lang": "fr",
                        "interval": "1s"} for n in range(FEEDS)],
            telegram=f'chat = "{CHAT}"\napi_base_url = "{api.base_url}"',
            polling={"tick": '"0.5s"'}, delivery={"tick": '"0.5s"'})
        log = tmp_path / "kills.log"
        for round_number in range(KILLS):
            publish(round_number)
            api.delay_next(rng.randrange(3), rng.uniform(0.05, 0.3), method="sendMessage")
            with log.open("a") as stream:
                process = subprocess.Popen(
                    [sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=ROOT,
                    env=bot_env(TOKEN), stdout=subprocess.DEVNULL, stderr=stream)
            time.sleep(rng.uniform(0.2, 2.5))
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        api.clear_faults()
        final = run_bot(config, "--once", token=TOKEN, timeout=120)
        assert final.returncode == 0, final.stderr[-2000:]

    received = [m.text.split("\n")[1] for m in api.sent if m.chat_id == CHAT]
    titles = [line.split(">", 1)[1].split("<", 1)[0] for line in received]
    duplicates = len(titles) - len(set(titles))
    print(f"\n{KILLS} kills, {len(owed)} alerts owed, {len(set(titles))} delivered, "
          f"{duplicates} duplicate(s)")
    assert set(titles) == set(owed), sorted(set(owed) - set(titles))
    # A duplicate can only come from a kill between Telegram's answer and the database write.
    assert duplicates <= KILLS
    leftovers = subprocess.run(["pgrep", "-f", str(config)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", "processes outlived the killed bot"


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_killed_bot_leaves_no_parse_worker_behind(tmp_path: Path,
                                                    feed_server: FeedServer) -> None:
    feed_server.route("/rss", rss_feed("Actu", [{"title": "Les FAMa à Gao",
                                                 "link": "https://news.example/1"}]))
    config = write_config(tmp_path, [{"name": "Actu", "url": feed_server.url("/rss"),
                                      "lang": "fr"}])
    log = tmp_path / "bot.log"
    with log.open("w") as stream:
        bot = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "run"],
                               cwd=ROOT, env=bot_env(None), stdout=subprocess.DEVNULL,
                               stderr=stream)
    try:
        deadline = time.monotonic() + 60
        while "cycle done" not in log.read_text(encoding="utf-8"):
            assert time.monotonic() < deadline and bot.poll() is None, log.read_text()
            time.sleep(0.05)
        helpers = descendants(bot.pid)  # the fork server and its parse worker
        assert helpers
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=30)
    deadline = time.monotonic() + 15
    while any(_running(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in helpers if _running(pid)]
