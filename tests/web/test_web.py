"""The history in a browser: Datasette on a database the real bot filled from local feeds,
its canned queries, search with and without accents, closed tables, charts, and the bot
writing while the web view reads."""

from __future__ import annotations

import asyncio
import io
import json
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.settings.config import Config, load_config
from tests.support.botprocess import bot_env, run_bot
from tests.support.common import ROOT, WATCHLISTS, write_config
from tests.support.feedserver import FeedServer, rss_feed

datasette = pytest.importorskip("datasette", reason="the web extra is not installed")

from bot.web.metadata import DATABASE  # noqa: E402
from bot.web.serve import build  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)
PARTNERSHIPS = WATCHLISTS / "partnerships" / "partnerships.toml"
SECRET = "s3cr3t-feed-key"


def item(n: int, title: str, summary: str, hours_ago: float) -> dict[str, object]:
    return {"title": title, "link": f"https://news.example/{n}", "guid": f"urn:web:{n}",
            "summary": summary, "published": NOW - timedelta(hours=hours_ago)}


FRENCH = [
    item(1, "Bamako : des instructeurs turcs forment les FAMa au maniement des drones",
         "Des instructeurs de Canik Academy forment depuis lundi les FAMa à Bamako.", 3),
    item(2, "Le président Assimi Goïta reçoit les chefs coutumiers à Koulouba",
         "La rencontre a porté sur la sécurité dans le centre du pays.", 2),
    item(3, "Météo : la saison sèche s'installe à Ségou", "Rien à signaler.", 1),
]
ENGLISH = [
    item(11, "Russia's Africa Corps deploys troops to guard Niger's junta in Niamey",
         "Moscow has sent about a hundred Africa Corps troops to protect General Tiani.", 4),
    item(12, "Turkish instructors train Malian soldiers on drones in Bamako",
         "Canik Academy instructors have been training the FAMa since Monday.", 2.5),
]
LATER = item(4, "Kidal : les FAMa reprennent le contrôle d'un poste avancé",
             "L'armée malienne annonce avoir repris le poste après deux jours de combats.", 0.5)


@dataclass
class Filled:
    """A database the bot filled, its config, and the web view over it."""

    config_path: Path
    config: Config
    feeds: FeedServer


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    tmp = tmp_path_factory.mktemp("web")
    with FeedServer() as feeds:
        feeds.route("/fr", rss_feed("Actu Sahel", FRENCH))
        feeds.route("/en", rss_feed("Sahel Wire", ENGLISH, lang="en"))
        path = write_config(tmp, [
            {"name": "Actu Sahel", "url": feeds.url(f"/fr?api_key={SECRET}"), "lang": "fr"},
            {"name": "Sahel Wire", "url": feeds.url("/en"), "lang": "en"}],
            partnerships=PARTNERSHIPS)
        result = run_bot(path, "--once")
        assert result.returncode == 0, result.stderr
        yield Filled(path, load_config(path, {}), feeds)


def get(filled: Filled, url: str, **params: str) -> Any:
    """One request to the web view, in process; the answer's JSON (an error if not 200)."""
    async def go() -> Any:
        ds = build(filled.config, lambda: NOW)
        await ds.invoke_startup()
        answer = await ds.client.get(url, params=params)
        assert answer.status_code == 200, (answer.status_code, answer.text[:500])
        return answer.json() if url.endswith(".json") else answer
    return asyncio.run(go())


def status(filled: Filled, url: str, *, method: str = "GET", host: str = "localhost",
           allowed: tuple[str, ...] = ()) -> int:
    """The status of one request, naming ``host``, to a view that allows ``allowed``."""
    async def go() -> int:
        ds = build(filled.config, lambda: NOW, allowed_hosts=allowed)
        await ds.invoke_startup()
        answer = await ds.client.request(method, url, headers={"host": host})
        return int(answer.status_code)
    return asyncio.run(go())


def copy_of(filled: Filled, directory: Path) -> Filled:
    """The filled database and its config, copied: a test may write to it."""
    db_path = directory / "state" / "bot.db"
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(filled.config.storage_path) as source, \
            sqlite3.connect(db_path) as target:
        source.backup(target)
    text = filled.config_path.read_text(encoding="utf-8").replace(
        str(filled.config.storage_path), str(db_path))
    config_path = directory / "config.toml"
    config_path.write_text(text, encoding="utf-8")
    return Filled(config_path, load_config(config_path, {}), filled.feeds)


