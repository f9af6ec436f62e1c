"""Matching holds on messy text: invisible characters, broken and fused words, look-alike
letters, apostrophes, people's names and other fields' letters."""

from __future__ import annotations

import pytest

from bot.matching.matcher import Matcher
from bot.matching.text import TOKEN_RE, split_words, word_forms
from bot.matching.watchlists import load_watchlists
from bot.partners.catalog import load_partnerships
from bot.partners.detect import SignalDetector
from tests.support.common import WATCHLISTS


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_watchlists(WATCHLISTS))


def found(matcher: Matcher, title: str, summary: str = "") -> set[str]:
    return {hit.watchlist for hit in matcher.match(title, summary)}


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        # Invisible characters inside a name are glue, not breaks.
        ("Les merce\u00adnaires de Wag\u00adner quittent Tombouctou", {"wagner"}),
        ("Assimi Go\u200bïta reçoit l'ambassadeur de Russie", {"goita"}),
        ("Les FA\u200cMa reprennent Tessit", {"fama"}),
        ("Canik Aca\u2060demy forme des gardes à Niamey", {"canik-academy"}),
        ("\ufeffBayraktar TB2 : deux appareils livrés à Niamey", {"tb2"}),
        # A word cut at a line break is joined when the joined word is a term's word.
        ("Rapport : Wag-\nner accusé d'exactions au Mali", {"wagner"}),
        ("L'armée ma-\nlienne reprend Léré", {"fama"}),
        ("Le colonel Goï- ta reçoit les chefs coutumiers", {"goita"}),
        # PDF extraction: a spacing diaeresis, a dotless i with a combining one.
        ("Revue de presse : Go¨ıta et la transition", {"goita"}),
        ("Colonel Assimi Goı\u0308ta visits Sévaré", {"goita"}),
        # Hashtags and fused words are split, and a fused name is matched whole.
        ("#BayraktarTB2 strike on a rebel column #Mali", {"tb2"}),
        ("#CanikAcademy graduates 40 close protection officers", {"canik-academy"}),
        ("#AssimiGoita à Moscou", {"goita"}),
        ("#africacorps patrouille au marché de Gao", {"wagner"}),
        ("MaliArmy and WagnerPMC retake Anéfis", {"fama", "wagner"}),
        # Look-alike letters from Cyrillic or Greek, and Turkish dotted capitals.
        ("Le groupe W\u0430gn\u0435r accusé au nord du Mali", {"wagner"}),
        ("F\u0391Ma convoy ambushed near Ségou", {"fama"}),
        ("B\u0430yr\u0430ktar \u03a4\u03922 seen at Sévaré airbase", {"tb2"}),
        ("CANİK AKADEMİ eğitmenleri Bamako'da", {"canik-academy"}),
        # Apostrophes of every kind.
        ("Wagner’s commanders seen in Timbuktu", {"wagner"}),
        ("Wagner`s commanders seen in Timbuktu", {"wagner"}),
        ("Canik Academyʼs instructors in Lomé", {"canik-academy"}),
        ("Un TB2 de lʼarmée malienne s'écrase", {"tb2", "fama"}),
        # Adjectives and flags count as their country: context for a bare name.
        ("Wagner pullout worries Burkinabe officers", {"wagner"}),
        ("🇲🇱 LES FAMA ONT FRAPPÉ CE MATIN À BOULKESSI", {"fama"}),
        # A name beside a word of another term is no first name; an organisation word
        # keeps a title-case headline the group's.
        ("Assimi Goïta, Wagner et l'armée malienne", {"goita", "wagner", "fama"}),
        ("Why Wagner Fighters Left Mali", {"wagner"}),
        # An acronym written with dots; look-alike capitals beside Latin words.
        ("Les F.A.Ma déploient un nouveau bataillon à Ansongo", {"fama"}),
        ("Bayraktar ТВ2 wreckage found in the desert", {"tb2"}),
        # Other scripts, as Russian outlets write.
        ("Ассими Гоита в Москве", {"goita"}),
        ("RIA praises «малийская армия» in Kidal", {"fama"}),
        ("Путин провёл переговоры с Гоитой", {"goita"}),
        ("Soudan : « مجموعة فاغنر » et l'or du Darfour", {"wagner"}),
        ("Témoignage d'un ancien de « Vagnera » envoyé à l'assaut à Bakhmout", {"wagner"}),
        # Russia's force in the German spelling, beside Russia or the Sahel.
        ("Ouagadougou's Russian guards now wear 'Afrika Korps' patches", {"wagner"}),
        ("FAMAs say a drone strike hit rebels near Anéfis", {"fama"}),
        # Letter-spaced words, a fused name with digits, the German name of the group.
        ("C A N I K   A C A D E M Y trainers seen in Mogadishu", {"canik-academy"}),
        ("#bayraktartb2 scale model sells out", {"tb2"}),
        ("Die Wagner-Gruppe und das Gold des Sudan", {"wagner"}),
        # A watched person's titles are his own, a title-case headline's capitals are no
        # first names.
        ("Le colonel Goïta reçoit le ministre turc", {"goita"}),
        ("Transitional President Goïta`s decree renames streets", {"goita"}),
        ("Envoy Meets Goita In Kati", {"goita"}),
    ],
)
def test_messy_mentions_match(matcher: Matcher, title: str, expected: set[str]) -> None:
    assert found(matcher, title) == expected


