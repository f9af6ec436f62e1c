"""Export of hits: the streaming query, CSV, JSON lines, Atom documents and Atom files."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from bot.ingest.items import ParsedItem
from bot.matching.matcher import Hit
from bot.matching.watchlists import load_watchlists
from bot.ops.export import (
    CSV_COLUMNS,
    CSV_ENCODING,
    ExportRow,
    atom_feed,
    feed_tag,
    write_atom_files,
    write_csv,
    write_jsonl,
)
from bot.settings.config import FeedConfig
from bot.storage.records import NewItem, Pace, RenderedAlert, StoryView
from bot.storage.store import Store
from tests.support.common import NOW, WATCHLISTS
from tests.support.store import save_poll, unseen

RFI, JEUNE_AFRIQUE, REUTERS = 0, 1, 2
FEEDS = [FeedConfig("RFI Afrique", "https://rfi.example/afrique/rss", "fr", 600),
         FeedConfig("Jeune Afrique", "https://ja.example/feed", "fr", 600),
         FeedConfig("Reuters Africa", "https://reuters.example/africa.atom", "en", 900)]
HOSTILE_TITLE = "Wagner & Africa Corps <update>\x07 à Ménaka \ufffe"
HOSTILE_CLEAN = "Wagner & Africa Corps <update> à Ménaka"  # feedparser strips the end


def hit(watchlist: str, term: str, text: str, field: str = "title", score: int = 100) -> Hit:
    return Hit(watchlist, term, text, field, score, 0, len(text))


def render(view: StoryView) -> RenderedAlert:
    return RenderedAlert(f"<b>{view.title}</b>", silent=False, targets=(("@veille", None),))


def save(store: Store, feed_index: int, item: ParsedItem, hits: Sequence[Hit],
         now: datetime, story: int | None = None) -> int:
    """Store one poll of one item, as the poller does; returns the item's story."""
    feed = sorted(store.feeds(), key=lambda f: f.id)[feed_index]
    fresh, retitled = unseen(store, feed, [item])
    saved = save_poll(store, feed, now, [NewItem(i, tuple(hits), story) for i in fresh],
                            retitled, render=render, etag=None, last_modified=None,
                            body_hash=None, title=None,
                            pace=Pace(now + timedelta(minutes=10), 600.0, 0))
    return saved.items[0][1]


T_CANIK, T_CANIK_EN, T_WAGNER, T_TB2, T_HOSTILE = (
    NOW - timedelta(days=3), NOW - timedelta(days=2), NOW - timedelta(days=1),
    NOW - timedelta(hours=6), NOW - timedelta(hours=1))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "state" / "bot.db")
    store.sync_feeds(FEEDS)
    return store


