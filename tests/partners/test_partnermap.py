"""Partnership map: counts, dominant kinds, changes, new pairs, captions and CSV."""

from __future__ import annotations

import csv
import io
import re
import string
from datetime import UTC, datetime, timedelta

import pytest

from bot.partners.catalog import Partnerships, SignalRouting
from bot.partners.matrix import (
    CSV_COLUMNS,
    Cell,
    build_map,
    period_text,
    previous_period,
    write_csv,
)
from bot.telegram.html import CAPTION_LIMIT
from bot.telegram.i18n import LANGUAGES, MESSAGES
from bot.telegram.partners import caption
from tests.support.common import NOW, ROOT
from tests.support.partners import PARTNERSHIPS, SINCE, actor, record, records, sample_map

# Roles interleaved on purpose: rows and columns follow the file's order within each role.








def test_rows_and_columns_are_every_actor_in_file_order() -> None:
    m = build_map([], [], set(), PARTNERSHIPS, SINCE, NOW)
    assert m.suppliers == ("turkey", "russia", "china")
    assert m.recipients == ("mali", "burkina-faso", "niger")
    assert m.cells == {}
    assert m.changes == ()
    assert m.new_pairs == ()
    assert m.total == 0
    assert m.busiest() is None


def test_counts_dominant_kind_and_previous() -> None:
    m = sample_map()
    assert m.cells[("turkey", "mali")] == Cell("turkey", "mali", 7, "training", 2)
    assert m.cells[("russia", "mali")] == Cell("russia", "mali", 1, "protection", 5)
    assert m.cells[("russia", "niger")] == Cell("russia", "niger", 2, "agreement", 2)
    assert m.cells[("turkey", "niger")] == Cell("turkey", "niger", 1, "arms", 0)
    # Silent now, active before: kept, with the previous period's kind.
    assert m.cells[("russia", "burkina-faso")] == Cell("russia", "burkina-faso", 0, "end", 3)
    assert ("china", "mali") not in m.cells
    assert (m.total, m.previous_total) == (11, 12)
    assert m.count("turkey", "mali") == 7
    assert m.count("china", "niger") == 0
    busiest = m.busiest()
    assert busiest is not None and (busiest.supplier, busiest.recipient) == ("turkey", "mali")


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (["arms", "training"], "training"),  # tie: training comes first in the file
        (["agreement", "protection"], "protection"),  # tie: file order, not alphabetical
        (["end", "agreement", "end"], "end"),  # the most signals wins over file order
        (["agreement", "retired-kind", "retired-kind"], "retired-kind"),  # old kinds count
        (["retired-kind", "agreement"], "agreement"),  # ...but lose ties to known kinds
    ],
)
def test_dominant_kind(kinds: list[str], expected: str) -> None:
    current = [record("turkey", "mali", k, story=n) for n, k in enumerate(kinds)]
    m = build_map(current, [], set(), PARTNERSHIPS, SINCE, NOW)
    assert m.cells[("turkey", "mali")].dominant_kind == expected


def test_every_record_counts() -> None:
    # The store keeps one record per (story, supplier, recipient, kind): two stories count
    # twice, and one story with two kinds counts once per kind.
    current = [record("turkey", "mali", "training", story=1),
               record("turkey", "mali", "training", story=2),
               record("turkey", "mali", "arms", story=2)]
    m = build_map(current, [], set(), PARTNERSHIPS, SINCE, NOW)
    assert m.cells[("turkey", "mali")].count == 3


def test_changes_biggest_first_and_only_non_zero() -> None:
    m = sample_map()
    assert [(c.supplier, c.recipient, c.change) for c in m.changes] == [
        ("turkey", "mali", 5),
        ("russia", "mali", -4),
        ("russia", "burkina-faso", -3),
        ("turkey", "niger", 1),
    ]


def test_equal_changes_keep_the_busier_pair_then_file_order() -> None:
    current = [*records("russia", "niger", "arms", 3), *records("turkey", "niger", "arms", 2),
               *records("china", "mali", "arms", 2)]
    previous = records("russia", "niger", "arms", 1, days_ago=40)
    m = build_map(current, previous, set(), PARTNERSHIPS, SINCE, NOW)
    assert [(c.supplier, c.recipient) for c in m.changes] == [
        ("russia", "niger"), ("turkey", "niger"), ("china", "mali")]