def query(filled: Filled, name: str, **params: str) -> list[dict[str, Any]]:
    rows = get(filled, f"/{DATABASE}/{name}.json", _shape="array", **params)
    assert isinstance(rows, list)
    return rows


def test_latest_stories_of_a_watchlist(filled: Filled) -> None:
    rows = query(filled, "watchlist_stories", watchlist="canik-academy", since="", until="")
    titles = {row["title"] for row in rows}
    # The French and English reports are one story, titled by whichever came first.
    training = ("instructeurs turcs", "Turkish instructors")
    assert any(words in t for t in titles for words in training)
    first = next(row for row in rows if any(words in row["title"] for words in training))
    assert first["link"] in ("https://news.example/1", "https://news.example/12")
    assert first["outlets"] and "Canik Academy" in first["terms"]
    assert first["first_seen"] >= (NOW - timedelta(hours=1)).isoformat()[:13]
    # Any watchlist, and a period ending before anything was seen.
    every = query(filled, "watchlist_stories", watchlist="", since="", until="")
    assert {row["watchlist"] for row in every} >= {"canik-academy", "goita", "wagner"}
    assert query(filled, "watchlist_stories", watchlist="", since="", until="2001-01-01") == []


def test_partnership_signals_with_their_evidence(filled: Filled) -> None:
    rows = query(filled, "partnership_signals", supplier="", recipient="", kind="",
                 since="", until="")
    pairs = {(row["supplier"], row["recipient"], row["kind"]) for row in rows}
    assert ("turkey", "mali", "training") in pairs and ("russia", "niger", "protection") in pairs
    training = next(row for row in rows if row["recipient"] == "mali")
    assert "instruct" in training["evidence"]  # the sentence that says it
    assert training["link"].startswith("https://news.example/")
    only = query(filled, "partnership_signals", supplier="russia", recipient="", kind="",
                 since="", until="")
    assert only and {row["supplier"] for row in only} == {"russia"}
    matrix = query(filled, "partnership_matrix", since="", until="")
    cell = next(row for row in matrix if (row["supplier"], row["recipient"]) == ("turkey", "mali"))
    assert cell["stories"] >= 1 and "training" in cell["kinds"]


def test_feed_health_shows_addresses_without_credentials(filled: Filled) -> None:
    rows = {row["name"]: row for row in query(filled, "feed_health")}
    assert set(rows) == {"Actu Sahel", "Sahel Wire"}
    assert SECRET not in json.dumps(rows) and "api_key=" in rows["Actu Sahel"]["address"]
    assert rows["Actu Sahel"]["kind"] == "rss" and rows["Actu Sahel"]["failures"] == 0
    assert rows["Sahel Wire"]["items_recent"] == len(ENGLISH)
    assert rows["Actu Sahel"]["last_success"]


def test_a_storys_timeline(filled: Filled) -> None:
    story = query(filled, "watchlist_stories", watchlist="canik-academy", since="",
                  until="")[0]["story"]
    rows = query(filled, "story_timeline", story=str(story))
    assert rows and all(row["outlet"] in ("Actu Sahel", "Sahel Wire") for row in rows)
    assert [row["read_at"] for row in rows] == sorted(row["read_at"] for row in rows)


@pytest.mark.parametrize("words", ["Goïta", "goita", "GOITA koulouba", "assimi goïta"])
def test_search_ignores_accents_and_case(filled: Filled, words: str) -> None:
    rows = query(filled, "search_articles", q=words)
    assert [row["link"] for row in rows] == ["https://news.example/2"]
    table = get(filled, f"/{DATABASE}/items.json", _search=words, _shape="array")
    assert [row["link"] for row in table] == ["https://news.example/2"]


@pytest.mark.parametrize("words", ["", '"', "zzzz", "l'", "NEAR(", "*"])
def test_search_with_nothing_to_find_is_empty_not_an_error(filled: Filled, words: str) -> None:
    assert query(filled, "search_articles", q=words) == []


