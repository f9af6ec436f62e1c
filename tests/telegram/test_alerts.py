"""Alert messages: escaped Telegram HTML, the evidence, the limits."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.matching.matcher import Hit
from bot.matching.watchlists import load_watchlists
from bot.partners.catalog import load_partnerships
from bot.partners.detect import Signal
from bot.telegram.alerts import AlertContent, format_alert, format_signal_alert
from bot.telegram.html import MAX_MESSAGE_UTF16, escape, safe_href, visible_length
from tests.support.common import WATCHLISTS

NAMES = {"goita": "Assimi Goïta", "wagner": "Wagner / Africa Corps"}
WHEN = datetime(2026, 11, 24, 9, 5, tzinfo=UTC)


def content(**changes: object) -> AlertContent:
    values: dict[str, object] = {
        "title": "Le colonel Assimi Goita reçoit", "link": "https://ex.org/a?x=1&y=2",
        "summary": "À Bamako, le groupe Wagner <b> & co.", "source": "RFI <Afrique>",
        "published": WHEN,
    }
    values.update(changes)
    return AlertContent(**values)  # type: ignore[arg-type]


HITS = [
    Hit("goita", "Assimi Goïta", "Assimi Goita", "title", 100, 11, 23),
    Hit("wagner", "groupe Wagner", "groupe Wagner", "summary", 100, 13, 26),
]


def test_alert_shows_watchlists_link_source_time_and_evidence() -> None:
    message = format_alert(content(), HITS, NAMES, "fr")
    assert "<b>Assimi Goïta</b> · <b>Wagner / Africa Corps</b>" in message
    assert '<a href="https://ex.org/a?x=1&amp;y=2">Le colonel Assimi Goita reçoit</a>' in message
    assert "<i>RFI &lt;Afrique&gt;</i> · 24 nov. 2026, 09:05 UTC" in message
    assert "Termes : «Assimi Goita» (titre), «groupe Wagner» (résumé)" in message
    assert "<blockquote>À Bamako, le <b>groupe Wagner</b> &lt;b&gt; &amp; co.</blockquote>" in (
        message)


def test_english_labels() -> None:
    message = format_alert(content(), HITS, NAMES, "en")
    assert "Matched: «Assimi Goita» (title)" in message
    assert "24 Nov 2026, 09:05 UTC" in message


def test_hostile_link_is_not_linked() -> None:
    message = format_alert(content(link='javascript:alert("x")'), HITS[:1], NAMES, "en")
    assert "href" not in message
    assert "<b>Le colonel Assimi Goita reçoit</b>" in message


def test_quotes_in_links_cannot_break_the_attribute() -> None:
    message = format_alert(content(link='https://ex.org/"><script>'), HITS[:1], NAMES, "en")
    assert 'href="https://ex.org/&quot;&gt;&lt;script&gt;"' in message


def test_long_fields_stay_within_telegram_limit() -> None:
    huge = "é" * 50_000
    hits = [Hit("goita", "Goïta", "x" * 2_000, "summary", 100, 20_000, 22_000)] * 6
    message = format_alert(content(title="😀" * 5_000, summary=huge, source="S" * 3_000),
                           hits, NAMES, "fr")
    assert visible_length(message) <= MAX_MESSAGE_UTF16


def test_visible_length_counts_utf16_units_of_visible_text() -> None:
    assert visible_length("<b>a</b>&amp;😀") == 4


def test_safe_href() -> None:
    assert safe_href("https://ex.org/x") == "https://ex.org/x"
    assert safe_href("data:text/html,hi") is None
    assert safe_href("//ex.org/x") is None
    assert safe_href(None) is None


def test_the_same_words_matched_by_two_terms_are_one_piece_of_evidence() -> None:
    hits = [Hit("wagner", "wagnériens", "wagnériens", "title", 100, 0, 10),
            Hit("wagner", "wagnérien", "wagnériens", "title", 94, 0, 10),
            Hit("wagner", "wagnériens", "wagnériens", "summary", 100, 3, 13)]
    message = format_alert(content(title="wagnériens à Gao", summary="Les wagnériens"),
                           hits, NAMES, "fr")
    assert "Termes : «wagnériens» (titre), «wagnériens» (résumé)" in message
    assert "94%" not in message


def test_matched_text_with_guillemets_keeps_its_own_marks() -> None:
    hits = [Hit("wagner", "ЧВК Вагнер", "ЧВК «Вагнер»", "title", 100, 0, 12)]
    message = format_alert(content(title="ЧВК «Вагнер» в Мали"), hits, NAMES, "fr")
    assert "Termes : “ЧВК «Вагнер»” (titre)" in message


def test_a_partnership_said_in_the_title_is_not_quoted_again() -> None:
    partnerships = load_partnerships(WATCHLISTS / "partnerships" / "partnerships.toml",
                                     load_watchlists(WATCHLISTS))
    title = "Des instructeurs turcs forment les FAMa à Bamako"
    in_title = Signal("turkey", "mali", "training", title + ".", "title")
    message = format_signal_alert(content(title=title), [in_title], partnerships, "fr")
    assert message.count("instructeurs turcs") == 1 and "<blockquote>" not in message
    sentence = "Selon l'état-major, des instructeurs turcs forment les FAMa depuis lundi."
    in_summary = Signal("turkey", "mali", "training", sentence, "summary")
    message = format_signal_alert(content(title=title), [in_summary], partnerships, "fr")
    assert f"<blockquote>{escape(sentence)}</blockquote>" in message