@pytest.mark.parametrize(
    "title",
    [
        # A first name beside a surname: a person, when nothing names an organisation.
        "UN official Markus Wagner briefs the press in Bamako",
        "Wagner Love signs for a Moscow club",
        "#WagnerLove scores twice in a Moscow derby",
        "Le festival « Вагнер » de Saint-Pétersbourg programme la Tétralogie",
        "#fama #mali la chanteuse Fama Koné en concert à Bamako",
        # A title or a rank before a surname; another first name before a watched person's.
        "Gao : le lieutenant-colonel Wagner quitte le contingent allemand",
        "Malian striker Moussa Goita joins a Belgian side",
        # Firms named Wagner; Rommel's corps in its own spelling.
        "Fire protection: Wagner Group opens a subsidiary in Lyon",
        "Afrika Korps veteran, 101, dies in Bavaria",
        # Letters of another field.
        "Tb2O3 nanoparticles make brighter screens",
        "La ligne de bus TB2 desservira l'aéroport de Bamako",
        "TB2 cohort converts faster in a tuberculosis trial",
        "Recall notice: bracket part TB-2 may crack",
        # The WWII corps.
        "Desert Fox documentary: how the Africa Corps nearly reached Alexandria",
        "«Африканский корпус» Роммеля: a documentary on 1941",
        # A hyphen at a break joins only into a term's word; so do an acronym's dots.
        "Les pro- et anti-Wagner s'affrontent à l'opéra",
        "U.S. drones seen over a F.A.M. exercise",
    ],
)
def test_near_misses_in_messy_text_do_not_match(matcher: Matcher, title: str) -> None:
    assert found(matcher, title) == set()


def test_evidence_keeps_the_text_as_it_appeared(matcher: Matcher) -> None:
    [hit] = matcher.match("Les Wag\u00adner au Mali")
    assert hit.text == "Wag\u00adner" and (hit.start, hit.end) == (4, 11)
    [hit] = matcher.match("Report: Wag- ner fighters in Mali")
    assert hit.text == "Wag- ner fighters"
    [hit] = matcher.match("#AfricaCorps à Gao")
    assert hit.text == "AfricaCorps" and hit.term == "Africa Corps"


def test_explain_says_why_a_term_counts_or_not(matcher: Matcher) -> None:
    verdicts = {(v.text, v.counts, v.reason)
                for v in matcher.explain("UN official Markus Wagner visits Gao")}
    assert ("Wagner", False, "a person's name: «Markus» beside it and no organisation") \
        in verdicts
    verdicts = {(v.text, v.counts, v.reason) for v in matcher.explain("Wagner quitte Gao")}
    assert ("Wagner", True, "context «gao»") in verdicts
    verdicts = {(v.text, v.counts, v.reason) for v in matcher.explain("Tb2O3 powder")}
    assert ("Tb2", False, "letters glued after it (a formula or a code)") in verdicts


@pytest.mark.parametrize("text", [
    "Plain ASCII text, TB-2 and TB 2.", "Les FAMa à Gao : l’armée malienne avance",
    "Wag\u00adner", "Go¨ıta", "Academyʼs", "Вагнер и ЧВК", "a\u0301b",
])
def test_the_fast_split_gives_the_tokens_of_the_full_pattern(text: str) -> None:
    assert split_words(text) == TOKEN_RE.findall(text)


def test_word_forms_fold_look_alikes_to_the_words_own_script() -> None:
    assert word_forms("W\u0430gner") == ("Wagner", "wagner")
    assert word_forms("\u0412\u0430\u0433\u043de\u0440")[1] == "вагнер"  # a Latin e
    assert word_forms("Αθηνα") == ("Αθηνα", "αθηνα")  # Greek stays Greek
    # Latin letters with no Cyrillic look-alike keep a mixed word as written.
    assert word_forms("Бахмутaz")[0] == "Бахмутaz"


def test_the_detector_reads_fused_words() -> None:
    detector = SignalDetector(load_partnerships(WATCHLISTS / "partnerships" / "partnerships.toml",
                                                load_watchlists(WATCHLISTS)))
    signals = detector.detect("Des instructeurs de #AfricaCorps forment les FAMa", "")
    assert {(s.supplier, s.recipient, s.kind) for s in signals} == {
        ("russia", "mali", "training")}