@pytest.fixture
def stories(store: Store) -> dict[str, int]:
    """Four stories in French and English; the Canik one told by two outlets."""
    canik = save(store, RFI, ParsedItem(
        guid="rfi-1", link="https://rfi.example/afrique/canik-fama-bamako",
        title="Mali : des instructeurs de Canik Academy forment les FAMa à Bamako",
        summary="Des instructeurs turcs de Canik Academy encadrent des soldats des Forces "
                "armées maliennes au camp de Kati, près de Bamako.",
        published=T_CANIK - timedelta(hours=2)),
        [hit("canik-academy", "Canik Academy", "Canik Academy"),
         hit("fama", "FAMa", "FAMa"),
         hit("fama", "Forces armées maliennes", "Forces armées maliennes", "summary")],
        T_CANIK)
    save(store, REUTERS, ParsedItem(
        guid="reuters-1", link="https://reuters.example/world/africa/turkish-trainers-mali",
        title="Turkish trainers from Canik Academy seen with Malian army in Bamako",
        summary="Instructors of the Turkish firm Canik Academy drilled Malian troops.",
        published=T_CANIK_EN),
        [hit("canik-academy", "Canik Academy", "Canik Academy"),
         hit("fama", "Malian army", "Malian army"),
         hit("fama", "Malian troops", "Malian troops", "summary")],
        T_CANIK_EN, story=canik)
    wagner = save(store, JEUNE_AFRIQUE, ParsedItem(
        guid=None, link="https://ja.example/politique/africa-corps-goita",
        title="Africa Corps remplace Wagner : Assimi Goïta reçoit une délégation russe",
        summary="Le président de la transition Assimi Goïta a reçu les officiers russes.",
        published=None),
        [hit("wagner", "Africa Corps", "Africa Corps"), hit("wagner", "Wagner", "Wagner"),
         hit("goita", "Assimi Goïta", "Assimi Goïta")],
        T_WAGNER)
    tb2 = save(store, REUTERS, ParsedItem(
        guid="reuters-2", link="https://reuters.example/world/africa/mali-bayraktar-tb2",
        title="Mali receives new Bayraktar TB2 drones, Goita says",
        summary="The drones were shown at the air base in Bamako.", published=T_TB2),
        [hit("tb2", "Bayraktar TB2", "Bayraktar TB2"),
         hit("goita", "Goïta", "Goita", score=96)],
        T_TB2)
    hostile = save(store, RFI, ParsedItem(
        guid="rfi-2", link="https://rfi.example/afrique/menaka?a=1&b=<2>",
        title=HOSTILE_TITLE, summary="Combats & <pillages> près de Ménaka.",
        published=T_HOSTILE),
        [hit("wagner", "Wagner", "Wagner")], T_HOSTILE)
    return {"canik": canik, "wagner": wagner, "tb2": tb2, "hostile": hostile}


def rows(store: Store, *, watchlist: str | None = None,
         since: datetime | None = None) -> list[ExportRow]:
    return list(store.exported_hits(watchlist=watchlist, since=since))


def test_one_row_per_item_and_watchlist_newest_first(store: Store,
                                                     stories: dict[str, int]) -> None:
    found = rows(store)
    assert [(r.hit_at, r.watchlist) for r in found] == [
        (T_HOSTILE, "wagner"), (T_TB2, "goita"), (T_TB2, "tb2"), (T_WAGNER, "goita"),
        (T_WAGNER, "wagner"), (T_CANIK_EN, "canik-academy"), (T_CANIK_EN, "fama"),
        (T_CANIK, "canik-academy"), (T_CANIK, "fama")]
    fama = found[-1]
    assert fama.terms == ("FAMa", "Forces armées maliennes")
    assert fama.matched == ("FAMa", "Forces armées maliennes")
    assert fama.fields == ("title", "summary")
    assert (fama.feed, fama.lang, fama.story_id, fama.outlets) == (
        "RFI Afrique", "fr", stories["canik"], 2)
    assert fama.published == T_CANIK - timedelta(hours=2)
    goita = found[1]
    assert (goita.terms, goita.matched, goita.score, goita.lang) == (
        ("Goïta",), ("Goita",), 96, "en")
    assert found[3].published is None


@pytest.mark.parametrize(("watchlist", "since", "expected"), [
    ("fama", None, [(T_CANIK_EN, "fama"), (T_CANIK, "fama")]),
    ("goita", None, [(T_TB2, "goita"), (T_WAGNER, "goita")]),
    (None, NOW - timedelta(hours=30), [(T_HOSTILE, "wagner"), (T_TB2, "goita"),
                                       (T_TB2, "tb2"), (T_WAGNER, "goita"),
                                       (T_WAGNER, "wagner")]),
    ("wagner", NOW - timedelta(hours=2), [(T_HOSTILE, "wagner")]),
    ("wagner", T_WAGNER, [(T_HOSTILE, "wagner"), (T_WAGNER, "wagner")]),  # from, inclusive
    ("unknown", None, []),
])
def test_watchlist_and_since_filters(store: Store, stories: dict[str, int],
                                     watchlist: str | None, since: datetime | None,
                                     expected: list[tuple[datetime, str]]) -> None:
    found = rows(store, watchlist=watchlist, since=since)
    assert [(r.hit_at, r.watchlist) for r in found] == expected


