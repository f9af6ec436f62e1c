"""Browser check of the web view (not in CI): ten simulated days of the real bot on local
feeds, then `python -m bot web`, and headless Chromium's screenshots of its pages.

Needs the web extra (pip install -e '.[web]') and a Chromium (Debian: apt-get install
chromium). Prints a table of the pages, their status and their screenshots.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.runtime.app import BotApp  # noqa: E402
from bot.settings.config import load_config  # noqa: E402
from tests.support.botprocess import bot_env  # noqa: E402
from tests.support.common import WATCHLISTS, write_config  # noqa: E402
from tests.support.feedserver import FeedServer, rss_feed  # noqa: E402
from tests.support.soak import SimClock  # noqa: E402

DAYS = 10
WINDOW = (1280, 1400)
OUT = ROOT / "bench" / "screenshots"
PAGES = (
    ("front", "/"),
    ("stories", "/history/watchlist_stories?watchlist=&since=&until="),
    ("signals", "/history/partnership_signals?supplier=&recipient=&kind=&since=&until="),
    ("matrix-chart", "/-/charts/partners.png?days=30"),
    ("stories-chart", "/-/charts/stories.png?days=10"),
)
# What the simulated outlets report, a few a day, in each language: {place} and {n} vary.
REPORTS = {
    "fr": (
        "{place} : des instructeurs turcs de Canik Academy forment {n} soldats des FAMa",
        "Africa Corps déploie {n} hommes pour protéger la junte nigérienne à {place}",
        "Le président Assimi Goïta reçoit les chefs coutumiers de {place}",
        "{place} : les FAMa reprennent un poste avancé après {n} heures de combats",
        "Ankara livre {n} drones Bayraktar TB2 à l'armée burkinabè, annonce {place}",
        "{place} : la mairie lance un marché de bétail pour {n} éleveurs",
    ),
    "en": (
        "Russia's Africa Corps sends {n} troops to guard Niger's junta in {place}",
        "Turkish instructors train {n} Malian soldiers on drones in {place}",
        "Burkina Faso receives {n} Bayraktar TB2 drones from Turkey, officials in {place} say",
        "Wagner Group fighters seen near {place}, {n} residents say",
        "{place}: cotton growers expect {n} tonnes this season",
    ),
}
PLACES = ("Bamako", "Gao", "Niamey", "Ouagadougou", "Kidal", "Mopti", "Tillabéri", "Dori")


def day_items(day: int, lang: str, now: datetime) -> list[dict[str, object]]:
    """The reports of one simulated day in one language."""
    items = []
    for n, template in enumerate(REPORTS[lang]):
        if (day + n) % 3 == 0:
            continue  # not every story every day
        title = template.format(place=PLACES[(day * 3 + n) % len(PLACES)], n=10 + day * 7 + n)
        items.append({"title": title, "link": f"https://news.example/{lang}/{day}/{n}",
                      "guid": f"urn:{lang}:{day}:{n}", "summary": title,
                      "published": now - timedelta(minutes=30 * n)})
    return items


async def fill(config_path: Path, feeds: FeedServer, start: datetime) -> None:
    """Ten days of the bot reading what the outlets published each day."""
    config = load_config(config_path, {})
    clock = SimClock(start)
    async with BotApp(config, None, io.StringIO(), clock=clock) as app:
        for day in range(DAYS):
            clock.now = start + timedelta(days=day, hours=12)
            for lang in ("fr", "en"):
                feeds.route(f"/{lang}", rss_feed(f"Outlet {lang}", day_items(day, lang,
                                                                             clock.now),
                                                 lang=lang))
            await app.run_once()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def screenshot(browser: str, url: str, path: Path) -> None:
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", f"--window-size={WINDOW[0]},{WINDOW[1]}",
                    f"--screenshot={path}", url], check=True, capture_output=True, timeout=60)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder (default {OUT})")
    args = parser.parse_args(argv)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("no chromium found (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, FeedServer() as feeds:
        config_path = write_config(Path(tmp), [
            {"name": "Actu Sahel", "url": feeds.url("/fr"), "lang": "fr"},
            {"name": "Sahel Wire", "url": feeds.url("/en"), "lang": "en"}],
            partnerships=WATCHLISTS / "partnerships" / "partnerships.toml")
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=DAYS)
        asyncio.run(fill(config_path, feeds, start))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        web = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config_path),
                                "web", "--port", str(port)], cwd=ROOT, env=bot_env(None),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(base + "/")
            print("| page | status | screenshot |\n| --- | ---: | --- |")
            for name, path in PAGES:
                shot = args.out / f"web-{name}.png"
                screenshot(browser, base + path, shot)
                print(f"| `{path}` | {status_of(base + path)} | {shot.relative_to(ROOT)} "
                      f"({shot.stat().st_size / 1024:.0f} KB) |")
        finally:
            web.terminate()
            web.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