def test_internal_tables_are_hidden_and_closed(filled: Filled, tmp_path: Path) -> None:
    listing = get(filled, f"/{DATABASE}.json")
    shown = {t["name"] for t in listing["tables"] if not t["hidden"]}
    assert shown == {"items", "stories", "story_watchlists", "hits", "signals", "cycles"}
    for table in ("alerts", "audit", "feeds", "mutes", "_sqlite_migrations"):
        assert status(filled, f"/{DATABASE}/{table}.json") == 403
        assert status(filled, f"/{DATABASE}/{table}/1.json") == 403
    assert status(filled, f"/{DATABASE}.json?sql=select+url+from+feeds") == 403
    assert status(filled, f"/{DATABASE}/items.json?_where=1") == 403
    assert status(filled, f"/{DATABASE}.db") == 403  # no download of the whole file
    meta = get(filled, f"/{DATABASE}/items.json", _shape="objects")
    assert meta["facet_results"]["lang"]["results"]
    # A story's page counts the rows that point to it: not those of the closed tables.
    copy = copy_of(filled, tmp_path)
    with sqlite3.connect(copy.config.storage_path) as db:
        db.execute("""INSERT INTO alerts (story_id, chat, html, next_attempt_at, created_at)
                      VALUES (1, '-100123456', 'x', '2026-01-01', '2026-01-01')""")
    row = get(copy, f"/{DATABASE}/stories/1.json", _extras="foreign_key_tables")
    counts = {t["other_table"]: t["count"] for t in row["foreign_key_tables"]}
    assert counts.get("alerts", 0) == 0 and counts["items"] >= 1


def test_only_this_machines_names_and_the_readers_pages_answer(filled: Filled) -> None:
    # A page elsewhere can rebind its own name to this machine: its requests are refused.
    assert status(filled, "/", host="attacker.example:8001") == 421
    assert status(filled, "/", host="127.0.0.1:8001") == 200
    assert status(filled, "/", host="[::1]:8001") == 200
    assert status(filled, "/", host="history.example.org", allowed=("history.example.org",)) \
        == 200
    # Datasette's own pages are not the reader's business (the database's path, the SQL).
    for page in ("/-/databases.json", "/-/metadata.json", "/-/versions.json",
                 "/-/settings.json", "/-/plugins.json", "/-/threads.json", "/-/actor.json"):
        assert status(filled, page) == 404, page
    assert status(filled, "/-/static/app.css") == 200
    assert status(filled, "/-/charts/stories.png") == 200
    assert status(filled, f"/{DATABASE}/watchlist_stories", method="POST") == 405


def test_pages_describe_what_a_reader_meets(filled: Filled) -> None:
    page = get(filled, f"/{DATABASE}/signals").text
    assert "Partnership signals: a supplier doing something for a recipient." in page
    assert "The sentence that says it" in page
    stories = get(filled, f"/{DATABASE}/watchlist_stories", watchlist="canik-academy").text
    # Titles link to their article.
    assert re.search(r'<a href="https://news\.example/(1|12)" rel="noopener noreferrer">'
                     r"(Bamako : des instructeurs|Turkish instructors)", stories)
    assert "<code>canik-academy</code>" in stories and "/-/charts/stories.png" in stories
    answer = get(filled, "/")
    assert answer.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("name", ["stories", "partners"])
def test_charts_are_pngs(filled: Filled, name: str) -> None:
    answer = get(filled, f"/-/charts/{name}.png", days="7", lang="fr")
    assert answer.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(answer.content)).size == (1000, 560)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def test_the_command_serves_while_the_bot_writes(filled: Filled, tmp_path: Path) -> None:
    copy = copy_of(filled, tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(copy.config_path), "web",
         "--port", str(port)], cwd=ROOT, env=bot_env(None), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        url = f"{base}/{DATABASE}/search_articles.json?_shape=array&q=reprennent"
        deadline = time.monotonic() + 30
        while True:
            try:
                assert fetch_json(url) == []
                break
            except (urllib.error.URLError, ConnectionError):
                assert web.poll() is None and time.monotonic() < deadline, web.stderr
                time.sleep(0.2)
        # The bot polls again and writes while the web view keeps reading.
        filled.feeds.route("/fr", rss_feed("Actu Sahel", [LATER, *FRENCH]))
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(copy.config_path), "run", "--once"],
            cwd=ROOT, env=bot_env(None), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        reads = 0
        while reads == 0 or bot.poll() is None:
            fetch_json(f"{base}/{DATABASE}/watchlist_stories.json?_shape=array&watchlist=fama")
            reads += 1
        assert bot.wait() == 0, bot.stderr.read() if bot.stderr else ""
        found = fetch_json(url)
        assert [row["link"] for row in found] == ["https://news.example/4"]
    finally:
        filled.feeds.route("/fr", rss_feed("Actu Sahel", FRENCH))
        web.terminate()
        _, errors = web.communicate(timeout=10)
    assert f"serving the history read-only at http://127.0.0.1:{port}/" in errors