def test_rows_stream_and_stopping_early_ends_the_read(store: Store,
                                                      stories: dict[str, int]) -> None:
    stream = store.exported_hits()
    assert next(stream).watchlist == "wagner"
    stream.close()
    # No statement left open: the database can be written and checkpointed at once.
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0


def test_csv_parses_back_with_accents(store: Store, stories: dict[str, int],
                                      tmp_path: Path) -> None:
    path = tmp_path / "hits.csv"
    with path.open("w", encoding=CSV_ENCODING, newline="") as out:
        assert write_csv(store.exported_hits(), out) == 9
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel looks for
    assert b"\r\n" in data
    with path.open(encoding=CSV_ENCODING, newline="") as back:
        table = list(csv.DictReader(back))
    assert tuple(table[0]) == CSV_COLUMNS
    assert len(table) == 9
    canik_fr = table[-1]
    assert canik_fr["title"] == ("Mali : des instructeurs de Canik Academy forment les FAMa "
                                 "à Bamako")
    assert canik_fr["terms"] == "FAMa; Forces armées maliennes"
    assert canik_fr["fields"] == "title; summary"
    assert canik_fr["hit_at"] == "2026-11-22T12:00:00+00:00"
    assert (canik_fr["outlets"], canik_fr["lang"], canik_fr["score"]) == ("2", "fr", "100")
    assert table[3]["published"] == ""  # not given by the feed
    hostile = table[0]
    assert hostile["title"] == HOSTILE_TITLE  # CSV carries it as it is
    assert hostile["link"] == "https://rfi.example/afrique/menaka?a=1&b=<2>"


def sample_row(**changes: object) -> ExportRow:
    values: dict[str, object] = dict(
        hit_at=NOW, watchlist="wagner", terms=("Wagner",), matched=("Wagner",),
        fields=("title",), score=100, item_id=1, title="Wagner quitte le Mali", link=None,
        summary="Ligne 1\nLigne 2, avec « guillemets » et \"quotes\"", published=None,
        feed="RFI Afrique", lang="fr", story_id=7, outlets=1)
    values.update(changes)
    return ExportRow(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("title", "cell"), [
    ("=HYPERLINK(\"http://evil.example\")", "'=HYPERLINK(\"http://evil.example\")"),
    ("+33 morts à Ménaka", "'+33 morts à Ménaka"),
    ("-Wagner", "'-Wagner"),
    ("@Goïta", "'@Goïta"),
    ("Wagner = Africa Corps ?", "Wagner = Africa Corps ?"),
])
def test_csv_cells_never_run_as_formulas(title: str, cell: str) -> None:
    out = io.StringIO(newline="")
    write_csv([sample_row(title=title)], out)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert row["title"] == cell


def test_csv_quotes_newlines_commas_and_quotes() -> None:
    out = io.StringIO(newline="")
    write_csv([sample_row()], out)
    assert '"Ligne 1\nLigne 2, avec « guillemets » et ""quotes"""' in out.getvalue()
    [row] = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert row["summary"] == sample_row().summary
    assert row["link"] == ""


def test_jsonl_lines_parse(store: Store, stories: dict[str, int]) -> None:
    out = io.StringIO()
    assert write_jsonl(store.exported_hits(watchlist="goita"), out) == 2
    text = out.getvalue()
    assert "Goïta" in text  # not \u00ef
    lines = text.split("\n")
    assert lines[-1] == ""
    records = [json.loads(line) for line in lines[:-1]]
    assert tuple(records[0]) == CSV_COLUMNS
    tb2, wagner = records
    assert tb2["terms"] == ["Goïta"]
    assert tb2["matched"] == ["Goita"]
    assert tb2["hit_at"] == "2026-11-25T06:00:00+00:00"
    assert tb2["published"] == "2026-11-25T06:00:00+00:00"
    assert wagner["published"] is None
    assert wagner["story_id"] == stories["wagner"]
    assert wagner["title"].startswith("Africa Corps remplace Wagner")