def test_new_pairs() -> None:
    m = sample_map()
    assert m.new_pairs == (("turkey", "niger"),)
    everything_new = sample_map(seen_before=set())
    # Most signals first, then file order; a pair silent in this period is never new.
    assert everything_new.new_pairs == (("turkey", "mali"), ("russia", "niger"),
                                        ("turkey", "niger"), ("russia", "mali"))


def test_unknown_actors_and_wrong_roles_are_left_out() -> None:
    current = [record("turkey", "mali", "arms"), record("wagner-old", "mali", "arms"),
               record("mali", "turkey", "arms"), record("turkey", "russia", "arms")]
    m = build_map(current, [], set(), PARTNERSHIPS, SINCE, NOW)
    assert list(m.cells) == [("turkey", "mali")]


def test_period_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        build_map([], [], set(), PARTNERSHIPS, NOW, NOW)


def test_previous_period_has_the_same_length() -> None:
    assert previous_period(SINCE, NOW) == (SINCE - timedelta(days=30), SINCE)


@pytest.mark.parametrize(
    ("since", "until", "fr", "en"),
    [
        (SINCE, NOW, "du 26 oct. au 25 nov. 2026", "from 26 Oct to 25 Nov 2026"),
        (datetime(2026, 12, 20, tzinfo=UTC), datetime(2027, 1, 10, 9, tzinfo=UTC),
         "du 20 déc. 2026 au 10 janv. 2027", "from 20 Dec 2026 to 10 Jan 2027"),
        # The end is exclusive: a week ending at midnight ends the day before.
        (datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC),
         "du 16 nov. au 22 nov. 2026", "from 16 Nov to 22 Nov 2026"),
        (datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC),
         "le 24 nov. 2026", "on 24 Nov 2026"),
        (NOW - timedelta(hours=6), NOW, "le 25 nov. 2026", "on 25 Nov 2026"),
    ],
)
def test_period_text(since: datetime, until: datetime, fr: str, en: str) -> None:
    assert period_text(since, until, "fr") == fr
    assert period_text(since, until, "en") == en


def test_caption_in_french() -> None:
    assert caption(sample_map(), PARTNERSHIPS, "fr") == (
        "Signaux de partenariat du 26 oct. au 25 nov. 2026 : 11\n"
        "En tête : Turquie → Mali (7, formation)\n"
        "Par rapport à la période précédente : Turquie → Mali : 7 (+5), formation ; "
        "Russie → Mali : 1 (−4), protection ; Russie → Burkina Faso : 0 (−3), "
        "fin de partenariat\n"
        "Nouvelles paires : Turquie → Niger"
    )


def test_caption_in_english() -> None:
    assert caption(sample_map(), PARTNERSHIPS, "en") == (
        "Partnership signals from 26 Oct to 25 Nov 2026: 11\n"
        "Busiest: Turkey → Mali (7, training)\n"
        "Against the previous period: Turkey → Mali: 7 (+5), training; "
        "Russia → Mali: 1 (−4), protection; Russia → Burkina Faso: 0 (−3), "
        "end of partnership\n"
        "New pairs: Turkey → Niger"
    )


def test_caption_unknown_language_falls_back_to_french() -> None:
    assert caption(sample_map(), PARTNERSHIPS, "de") == caption(sample_map(), PARTNERSHIPS, "fr")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("fr", "Aucun signal de partenariat du 26 oct. au 25 nov. 2026."),
     ("en", "No partnership signal from 26 Oct to 25 Nov 2026.")],
)
def test_caption_without_signals(lang: str, expected: str) -> None:
    assert caption(build_map([], [], set(), PARTNERSHIPS, SINCE, NOW), PARTNERSHIPS,
                   lang) == expected


def test_caption_when_only_the_previous_period_had_signals() -> None:
    previous = records("russia", "mali", "protection", 4, days_ago=40)
    m = build_map([], previous, {("russia", "mali")}, PARTNERSHIPS, SINCE, NOW)
    assert caption(m, PARTNERSHIPS, "en") == (
        "No partnership signal from 26 Oct to 25 Nov 2026.\n"
        "Against the previous period: Russia → Mali: 0 (−4), protection"
    )