@pytest.mark.parametrize(("since", "until", "found"), [
    ("", "", True),
    ("{day}", "{day}", True),  # a date alone as until takes in that whole day
    ("{day}", "", True),
    ("", "{day}", True),
    ("", "{day}T00:00", False),  # a time is the bound itself
    ("{next_day}", "", False),
    ("2001-01-01", "2001-12-31", False),
    ("not a date", "", False),  # a bound that is not a time matches nothing
])
def test_periods_are_read_as_dates_and_times(filled: Filled, since: str, until: str,
                                             found: bool) -> None:
    with sqlite3.connect(filled.config.storage_path) as db:
        (first,) = db.execute("SELECT min(created_at) FROM signals").fetchone()
    day = datetime.fromisoformat(first).date()  # the day the bot found them (UTC)
    days = {"day": day.isoformat(), "next_day": (day + timedelta(days=1)).isoformat()}
    rows = query(filled, "partnership_signals", supplier="", recipient="", kind="",
                 since=since.format(**days), until=until.format(**days))
    assert bool(rows) is found


def test_no_query_reads_a_large_table_from_end_to_end(filled: Filled) -> None:
    """Each query reaches articles and hits through an index: a year of history must not
    take longer than a week of it."""
    from bot.storage.browse import QUERIES
    from bot.web.plugin import WebContext, WebPlugin
    from bot.web.serve import catalogue_of

    plugin = WebPlugin(WebContext(filled.config.storage_path, catalogue_of(filled.config),
                                  filled.config.history, lambda: NOW))
    params = dict.fromkeys(("watchlist", "since", "until", "supplier", "recipient", "kind",
                            "q"), "") | {"story": "1"}
    with sqlite3.connect(filled.config.storage_path) as db:
        plugin.prepare_connection(db, DATABASE)
        for name, sql in QUERIES.items():
            steps = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            # Articles and hits are reached by one story's, item's or feed's key, never
            # by reading them all (or all of a watchlist's) for each row.
            wide = [step for step in steps if re.match(r"(SCAN|SEARCH) (items|hits|i|first)\b",
                                                       step)
                    and not re.search(r"\((story_id|item_id|rowid|feed_id)=", step)]
            assert not wide, (name, steps)


def test_without_a_database_the_command_says_so(tmp_path: Path) -> None:
    path = write_config(tmp_path, [{"name": "Veille", "url": "https://x.example/rss"}])
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(path), "web", "--port", "1"],
        cwd=ROOT, env=bot_env(None), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"error: {tmp_path / 'state' / 'bot.db'}: no database yet: run the bot first" \
        in result.stderr
    assert not (tmp_path / "state" / "bot.db").exists()  # the web view never creates it


def test_without_datasette_the_command_says_how_to_install_it(
        filled: Filled, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.web.serve import WebUnavailable

    monkeypatch.setitem(sys.modules, "datasette.app", None)
    with pytest.raises(WebUnavailable, match=r"pip install -c requirements.lock -e '\.\[web\]'"):
        build(filled.config, lambda: NOW)


def test_the_compose_web_service_reads_the_bots_volume_on_loopback() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    web, bot = compose["services"]["web"], compose["services"]["sahel-watch"]
    assert web["command"][:4] == ["python", "-m", "bot", "web"]
    assert web["ports"] == ["127.0.0.1:8001:8001"]
    assert web["volumes"] == [v for v in bot["volumes"] if v.startswith("state:")]
    assert web["profiles"] == ["web"]  # started only when asked for


def test_a_database_not_yet_upgraded_is_refused_until_the_bot_runs(tmp_path: Path) -> None:
    from sqlite_utils import Database

    from bot.errors import StoreError
    from bot.storage import schema

    path = write_config(tmp_path, [{"name": "Veille", "url": "https://x.example/rss"}])
    db_path = tmp_path / "state" / "bot.db"
    db_path.parent.mkdir()
    old = Database(db_path)
    schema.MIGRATIONS.apply(old, stop_before="0012_feed_search")
    old.close()
    with pytest.raises(StoreError, match="older version of the bot: run the bot once"):
        build(load_config(path, {}), lambda: NOW)
