"""A story's alerts: one message per chat and topic, hits and partnerships together."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.matching.matcher import Hit
from bot.matching.watchlists import load_watchlists
from bot.partners.catalog import Partnerships, load_partnerships
from bot.partners.detect import Signal
from bot.storage.records import ALERT_HITS, ALERT_SIGNALS, SignalStoryView, StoryView
from bot.telegram.compose import AlertComposer
from tests.support.common import WATCHLISTS

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CHANNEL = "@sahel_test"
TITLE = "Bamako : des instructeurs de Canik Academy forment les FAMa"
HITS = (Hit("canik-academy", "Canik Academy", "Canik Academy", "title", 100, 20, 33),)
TRAINING = Signal("turkey", "mali", "training",
                  "Selon l'état-major, la formation durera douze semaines.", "summary")


@pytest.fixture(scope="module")
def partnerships() -> Partnerships:
    return load_partnerships(WATCHLISTS / "partnerships" / "partnerships.toml",
                             load_watchlists(WATCHLISTS))


def composer(partnerships: Partnerships | None) -> AlertComposer:
    return AlertComposer(CHANNEL, "fr", ZoneInfo("UTC"), names={"canik-academy": "Canik"},
                         priorities={"canik-academy": "high"}, partnerships=partnerships)


def views(hits: tuple[Hit, ...] = HITS) -> tuple[StoryView, SignalStoryView]:
    story = StoryView(7, TITLE, "https://news.example/a", "Actu Sahel", NOW, ("Actu Sahel",),
                      hits, "", ())
    signals = SignalStoryView(7, TITLE, "https://news.example/a", "Actu Sahel", NOW,
                              ("Actu Sahel",), (TRAINING,))
    return story, signals


def test_hits_and_partnerships_of_a_story_make_one_message(
        partnerships: Partnerships) -> None:
    story, signals = views()
    [(kind, alert)] = composer(partnerships).story_alerts(story, signals, NOW)
    assert kind == ALERT_HITS and alert.targets == ((CHANNEL, None),)
    lines = alert.html.splitlines()
    assert lines[0] == "🔔 <b>Canik</b>" and lines[1] == "🤝 <b>Turquie → Mali : formation</b>"
    assert "<blockquote>Selon l'état-major, la formation durera douze semaines.</blockquote>" \
        in alert.html


def test_partnerships_routed_to_another_topic_get_their_own_message_there(
        partnerships: Partnerships) -> None:
    routed = replace(partnerships, routing=replace(partnerships.routing, topic=12))
    story, signals = views()
    alerts = dict(composer(routed).story_alerts(story, signals, NOW))
    assert alerts[ALERT_HITS].targets == ((CHANNEL, None),)
    assert "🤝" not in alerts[ALERT_HITS].html
    assert alerts[ALERT_SIGNALS].targets == ((CHANNEL, 12),)
    assert alerts[ALERT_SIGNALS].html.startswith("🤝")


def test_a_partnership_without_a_watched_term_is_one_partnership_message(
        partnerships: Partnerships) -> None:
    story, signals = views(hits=())
    [(kind, alert)] = composer(partnerships).story_alerts(story, signals, NOW)
    assert kind == ALERT_SIGNALS and alert.html.startswith("🤝")


def test_without_a_partnership_file_only_hits_are_alerted() -> None:
    story, _ = views()
    [(kind, alert)] = composer(None).story_alerts(story, None, NOW)
    assert kind == ALERT_HITS and "🤝" not in alert.html and not alert.silent
