"""French and English reports of one event: one story, one message; look-alikes apart."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.runtime.app import BotApp
from bot.settings.config import load_config
from bot.settings.credentials import Token
from bot.stories.anchors import (
    Anchors,
    alias_map,
    anchor_score,
    anchors_of,
    conflict,
    same_figure,
)
from tests.support.botapi import BotApiStandIn
from tests.support.botprocess import CHAT, TOKEN
from tests.support.common import WATCHLISTS, write_config
from tests.support.feedserver import FeedServer, rss_feed

WHEN = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=8)
FRENCH = [
    {"title": "Goundam : douze soldats des FAMa tués dans une embuscade",
     "link": "https://courrier.example/1", "published": WHEN,
     "summary": "Un convoi de l'armée malienne est tombé dans une embuscade lundi soir entre "
                "Goundam et Tombouctou, a indiqué l'état-major."},
    {"title": "N'Djamena réceptionne trois drones Bayraktar TB2 turcs",
     "link": "https://courrier.example/2", "published": WHEN + timedelta(hours=1),
     "summary": "Les trois appareils ont été présentés mercredi à l'armée tchadienne sur la "
                "base aérienne d'Adji Kossei."},
]
ENGLISH = [
    {"title": "Twelve Malian soldiers killed in ambush near Goundam",
     "link": "https://monitor.example/1", "published": WHEN + timedelta(hours=3),
     "summary": "Gunmen attacked an army convoy on Monday evening on the road from Goundam "
                "to Timbuktu, Mali's military said."},
    {"title": "Chad takes delivery of three Turkish Bayraktar TB2 drones",
     "link": "https://monitor.example/2", "published": WHEN + timedelta(hours=5),
     "summary": "The aircraft were handed over to Chad's army on Wednesday at Adji Kossei air "
                "base in N'Djamena."},
    # Another aircraft, another country, another day: another event.
    {"title": "Mali receives two Bayraktar Akinci drones from Turkey",
     "link": "https://monitor.example/3", "published": WHEN + timedelta(hours=6),
     "summary": "Two Akinci heavy drones landed in Bamako on Thursday, the Malian army said."},
]


def test_one_event_in_two_languages_is_one_message_naming_both_outlets(
        tmp_path: Path) -> None:
    with FeedServer() as feeds, BotApiStandIn(token=TOKEN) as api:
        feeds.route("/fr", rss_feed("Le Courrier de Gao", FRENCH, lang="fr"))
        feeds.route("/en", rss_feed("Sahel Monitor Wire", ENGLISH, lang="en"))
        path = write_config(
            tmp_path, [{"name": "Le Courrier de Gao", "url": feeds.url("/fr"), "lang": "fr"},
                       {"name": "Sahel Monitor Wire", "url": feeds.url("/en"), "lang": "en"}],
            telegram=f'chat = "{CHAT}"\napi_base_url = "{api.base_url}"',
            partnerships=WATCHLISTS / "partnerships" / "partnerships.toml")
        config = load_config(path, {})

        async def go() -> None:
            async with BotApp(config, Token(TOKEN), io.StringIO()) as app:
                await app.run_once()

        asyncio.run(go())
        channel = [m for m in api.sent if str(m.chat_id) == CHAT]
    ambush = [m for m in channel if "Goundam" in m.plain_text]
    delivery = [m for m in channel if "TB2" in m.plain_text]
    assert len(ambush) == 1 and len(delivery) == 1, [m.plain_text for m in channel]
    for message in ambush + delivery:
        assert ("Sahel Monitor Wire (en)" in message.plain_text
                or "Le Courrier de Gao (fr)" in message.plain_text), message.plain_text
    # No message carries two events: the Akinci delivery is not the TB2 one.
    assert not any("Akinci" in m.plain_text and "TB2" in m.plain_text for m in channel)
    assert not any("Goundam" in m.plain_text and "TB2" in m.plain_text for m in channel)


ALIASES = alias_map([("mali", ["Mali", "FAMa", "malienne", "Malian"]),
                     ("turkey", ["Turquie", "Turkey", "turc", "Turkish"])])


def score(a: Anchors, b: Anchors, late: bool = False) -> float | None:
    return anchor_score(a, b, lambda anchor: True, late)


def test_figures_agree_across_the_ways_each_language_writes_them() -> None:
    french = anchors_of("La Banque mondiale accorde 310 millions de dollars au Burkina",
                        "Un budget de 3 245 milliards et cent vingt écoles.", ALIASES, "fr")
    english = anchors_of("World Bank approves $310 million for Burkina Faso",
                         "A budget of 3,245 billion and 120 schools.", ALIASES, "en")
    assert {"n:310e6", "n:3245e9", "n:120e0"} <= french.all & english.all
    rounded = anchors_of("Niger approves a 3.2 trillion CFA franc budget", "", ALIASES, "en")
    assert "n:32e11" in rounded.all and same_figure("n:32e11", "n:3245e9")
    assert not same_figure("n:4051e0", "n:4058e0")  # precise figures agree exactly or not


def test_names_and_actors_join_and_a_different_model_keeps_apart() -> None:
    tb2_fr = anchors_of("Bamako réceptionne trois drones Bayraktar TB2 turcs",
                        "Les FAMa ont présenté samedi les appareils à Senou.", ALIASES, "fr")
    tb2_en = anchors_of("Mali takes delivery of three Turkish-made TB2 drones",
                        "The Malian army showed the aircraft at Senou on Saturday.", ALIASES,
                        "en")
    akinci = anchors_of("Mali takes delivery of two Akinci drones",
                        "The Malian army showed the aircraft at Senou on Saturday.", ALIASES,
                        "en")
    assert score(tb2_fr, tb2_en) is not None
    assert score(tb2_fr, akinci) is None


def test_a_weekly_brief_joins_no_story() -> None:
    brief = anchors_of("Sahel Security Brief", "Kidal, Senou, Goundam: Turkish drones reach "
                       "the FAMa; 12 soldiers killed on Monday.", ALIASES, "en")
    report = anchors_of("Goundam : douze soldats des FAMa tués lundi", "Embuscade près de "
                        "Goundam.", ALIASES, "fr")
    assert brief.roundup and score(brief, report) is None


MORE_ALIASES = alias_map([("mali", ["Mali", "FAMa", "Malian"]), ("niger", ["Niger", "Niamey"]),
                          ("chad", ["Tchad", "Chad"]), ("uae", ["Émirats", "EAU", "UAE"]),
                          ("turkey", ["Turquie", "Turkey", "Bayraktar"])])


def test_the_kind_of_event_is_read_in_either_language() -> None:
    french = anchors_of("Djibo : l'armée repousse une attaque d'envergure",
                        "Des assaillants ont attaqué le camp militaire de Djibo à l'aube.",
                        MORE_ALIASES, "fr")
    english = anchors_of("Burkina army says it repelled assault on Djibo",
                         "Militants attacked the Djibo military camp at dawn on Sunday.",
                         MORE_ALIASES, "en")
    assert {"c:attack", "c:base", "c:jihadists", "p:djibo"} <= french.all & english.all
    assert score(french, english) is not None
    # The same kind of event elsewhere is another event.
    elsewhere = anchors_of("Burkina army says it repelled assault on Arbinda",
                           "Militants attacked the Arbinda military camp at dawn.",
                           MORE_ALIASES, "en")
    assert score(english, elsewhere) is None


def test_rates_durations_and_years_are_compared_with_their_own_kind() -> None:
    amount = anchors_of("Conseil des ministres : le budget 2027 arrêté à 3 245 milliards",
                        "Le gouvernement nigérien prévoit une hausse de 6 %.", MORE_ALIASES,
                        "fr")
    rate = anchors_of("Niger : hausse de 6 % du budget de l'État pour 2027",
                      "Le texte prévoit 3 245 milliards de dépenses.", MORE_ALIASES, "fr")
    assert "r:6e0" in amount.all & rate.all and not conflict(amount, rate)
    months = anchors_of("La HAC suspend Horizon 24 pour trois mois", "", MORE_ALIASES, "fr")
    days = anchors_of("Mali regulator takes Horizon 24 TV off air for 90 days", "",
                      MORE_ALIASES, "en")
    assert {"t:9e1", "t:90e0"} <= months.title | days.title and not conflict(months, days)
    # A four-digit count is also a year's shape: two counts still tell two events apart.
    first = anchors_of("Kayes : 1944 personnes déplacées", "", MORE_ALIASES, "fr")
    second = anchors_of("Kayes : 1728 personnes déplacées", "", MORE_ALIASES, "fr")
    assert conflict(first, second)


def test_titles_naming_different_actors_or_places_keep_apart() -> None:
    niger = anchors_of("Niger receives new batch of Bayraktar TB2 drones", "", MORE_ALIASES,
                       "en")
    chad = anchors_of("Le Tchad réceptionne ses premiers drones Bayraktar TB2", "",
                      MORE_ALIASES, "fr")
    assert conflict(niger, chad)
    gao = anchors_of("Mali : embuscade contre un convoi des FAMa près de Gao", "",
                     MORE_ALIASES, "fr")
    kidal = anchors_of("Mali : embuscade contre un convoi des FAMa près de Kidal", "",
                       MORE_ALIASES, "fr")
    assert conflict(gao, kidal)
    # Across languages an institution's name is translated: not a place that differs.
    bank_fr = anchors_of("La Banque mondiale accorde 310 millions de dollars au Mali", "",
                         MORE_ALIASES, "fr")
    bank_en = anchors_of("World Bank approves $310 million for Mali", "", MORE_ALIASES, "en")
    assert not conflict(bank_fr, bank_en)


def test_a_name_written_in_capitals_names_something_only_in_capitals() -> None:
    water = anchors_of("Niamey : pénurie d'eau dans trois quartiers", "", MORE_ALIASES, "fr")
    emirates = anchors_of("Niamey : les EAU livrent des blindés", "", MORE_ALIASES, "fr")
    assert "e:uae" not in water.all and "e:uae" in emirates.all
