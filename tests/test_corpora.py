"""Every feed file in the shared corpora goes through parse, match and alert formatting."""

from __future__ import annotations

import traceback
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.alerts import MAX_MESSAGE_UTF16, AlertContent, format_alert, visible_length
from bot.errors import ParseError
from bot.match import Matcher
from bot.parse import parse_feed
from bot.watchlists import Term, Watchlist, load_watchlists
from tests.conftest import SHARED, WATCHLISTS

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
