"""Live watchlist edits: picked up without a restart; a bad edit is refused and reported."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from bot.matching.reload import WatchlistReloader
from tests.support.botapi import BotApiStandIn
from tests.support.botprocess import CHAT, TOKEN, bot_running
from tests.support.common import WATCHLISTS, write_config
from tests.support.feedserver import FeedServer, rss_feed

ADMIN = 1001


def item(n: int, title: str, summary: str = "") -> dict[str, str]:
    return {"title": title, "link": f"https://news.example/{n}", "summary": summary}


def wait_until(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_reloader_reports_changes_once(tmp_path: Path) -> None:
    shutil.copytree(WATCHLISTS, tmp_path / "w")
    reloader = WatchlistReloader(tmp_path / "w")
    assert reloader.poll() is None
    (tmp_path / "w" / "new.toml").write_text('terms = ["Malick Diaw"]\n', encoding="utf-8")
    outcome = reloader.poll()
    assert outcome is not None and outcome.watchlists is not None
    assert "new" in {w.id for w in outcome.watchlists}
    (tmp_path / "w" / "new.toml").write_text('terms = ["Malick Diaw"]\noops = 1\n',
                                             encoding="utf-8")
    refused = reloader.poll()
    assert refused is not None and refused.watchlists is None
    assert refused.errors[0].line == 2
    assert reloader.poll() is None


def test_running_bot_takes_up_edits_and_refuses_bad_ones(tmp_path: Path) -> None:
    watchlists = tmp_path / "watchlists"
    shutil.copytree(WATCHLISTS, watchlists)
    log_path = tmp_path / "bot.log"
    with FeedServer() as feeds, BotApiStandIn(token=TOKEN) as api:
        articles = [item(0, "Météo à Dakar")]
        feeds.route("/rss", rss_feed("Actu", articles))
        config = write_config(
            tmp_path, [{"name": "Actu", "url": feeds.url("/rss"), "lang": "fr",
                        "interval": "1s"}], watchlists=watchlists,
            telegram=f'chat = "{CHAT}"\napi_base_url = "{api.base_url}"\nadmins = [{ADMIN}]')
        with bot_running(config, log_path, TOKEN):
            def logged(text: str) -> Callable[[], bool]:
                return lambda: text in log_path.read_text(encoding="utf-8")

            def publish(title: str, summary: str) -> None:
                articles.append(item(len(articles), title, summary))
                feeds.route("/rss", rss_feed("Actu", articles))

            wait_until(logged("cycle done"), "a first poll")
            # A new watchlist file is picked up without a restart.
            (watchlists / "diaw.toml").write_text(
                'name = "Malick Diaw"\nterms = ["Malick Diaw"]\n', encoding="utf-8")
            wait_until(logged("watchlists reloaded watchlists=6"), "the reload")
            publish("Le colonel Malick Diaw reçoit les députés",
                    "Le président du Conseil national de transition a reçu mardi les élus.")
            [alert] = api.wait_for_sent(1)
            assert "<b>Malick Diaw</b>" in alert.text

            # An invalid edit is refused: the admin is told where, the old lists stay.
            (watchlists / "diaw.toml").write_text(
                'name = "Malick Diaw"\nterms = ["Malick Diaw"]\ncolour = "red"\n',
                encoding="utf-8")
            sent = api.wait_for_sent(2)
            notice = next(m for m in sent if m.chat_id == ADMIN)
            assert "diaw.toml:3: unknown key" in notice.text
            assert "restent actives" in notice.text
            assert "watchlist edit refused" in log_path.read_text(encoding="utf-8")
            publish("Malick Diaw à Kati", "Visite d'inspection au camp militaire jeudi.")
            sent = api.wait_for_sent(3)
            assert "Malick Diaw à Kati" in sent[-1].text

            # A removed watchlist stops matching; the others go on.
            (watchlists / "diaw.toml").unlink()
            wait_until(logged("watchlists reloaded watchlists=5"), "the second reload")
            publish("Malick Diaw et Assimi Goïta à Koulouba",
                    "Audience au palais présidentiel consacrée au budget 2027.")
            sent = api.wait_for_sent(4)
            assert "<b>Assimi Goïta</b>" in sent[-1].text
            assert "<b>Malick Diaw</b>" not in sent[-1].text
