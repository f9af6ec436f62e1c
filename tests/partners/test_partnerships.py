"""The partnership file: the shipped one, options, and errors with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.matching.watchlists import Term, Watchlist, load_watchlists
from bot.partners.catalog import alias_term, load_partnerships
from tests.support.common import WATCHLISTS

SHIPPED = WATCHLISTS / "partnerships" / "partnerships.toml"
SUPPLIERS = ["turkey", "russia", "china", "france", "usa", "uae"]
RECIPIENTS = ["mali", "burkina", "niger", "chad", "aes"]
KINDS = ["training", "arms", "protection", "agreement", "end"]

BASE = """\
[[actor]]
id = "turkey"
role = "supplier"
names = { fr = "Turquie", en = "Turkey" }
aliases = ["Ankara"]

[[actor]]
id = "mali"
role = "recipient"
names = { fr = "Mali", en = "Mali" }
aliases = ["Bamako"]

[[kind]]
id = "arms"
names = { fr = "armes", en = "arms" }
cues = ["livre", "delivers"]
"""
NEXT = BASE.count("\n") + 1  # the first line of anything appended to BASE
GOITA = Watchlist(id="goita", name="Assimi Goïta", description="",
                  terms=(Term("Assimi Goïta", line=1), Term("Goïta", line=2)))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "partnerships.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_file_loads_with_the_shipped_watchlists() -> None:
    watchlists = load_watchlists(WATCHLISTS)
    partnerships = load_partnerships(SHIPPED, watchlists)
    assert [a.id for a in partnerships.suppliers] == SUPPLIERS
    assert [a.id for a in partnerships.recipients] == RECIPIENTS
    assert [k.id for k in partnerships.kinds] == KINDS
    for item in (*partnerships.actors, *partnerships.kinds):
        assert set(item.names) == {"fr", "en"} and all(item.names.values())
    assert partnerships.actor("turkey").names == {"fr": "Turquie", "en": "Turkey"}
    assert partnerships.kind("training").names == {"fr": "formation", "en": "training"}
    # Actors reuse the watchlists by id: their terms are in, not repeated in the file.
    reused = {"turkey": {"canik-academy", "tb2"}, "russia": {"wagner"},
              "mali": {"fama", "goita"}}
    by_id = {w.id: w for w in watchlists}
    for actor_id, ids in reused.items():
        actor = partnerships.actor(actor_id)
        assert set(actor.watchlists) == ids
        for watchlist_id in ids:
            assert set(by_id[watchlist_id].terms) <= set(actor.terms)
    assert partnerships.routing.chat is None and partnerships.routing.topic is None
    assert partnerships.routing.priority == "high"


def test_the_watchlist_loader_ignores_the_partnership_subfolder() -> None:
    assert "partnerships" not in {w.id for w in load_watchlists(WATCHLISTS)}


def test_options_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, '[routing]\nchat = "@sahel_partners"\ntopic = 7\npriority = "low"\n\n'
                 + BASE.replace('aliases = ["Bamako"]', 'aliases = ["Bamako", "AES"]\n'
                                'watchlists = ["goita"]\nexclude = ["fleuve Bamako"]')
                 + 'precedence = 2\nweak = ["troops"]\nexclude = ["wheat"]\n')
    partnerships = load_partnerships(path, [GOITA])
    assert (partnerships.routing.chat, partnerships.routing.topic,
            partnerships.routing.priority) == ("@sahel_partners", 7, "low")
    mali = partnerships.actor("mali")
    assert mali.aliases == ("Bamako", "AES") and mali.exclude == ("fleuve Bamako",)
    assert [t.text for t in mali.terms] == ["Mali", "Bamako", "AES", "Assimi Goïta", "Goïta"]
    assert [t.line for t in mali.terms[:3]] == [15, 16, 16]
    arms = partnerships.kind("arms")
    assert (arms.cues, arms.weak, arms.exclude, arms.precedence) == (
        ("livre", "delivers"), ("troops",), ("wheat",), 2)
    assert partnerships.path == path
    with pytest.raises(KeyError):
        partnerships.actor("atlantis")
    with pytest.raises(KeyError):
        partnerships.kind("friendship")


@pytest.mark.parametrize(
    ("alias", "case"),
    [("AES", True), ("US", True), ("U.S.", True), ("EAU", True), ("Ankara", False),
     ("FAMa", False), ("N'Djamena", False), ("A", False)],
)
def test_aliases_in_capitals_keep_their_case(alias: str, case: bool) -> None:
    assert alias_term(alias).case is case


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (BASE + "colour = 'red'\n", NEXT, "unknown key 'colour' in [[kind]]"),
        ("version = 2\n" + BASE, 1, "unknown key 'version' in the file"),
        (BASE.replace('aliases = ["Ankara"]', 'alias = ["Ankara"]'), 5,
         "unknown key 'alias' in [[actor]]"),
        ("[routing]\nchannel = '@x'\n" + BASE, 2, "unknown key 'channel' in [routing]"),
        ("[routing]\nchat = 'my channel'\n" + BASE, 2, "chat must be"),
        ("[routing]\ntopic = 0\n" + BASE, 2, "topic must be"),
        ("[routing]\npriority = 'urgent'\n" + BASE, 2, "priority must be one of"),
        (BASE.replace('role = "supplier"', 'role = "donor"'), 3,
         "role must be \"supplier\" or \"recipient\", got 'donor'"),
        (BASE.replace('role = "supplier"\n', ""), 1, "role must be"),
        (BASE.replace('id = "mali"', 'id = "turkey"'), 8,
         "duplicate actor id 'turkey' (first at line 1)"),
        (BASE + '\n[[kind]]\nid = "arms"\nnames = { fr = "a", en = "a" }\ncues = ["x"]\n',
         NEXT + 2, "duplicate kind id 'arms'"),
        (BASE.replace('id = "mali"', 'id = "Mali!"'), 8, "must be lower-case letters"),
        (BASE.replace('id = "mali"\n', ""), 7, "[[actor]] is missing id"),
        (BASE.replace('aliases = ["Ankara"]', 'aliases = [\n  "Ankara",\n  "",\n]'), 7,
         "'turkey': empty string in aliases"),
        (BASE.replace('aliases = ["Ankara"]', 'aliases = ["--"]'), 5, "has no letters"),
        (BASE.replace('aliases = ["Ankara"]', 'aliases = "Ankara"'), 5,
         "aliases must be a list"),
        (BASE.replace('aliases = ["Ankara"]', 'aliases = ["Ankara", "ankara"]'), 5,
         "'ankara' repeats 'Ankara' (line 5)"),
        (BASE.replace('aliases = ["Bamako"]', 'aliases = ["Bamako", "Ankara"]'), 11,
         "actor 'mali': 'Ankara' is also in actor 'turkey' (line 5)"),
        (BASE.replace('aliases = ["Bamako"]', 'aliases = ["Goita"]\nwatchlists = ["goita"]'),
         11, "'Goita' repeats 'Goïta' (watchlist 'goita')"),
        (BASE.replace('aliases = ["Bamako"]', 'watchlists = ["goïta-fans"]'), 11,
         "unknown watchlist 'goïta-fans' (known: goita)"),
        (BASE.replace('aliases = ["Ankara"]', 'watchlists = ["goita"]').replace(
            'aliases = ["Bamako"]', 'watchlists = ["goita"]'), 11,
         "watchlist 'goita' already names actor 'turkey'"),
        (BASE.replace('en = "Turkey" }', 'de = "Türkei" }'), 4, "unknown language 'de'"),
        (BASE.replace(', en = "Turkey"', ""), 4, "names needs a non-empty 'en' name"),
        (BASE.replace('names = { fr = "Turquie", en = "Turkey" }', 'names = "Turquie"'), 4,
         "names must be a table"),
        (BASE.replace('cues = ["livre", "delivers"]', "cues = []"), 16, "has no cues"),
        (BASE + "precedence = 12\n", NEXT, "precedence must be a whole number from 0 to 9"),
        (BASE + '\n[[kind]]\nid = "aid"\nnames = { fr = "aide", en = "aid" }\n'
         'cues = [\n  "Livré",\n]\n', NEXT + 5,
         "kind 'aid': 'Livré' is also in kind 'arms' (line 16)"),
        (BASE.replace("[[kind]]", "[kind]"), 13, "kind must be written as [[kind]] tables"),
        (BASE.replace('names = { fr = "Mali"', 'names = { fr = "Mali'), 10, "invalid TOML"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_partnerships(path, [GOITA])
    assert caught.value.path == str(path)
    assert message in caught.value.message, caught.value.message
    assert caught.value.line == line, caught.value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BASE.replace('role = "recipient"', 'role = "supplier"'), "no recipient"),
        (BASE.split("[[kind]]")[0], "no relation kind"),
    ],
)
def test_errors_about_the_whole_file(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_partnerships(write(tmp_path, text), [])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_partnerships(tmp_path / "none.toml", [])
