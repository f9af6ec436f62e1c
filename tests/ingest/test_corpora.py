"""Every feed file in the shared corpora goes through fetch, parse, match, store and format."""

from __future__ import annotations

import asyncio
import io
import shutil
import traceback
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import ParseError
from bot.ingest.parse import parse_feed
from bot.matching.matcher import Matcher
from bot.matching.watchlists import Term, Watchlist, load_watchlists
from bot.pipeline.poll import CycleReport
from bot.runtime.app import BotApp
from bot.settings.config import load_config
from bot.telegram.alerts import MAX_MESSAGE_UTF16, AlertContent, format_alert, visible_length
from tests.support.botapi import telegram_plain_text
from tests.support.common import NOW, SHARED, WATCHLISTS, write_config
from tests.support.feedserver import FeedServer

CORPORA = SHARED / "corpora"
FOLDERS = ["feedparser/wellformed", "feedparser/illformed", "feedparser/encoding",
           "feedparser/entities", "feedparser/http", "feedparser/compression",
           "feedparser-main-additions"]
# A broad watchlist so that many corpus items produce hits and so alerts get formatted.
CATCH_ALL = Watchlist("catch-all", "Catch-all", "", (Term("the"), Term("example"),
                                                      Term("title"), Term("entry")))


def corpus_files(folder: str) -> list[Path]:
    root = CORPORA / folder
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher([*load_watchlists(WATCHLISTS), CATCH_ALL])


@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"shared corpora not found at {CORPORA}")
@pytest.mark.parametrize("folder", FOLDERS)
def test_corpus_goes_through_parse_match_and_format(folder: str, matcher: Matcher) -> None:
    files = corpus_files(folder)
    assert files, f"no files under {CORPORA / folder}"
    crashes: list[str] = []
    parsed = 0
    for path in files:
        try:
            try:
                feed = parse_feed(path.read_bytes(), f"http://127.0.0.1/{path.name}")
            except ParseError:
                continue
            parsed += 1
            for item in feed.items:
                hits = matcher.match(item.title, item.summary)
                if not hits:
                    continue
                content = AlertContent(item.title, item.link, item.summary, "Corpus",
                                       datetime(2026, 1, 1, tzinfo=UTC))
                message = format_alert(content, hits, {}, "en")
                assert visible_length(message) <= MAX_MESSAGE_UTF16
        except Exception:
            crashes.append(f"{path}: {traceback.format_exc(limit=3)}")
    assert not crashes, "\n".join(crashes[:5])
    assert parsed > 0


@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"shared corpora not found at {CORPORA}")
def test_every_corpus_file_goes_through_fetch_store_and_format(tmp_path: Path) -> None:
    """Served locally and polled by the real pipeline; every alert is valid Telegram HTML."""
    files = [p for p in sorted(CORPORA.rglob("*")) if p.is_file() and p.name != "README.md"]
    watchlists = tmp_path / "watchlists"
    shutil.copytree(WATCHLISTS, watchlists)
    (watchlists / "catch-all.toml").write_text(
        'terms = ["the", "example", "title", "entry", "feed"]\n', encoding="utf-8")
    with FeedServer() as server:
        for number, path in enumerate(files):
            server.route(f"/c{number}", path.read_bytes(), content_type="application/xml")
        config = load_config(write_config(
            tmp_path, [{"name": f"Corpus {n}", "url": server.url(f"/c{n}"), "lang": "en"}
                       for n in range(len(files))], watchlists=watchlists,
            polling={"max_concurrency": "40", "per_host": "40", "parse_workers": "2"}))

        async def go() -> CycleReport:
            async with BotApp(config, None, io.StringIO(), clock=lambda: NOW) as app:
                report = await app.poll_all()
                html = [row[0] for row in app.store.db.execute("SELECT html FROM alerts")]
                for message in html:
                    text = telegram_plain_text(message)
                    assert len(text.encode("utf-16-le")) // 2 <= MAX_MESSAGE_UTF16
                assert len(html) >= 50  # corpus items share links: many are one article
                return report

        report = asyncio.run(go())
    assert report.count("new") > 0.9 * len(files)
    # The only failures are bodies that are not feeds, each a clear ParseError.
    failed = [o.error or "" for o in report.outcomes if o.status == "failed"]
    assert all(error.startswith(("not an RSS or Atom feed", "parser failed")) for error in failed)
