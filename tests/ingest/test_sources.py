"""Sources beyond RSS and Atom: public Telegram channels' web previews and JSON Feed."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.errors import ConfigError, ParseError
from bot.ingest.channel import is_channel_page
from bot.ingest.parse import parse_feed
from bot.settings.config import load_config
from bot.settings.urls import channel_address, is_search
from tests.support.botapi import BotApiStandIn
from tests.support.botprocess import TOKEN, run_bot, telegram_section
from tests.support.common import ROOT, write_config
from tests.support.feedserver import FeedServer, rss_feed
from tests.support.pages import CHANNEL_PAGE, SOURCES, recent_page

HTML = "text/html; charset=utf-8"
JSON_FEED = "application/feed+json"


# A channel's web preview ----------------------------------------------------------------


def test_a_channel_page_gives_its_posts_newest_first() -> None:
    feed = parse_feed(CHANNEL_PAGE, "https://t.me/s/sahelveille", HTML)
    assert feed.title == "Sahel Veille"
    assert [item.link for item in feed.items] == [
        "https://t.me/sahelveille/1206", "https://t.me/sahelveille/1204",
        "https://t.me/sahelveille/1203", "https://t.me/sahelveille/1201"]
    assert all(item.guid == item.link for item in feed.items)
    assert feed.older == "/s/sahelveille?before=1201"  # where a catch-up would read on


def test_a_post_is_titled_by_its_first_line_and_keeps_its_text() -> None:
    items = {(item.link or "").rsplit("/", 1)[-1]: item
             for item in parse_feed(CHANNEL_PAGE, "https://t.me/s/sahelveille", HTML).items}
    first = items["1201"]
    assert first.title == ("🇲🇱 Gao : un convoi des FAMa et de leurs partenaires russes a "
                           "quitté la ville ce matin vers Bourem.")
    assert first.summary.endswith("deux drones ont survolé l'axe.")
    assert first.published == datetime(2026, 12, 5, 6, 41, 10, tzinfo=UTC)
    # A long line is cut at its first sentence; a forwarded post names where it came from.
    assert items["1206"].title == "ЧВК Вагнер: колонна вышла из Кидаля в сторону Тессалита."
    assert items["1203"].summary.startswith("↪ Bamako Direct: Le colonel Assimi Goïta")
    # An edited post is read as it stands; a reply's quote is another post's text.
    assert items["1204"].title == ("UPDATE: the convoy reached Bourem at noon. Locals report "
                                   "a #BayraktarTB2 overhead.")
    assert "partenaires russes" not in items["1204"].summary


def test_service_messages_and_posts_of_media_alone_are_left_out() -> None:
    links = {item.link for item in parse_feed(CHANNEL_PAGE, "https://t.me/s/x", HTML).items}
    assert "https://t.me/sahelveille/1205" not in links  # "Channel photo updated"
    assert "https://t.me/sahelveille/1202" not in links  # a photo without a caption


def test_an_rss_feed_quoting_a_channel_widget_is_still_rss() -> None:
    quoted = rss_feed("Revue", [{"title": "Vu sur Telegram", "link": "https://news.example/1",
                                 "summary": '<div class="tgme_widget_message">Wagner</div>'}])
    body = quoted.encode() if isinstance(quoted, str) else quoted
    assert not is_channel_page(body)
    assert [item.title for item in parse_feed(body, "https://news.example/rss").items] == [
        "Vu sur Telegram"]


@pytest.mark.parametrize("page", [
    b"<!DOCTYPE html><html><body><div class='tgme_widget_message' data-post='bad'>",
    b"<!DOCTYPE html><html><body>" + b"<div class='tgme_widget_message_wrap'>" * 5000,
])
def test_a_broken_channel_page_is_refused_or_read_without_harm(page: bytes) -> None:
    try:
        feed = parse_feed(page, "https://t.me/s/sahelveille", HTML)
    except ParseError:
        return
    assert feed.items == ()


def test_a_page_cut_inside_a_post_keeps_what_the_post_said() -> None:
    page = (b'<html><div class="tgme_widget_message" data-post="sahelveille/9">'
            b'<div class="tgme_widget_message_text">Les FAMa \xc3\xa0 Gao<br>Suite')
    [item] = parse_feed(page, "https://t.me/s/sahelveille", HTML).items
    assert (item.link, item.title) == ("https://t.me/sahelveille/9", "Les FAMa à Gao")


def test_two_text_blocks_of_a_post_are_two_lines() -> None:
    page = (b'<html><div class="tgme_widget_message" data-post="sahelveille/9">'
            b'<div class="tgme_widget_message_text">Wagner</div>'
            b'<div class="tgme_widget_message_text">quitte Gao</div></div></html>')
    [item] = parse_feed(page, "https://t.me/s/sahelveille", HTML).items
    assert (item.title, item.summary) == ("Wagner", "Wagner quitte Gao")


@pytest.mark.parametrize("page", [
    b"<!DOCTYPE html><html><div class='tgme_widget_message'>" + b"<a " * 40_000,
    b"<!DOCTYPE html><html><div class='tgme_widget_message'>" + b"x" * (3 * 1024 * 1024),
])
def test_a_hostile_channel_page_is_refused_before_the_html_parser(page: bytes) -> None:
    started = time.monotonic()
    with pytest.raises(ParseError):
        parse_feed(page, "https://t.me/s/sahelveille", HTML)
    assert time.monotonic() - started < 1  # the parser's time would grow with the square


@pytest.mark.parametrize(("given", "expected"), [
    ("https://t.me/sahelveille", "https://t.me/s/sahelveille"),
    ("https://t.me/s/sahelveille", "https://t.me/s/sahelveille"),
    ("t.me/s/sahelveille/", "https://t.me/s/sahelveille"),
    ("http://telegram.me/Sahel_Veille", "https://t.me/s/sahel_veille"),  # one case
    ("https://t.me/sahelveille/1201", None),  # one post, not a channel
    ("https://t.me/joinchat/AbCdEf", None),
    ("https://t.me/s/sahelveille?before=1201", None),
    ("https://news.example/t.me/sahelveille", None),
    ("https://t.me/abc", None),  # too short to be a channel's name
    ("http://[::1/x", None),  # not an address: the usual checks say why
])
def test_a_channel_is_read_from_its_web_preview(given: str, expected: str | None) -> None:
    assert channel_address(given) == expected


def test_a_channel_in_the_config_is_read_from_its_preview_and_never_too_often(
        tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"name": "Veille", "url": "https://t.me/sahelveille",
                                      "lang": "fr", "interval": "10m"}])
    assert load_config(config, {}).feeds[0].url == "https://t.me/s/sahelveille"
    config = write_config(tmp_path, [{"name": "Veille", "url": "https://t.me/s/sahelveille",
                                      "lang": "fr", "interval": "1m"}])
    with pytest.raises(ConfigError) as refused:
        load_config(config, {})
    assert "at most every 5 minutes" in str(refused.value)
    assert f"{config}:" in str(refused.value)  # which file, which line
    # Without an interval of its own, a channel takes the default, never under 5 minutes.
    config = write_config(tmp_path, [{"name": "Veille", "url": "https://t.me/s/sahelveille",
                                      "lang": "fr"}], polling={"default_interval": '"2m"'})
    assert load_config(config, {}).feeds[0].interval == 300


# JSON Feed ------------------------------------------------------------------------------


def test_json_feed_1_1_items() -> None:
    feed = parse_feed((SOURCES / "jsonfeed-1.1.json").read_bytes(), "https://x/feed.json",
                      JSON_FEED)
    assert feed.title == "Sahel Défense Hebdo"
    first, second, micro, untitled_id = feed.items
    assert first.title == "Deux Bayraktar TB2 supplémentaires livrés à Niamey"
    assert first.summary.startswith("Les appareils, arrivés jeudi, rejoignent l'escadrille")
    assert first.published == datetime(2026, 12, 5, 8, 30, tzinfo=UTC)
    assert second.summary == "Un nouveau bataillon a été déployé au nord de la ville."
    # A micro-post without a title is titled by its first line.
    assert micro.title == ("Brève : Canik Academy annonce une nouvelle promotion "
                           "d'instructeurs à Bamako.")
    assert untitled_id.guid == "42" and untitled_id.published is not None


def test_json_feed_1_0_is_read_by_its_body_even_when_served_as_text() -> None:
    feed = parse_feed((SOURCES / "jsonfeed-1.0.json").read_bytes(), "https://x/f", "text/plain")
    assert [item.guid for item in feed.items] == ["wire-3391", "wire-3390"]
    assert feed.items[0].title == "Africa Corps convoy seen leaving Timbuktu"


@pytest.mark.parametrize(("body", "reason"), [
    (b"[" * 200_000 + b"]" * 200_000, "not JSON"),  # nesting beyond the decoder's limit
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": [' + b"1" * 50_000 + b"]}",
     "not JSON"),  # a number too long to read
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": "none"}', "items"),
    (b'{"version": 1, "items": []}', "version"),
    (b'["https://jsonfeed.org/version/1.1"]', "not an object"),
    (b"{not json", "not JSON"),
])
def test_hostile_json_is_refused_with_its_reason(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as refused:
        parse_feed(body, "https://x/feed.json", JSON_FEED)
    assert reason in str(refused.value)


def test_fields_of_the_wrong_type_are_ignored_not_trusted() -> None:
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": ["x"],
                       "items": [{"id": True, "url": 5, "title": {"a": 1},
                                  "content_text": "Les FAMa à Gao", "date_published": 7},
                                 "not an item", {"id": "empty"}]}).encode()
    feed = parse_feed(body, "https://x/feed.json", JSON_FEED)
    assert feed.title == ""
    [item] = feed.items
    assert (item.guid, item.link, item.title, item.published) == (None, None,
                                                                   "Les FAMa à Gao", None)


# The shipped searches --------------------------------------------------------------------

# A realistic answer of each search the shipped config polls, by host.
SEARCH_SAMPLES = {"news.google.com": "news-search.rss",
                  "api.gdeltproject.org": "search-artlist.rss"}


def test_searches_are_told_by_their_address() -> None:
    assert is_search("https://news.google.com/rss/search?q=%22Canik+Academy%22")
    assert is_search("https://api.gdeltproject.org/api/v2/doc/doc?query=x&format=rss")
    assert not is_search("https://news.google.com/rss/topics/CAAqJgg")  # a topic page
    assert not is_search("https://www.rfi.fr/fr/afrique/rss")


@pytest.mark.parametrize("host", sorted(SEARCH_SAMPLES))
def test_every_shipped_search_is_read(host: str) -> None:
    shipped = load_config(ROOT / "config.toml", {}).feeds
    searches = [feed for feed in shipped if urlsplit(feed.url).hostname == host]
    assert {feed.lang for feed in searches} == {"fr", "en"}
    assert len(searches) >= 10  # each watchlist, in each language
    assert min(feed.interval for feed in searches) >= 20 * 60
    body = (SOURCES / SEARCH_SAMPLES[host]).read_bytes()
    feed = parse_feed(body, searches[0].url, "application/rss+xml")
    assert len(feed.items) >= 2
    assert all(item.title and item.link and item.published for item in feed.items)


# End to end -----------------------------------------------------------------------------


def test_a_channel_and_a_json_feed_alert_through_telegram(
        tmp_path: Path, feed_server: FeedServer, api: BotApiStandIn) -> None:
    feed_server.route("/s/sahelveille", recent_page(), content_type=HTML)
    feed_server.route("/feed.json", (SOURCES / "jsonfeed-1.1.json").read_bytes(),
                      content_type=JSON_FEED)
    config = write_config(tmp_path, [
        {"name": "Sahel Veille", "url": feed_server.url("/s/sahelveille"), "lang": "fr"},
        {"name": "Hebdo", "url": feed_server.url("/feed.json"), "lang": "fr"},
    ], telegram=telegram_section(api))
    first = run_bot(config, "--once", token=TOKEN)
    assert first.returncode == 0, first.stderr
    texts = "\n".join(m.text for m in api.sent)
    # The channel's posts: Goïta, the FAMa convoy, the TB2, Wagner in Cyrillic.
    assert 'href="https://t.me/sahelveille/1203"' in texts
    assert 'href="https://t.me/sahelveille/1206"' in texts
    assert "Wagner / Africa Corps" in texts and "Assimi Goïta" in texts
    # The JSON Feed's items: the TB2 delivery, the FAMa, Canik Academy.
    assert 'href="https://hebdo.example/2026/12/05/tb2-niamey"' in texts
    assert "Canik Academy" in texts
    sent = len(api.sent)
    second = run_bot(config, "--once", token=TOKEN)  # an unchanged page is skipped by hash
    assert second.returncode == 0, second.stderr
    assert len(api.sent) == sent
    assert "unchanged=2" in second.stderr
