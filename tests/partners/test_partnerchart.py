"""Partnership matrix PNG: a real image of the right size, drawn, changing with the data."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.partners.catalog import Partnerships, SignalRouting
from bot.partners.chart import partner_matrix_png
from bot.partners.matrix import build_map
from tests.support.common import NOW, ROOT
from tests.support.partners import PARTNERSHIPS, SINCE, actor, records, sample_map
from tests.support.png import MIN_COLOURS, colour_count, open_png, pixels

# Pale blue (zero) to dark blue (the maximum): a filled cell adds many shades.
MIN_FILLED_COLOURS = 2 * MIN_COLOURS


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_matrix_png(lang: str) -> None:
    data = partner_matrix_png(sample_map(), PARTNERSHIPS, lang)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    open_png(data)
    assert colour_count(data) > MIN_FILLED_COLOURS


def test_empty_map_still_draws_the_grid() -> None:
    data = partner_matrix_png(build_map([], [], set(), PARTNERSHIPS, SINCE, NOW), PARTNERSHIPS,
                              "fr")
    open_png(data)
    assert colour_count(data) > MIN_COLOURS


def test_image_follows_counts_and_language() -> None:
    first = partner_matrix_png(sample_map(), PARTNERSHIPS, "fr")
    again = partner_matrix_png(sample_map(), PARTNERSHIPS, "fr")
    english = partner_matrix_png(sample_map(), PARTNERSHIPS, "en")
    other = partner_matrix_png(
        build_map(records("china", "niger", "end", 4), [], set(), PARTNERSHIPS, SINCE, NOW),
        PARTNERSHIPS, "fr")
    assert pixels(first) == pixels(again)
    assert pixels(first) != pixels(english)
    assert pixels(first) != pixels(other)


def test_only_previous_signals_draw_like_an_empty_period() -> None:
    # A pair silent now but not before has a cell (for the caption), not a shade or a kind.
    previous = records("russia", "mali", "protection", 3, days_ago=40)
    silent = build_map([], previous, set(), PARTNERSHIPS, SINCE, NOW)
    empty = build_map([], [], set(), PARTNERSHIPS, SINCE, NOW)
    assert pixels(partner_matrix_png(silent, PARTNERSHIPS, "en")) == pixels(
        partner_matrix_png(empty, PARTNERSHIPS, "en"))


def test_a_full_file_stays_readable() -> None:
    # The shipped file's size: 6 suppliers x 5 recipients, long names, every cell filled.
    suppliers = ["Turquie", "Russie", "Chine", "France", "États-Unis", "Émirats arabes unis"]
    recipients = ["Mali", "Burkina Faso", "Niger", "Tchad", "Alliance des États du Sahel"]
    full = Partnerships(
        actors=tuple(actor(f"s{n}", name, name, "supplier") for n, name in enumerate(suppliers))
        + tuple(actor(f"r{n}", name, name, "recipient") for n, name in enumerate(recipients)),
        kinds=PARTNERSHIPS.kinds, routing=SignalRouting(),
    )
    kinds = [k.id for k in PARTNERSHIPS.kinds]
    current = [record for i in range(len(suppliers)) for j in range(len(recipients))
               for record in records(f"s{i}", f"r{j}", kinds[(i + j) % len(kinds)], i * j + 1)]
    data = partner_matrix_png(build_map(current, [], set(), full, SINCE, NOW), full, "fr")
    open_png(data)
    assert colour_count(data) > MIN_FILLED_COLOURS


def test_no_supplier_is_refused() -> None:
    lonely = Partnerships(actors=(actor("mali", "Mali", "Mali", "recipient"),),
                          kinds=PARTNERSHIPS.kinds, routing=SignalRouting())
    with pytest.raises(ValueError, match="at least one row"):
        partner_matrix_png(build_map([], [], set(), lonely, SINCE, NOW), lonely, "fr")


def test_import_does_not_load_matplotlib() -> None:
    code = "import sys, bot.partners.chart; sys.exit('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr
