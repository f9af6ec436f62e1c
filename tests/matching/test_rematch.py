"""Rematch: stored items against changed watchlists, without alerts, batch by batch."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from bot.errors import BotError
from bot.ingest.items import ParsedItem
from bot.matching.matcher import Hit, Matcher
from bot.matching.rematch import RematchReport, count_items, format_report, rematch
from bot.matching.watchlists import load_watchlists
from bot.settings.config import FeedConfig
from bot.storage.records import NewItem, Pace, RenderedAlert, StoryView, iso
from bot.storage.store import Store
from tests.support.common import NOW, WATCHLISTS
from tests.support.store import save_poll, unseen

FEEDS = [FeedConfig("Le Sahel", "https://fr.example/rss", "fr", 600),
         FeedConfig("Sahel Wire", "https://en.example/rss", "en", 600)]
FR, EN = 0, 1
OLD = NOW - timedelta(days=10)
RETENTION = timedelta(days=5).total_seconds()  # the old items' summaries are pruned
HISTORY = timedelta(days=365).total_seconds()

WAGNER_BEFORE = """
name = "Wagner"
terms = ["Wagner Group", "groupe Wagner", "Africa Corps"]

[[term]]
text = "Wagner"
context = ["Mali", "Russie", "Russia"]
"""
# "Wagner Group" is dropped, Russia's new corps is added, the bare name needs Russia and
# never counts in a text about the opera.
WAGNER_AFTER = """
name = "Wagner"
terms = ["groupe Wagner", "Africa Corps", "Corps expéditionnaire russe",
         "Russian Expeditionary Corps"]

[[term]]
text = "Wagner"
context = ["Russie", "Russia"]
exclude = ["opera"]
"""

# (feed, title, summary, stored at)
ARTICLES = {
    "fama": (FR, "Les FAMa reprennent Kidal", "L'armée malienne a repris la ville.", OLD),
    "leave": (EN, "Wagner Group fighters leave Mali", "", OLD),
    "corps": (FR, "Le Corps expéditionnaire russe s'installe à Bamako",
              "Des instructeurs arrivent.", OLD),
    "convoy": (EN, "Convoy ambushed near Kidal",
               "Africa Corps soldiers were escorting the convoy.", OLD),
    "gao": (EN, "New deployment near Gao",
            "The Russian Expeditionary Corps replaced the last units.", NOW),
    "opera": (EN, "Wagner opera staged in Russia", "The Bolshoi staged the opera.", NOW),
    "replaces": (EN, "Africa Corps replaces Wagner Group in Mali",
                 "New instructors took over.", NOW),  # joins the story of "leave"
}

BEFORE = {
    ("fama", "fama", "FAMa", "title"), ("fama", "fama", "armée malienne", "summary"),
    ("leave", "wagner", "Wagner Group", "title"),
    ("convoy", "wagner", "Africa Corps", "summary"),
    ("opera", "wagner", "Wagner", "title"),
    ("replaces", "wagner", "Africa Corps", "title"),
    ("replaces", "wagner", "Wagner Group", "title"),
}
AFTER = (BEFORE - {("leave", "wagner", "Wagner Group", "title"),
                   ("opera", "wagner", "Wagner", "title"),
                   ("replaces", "wagner", "Wagner Group", "title")}) | {
    ("corps", "wagner", "Corps expéditionnaire russe", "title"),
    ("gao", "wagner", "Russian Expeditionary Corps", "summary"),
}


def watchlists_dir(tmp_path: Path, name: str, wagner: str) -> Path:
    """The shipped watchlists, with our own wagner.toml."""
    directory = tmp_path / name
    shutil.copytree(WATCHLISTS, directory)
    (directory / "wagner.toml").write_text(wagner, encoding="utf-8")
    return directory


def render(view: StoryView) -> RenderedAlert:
    return RenderedAlert(f"<b>{view.title}</b>", silent=False, targets=(("@c", None),))


def poll(store: Store, matcher: Matcher, name: str, story: int | None = None) -> int:
    """Store one of ARTICLES as a poll would, hits and alert included; its story id."""
    feed_index, title, summary, when = ARTICLES[name]
    feed = sorted(store.feeds(), key=lambda f: f.id)[feed_index]
    item = ParsedItem(guid=None, link=f"https://news.example/{name}", title=title,
                      summary=summary, published=when)
    fresh, retitled = unseen(store, feed, [item])
    new = [NewItem(i, tuple(matcher.match(i.title, i.summary)), story) for i in fresh]
    saved = save_poll(store, feed, when, new, retitled, render=render, etag=None,
                            last_modified=None, body_hash=None, title=None,
                            pace=Pace(when + timedelta(minutes=10), 600.0, 0))
    [(_, story_id, _)] = saved.items
    return story_id


@pytest.fixture
def before(tmp_path: Path) -> Matcher:
    return Matcher(load_watchlists(watchlists_dir(tmp_path, "before", WAGNER_BEFORE)))


@pytest.fixture
def after(tmp_path: Path) -> Matcher:
    return Matcher(load_watchlists(watchlists_dir(tmp_path, "after", WAGNER_AFTER)))


@pytest.fixture
def store(tmp_path: Path, before: Matcher) -> Store:
    """French and English items matched with the old watchlists, old summaries pruned."""
    store = Store.open(tmp_path / "state" / "bot.db")
    store.sync_feeds(FEEDS)
    stories: dict[str, int] = {}
    for name in ARTICLES:
        stories[name] = poll(store, before, name, stories["leave"] if name == "replaces"
                             else None)
    store.prune(NOW, retention=RETENTION, history=HISTORY)
    return store


def hits(store: Store) -> set[tuple[str, str, str, str]]:
    """(article, watchlist, term, field) of every stored hit."""
    names = {title: name for name, (_, title, _, _) in ARTICLES.items()}
    rows = store.db.execute("""SELECT items.title, hits.watchlist, hits.term, hits.field
                               FROM hits JOIN items ON items.id = hits.item_id""").fetchall()
    return {(names[r[0]], r[1], r[2], r[3]) for r in rows}


def listed(store: Store) -> set[tuple[str, str]]:
    """(first article of the story, watchlist) of every row of story_watchlists, checked
    against the hits it stands for."""
    names = {title: name for name, (_, title, _, _) in ARTICLES.items()}
    rows = store.db.execute(
        """SELECT stories.title, story_watchlists.watchlist FROM story_watchlists
           JOIN stories ON stories.id = story_watchlists.story_id""").fetchall()
    from_hits = store.db.execute(
        """SELECT DISTINCT stories.title, hits.watchlist FROM hits
           JOIN items ON items.id = hits.item_id JOIN stories ON stories.id = items.story_id"""
    ).fetchall()
    assert {tuple(r) for r in rows} == {tuple(r) for r in from_hits}
    return {(names[r[0]], r[1]) for r in rows}


def alerts(store: Store) -> list[tuple[object, ...]]:
    return [tuple(r) for r in store.db.execute("SELECT * FROM alerts ORDER BY id")]


def nothing_changed(report: RematchReport) -> bool:
    return (report.added, report.removed, report.updated, dict(report.stories_hit),
            dict(report.stories_unhit)) == (0, 0, 0, {}, {})


def test_the_stored_hits_are_those_of_the_old_watchlists(store: Store) -> None:
    assert hits(store) == BEFORE
    assert store.db.execute("SELECT summary FROM items WHERE fetched_at < ?",
                            [iso(NOW)]).fetchall() == [("",)] * 4


def test_rematch_adds_and_removes_hits_without_alerts(store: Store, after: Matcher) -> None:
    queued = alerts(store)
    report = rematch(store, after)
    assert hits(store) == AFTER
    assert (report.items, report.added, report.removed, report.updated) == (7, 2, 3, 0)
    # Pruned summaries cannot be read again: their hits stay while their terms do.
    assert report.kept == 2
    assert report.stories_hit == {"wagner": 2}
    assert report.stories_unhit == {"wagner": 1}  # "leave" goes on through "replaces"
    assert listed(store) == {("fama", "fama"), ("corps", "wagner"), ("gao", "wagner"),
                             ("convoy", "wagner"), ("leave", "wagner")}
    assert alerts(store) == queued
    assert not store.db.conn.in_transaction


def test_new_hits_are_dated_when_their_item_was_stored(store: Store, after: Matcher) -> None:
    rematch(store, after)
    rows = store.db.execute(
        """SELECT items.title, hits.created_at, hits.matched_text, hits.start_offset,
             hits.end_offset FROM hits JOIN items ON items.id = hits.item_id
           WHERE hits.term = 'Corps expéditionnaire russe'""").fetchall()
    title = ARTICLES["corps"][1]
    assert [tuple(r) for r in rows] == [(title, iso(OLD), "Corps expéditionnaire russe", 3,
                                         30)]
    first_seen = store.db.execute(
        """SELECT story_watchlists.first_seen_at FROM story_watchlists
           JOIN stories ON stories.id = story_watchlists.story_id WHERE stories.title = ?""",
        [title]).fetchone()[0]
    assert first_seen == iso(OLD)  # listed by /hits in its place, not as today's news


def test_a_second_run_changes_nothing(store: Store, after: Matcher) -> None:
    rematch(store, after)
    state = hits(store), listed(store)
    report = rematch(store, after)
    assert nothing_changed(report)
    assert (report.items, report.kept) == (7, 2)
    assert (hits(store), listed(store)) == state
    assert format_report(report).endswith("no change\n")


def test_unchanged_watchlists_change_nothing(store: Store, before: Matcher) -> None:
    assert nothing_changed(rematch(store, before))
    assert hits(store) == BEFORE


def test_since_rematches_only_the_items_stored_since(store: Store, after: Matcher) -> None:
    since = NOW - timedelta(days=1)
    assert count_items(store, since=since) == 3
    report = rematch(store, after, since=since)
    assert (report.items, report.added, report.removed) == (3, 1, 2)
    assert hits(store) == (BEFORE - {("opera", "wagner", "Wagner", "title"),
                                     ("replaces", "wagner", "Wagner Group", "title")}
                           ) | {("gao", "wagner", "Russian Expeditionary Corps", "summary")}
    assert report.stories_hit == {"wagner": 1}
    assert report.stories_unhit == {"wagner": 1}


def test_only_the_watchlists_named_are_rematched(store: Store, after: Matcher) -> None:
    report = rematch(store, after, watchlists={"fama"})
    assert nothing_changed(report)
    assert report.kept == 1  # the pruned summary's "armée malienne"
    assert hits(store) == BEFORE
    rematch(store, after, watchlists={"wagner"})
    assert hits(store) == AFTER


def test_an_unknown_watchlist_is_an_error(store: Store, after: Matcher) -> None:
    with pytest.raises(BotError, match="not an enabled watchlist: nope"):
        rematch(store, after, watchlists={"nope", "fama"})


def test_hits_of_watchlists_no_longer_configured_stay(store: Store, tmp_path: Path) -> None:
    directory = watchlists_dir(tmp_path, "without-wagner", WAGNER_AFTER)
    (directory / "wagner.toml").unlink()
    report = rematch(store, Matcher(load_watchlists(directory)))
    assert nothing_changed(report)
    assert hits(store) == BEFORE


def test_a_hit_with_old_evidence_is_updated_in_place(store: Store, before: Matcher) -> None:
    store.db.execute("UPDATE hits SET start_offset = NULL, end_offset = NULL "
                     "WHERE term = 'FAMa'")
    store.db.conn.commit()
    created = store.db.execute("SELECT id, created_at FROM hits WHERE term = 'FAMa'").fetchone()
    report = rematch(store, before)
    assert (report.added, report.removed, report.updated) == (0, 0, 1)
    row = store.db.execute("SELECT id, created_at, start_offset, end_offset FROM hits "
                           "WHERE term = 'FAMa'").fetchone()
    assert tuple(row) == (*created, 4, 8)


def test_a_crash_loses_at_most_one_batch(store: Store, after: Matcher) -> None:
    class Crashing(Matcher):
        def match(self, title: str, summary: str = "") -> list[Hit]:
            if title == ARTICLES["gao"][1]:
                raise RuntimeError("power cut")
            return super().match(title, summary)

    crashing = Crashing(after.watchlists)
    with pytest.raises(RuntimeError):
        rematch(store, crashing, batch_size=2)
    # Batches (fama, leave) and (corps, convoy) were committed; (gao, opera) was not.
    assert hits(store) == (BEFORE - {("leave", "wagner", "Wagner Group", "title")}) | {
        ("corps", "wagner", "Corps expéditionnaire russe", "title")}
    report = rematch(store, after, batch_size=2)
    assert (report.added, report.removed) == (1, 2)
    assert hits(store) == AFTER
    assert nothing_changed(rematch(store, after))


def test_progress_is_told_of_each_batch(store: Store, after: Matcher) -> None:
    class Recorder:
        def __init__(self) -> None:
            self.steps: list[int] = []

        def advance(self, n: int = 1) -> None:
            self.steps.append(n)

    recorder = Recorder()
    rematch(store, after, progress=recorder, batch_size=3)
    assert recorder.steps == [3, 3, 1]
    assert sum(recorder.steps) == count_items(store)


def test_report_lines() -> None:
    report = RematchReport(items=7, added=2, removed=3, updated=0, kept=1,
                           stories_hit={"wagner": 2}, stories_unhit={"fama": 1})
    assert format_report(report) == (
        "rematched 7 items: 2 hits added, 3 removed, 0 updated\n"
        "kept 1 hits of items whose summary is gone\n"
        "fama: 0 stories newly hit, 1 no longer hit\n"
        "wagner: 2 stories newly hit, 0 no longer hit\n")


def test_an_empty_database(tmp_path: Path, after: Matcher) -> None:
    store = Store.open(tmp_path / "empty.db")
    assert count_items(store) == 0
    assert rematch(store, after) == RematchReport(0, 0, 0, 0, 0, {}, {})