def test_caption_when_the_previous_period_was_silent() -> None:
    m = build_map(records("china", "niger", "arms", 2), [], set(), PARTNERSHIPS, SINCE, NOW)
    assert caption(m, PARTNERSHIPS, "fr") == (
        "Signaux de partenariat du 26 oct. au 25 nov. 2026 : 2\n"
        "En tête : Chine → Niger (2, armement)\n"
        "Aucun signal sur la période précédente.\n"
        "Nouvelles paires : Chine → Niger"
    )


def test_caption_stays_short_with_many_actors() -> None:
    many = Partnerships(
        actors=tuple(actor(f"s{n}", f"Fournisseur {n} " + "x" * 40, f"Supplier {n}", "supplier")
                     for n in range(12))
        + tuple(actor(f"r{n}", f"Bénéficiaire {n}", f"Recipient {n}", "recipient")
                for n in range(12)),
        kinds=PARTNERSHIPS.kinds, routing=SignalRouting(),
    )
    current = [record(f"s{i}", f"r{j}", "arms", story=i * 12 + j)
               for i in range(12) for j in range(12) for _ in range(i + j)]
    m = build_map(current, [], set(), many, SINCE, NOW)
    text = caption(m, many, "fr")
    assert len(text) <= CAPTION_LIMIT
    assert len(text.splitlines()) <= 4
    assert text.splitlines()[-1].endswith("139 autre(s)")  # 143 new pairs, 4 named


def test_csv_round_trip() -> None:
    m = sample_map()
    out = io.StringIO(newline="")
    assert write_csv(m, PARTNERSHIPS, out) == 9
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["supplier"], r["recipient"]) for r in rows] == [
        (s, r) for s in m.suppliers for r in m.recipients]
    by_pair = {(r["supplier"], r["recipient"]): r for r in rows}
    assert by_pair[("turkey", "mali")] == {
        "supplier": "turkey", "supplier_name": "Turkey", "recipient": "mali",
        "recipient_name": "Mali", "count": "7", "previous": "2", "dominant_kind": "training",
        "new_pair": "0",
    }
    assert by_pair[("turkey", "niger")]["new_pair"] == "1"
    assert by_pair[("russia", "burkina-faso")]["count"] == "0"
    assert by_pair[("russia", "burkina-faso")]["dominant_kind"] == "end"
    assert by_pair[("china", "mali")] == {
        "supplier": "china", "supplier_name": "China", "recipient": "mali",
        "recipient_name": "Mali", "count": "0", "previous": "0", "dominant_kind": "",
        "new_pair": "0",
    }
    for cell in m.cells.values():
        row = by_pair[(cell.supplier, cell.recipient)]
        assert (int(row["count"]), int(row["previous"])) == (cell.count, cell.previous)


def test_csv_of_an_empty_map_has_every_pair() -> None:
    out = io.StringIO(newline="")
    m = build_map([], [], set(), PARTNERSHIPS, SINCE, NOW)
    assert write_csv(m, PARTNERSHIPS, out) == 9
    assert out.getvalue().splitlines()[0] == ",".join(CSV_COLUMNS)
    assert len(out.getvalue().splitlines()) == 10


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_partner_messages_exist_in_both_languages_with_the_same_placeholders() -> None:
    keys = {lang: {k for k in MESSAGES[lang] if k.startswith("partners.")} for lang in LANGUAGES}
    assert keys["fr"] == keys["en"]
    for key in keys["fr"]:
        assert placeholders(MESSAGES["fr"][key]) == placeholders(MESSAGES["en"][key]), key


def test_every_partner_message_the_code_asks_for_exists() -> None:
    used = {key for path in (ROOT / "bot").rglob("*.py")
            for key in re.findall(r"[\"'](partners\.[a-z_]+)[\"']", path.read_text("utf-8"))}
    assert "partners.title" in used
    assert used <= set(MESSAGES["en"]), sorted(used - set(MESSAGES["en"]))
