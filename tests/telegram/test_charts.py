"""Charts: PNG of the right size, not blank, changing with the data; bad shapes refused."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta

import pytest

from bot.telegram.charts import hits_per_day_png, matrix_png
from tests.support.common import ROOT
from tests.support.png import MIN_COLOURS, colour_count, open_png, pixels

START = date(2026, 11, 1)


def days(count: int, start: date = START) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]








def assert_drawn(data: bytes) -> None:
    open_png(data)
    assert colour_count(data) > MIN_COLOURS


def test_lines_for_a_month() -> None:
    month = days(30)
    data = hits_per_day_png(
        month,
        {"wagner": [i % 7 for i in range(30)], "turquie": [(i * 3) % 5 for i in range(30)]},
        title="Alertes — novembre",
        labels={"wagner": "Wagner / Africa Corps", "turquie": "Turquie"},
    )
    assert_drawn(data)


def test_bars_for_a_week() -> None:
    assert_drawn(hits_per_day_png(days(7), {"a": [1, 0, 2, 5, 3, 0, 1], "b": [0] * 7},
                                  title="Semaine"))


def test_different_data_gives_different_images() -> None:
    week = days(10)
    first = hits_per_day_png(week, {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}, title="T")
    second = hits_per_day_png(week, {"a": [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]}, title="T")
    again = hits_per_day_png(week, {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}, title="T")
    assert pixels(first) != pixels(second)
    assert pixels(first) == pixels(again)


def test_all_zero_data() -> None:
    assert_drawn(hits_per_day_png(days(14), {"a": [0] * 14, "b": [0] * 14}, title="Rien"))


def test_one_day_one_series() -> None:
    assert_drawn(hits_per_day_png([START], {"a": [4]}, title="Un jour"))


def test_no_series_still_draws_axes() -> None:
    assert_drawn(hits_per_day_png(days(3), {}, title="Aucune liste"))


def test_twelve_series() -> None:
    series = {f"wl{n}": [(n * i) % 11 for i in range(20)] for n in range(12)}
    assert_drawn(hits_per_day_png(days(20), series, title="Douze listes"))
    short = {key: counts[:5] for key, counts in series.items()}
    assert_drawn(hits_per_day_png(days(5), short, title="Douze listes, barres"))


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
def test_accented_labels_in_each_language(lang: str) -> None:
    data = hits_per_day_png(
        days(40, date(2026, 12, 10)),  # crosses a year: the year shows under the date
        {"sécurité": [i % 4 for i in range(40)], "défense": [i % 6 for i in range(40)]},
        title="Coopération sécuritaire — Sahel, déc.–janv.",
        labels={"sécurité": "Sécurité intérieure", "défense": "Défense (Émirats, Türkiye)"},
        lang=lang,
    )
    assert_drawn(data)


def test_language_changes_the_image() -> None:
    week = days(9)
    series = {"a": [1, 2, 0, 4, 1, 2, 3, 0, 1]}
    french = hits_per_day_png(week, series, title="T", lang="fr")
    english = hits_per_day_png(week, series, title="T", lang="en")
    assert pixels(french) != pixels(english)


@pytest.mark.parametrize(
    ("day_list", "series", "message"),
    [
        (days(3), {"a": [1, 2]}, "'a' has 2 counts for 3 days"),
        (days(3), {"a": [1, 2, 3, 4]}, "'a' has 4 counts for 3 days"),
        ([], {}, "at least one day"),
        ([START, START], {"a": [1, 2]}, "strictly increasing"),
        (days(2), {"a": [1, -1]}, "negative"),
    ],
)
def test_inconsistent_days_and_series_are_refused(
    day_list: list[date], series: dict[str, list[int]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        hits_per_day_png(day_list, series, title="T")


SUPPLIERS = ["Russie", "Turquie", "Émirats arabes unis"]
RECIPIENTS = ["Mali", "Burkina Faso", "Niger", "Tchad"]
COUNTS = [[12, 0, 3, 1], [0, 5, 7, 0], [2, 0, 0, 9]]
NOTES = [
    ["formation", "", "armement", "accord"],
    ["", "drones", "drones", ""],
    ["accord", "", "", "équipement"],
]


def test_matrix_with_notes() -> None:
    with_notes = matrix_png(SUPPLIERS, RECIPIENTS, COUNTS, notes=NOTES,
                            title="Fournisseurs × bénéficiaires",
                            row_label="fournisseur", column_label="bénéficiaire")
    without = matrix_png(SUPPLIERS, RECIPIENTS, COUNTS, title="Fournisseurs × bénéficiaires",
                         row_label="fournisseur", column_label="bénéficiaire")
    assert_drawn(with_notes)
    assert_drawn(without)
    assert pixels(with_notes) != pixels(without)


def test_matrix_changes_with_counts_and_allows_all_zero() -> None:
    other = [[0, 1, 3, 12], [0, 5, 7, 0], [2, 0, 0, 9]]
    first = matrix_png(SUPPLIERS, RECIPIENTS, COUNTS, title="M", row_label="r", column_label="c")
    second = matrix_png(SUPPLIERS, RECIPIENTS, other, title="M", row_label="r", column_label="c")
    assert pixels(first) != pixels(second)
    zeros = [[0] * 4 for _ in SUPPLIERS]
    assert_drawn(matrix_png(SUPPLIERS, RECIPIENTS, zeros, title="M", row_label="r",
                            column_label="c"))


def test_one_cell_matrix() -> None:
    assert_drawn(matrix_png(["Russie"], ["Mali"], [[3]], notes=[["formation"]], title="M",
                            row_label="r", column_label="c"))


@pytest.mark.parametrize(
    ("counts", "notes", "message"),
    [
        ([[1, 2, 3, 4], [5, 6, 7, 8]], None, "counts has 2 rows for 3 row labels"),
        ([[1, 2, 3, 4], [5, 6, 7], [1, 2, 3, 4]], None, "counts row 1 has 3 cells for 4"),
        (COUNTS, [["a"] * 4, ["b"] * 4], "notes has 2 rows for 3 row labels"),
        (COUNTS, [["a"] * 4, ["b"] * 5, ["c"] * 4], "notes row 1 has 5 cells for 4"),
        ([[1, 2, 3, -4], [5, 6, 7, 8], [1, 2, 3, 4]], None, "negative"),
    ],
)
def test_inconsistent_matrix_is_refused(
    counts: list[list[int]], notes: list[list[str]] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        matrix_png(SUPPLIERS, RECIPIENTS, counts, notes=notes, title="M", row_label="r",
                   column_label="c")


def test_empty_matrix_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one row and one column"):
        matrix_png([], RECIPIENTS, [], title="M", row_label="r", column_label="c")


def test_import_does_not_load_matplotlib() -> None:
    code = "import sys, bot.telegram.charts; sys.exit('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr
