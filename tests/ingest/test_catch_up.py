"""After an outage, a channel's page of only new posts is followed back to the posts before
it, a few pages at most, never to another host."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.botprocess import run_bot
from tests.support.common import write_config
from tests.support.feedserver import FeedServer

CHANNEL = "sahelveille"
HTML = "text/html; charset=utf-8"


def page(first: int, last: int, older: str = "", *, hours_ago: float = 1.0) -> str:
    """A channel page of posts ``first`` to ``last``, oldest first, a minute apart, the
    last ``hours_ago``, linking to ``older``."""
    newest = datetime.now(UTC) - timedelta(hours=hours_ago)
    posts = "".join(
        f'<div class="tgme_widget_message_wrap"><div class="tgme_widget_message" '
        f'data-post="{CHANNEL}/{n}"><div class="tgme_widget_message_text">Point de situation '
        f'n°{n} à Gao</div><a class="tgme_widget_message_date" '
        f'href="https://t.me/{CHANNEL}/{n}"><time datetime="'
        f'{(newest - timedelta(minutes=last - n)).isoformat()}"></time></a></div></div>'
        for n in range(first, last + 1))
    prev = f'<link rel="prev" href="{older}">' if older else ""
    return (f'<!DOCTYPE html><html><head><meta property="og:title" content="Sahel Veille">'
            f"{prev}</head><body><section>{posts}</section></body></html>")


def stored_posts(config: Path) -> set[int]:
    with sqlite3.connect(config.parent / "state" / "bot.db") as db:
        links = [row[0] for row in db.execute("SELECT link FROM items")]
    return {int(link.rsplit("/", 1)[1]) for link in links}


def test_a_page_of_only_new_posts_is_followed_back(tmp_path: Path,
                                                   feed_server: FeedServer) -> None:
    feed_server.route("/s/chan", page(1, 3), content_type=HTML)
    config = write_config(tmp_path, [{"name": "Sahel Veille", "url": feed_server.url("/s/chan"),
                                      "lang": "fr"}])
    first = run_bot(config, "--once")
    assert first.returncode == 0, first.stderr
    assert stored_posts(config) == {1, 2, 3}
    # An outage: fifteen posts later, the page shows only the last three.
    feed_server.route("/s/chan", page(16, 18, "/s/chan/p1"), content_type=HTML)
    feed_server.route("/s/chan/p1", page(13, 15, "/s/chan/p2"), content_type=HTML)
    feed_server.route("/s/chan/p2", page(10, 12, "/s/chan/p3"), content_type=HTML)
    feed_server.route("/s/chan/p3", page(7, 9, "/s/chan/p4"), content_type=HTML)
    feed_server.route("/s/chan/p4", page(4, 6, "/s/chan/p5"), content_type=HTML)
    feed_server.route("/s/chan/p5", page(1, 3), content_type=HTML)
    second = run_bot(config, "--once")
    assert second.returncode == 0, second.stderr
    # Three pages back at most (politeness bounds the catch-up): posts 4 to 6 are lost.
    assert stored_posts(config) == {1, 2, 3, *range(7, 19)}
    assert feed_server.hits("/s/chan/p3") == 1 and feed_server.hits("/s/chan/p4") == 0
    assert "caught up feed=Sahel Veille older_items=9" in second.stderr


def test_catch_up_stops_at_a_seen_page_and_stays_on_its_host(tmp_path: Path,
                                                             feed_server: FeedServer) -> None:
    feed_server.route("/s/chan", page(1, 3), content_type=HTML)
    config = write_config(tmp_path, [{"name": "Sahel Veille", "url": feed_server.url("/s/chan"),
                                      "lang": "fr"}])
    assert run_bot(config, "--once").returncode == 0
    feed_server.route("/s/chan", page(6, 8, "/s/chan/p1"), content_type=HTML)
    feed_server.route("/s/chan/p1", page(2, 5, "/s/chan/p2"), content_type=HTML)
    feed_server.route("/s/chan/p2", page(1, 1), content_type=HTML)
    assert run_bot(config, "--once").returncode == 0
    assert stored_posts(config) == set(range(1, 9))
    assert feed_server.hits("/s/chan/p2") == 0  # page p1 held posts already seen
    # A link to older posts on another host is not followed.
    elsewhere = "http://localhost:9/s/chan/p9"
    feed_server.route("/s/chan", page(20, 22, elsewhere), content_type=HTML)
    third = run_bot(config, "--once")
    assert third.returncode == 0, third.stderr
    assert stored_posts(config) == {*range(1, 9), 20, 21, 22}
    assert "catch-up stopped" not in third.stderr  # never even tried
    # A page of old posts only (a channel silent for months) is no outage: no catch-up.
    feed_server.route("/s/chan", page(30, 32, "/s/chan/p1", hours_ago=24 * 100),
                      content_type=HTML)
    fourth = run_bot(config, "--once")
    assert fourth.returncode == 0, fourth.stderr
    assert feed_server.hits("/s/chan/p1") == 1  # only the catch-up of the second run


def test_posts_older_than_the_history_are_not_news_again(tmp_path: Path,
                                                         feed_server: FeedServer) -> None:
    # A channel silent for months still shows its last posts; once the store has pruned
    # them, they must not come back as news.
    feed_server.route("/s/chan", page(1, 3, hours_ago=24 * 120), content_type=HTML)
    config = write_config(tmp_path, [{"name": "Sahel Veille", "url": feed_server.url("/s/chan"),
                                      "lang": "fr"}])
    # (history: the default 90 days)
    result = run_bot(config, "--once")
    assert result.returncode == 0, result.stderr
    assert stored_posts(config) == set()
    feed_server.route("/s/chan", page(4, 4, hours_ago=2), content_type=HTML)
    assert run_bot(config, "--once").returncode == 0
    assert stored_posts(config) == {4}
