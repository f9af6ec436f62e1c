"""Live watchlist edits: picked up without a restart; a bad edit is refused and reported."""

from __future__ import annotations

import asyncio
import io
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from bot.matching.reload import WatchlistReloader
from bot.runtime.app import BotApp
from bot.settings.config import load_config
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


def test_the_partnership_file_is_watched_too(tmp_path: Path) -> None:
    shutil.copytree(WATCHLISTS, tmp_path / "w")
    path = tmp_path / "w" / "partnerships" / "partnerships.toml"
    reloader = WatchlistReloader(tmp_path / "w", also=(path,))
    assert reloader.poll() is None
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    outcome = reloader.poll()
    assert outcome is not None and outcome.watchlists is not None
    assert reloader.poll() is None


def test_a_running_bot_takes_up_partnership_edits_and_reports_bad_ones(
        tmp_path: Path) -> None:
    """Edits of the partnership file reach the detector without a restart; a refused edit
    keeps the file before it and tells the admins its file and line, once."""
    watchlists = tmp_path / "watchlists"
    shutil.copytree(WATCHLISTS, watchlists)
    path = watchlists / "partnerships" / "partnerships.toml"
    text = path.read_text(encoding="utf-8")
    config = load_config(write_config(
        tmp_path, [], watchlists=watchlists, partnerships=path,
        telegram=f"admins = [{ADMIN}]"), {})
    newcomer = ("Sahel Defence Systems livre des blindés à l'armée malienne", "")

    async def go() -> None:
        async with BotApp(config, None, io.StringIO()) as app:
            assert app.rules.partnerships is not None
            assert app.poller.detector is not None
            assert app.poller.detector.detect(*newcomer) == []
            path.write_text(text.replace('"Otokar", ', '"Sahel Defence Systems", ', 1),
                            encoding="utf-8")
            assert app.rules.reload()
            assert [(s.supplier, s.recipient, s.kind)
                    for s in app.poller.detector.detect(*newcomer)] == [
                ("turkey", "mali", "arms")]
            broken = text.replace('id = "turkey"', 'id = "Turkey!"', 1)
            path.write_text(broken, encoding="utf-8")
            app.rules.reload()
            app.rules.reload()  # nothing changed since: not reported again
            # The edit before it stays in use.
            assert app.poller.detector.detect(*newcomer) != []
            notices = app.store.db.execute(
                "SELECT html FROM alerts WHERE story_id IS NULL").fetchall()
            assert len(notices) == 1
            line = broken.splitlines().index('id = "Turkey!"') + 1
            assert f"partnerships.toml:{line}:" in notices[0][0]
            assert "fichier précédent reste actif" in notices[0][0]

    asyncio.run(go())
