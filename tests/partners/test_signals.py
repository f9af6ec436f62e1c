"""Partnership signals: the rules, table-driven in French and English, and the labelled set."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.matching.matcher import Matcher
from bot.matching.watchlists import load_watchlists
from bot.partners.catalog import Partnerships, load_partnerships
from bot.partners.clauses import split_clauses, split_sentences
from bot.partners.detect import Signal, SignalDetector
from bot.partners.evaluate import (
    DEFAULT_PARTNERSHIP_SET,
    LabelledSignals,
    evaluate_signals,
    format_signal_report,
    load_labelled_signals,
)
from tests.support.common import ROOT, WATCHLISTS

LABELLED = ROOT / DEFAULT_PARTNERSHIP_SET
MIN_PRECISION = 0.9
MIN_RECALL = 0.85
Triple = tuple[str, str, str]


@pytest.fixture(scope="module")
def partnerships() -> Partnerships:
    return load_partnerships(WATCHLISTS / "partnerships" / "partnerships.toml",
                             load_watchlists(WATCHLISTS))


@pytest.fixture(scope="module")
def detector(partnerships: Partnerships) -> SignalDetector:
    return SignalDetector(partnerships)


def found(detector: SignalDetector, title: str, summary: str = "") -> set[Triple]:
    return {(s.supplier, s.recipient, s.kind) for s in detector.detect(title, summary)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # each kind, plainly
        ("Des instructeurs turcs forment les soldats maliens", ("turkey", "mali", "training")),
        ("US special forces train Chadian commandos", ("usa", "chad", "training")),
        ("La Russie livre des hélicoptères au Burkina Faso", ("russia", "burkina", "arms")),
        ("China delivers armoured vehicles to Niger", ("china", "niger", "arms")),
        ("Des paramilitaires russes assurent la sécurité du général Tiani",
         ("russia", "niger", "protection")),
        ("Russian guards protect Niger's leader", ("russia", "niger", "protection")),
        ("Bamako et Pékin signent un accord de coopération militaire",
         ("china", "mali", "agreement")),
        ("Turkish defence minister visits Ouagadougou", ("turkey", "burkina", "agreement")),
        ("Le Tchad met fin à la coopération de défense avec la France",
         ("france", "chad", "end")),
        ("Niger expels French troops", ("france", "niger", "end")),
        # actors named only through aliases and reused watchlists
        ("Canik Academy forme les FAMa à Kati", ("turkey", "mali", "training")),
        ("SADAT instructors arrive in Niamey", ("turkey", "niger", "training")),
        ("Le Mali réceptionne des Bayraktar TB2", ("turkey", "mali", "arms")),
        ("Goïta reçoit une délégation de Baykar", ("turkey", "mali", "agreement")),
        ("Africa Corps deploys reinforcements around Koulouba", ("russia", "mali", "protection")),
        ("L'AES signe un partenariat avec Moscou", ("russia", "aes", "agreement")),
        # typos, missing accents, elision, decomposed accents
        ("Des drones turcs livres a l'armee malienne", ("turkey", "mali", "arms")),
        ("Turkish drones deliverd to Malian army", ("turkey", "mali", "arms")),
        ("Les mercenaires de Wagnr protègent les mines d'or du Mali",
         ("russia", "mali", "protection")),
        ("Des instructeurs d'Ankara à Ouagadougu", ("turkey", "burkina", "training")),
        (unicodedata.normalize("NFD", "Goïta reçoit l'émissaire émirien"),
         ("uae", "mali", "agreement")),
        # the end of a partnership wins over what ends
        ("Les derniers soldats français ont quitté le Niger", ("france", "niger", "end")),
        ("Wagner leaves Mali after three years alongside the army", ("russia", "mali", "end")),
        ("Russian instructors withdraw from Burkina Faso", ("russia", "burkina", "end")),
        # a cue far from the supplier, still between the two
        ("La Turquie, qui multiplie depuis dix ans les ouvertures d'ambassades et les écoles "
         "sur le continent, est devenue pour le Mali un fournisseur de drones",
         ("turkey", "mali", "arms")),
        # the recipient's own troops or deployments do not make a deployment
        ("Burkina's army deploys Turkish drones against jihadists", ("turkey", "burkina", "arms")),
        ("Chadian soldiers trained by Emirati instructors", ("uae", "chad", "training")),
        # a reported fact in the conditional is still reported
        ("Les Émirats auraient livré des armes aux FAMa", ("uae", "mali", "arms")),
    ],
)
def test_signals_found(detector: SignalDetector, text: str, expected: Triple) -> None:
    assert found(detector, text) == {expected}


@pytest.mark.parametrize(
    "text",
    [
        # denials
        "Ankara dément toute livraison de drones à Bamako",
        "Moscou nie la présence d'instructeurs russes au Burkina Faso",
        "Ankara denies sending drones to Bamako",
        "Kremlin rejects reports of Russian troops in Burkina Faso",
        # negations
        "La Turquie n'a jamais formé de soldats burkinabè",
        "Bamako et Ankara n'ont signé aucun accord de défense",
        "Turkey has not delivered any drones to Mali",
        "Mali's Goïta has no plans to host French troops again",
        "Washington forme des garde-côtes au Bénin, pas au Niger",
        # hypotheses, rumours, questions, accusations
        "La Chine pourrait livrer des drones au Burkina Faso",
        "Si la Russie envoyait des troupes au Tchad, Paris réagirait",
        "China could supply drones to Burkina Faso",
        "If Russia sent troops to Chad, Paris would respond",
        "Rumours of Chinese arms deliveries to Chad",
        "L'armée malienne a-t-elle reçu des drones Akinci ?",
        "Mali accuses France of supplying weapons to terrorists",
        # two suppliers together, or competing
        "La Russie et la Turquie signent un accord sur les drones",
        "Chine et Russie renforcent leur alliance, le Mali observe",
        "Moscow and Ankara are competing for arms contracts in Mali",
        # a recipient acting on its own
        "Les FAMa forment leurs propres pilotes de drones",
        "Mali's army trains its own drone pilots without foreign instructors",
        # names that are not the actor
        "Mali, a former French colony, trains its own soldiers",
        "France 24 : le Niger forme des soldats",
        "Des instructeurs français forment des soldats nigérians",
        # cues about something else
        "Le Mali et la Turquie renforcent leurs liens commerciaux",
        "Moscow delivers wheat to Burkina Faso",
        "Chinese trains for the Dakar-Bamako railway",
        # actors in contrasted clauses, or a source of the news
        "La Turquie livre des drones à l'Ukraine, tandis que l'armée malienne forme ses recrues",
        "Turkey ships drones to Ukraine while Mali's army trains new recruits",
        "Les fusils de fabrication française ont été saisis, selon la gendarmerie nigérienne",
    ],
)
def test_no_signal(detector: SignalDetector, text: str) -> None:
    assert found(detector, text) == set()


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("La Turquie inaugure une usine de drones",
         "Le site fabriquera des Akinci pour l'export. Au Mali, l'armée a repris une localité."),
        ("Turkey opens new drone factory",
         "It will build Akinci drones for export. In Mali, the army retook a town."),
    ],
)
def test_two_countries_in_unrelated_sentences(detector: SignalDetector, title: str,
                                              summary: str) -> None:
    assert found(detector, title, summary) == set()


def test_signal_keeps_the_sentence_as_written_and_its_field(detector: SignalDetector) -> None:
    signals = detector.detect(
        "Sahel : nouvelles alliances",
        "Le marché reste calme. Des instructeurs turcs forment les FAMa à Kati ; la Russie "
        "livre des blindés au Burkina. Fin de la visite.")
    assert signals == [
        Signal("turkey", "mali", "training", "Des instructeurs turcs forment les FAMa à Kati ; "
               "la Russie livre des blindés au Burkina.", "summary"),
        Signal("russia", "burkina", "arms", "Des instructeurs turcs forment les FAMa à Kati ; "
               "la Russie livre des blindés au Burkina.", "summary"),
    ]


def test_one_signal_per_triple_title_first(detector: SignalDetector) -> None:
    signals = detector.detect("La Russie livre des drones au Mali",
                              "Moscou a livré des drones au Mali. Bamako salue le partenariat "
                              "avec Moscou.")
    assert [(s.kind, s.field, s.evidence) for s in signals] == [
        ("arms", "title", "La Russie livre des drones au Mali"),
        ("agreement", "summary", "Bamako salue le partenariat avec Moscou.")]


def test_enumerated_recipients_and_relative_clauses(detector: SignalDetector) -> None:
    assert found(detector, "La Russie livre des armes au Mali, au Burkina Faso et au Niger") == {
        ("russia", "mali", "arms"), ("russia", "burkina", "arms"), ("russia", "niger", "arms")}
    assert found(detector, "La Russie, qui a formé l'armée malienne, livre désormais des "
                           "drones au Burkina") == {
        ("russia", "mali", "training"), ("russia", "burkina", "arms")}
    assert found(detector, "Le Tchad rompt avec Paris et se rapproche de Moscou") == {
        ("france", "chad", "end")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("M. Erdogan a reçu le capitaine Traoré. Ils ont signé trois accords.",
         ["M. Erdogan a reçu le capitaine Traoré.", "Ils ont signé trois accords."]),
        ("Gen. Tiani met U.S. envoy Molly Phee. Talks went well!",
         ["Gen. Tiani met U.S. envoy Molly Phee.", "Talks went well!"]),
        ("« Pourquoi ? » a-t-il demandé. Personne n'a répondu…",
         ["« Pourquoi ? » a-t-il demandé.", "Personne n'a répondu…"]),
        ("Summit in St. Petersburg. A. Goïta attended.",
         ["Summit in St. Petersburg.", "A. Goïta attended."]),
        ("Drones livrés (3 en 2024). 2025 sera calme.",
         ["Drones livrés (3 en 2024).", "2025 sera calme."]),
        ("", []),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert [s.strip() for s in split_sentences(text)] == expected


def test_clauses_keep_offsets_and_split_at_semicolons_contrasts_and_parentheses() -> None:
    sentence = "Ankara livre des drones ; Moscou forme (selon Bamako) des soldats tandis que X"
    clauses = split_clauses(sentence)
    assert all(len(c) == len(sentence) for c in clauses)
    assert [" ".join(c.split()) for c in clauses] == [
        "Ankara livre des drones", "; Moscou forme des soldats", "tandis que X",
        "(selon Bamako)"]
    opening = split_clauses("While Turkey trains Mali's army, Russia sells drones to Niger")
    assert [" ".join(c.split()) for c in opening] == [
        "While Turkey trains Mali's army", ", Russia sells drones to Niger"]


def test_the_labelled_set_is_large_bilingual_and_mostly_hard(
        partnerships: Partnerships) -> None:
    items = load_labelled_signals(LABELLED)
    assert len(items) >= 160
    assert len({item.id for item in items}) == len(items)
    for lang in ("fr", "en"):
        assert sum(1 for i in items if i.lang == lang) >= 0.4 * len(items)
    assert sum(1 for i in items if i.hard) >= 0.5 * len(items)
    roles = {a.id: a.role for a in partnerships.actors}
    kinds = {k.id for k in partnerships.kinds}
    for item in items:
        assert item.note, item.id
        for supplier, recipient, kind in item.expected:
            assert roles[supplier] == "supplier" and roles[recipient] == "recipient", item.id
            assert kind in kinds, item.id
    for kind in kinds:
        assert sum(1 for i in items for t in i.expected if t[2] == kind) >= 10, kind


def test_detection_holds_the_bar_on_the_labelled_set(detector: SignalDetector) -> None:
    result = evaluate_signals(detector, load_labelled_signals(LABELLED))
    report = format_signal_report(result)
    assert result.overall.precision >= MIN_PRECISION, report
    assert result.overall.recall >= MIN_RECALL, report


BLIND = ROOT / "tests" / "data" / "partnerships-blind.jsonl"
# The blind set, written from the README's labelling rules only: its "tune" half was tuned
# on, its "holdout" half never looked at item by item. Floors: what each holds today.
BLIND_FLOORS = {"tune": (0.97, 0.97), "holdout": (0.91, 0.97)}
# A second blind batch, written later by another writer from the same rules, all tuned on.
BLIND_2 = ROOT / "tests" / "data" / "partnerships-blind-2.jsonl"
BLIND_2_FLOOR = (0.93, 0.92)
# A third blind batch by a third writer, split like the first.
BLIND_3 = ROOT / "tests" / "data" / "partnerships-blind-3.jsonl"
BLIND_3_FLOORS = {"tune": (0.94, 0.95), "holdout": (0.88, 0.89)}
# Three more batches by three more writers, split the same way: the fifth and sixth were
# tuned on (their tune halves), the seventh never (both its halves are scored only).
BLIND_5 = ROOT / "tests" / "data" / "partnerships-blind-5.jsonl"
BLIND_6 = ROOT / "tests" / "data" / "partnerships-blind-6.jsonl"
BLIND_7 = ROOT / "tests" / "data" / "partnerships-blind-7.jsonl"
SPLIT_SETS = {BLIND: BLIND_FLOORS, BLIND_3: BLIND_3_FLOORS,
              BLIND_5: {"tune": (0.81, 0.90), "holdout": (0.82, 0.88)},
              BLIND_6: {"tune": (0.84, 0.85), "holdout": (0.76, 0.75)},
              BLIND_7: {"tune": (0.71, 0.77), "holdout": (0.74, 0.80)}}
UNREAD = {BLIND_7}  # neither half is read item by item
# A fourth blind batch by a fourth writer, all held out, scored twice: after the last
# change of the round that wrote it, and after this round's.
BLIND_4 = ROOT / "tests" / "data" / "partnerships-blind-4.jsonl"
BLIND_4_FLOOR = (0.86, 0.87)


@pytest.mark.parametrize("path", SPLIT_SETS, ids=lambda p: p.name)
def test_the_blind_sets_are_split_in_two_like_halves(partnerships: Partnerships,
                                                     path: Path) -> None:
    items = load_labelled_signals(path)
    assert len(items) >= 300
    assert len({i.id for i in items}) == len(items)
    roles = {a.id: a.role for a in partnerships.actors}
    kinds = {k.id for k in partnerships.kinds}
    halves = {part: [i for i in items if i.part == part] for part in SPLIT_SETS[path]}
    assert sum(len(half) for half in halves.values()) == len(items)
    for lang in ("fr", "en"):
        for hard in (False, True):
            # each group of language and difficulty split evenly (one more in a half
            # when the group is odd)
            sizes = [sum(1 for i in half if i.lang == lang and i.hard == hard)
                     for half in halves.values()]
            assert max(sizes) - min(sizes) <= 1 and min(sizes) >= len(items) // 10
    assert all(roles[t[0]] == "supplier" and roles[t[1]] == "recipient" and t[2] in kinds
               for i in items for t in i.expected)


@pytest.mark.parametrize(("path", "part"),
                         [(path, part) for path in SPLIT_SETS for part in ("tune", "holdout")],
                         ids=lambda v: getattr(v, "name", v))
def test_detection_holds_its_floor_on_the_blind_sets(detector: SignalDetector, path: Path,
                                                     part: str) -> None:
    result = evaluate_signals(detector, [i for i in load_labelled_signals(path)
                                         if i.part == part])
    # The hold-out's items are not printed: it is not read item by item.
    report = format_signal_report(result, items_shown=part != "holdout" and path not in UNREAD)
    precision, recall = SPLIT_SETS[path][part]
    assert result.overall.precision >= precision, report
    assert result.overall.recall >= recall, report


def test_detection_holds_its_floor_on_the_second_blind_batch(
        detector: SignalDetector) -> None:
    items = load_labelled_signals(BLIND_2)
    assert len(items) >= 200 and all(item.part == "tune" for item in items)
    result = evaluate_signals(detector, items)
    report = format_signal_report(result)
    assert result.overall.precision >= BLIND_2_FLOOR[0], report
    assert result.overall.recall >= BLIND_2_FLOOR[1], report


def test_detection_holds_its_floor_on_the_fresh_hold_out(detector: SignalDetector,
                                                        partnerships: Partnerships) -> None:
    items = load_labelled_signals(BLIND_4)
    assert len(items) >= 200 and all(item.part == "holdout" for item in items)
    assert {t[2] for i in items for t in i.expected} <= {k.id for k in partnerships.kinds}
    result = evaluate_signals(detector, items)
    report = format_signal_report(result, items_shown=False)
    assert result.overall.precision >= BLIND_4_FLOOR[0], report
    assert result.overall.recall >= BLIND_4_FLOOR[1], report


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        # What an accord provides for is the accord's, not done yet.
        ("Signé à Moscou, l'accord prévoit la formation d'officiers tchadiens et la "
         "fourniture d'équipements", "", {("russia", "chad", "agreement")}),
        ("China signs contract to supply Mali with armoured vehicles", "",
         {("china", "mali", "agreement")}),
        # People of a country are not its state; a supplier ruled out is no party.
        ("Burkina Faso expels three French aid workers", "", set()),
        ("Koulouba guards are Belarusian, not Russian, says Mali's presidency", "", set()),
        ("French fighter jets cross Chadian airspace en route to Djibouti", "", set()),
        # An accord that expires, a partner that leaves.
        ("Niger : l'accord de défense avec la France expire, Niamey refuse de le renouveler",
         "", {("france", "niger", "end")}),
        # A summary continues its title: the title's party stands for "it", "the firm"...
        ("Baykar livre deux nouveaux drones Akinci",
         "Les appareils sont destinés à l'armée de l'air tchadienne.",
         {("turkey", "chad", "arms")}),
        ("Private security firm expands in the Sahel: SADAT",
         "The firm has deployed 80 armed guards to protect Niger's ministries.",
         {("turkey", "niger", "protection")}),
        ("Le Niger réceptionne un lot de véhicules blindés",
         "Les engins ont été offerts par la Chine, a précisé le ministère.",
         {("china", "niger", "arms")}),
        # ... and a title of two parties and no relation is completed by its summary
        ("Russian academies enrol officers from Mali and Chad",
         "Forty officers from each country began staff training in Moscow.",
         {("russia", "mali", "training"), ("russia", "chad", "training")}),
        # but not a summary that turns to other news, nor one about another party
        ("Russia delivers two helicopters", "Separately, Chad's army reported clashes.",
         set()),
        ("Les États-Unis et la France discutent du Sahel",
         "Les deux alliés ont évoqué la situation au Niger.", set()),
        # A newspaper, a border, a route or the past is not a party.
        ("Selon un quotidien turc, Moscou a livré des hélicoptères au Niger", "",
         {("russia", "niger", "arms")}),
        ("Des soldats tchadiens formés près de la frontière nigérienne par des instructeurs "
         "américains", "", {("usa", "chad", "training")}),
        ("La compagnie reprend la ligne Paris-Bamako et forme ses pilotes", "", set()),
        ("Malian recruits train in a former French base", "", set()),
        ("Des gendarmes français forment des douaniers béninois à la frontière du Bénin avec "
         "le Niger", "", set()),
        ("Russian instructors train Nigerien troops near the border with Mali", "",
         {("russia", "niger", "training")}),
        ("US drones overflew Niger on their way to Libya", "", set()),
        ("Two French jets flew over Niger on Monday", "", set()),
        ("Des armes émiraties transiteraient par le Tchad vers le Soudan", "", set()),
        # A weak cue tells its kind only when no strong one links the pair in the item:
        # the recipient's soldiers deployed after their course are not a deployment.
        ("Des instructeurs turcs forment 300 soldats maliens",
         "Les soldats seront ensuite déployés dans le nord du Mali.",
         {("turkey", "mali", "training")}),
        ("Russia deploys troops to Niger", "", {("russia", "niger", "protection")}),
        # A maker in the title stays a maker in the summary that continues it.
        ("Chinese-made drone crashes near a Nigerien base",
         "The aircraft, flown by Nigerien pilots trained at home, came down on Monday.",
         set()),
        ("Chinese-made drones delivered to Niger",
         "The aircraft will be flown by Nigerien pilots.", {("china", "niger", "arms")}),
        ("Turkey hands drones to Nigeria, Niger's eastern neighbour", "",
         set()),
        # A verb of sending tells the kind of what it sends, and nothing without it.
        ("Moscow sends an envoy to Bamako", "", set()),
        ("Russia sends air defence systems to Niger", "", {("russia", "niger", "arms")}),
        ("La Russie envoie des troupes au Burkina", "", {("russia", "burkina", "protection")}),
        ("Two drones were handed to the Malian army by Turkey", "",
         {("turkey", "mali", "arms")}),
        ("La Chine envoie des véhicules blindés et forme les chauffeurs tchadiens", "",
         {("china", "chad", "arms"), ("china", "chad", "training")}),
        # The kind is the relation's: receiving goods, talks about a purchase, a course for
        # pilots, deploying arms, an accord about training, a pause.
        ("Le Tchad reçoit des avions de combat des Émirats", "", {("uae", "chad", "arms")}),
        ("Bamako reçoit le ministre turc de la Défense", "",
         {("turkey", "mali", "agreement")}),
        ("Turkey and Chad hold talks on drone purchase", "",
         {("turkey", "chad", "agreement")}),
        ("US instructors run course for Chadian drone pilots", "",
         {("usa", "chad", "training")}),
        ("L'armée burkinabè déploie des drones turcs contre les jihadistes", "",
         {("turkey", "burkina", "arms")}),
        ("La Turquie et le Tchad signent un accord de formation militaire", "",
         {("turkey", "chad", "agreement")}),
        ("Mali puts Chinese training programme on hold", "", {("china", "mali", "end")}),
        ("Turkish minister ends visit to Bamako", "", {("turkey", "mali", "agreement")}),
        # Two predicates, two kinds.
        ("L'Africa Corps déploie 300 hommes au Burkina pour protéger les institutions et "
         "former les forces spéciales", "",
         {("russia", "burkina", "protection"), ("russia", "burkina", "training")}),
        # A weak cue is denied from a little further away.
        ("Chad did not receive any Emirati aircraft this year", "", set()),
        # Where a thing was made names its maker: a party only when the thing changes hands.
        ("Burkina army pools its Russian-made helicopters in a new air wing", "", set()),
        ("Chinese-built vehicles crash during a Malian army training drill", "", set()),
        ("Niger takes delivery of Turkish- and Chinese-made drones", "",
         {("turkey", "niger", "arms"), ("china", "niger", "arms")}),
        ("Le Niger réceptionne des drones de fabrication turque", "",
         {("turkey", "niger", "arms")}),
        # A title's topic before a colon labels it; the statement tells the kind.
        ("Instruction des pilotes : Niamey et Ankara signent un accord", "",
         {("turkey", "niger", "agreement")}),
        # Between two suppliers as near, a cue is about the one in its own part.
        ("Matériel chinois et russe, formation russe : l'armée nigérienne se réorganise", "",
         {("russia", "niger", "training")}),
        # A relation recalled as background, and who took part in it, are not the news.
        ("Depuis le départ des soldats français, le Niger achète des drones turcs", "",
         {("turkey", "niger", "arms")}),
        ("Following the withdrawal of French troops, Chad hosts Emirati instructors", "",
         {("uae", "chad", "training")}),
        # What an end holds closely is the end's.
        ("Paris suspend formations et livraisons destinées à l'armée tchadienne", "",
         {("france", "chad", "end")}),
        ("Washington hits pause on training for Niger's army", "", {("usa", "niger", "end")}),
        # A clause that opens on what came before: its actors and relations are background.
        ("Après le Niger et le Mali, la Russie forme l'armée tchadienne", "",
         {("russia", "chad", "training")}),
        ("Since France left, Chad's army patrols the north alone", "", set()),
        # Two countries joined by a dash are a relation's sides, unless the clause travels.
        ("Tchad-Turquie : un accord de défense signé à Ankara", "",
         {("turkey", "chad", "agreement")}),
        ("Air Sahel reopens the Paris-Bamako flight", "", set()),
        # What will be done under an accord is the accord's.
        ("Moscow will train Burkina's pilots under the agreement signed on Monday", "",
         {("russia", "burkina", "agreement")}),
        # Where a threat comes from is a place; arming an armed group tells nothing of the
        # country; an accusation is a claim of what it says.
        ("La France livrera des radars au Bénin contre les attaques venues du Niger", "", set()),
        ("Mali accuses Ankara of arming rebels in the north", "", set()),
        ("La Turquie accusée de livrer des drones au Niger", "", {("turkey", "niger", "arms")}),
        # A minister signing beside his counterpart is no deployment.
        ("Le ministre nigérien signe un protocole aux côtés de son homologue turc", "",
         {("turkey", "niger", "agreement")}),
    ])
def test_categories_the_blind_set_showed(detector: SignalDetector, title: str, summary: str,
                                         expected: set[Triple]) -> None:
    assert found(detector, title, summary) == expected


@pytest.mark.parametrize(
    ("title", "year", "expected"),
    [
        # A relation dated years before the item is its background, with who took part.
        ("In 2013, French troops intervened in Mali", 2026, set()),
        ("In 2013, French troops intervened in Mali", 2014, {("france", "mali", "protection")}),
        ("French troops, expelled from Mali in 2022, now leave Chad too", 2026,
         {("france", "chad", "end")}),
        ("Des pilotes maliens, formés en Turquie en 2021, pilotent désormais seuls", 2026,
         set()),
        # A span that lasts from a year is still the news; without a year, years are not read.
        ("Depuis 2022, des instructeurs russes forment les FAMa", 2026,
         {("russia", "mali", "training")}),
        ("In 2013, French troops intervened in Mali", None, {("france", "mali", "protection")}),
    ])
def test_a_relation_years_old_is_background(detector: SignalDetector, title: str,
                                            year: int | None, expected: set[Triple]) -> None:
    assert {(s.supplier, s.recipient, s.kind)
            for s in detector.detect(title, "", year=year)} == expected


def test_report_lists_every_miss_and_false_alarm(detector: SignalDetector) -> None:
    items = [
        LabelledSignals("a", "La Russie livre des drones au Mali", "",
                        frozenset({("russia", "mali", "arms")}), "fr"),
        LabelledSignals("b", "Turkey trains Malian troops", "",
                        frozenset({("turkey", "mali", "agreement")}), "en", hard=True,
                        note="wrong kind on purpose"),
        LabelledSignals("c", "Le Niger forme ses soldats", "",
                        frozenset({("china", "niger", "training")}), "fr"),
    ]
    result = evaluate_signals(detector, items)
    assert (result.overall.tp, result.overall.fp, result.overall.fn) == (1, 1, 2)
    assert (result.pairs.tp, result.pairs.fp, result.pairs.fn) == (2, 0, 1)
    assert result.per_kind["training"].fp == 1 and result.per_kind["agreement"].fn == 1
    report = format_signal_report(result)
    lines = report.splitlines()
    assert lines[0].split() == ["kind", "precision", "recall", "F1", "TP", "FP", "FN"]
    assert next(line for line in lines if line.startswith("overall")).split()[1:3] == [
        "0.500", "0.333"]
    assert ("- false alarm turkey → mali training [b] (wrong kind on purpose): "
            "«Turkey trains Malian troops»") in lines
    assert "- missed turkey → mali agreement [b] (wrong kind on purpose): " \
           "Turkey trains Malian troops | " in lines
    assert "- missed china → niger training [c]: Le Niger forme ses soldats | " in lines
    assert "3 items, 2 signals missed, 1 false alarms" in report
    assert any(line.startswith("hard") for line in lines)
    # Kinds per language, and the confusion of kinds on each pair: the wrong kind on a
    # right pair is agreement read as training, the missed pair is training against none.
    assert next(line for line in lines if line.startswith("training en")).split()[-3:] == [
        "0", "1", "0"]
    assert result.confusion == {("arms", "arms"): 1, ("agreement", "training"): 1,
                                ("training", "none"): 1}
    header = lines.index("kinds: expected (rows) × produced (columns)") + 1
    assert lines[header].split() == ["expected", "training", "arms", "protection",
                                     "agreement", "end", "none"]
    assert lines[header + 4].split() == ["agreement", "1", ".", ".", ".", ".", "."]
    assert lines[header + 1].split() == ["training", ".", ".", ".", ".", ".", "1"]


@pytest.mark.parametrize(
    ("lines", "bad_line", "message"),
    [
        (['{"id": "a", "title": "x", "signals": []}', "{not json"], 2, "bad labelled signal"),
        (['{"id": "a", "title": "x"}'], 1, "KeyError('signals')"),
        (['', '{"id": "a", "signals": [{"supplier": "turkey", "recipient": "mali"}]}'], 2,
         "each signal needs supplier, recipient and kind"),
        (['{"id": "a", "signals": [], "hard": "yes"}'], 1, "hard must be true or false"),
        (['{"id": "a", "signals": {"supplier": "turkey"}}'], 1, "signals must be a list"),
    ],
)
def test_bad_labelled_line_names_file_and_line(tmp_path: Path, lines: list[str], bad_line: int,
                                               message: str) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_labelled_signals(path)
    assert caught.value.line == bad_line and caught.value.path == str(path)
    assert message in caught.value.message


def test_labelled_items_are_read_with_their_fields(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    record = {"id": 7, "lang": "fr", "title": "T", "summary": None, "hard": True, "note": "n",
              "signals": [{"supplier": "turkey", "recipient": "mali", "kind": "arms"}]}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert load_labelled_signals(path) == [LabelledSignals(
        "7", "T", "", frozenset({("turkey", "mali", "arms")}), "fr", True, "n")]
    with pytest.raises(ConfigError, match="cannot read"):
        load_labelled_signals(tmp_path / "missing.jsonl")


def test_the_first_look_with_the_matchers_words_changes_no_signal(
        detector: SignalDetector) -> None:
    """The poller hands the detector the words the watchlists' matcher read: its first look
    for both sides then costs a lookup per word, and finds what reading again would."""
    matcher = Matcher(load_watchlists(WATCHLISTS))
    items = [*load_labelled_signals(LABELLED), *load_labelled_signals(BLIND)]
    for item in items:
        read = matcher.analyse(item.title, item.summary)
        words = (*read.title_words, *read.summary_words)
        assert (detector.detect(item.title, item.summary, words)
                == detector.detect(item.title, item.summary)), item.id
        # Every watchlist a match finds may begin at one of the words it read.
        assert {h.watchlist for h in read.hits} <= {
            w for word in words for w in matcher.may_begin(word)}, item.id
