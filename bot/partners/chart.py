"""The partnership map as a PNG: suppliers x recipients, shaded by signal count (no pyplot)."""

from __future__ import annotations

from bot.partners.catalog import Partnerships
from bot.partners.matrix import PartnerMap, actor_name, kind_name, period_text
from bot.telegram.charts import matrix_png
from bot.telegram.i18n import DEFAULT_LANGUAGE, LANGUAGES, t


def partner_matrix_png(m: PartnerMap, partnerships: Partnerships, lang: str) -> bytes:
    """Supplier rows x recipient columns, every actor of the file in its order, shaded by the
    signals of the period (white at zero); each non-empty cell shows its count and dominant
    kind in ``lang``; the title gives the period. Returns the PNG image, 1000 x 560 px.

    Raises ValueError when the map has no supplier or no recipient.
    """
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    counts = [[m.count(s, r) for r in m.recipients] for s in m.suppliers]
    notes = [
        [kind_name(cell.dominant_kind, partnerships, lang) if cell and cell.count else ""
         for cell in (m.cells.get((s, r)) for r in m.recipients)]
        for s in m.suppliers
    ]
    return matrix_png(
        [actor_name(s, partnerships, lang) for s in m.suppliers],
        [actor_name(r, partnerships, lang) for r in m.recipients],
        counts,
        notes=notes,
        title=t(lang, "partners.title", period=period_text(m.since, m.until, lang)),
        row_label=t(lang, "partners.suppliers"),
        column_label=t(lang, "partners.recipients"),
    )