def parse_atom(document: str) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(document.encode("utf-8"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_atom_has_one_entry_per_story(store: Store, stories: dict[str, int]) -> None:
    document = atom_feed(store.exported_hits(), title="Veille Sahel — toutes les listes",
                         feed_id=feed_tag(), self_url="https://veille.example/atom/all.xml",
                         updated=NOW, labels={"fama": "FAMa"})
    parsed = parse_atom(document)
    assert parsed.feed.id == "tag:sahel-watch,2026:hits"
    assert parsed.feed.title == "Veille Sahel — toutes les listes"
    assert parsed.feed.updated == "2026-11-25T12:00:00+00:00"
    assert [link.href for link in parsed.feed.links if link.rel == "self"] == [
        "https://veille.example/atom/all.xml"]
    entries = parsed.entries
    assert [e.id for e in entries] == [
        f"tag:sahel-watch,2026:story-{stories[key]}"
        for key in ("hostile", "tb2", "wagner", "canik")]
    canik = entries[-1]
    # The story's most recent item stands for it, with every watchlist it hit.
    assert canik.title == "Turkish trainers from Canik Academy seen with Malian army in Bamako"
    assert canik.link == "https://reuters.example/world/africa/turkish-trainers-mali"
    assert canik.updated == "2026-11-23T12:00:00+00:00"
    assert canik.published == "2026-11-23T12:00:00+00:00"
    assert {(t.term, t.label) for t in canik.tags} == {("canik-academy", None),
                                                      ("fama", "FAMa")}
    assert "Canik Academy" in canik.summary and "Malian army" in canik.summary
    assert "Forces armées maliennes" in canik.summary  # terms of the older report too
    assert "2 outlets" in canik.summary
    assert canik.author == "Reuters Africa"
    wagner = entries[2]
    assert wagner.title == "Africa Corps remplace Wagner : Assimi Goïta reçoit une délégation russe"
    assert wagner.title_detail.language == "fr"
    assert "published" not in wagner
    assert {t.term for t in wagner.tags} == {"wagner", "goita"}


def test_atom_ids_are_stable_across_runs(store: Store, stories: dict[str, int]) -> None:
    def ids(now: datetime) -> list[str]:
        document = atom_feed(store.exported_hits(), title="t", feed_id=feed_tag(),
                             self_url=None, updated=now)
        return [e.id for e in parse_atom(document).entries]

    before = ids(NOW)
    save(store, JEUNE_AFRIQUE, ParsedItem(
        guid=None, link="https://ja.example/securite/tb2-kidal", title="Des TB2 sur Kidal",
        summary="", published=None), [hit("tb2", "TB2", "TB2")], NOW)
    after = ids(NOW + timedelta(hours=1))
    assert after[1:] == before
    assert after[0].startswith("tag:sahel-watch,2026:story-")


def test_atom_limit_keeps_the_most_recent_stories(store: Store,
                                                  stories: dict[str, int]) -> None:
    document = atom_feed(store.exported_hits(), title="t", feed_id=feed_tag(), self_url=None,
                         updated=NOW, limit=2)
    assert [e.id for e in parse_atom(document).entries] == [
        f"tag:sahel-watch,2026:story-{stories['hostile']}",
        f"tag:sahel-watch,2026:story-{stories['tb2']}"]


def test_xml_hostile_text_survives(store: Store, stories: dict[str, int]) -> None:
    document = atom_feed(store.exported_hits(watchlist="wagner"), title="Wagner & <co>\x01",
                         feed_id=feed_tag("wagner"), self_url=None, updated=NOW)
    document.encode("utf-8")  # no lone surrogate
    assert "\x07" not in document and "\ufffe" not in document
    parsed = parse_atom(document)
    assert parsed.feed.title == "Wagner & <co>"
    hostile = parsed.entries[0]
    assert hostile.title == HOSTILE_CLEAN
    assert hostile.link == "https://rfi.example/afrique/menaka?a=1&b=<2>"
    assert "Combats & <pillages>" in hostile.summary


def test_atom_without_link_carries_content() -> None:
    parsed = parse_atom(atom_feed([sample_row()], title="t", feed_id=feed_tag("wagner"),
                                  self_url=None, updated=NOW))
    [entry] = parsed.entries
    assert entry.get("links", []) == []
    assert entry.content[0].value.startswith("Matched: Wagner.")


def test_atom_of_no_rows_is_valid() -> None:
    parsed = parse_atom(atom_feed([], title="Rien", feed_id=feed_tag("tb2"), self_url=None,
                                  updated=NOW))
    assert parsed.entries == []
    assert parsed.feed.title == "Rien"


def test_atom_files_per_watchlist_rewritten_only_on_change(store: Store,
                                                          stories: dict[str, int],
                                                          tmp_path: Path) -> None:
    watchlists = load_watchlists(WATCHLISTS)
    directory = tmp_path / "state" / "atom"
    written = write_atom_files(store, directory, watchlists, NOW)
    assert sorted(p.name for p in written) == sorted(f"{w.id}.xml" for w in watchlists)
    assert sorted(p.name for p in directory.iterdir()) == sorted(p.name for p in written)
    fama = parse_atom((directory / "fama.xml").read_text(encoding="utf-8"))
    assert fama.feed.id == "tag:sahel-watch,2026:watchlist-fama"
    assert [e.id for e in fama.entries] == [f"tag:sahel-watch,2026:story-{stories['canik']}"]
    assert [(t.term, t.label) for t in fama.entries[0].tags] == [("fama", "FAMa")]
    assert len(parse_atom((directory / "wagner.xml").read_text(encoding="utf-8")).entries) == 2
    assert oct((directory / "fama.xml").stat().st_mode & 0o777) == oct(0o644)

    mtimes = {p.name: p.stat().st_mtime_ns for p in directory.iterdir()}
    os.utime(directory / "fama.xml", ns=(1, 1))  # any rewrite would show
    assert write_atom_files(store, directory, watchlists, NOW + timedelta(minutes=5)) == []
    assert (directory / "fama.xml").stat().st_mtime_ns == 1

    save(store, REUTERS, ParsedItem(
        guid="reuters-3", link="https://reuters.example/world/africa/tb2-kidal",
        title="Bayraktar TB2 strikes reported near Kidal", summary="", published=None),
        [hit("tb2", "Bayraktar TB2", "Bayraktar TB2")], NOW + timedelta(minutes=10))
    later = NOW + timedelta(minutes=15)
    assert write_atom_files(store, directory, watchlists, later) == [directory / "tb2.xml"]
    tb2 = parse_atom((directory / "tb2.xml").read_text(encoding="utf-8"))
    assert tb2.feed.updated == "2026-11-25T12:15:00+00:00"
    assert tb2.entries[0].title == "Bayraktar TB2 strikes reported near Kidal"
    untouched = {p.name: p.stat().st_mtime_ns for p in directory.iterdir()
                 if p.name not in ("tb2.xml", "fama.xml")}
    assert untouched == {name: t for name, t in mtimes.items() if name in untouched}
    assert not list(directory.glob(".*"))  # no temporary file left behind


def test_atom_files_keep_the_limit(store: Store, stories: dict[str, int],
                                   tmp_path: Path) -> None:
    watchlists = [w for w in load_watchlists(WATCHLISTS) if w.id == "wagner"]
    [path] = write_atom_files(store, tmp_path, watchlists, NOW, limit=1)
    entries = parse_atom(path.read_text(encoding="utf-8")).entries
    assert [e.id for e in entries] == [f"tag:sahel-watch,2026:story-{stories['hostile']}"]
