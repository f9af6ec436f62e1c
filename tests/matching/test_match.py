"""Matching rules, table-driven, on the shipped watchlists and on small ones."""

from __future__ import annotations

import unicodedata

import pytest

from bot.matching.matcher import Matcher
from bot.matching.watchlists import Term, Watchlist, load_watchlists
from tests.support.common import WATCHLISTS


@pytest.fixture(scope="module")
def shipped() -> Matcher:
    return Matcher(load_watchlists(WATCHLISTS))


def ids(matcher: Matcher, title: str, summary: str = "") -> set[str]:
    return {hit.watchlist for hit in matcher.match(title, summary)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bamako : le colonel Assimi Goita reçoit des instructeurs turcs", {"goita"}),
        ("Le général Goïta a limogé son ministre", {"goita"}),
        (unicodedata.normalize("NFD", "Assimi Goïta"), {"goita"}),
        ("Des instructeurs de Canik Academy forment des soldats", {"canik-academy"}),
        ("Canik Akademi eğitmenleri Bamako'da", {"canik-academy"}),
        ("Les mercenaires du groupe Wagner quittent le Mali", {"wagner"}),
        ("Wagner Group fighters leave Mali, Africa Corps arrives", {"wagner"}),
        ("ЧВК Вагнер в Мали", {"wagner"}),
        ("Wagner's men in Mali", {"wagner"}),
        ("Des drones TB-2 livrés à l'armée malienne", {"tb2", "fama"}),
        ("Bayraktar TB 2 drones in the Sahel", {"tb2"}),
        ("Une patrouille des FAMa attaquée près de Gao", {"fama"}),
        ("Les Forces armées maliennes reprennent Kidal", {"fama"}),
        ("The Malian army said on Monday", {"fama"}),
        ("les fama ont frappé près de gao ce matin #Mali", {"fama"}),
        ("MALI : LES FAMA REPRENNENT ANÉFIS", {"fama"}),
        ("Wagner-linked firms still export timber", {"wagner"}),
    ],
)
def test_true_mentions(shipped: Matcher, text: str, expected: set[str]) -> None:
    assert ids(shipped, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Richard Wagner et ses opéras à Bayreuth",
        "Wagner en concert à Paris ce soir",
        "Le pistolet Canik TP9 arrive en Europe",
        "Le district de Canik à Samsun",
        "L'économiste Eugene Fama récompensé",
        "Le fusil FAMAS remplacé par le HK416",
        "Les Forces armées nigériennes patrouillent à Tillabéri",
        "Un disque dur de 2 TB à prix réduit",
        "Le goitre, une maladie de la thyroïde",
        "Une exposition Goya au Prado",
        "L'Afrika Korps de Rommel en Libye en 1941",
        "Selçuk Bayraktar présente le drone Kizilelma",
        "Les mercenaires du grouppe Wagnor",  # two slips in short words: no match
        "la fama de la cantante no para de crecer",  # lower case, no Malian context
        "Malaysia's FAMA opens vegetable stalls",
        "Le Bayraktar TB3 décolle d'un navire",
    ],
)
def test_hard_negatives(shipped: Matcher, text: str) -> None:
    assert ids(shipped, text) == set()


def test_one_slip_in_a_long_word_matches_with_a_lower_score() -> None:
    matcher = Matcher([Watchlist("canik", "Canik", "", (Term("Canik Academy"),))])
    [hit] = matcher.match("Canik Acadmey instructors in Bamako")
    assert hit.text == "Canik Acadmey"
    assert 85 <= hit.score < 100


def test_short_words_never_match_fuzzily() -> None:
    matcher = Matcher([Watchlist("goita", "Goïta", "", (Term("Goïta"),))])
    assert matcher.match("Goitre et Goyta") == []


def test_case_sensitive_term_needs_its_case() -> None:
    matcher = Matcher([Watchlist("fama", "FAMa", "", (Term("FAMa", case=True),))])
    assert [h.text for h in matcher.match("Les FAMa et la fama")] == ["FAMa"]


def test_context_required_and_exclusions_veto() -> None:
    term = Term("Wagner", context=("Mali",), exclude=("Richard Wagner",))
    matcher = Matcher([Watchlist("wagner", "Wagner", "", (term,))])
    assert matcher.match("Wagner arrive", "au Mali") != []
    assert matcher.match("Wagner arrive", "en Bavière") == []
    assert matcher.match("Richard Wagner au Mali") == []


def test_hit_carries_evidence_field_and_position() -> None:
    matcher = Matcher([Watchlist("goita", "Goïta", "", (Term("Goïta"),))])
    [hit] = matcher.match("Titre", "Le président Goïta a parlé")
    assert (hit.watchlist, hit.term, hit.text, hit.field, hit.score) == (
        "goita", "Goïta", "Goïta", "summary", 100)
    assert "Le président Goïta a parlé"[hit.start:hit.end] == "Goïta"


def test_nested_hit_of_same_watchlist_is_dropped() -> None:
    matcher = Matcher([Watchlist("tb2", "TB2", "", (Term("Bayraktar TB2"), Term("TB2")))])
    assert [h.term for h in matcher.match("Le Bayraktar TB2 vole")] == ["Bayraktar TB2"]


def test_disabled_watchlist_does_not_match() -> None:
    watchlist = Watchlist("goita", "Goïta", "", (Term("Goïta"),), enabled=False)
    assert Matcher([watchlist]).match("Goïta") == []


def test_addresses_inside_markup_are_not_matched(shipped: Matcher) -> None:
    from bot.matching.text import html_to_text

    summary = html_to_text('<a href="https://ex.org/wagner-group-mali">Lire</a> la suite')
    assert ids(shipped, "Titre", summary) == set()
