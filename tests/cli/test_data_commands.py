"""The data commands end to end: a real cycle, then OPML, CSV, JSON lines and Atom out."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import feedparser
import pytest

from bot.cli.main import main
from bot.matching.edit import add_term
from bot.settings.config import load_config
from tests.support.common import WATCHLISTS, write_config
from tests.support.feedserver import FeedServer, rss_feed

ITEMS = [
    {"title": "Bamako : des instructeurs de Canik Academy forment les FAMa",
     "link": "https://news.example/afrique/canik-fama", "guid": "canik-fama",
     "description": "Les instructeurs turcs sont arrivés à Bamako lundi.",
     "pubDate": "Tue, 24 Nov 2026 08:00:00 GMT"},
    {"title": "Mali: Africa Corps convoy ambushed near Kidal",
     "link": "https://news.example/en/africa-corps-kidal", "guid": "ac-kidal",
     "description": "The Russian force, successor of the Wagner Group, lost two trucks.",
     "pubDate": "Tue, 24 Nov 2026 09:30:00 GMT"},
    {"title": "Météo : la saison des pluies s'achève à Gao",
     "link": "https://news.example/meteo-gao", "guid": "meteo",
     "description": "Rien de sécuritaire.", "pubDate": "Tue, 24 Nov 2026 07:00:00 GMT"},
]


pytestmark = pytest.mark.usefixtures("restore_logging")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


@pytest.fixture
def polled(tmp_path: Path, feed_server: FeedServer) -> Path:
    """A config whose one feed has been polled once: three items, two with hits."""
    feed_server.route("/rss", rss_feed("Le Quotidien", ITEMS))
    config = write_config(tmp_path, [{"name": "Le Quotidien", "url": feed_server.url("/rss"),
                                      "lang": "fr"}])
    code, _, err = run("--config", str(config), "run", "--once")
    assert code == 0, err
    return config


def test_hits_to_a_spreadsheet(polled: Path, tmp_path: Path) -> None:
    target = tmp_path / "hits.csv"
    code, _, err = run("--config", str(polled), "export", "--format", "csv", "--output",
                       str(target))
    assert code == 0, err
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, for spreadsheets
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert {(r["watchlist"], r["title"]) for r in rows} == {
        ("canik-academy", ITEMS[0]["title"]), ("fama", ITEMS[0]["title"]),
        ("wagner", ITEMS[1]["title"])}
    assert all(r["feed"] == "Le Quotidien" for r in rows)
    assert f"3 hits written to {target}" in err


def test_hits_as_json_lines_filtered(polled: Path) -> None:
    code, out, err = run("--config", str(polled), "export", "--format", "jsonl",
                         "--watchlist", "wagner", "--since", "1d")
    assert code == 0, err
    [record] = [json.loads(line) for line in out.splitlines()]
    assert record["watchlist"] == "wagner"
    assert record["link"] == ITEMS[1]["link"]
    code, _, err = run("--config", str(polled), "export", "--watchlist", "nope")
    assert code == 1 and "no watchlist 'nope'" in err
    code, _, err = run("--config", str(polled), "export", "--since", "soon")
    assert code == 1 and "--since" in err


def test_hits_to_a_feed_reader(polled: Path, tmp_path: Path) -> None:
    code, out, err = run("--config", str(polled), "export", "--format", "atom")
    assert code == 0, err
    feed = feedparser.parse(out.encode("utf-8"))
    assert not feed.bozo, feed.get("bozo_exception")
    assert {entry.link for entry in feed.entries} == {ITEMS[0]["link"], ITEMS[1]["link"]}
    # The bot also keeps one Atom file per watchlist in state/ (see [storage] atom_dir).
    kept = feedparser.parse((tmp_path / "state" / "atom" / "fama.xml").read_bytes())
    assert not kept.bozo
    assert [entry.title for entry in kept.entries] == [ITEMS[0]["title"]]


def test_feed_list_out_and_back_in_as_opml(polled: Path, tmp_path: Path) -> None:
    opml = tmp_path / "feeds.opml"
    code, out, err = run("--config", str(polled), "feeds", "export", "--output", str(opml))
    assert (code, out) == (0, f"1 feeds written to {opml}\n"), err
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(Path(__file__).parents[2] / "config.toml", other / "config.toml")
    before = load_config(other / "config.toml").feeds
    code, out, err = run("--config", str(other / "config.toml"), "feeds", "import", str(opml))
    assert code == 0, err
    assert "1 feed(s) added" in out and "restart the bot" in out
    after = load_config(other / "config.toml").feeds
    assert [f.name for f in after] == [*(f.name for f in before), "Le Quotidien"]
    assert "# Feeds: name (shown in alerts)" in (other / "config.toml").read_text()
    code, out, _ = run("--config", str(other / "config.toml"), "feeds", "import", str(opml))
    assert code == 0 and "0 feed(s) added" in out and "1 already there" in out


def test_a_broken_opml_file_is_a_clear_error(polled: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.opml"
    broken.write_text('<?xml version="1.0"?>\n<opml version="2.0">\n<body>\n<outline\n',
                      encoding="utf-8")
    code, _, err = run("--config", str(polled), "feeds", "import", str(broken))
    assert code == 1
    assert err.startswith(f"error: {broken}:")


@pytest.mark.parametrize("command", [["rematch"], ["export"], ["partners"]])
def test_commands_on_stored_data_never_make_an_empty_database(tmp_path: Path,
                                                              command: list[str]) -> None:
    # A path that names no database (mistyped, or the bot never ran) is said, not filled.
    config = write_config(tmp_path, [],
                          partnerships=WATCHLISTS / "partnerships" / "partnerships.toml")
    code, _, err = run("--config", str(config), *command)
    assert code != 0 and "bot.db: no database yet: run the bot first" in err
    assert not (tmp_path / "state" / "bot.db").exists()


def test_rematch_after_a_watchlist_edit(tmp_path: Path, feed_server: FeedServer) -> None:
    watchlists = tmp_path / "watchlists"
    shutil.copytree(WATCHLISTS, watchlists)
    feed_server.route("/rss", rss_feed("Le Quotidien", ITEMS))
    config = write_config(tmp_path, [{"name": "Le Quotidien", "url": feed_server.url("/rss"),
                                      "lang": "fr"}], watchlists=watchlists)
    code, _, err = run("--config", str(config), "run", "--once")
    assert code == 0, err
    code, out, err = run("--config", str(config), "rematch")
    assert code == 0, err
    assert out.startswith("rematched 3 items: 0 hits added") and "no change" in out
    add_term(watchlists, "fama", "saison des pluies")  # a maintainer's edit
    code, out, err = run("--config", str(config), "rematch", "--watchlist", "fama")
    assert code == 0, err
    assert "1 hits added" in out and "fama: 1 stories newly hit" in out
    assert "rematch: 3/3 (100%)" in err  # not a terminal: plain progress lines
    code, out, _ = run("--config", str(config), "export", "--format", "jsonl",
                       "--watchlist", "fama")
    assert {json.loads(line)["link"] for line in out.splitlines()} == {
        ITEMS[0]["link"], ITEMS[2]["link"]}
    code, _, err = run("--config", str(config), "rematch", "--watchlist", "nope")
    assert code == 1 and "no watchlist 'nope'" in err


def test_rematch_reads_signals_again_after_an_edit_of_the_partnership_file(
        tmp_path: Path, feed_server: FeedServer) -> None:
    partnerships = tmp_path / "partnerships.toml"
    shutil.copy(WATCHLISTS / "partnerships" / "partnerships.toml", partnerships)
    feed_server.route("/rss", rss_feed("Le Quotidien", [
        *ITEMS, {"title": "Sahel Defence Systems livre des blindés à l'armée malienne",
                 "link": "https://news.example/sds", "guid": "sds",
                 "pubDate": "Tue, 24 Nov 2026 10:00:00 GMT"}]))
    config = write_config(tmp_path, [{"name": "Le Quotidien", "url": feed_server.url("/rss"),
                                      "lang": "fr"}], partnerships=partnerships)
    code, _, err = run("--config", str(config), "run", "--once")
    assert code == 0, err
    code, out, err = run("--config", str(config), "rematch")
    assert code == 0, err
    assert "signals: 0 added, 0 removed, 0 updated" in out
    text = partnerships.read_text(encoding="utf-8")
    partnerships.write_text(text.replace('"Otokar", ', '"Sahel Defence Systems", ', 1),
                            encoding="utf-8")
    code, out, err = run("--config", str(config), "rematch")
    assert code == 0, err
    assert "signals: 1 added, 0 removed, 0 updated" in out
    assert "signals: 4/4 (100%)" in err
    broken = text.replace('[[kind]]\nid = "training"', '[[kind]\nid = "training"', 1)
    partnerships.write_text(broken, encoding="utf-8")
    line = broken.splitlines().index("[[kind]") + 1
    code, _, err = run("--config", str(config), "rematch")
    assert code == 1 and f"partnerships.toml:{line}: invalid TOML" in err


def test_the_partnership_map_for_reports(tmp_path: Path, feed_server: FeedServer,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAHEL_WATCH_PARTNERSHIPS_FILE",
                       str(WATCHLISTS / "partnerships" / "partnerships.toml"))
    feed_server.route("/rss", rss_feed("Le Quotidien", ITEMS))
    config = write_config(tmp_path, [{"name": "Le Quotidien", "url": feed_server.url("/rss"),
                                      "lang": "fr"}])
    assert run("--config", str(config), "run", "--once")[0] == 0
    code, out, err = run("--config", str(config), "partners", "--since", "7d")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    [turkey_mali] = [r for r in rows if (r["supplier"], r["recipient"]) == ("turkey", "mali")]
    assert (turkey_mali["count"], turkey_mali["dominant_kind"]) == ("1", "training")
    picture = tmp_path / "map.png"
    code, _, err = run("--config", str(config), "partners", "--format", "png", "--output",
                       str(picture), "--lang", "en")
    assert code == 0, err
    assert picture.read_bytes().startswith(b"\x89PNG")
    code, _, err = run("--config", str(config), "partners", "--format", "png")
    assert code == 1 and "--output" in err


def test_eval_partners_prints_the_figures() -> None:
    code, out, err = run("eval", "--partners")
    assert code == 0, err
    assert "precision" in out.lower() and "recall" in out.lower()
