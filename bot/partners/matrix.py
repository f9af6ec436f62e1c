"""Partnership signals over a period: supplier x recipient counts, changes, CSV (pure)."""

from __future__ import annotations

import csv
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TextIO

from bot.partners.catalog import Partnerships
from bot.telegram.i18n import DEFAULT_LANGUAGE, LANGUAGES, MONTHS, t

log = logging.getLogger(__name__)

SUPPLIER = "supplier"
RECIPIENT = "recipient"
CSV_LANGUAGE = "en"  # the CSV names actors in English, next to their ids
CSV_COLUMNS = ("supplier", "supplier_name", "recipient", "recipient_name", "count", "previous",
               "dominant_kind", "new_pair")


@dataclass(frozen=True)
class SignalRecord:
    """One stored partnership signal, as the store returns it."""

    supplier: str
    recipient: str
    kind: str
    seen_at: datetime  # aware UTC
    evidence: str
    title: str
    link: str | None
    story_id: int


@dataclass(frozen=True)
class Cell:
    """One supplier x recipient pair: signals in the period and in the period before.

    ``dominant_kind`` is the kind with the most signals in the period (ties go to the kind
    listed first in the partnership file); for a pair silent in the period but not before,
    it is the previous period's dominant kind.
    """

    supplier: str
    recipient: str
    count: int
    dominant_kind: str
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous


@dataclass(frozen=True)
class PartnerMap:
    """Signal counts per supplier x recipient over [since, until), against the period before."""

    suppliers: tuple[str, ...]  # actor ids, in the file's order, every supplier
    recipients: tuple[str, ...]  # actor ids, in the file's order, every recipient
    cells: Mapping[tuple[str, str], Cell]  # only pairs with count or previous > 0
    since: datetime
    until: datetime
    changes: tuple[Cell, ...]  # cells whose count changed, biggest absolute change first
    new_pairs: tuple[tuple[str, str], ...]  # pairs in this period never seen before `since`

    @property
    def total(self) -> int:
        return sum(cell.count for cell in self.cells.values())

    @property
    def previous_total(self) -> int:
        return sum(cell.previous for cell in self.cells.values())

    def count(self, supplier: str, recipient: str) -> int:
        cell = self.cells.get((supplier, recipient))
        return cell.count if cell else 0

    def busiest(self) -> Cell | None:
        """The pair with the most signals in the period (the first in file order on a tie)."""
        best: Cell | None = None
        for supplier in self.suppliers:
            for recipient in self.recipients:
                cell = self.cells.get((supplier, recipient))
                if cell and cell.count and (best is None or cell.count > best.count):
                    best = cell
        return best


def previous_period(since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """The period of the same length just before [since, until): what ``previous`` covers."""
    return since - (until - since), since


def build_map(
    current: Sequence[SignalRecord],
    previous: Sequence[SignalRecord],
    seen_before: set[tuple[str, str]],
    partnerships: Partnerships,
    since: datetime,
    until: datetime,
) -> PartnerMap:
    """Count ``current`` (signals of [since, until)) and ``previous`` (of the period before,
    see ``previous_period``) per supplier x recipient pair; one record counts once.

    ``seen_before`` holds the (supplier, recipient) pairs with a signal before ``since``.
    Records naming an actor that is not, or no longer, a supplier or recipient of the file
    are left out.
    """
    if until <= since:
        raise ValueError(f"the period must end after it starts: {since} to {until}")
    suppliers = tuple(a.id for a in partnerships.actors if a.role == SUPPLIER)
    recipients = tuple(a.id for a in partnerships.actors if a.role == RECIPIENT)
    kind_order = {kind.id: index for index, kind in enumerate(partnerships.kinds)}
    now = _kinds_per_pair(current, suppliers, recipients)
    before = _kinds_per_pair(previous, suppliers, recipients)

    cells: dict[tuple[str, str], Cell] = {}
    for supplier in suppliers:
        for recipient in recipients:
            pair = (supplier, recipient)
            kinds_now, kinds_before = now.get(pair, Counter()), before.get(pair, Counter())
            if not kinds_now and not kinds_before:
                continue
            cells[pair] = Cell(
                supplier=supplier,
                recipient=recipient,
                count=kinds_now.total(),
                dominant_kind=_dominant(kinds_now or kinds_before, kind_order),
                previous=kinds_before.total(),
            )

    position = {pair: index for index, pair in enumerate(cells)}  # file order
    changes = sorted(
        (cell for cell in cells.values() if cell.change),
        key=lambda cell: (-abs(cell.change), -cell.count,
                          position[(cell.supplier, cell.recipient)]),
    )
    new_pairs = sorted(
        (pair for pair, cell in cells.items() if cell.count and pair not in seen_before),
        key=lambda pair: (-cells[pair].count, position[pair]),
    )
    return PartnerMap(suppliers=suppliers, recipients=recipients, cells=cells, since=since,
                      until=until, changes=tuple(changes), new_pairs=tuple(new_pairs))


def write_csv(m: PartnerMap, partnerships: Partnerships, out: TextIO) -> int:
    """Write a header and one line per supplier x recipient pair, every pair in the file's
    order (zero counts included, dominant kind empty where no signal); returns the lines
    written after the header. ``out`` should be opened with ``newline=""``."""
    writer = csv.writer(out, dialect="excel")
    writer.writerow(CSV_COLUMNS)
    new = set(m.new_pairs)
    rows = 0
    for supplier in m.suppliers:
        for recipient in m.recipients:
            cell = m.cells.get((supplier, recipient))
            writer.writerow([
                supplier, actor_name(supplier, partnerships, CSV_LANGUAGE),
                recipient, actor_name(recipient, partnerships, CSV_LANGUAGE),
                cell.count if cell else 0,
                cell.previous if cell else 0,
                cell.dominant_kind if cell else "",
                int((supplier, recipient) in new),
            ])
            rows += 1
    return rows


# Words shared with the chart ---------------------------------------------------------------


def period_text(since: datetime, until: datetime, lang: str) -> str:
    """"du 3 nov. au 2 déc. 2026" / "from 3 Nov to 2 Dec 2026"; "le 3 nov. 2026" for one day.

    ``until`` is exclusive: a period ending at midnight ends on the day before.
    """
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    first = since.date()
    last = (until - timedelta(microseconds=1)).date() if until.time() == time() else until.date()
    last = max(first, last)
    months = MONTHS[lang]
    end = f"{last.day} {months[last.month - 1]} {last.year}"
    if first == last:
        return t(lang, "partners.period_day", day=end)
    start = f"{first.day} {months[first.month - 1]}"
    if first.year != last.year:
        start += f" {first.year}"
    return t(lang, "partners.period", start=start, end=end)


def actor_name(actor_id: str, partnerships: Partnerships, lang: str) -> str:
    """The actor's name in ``lang`` (English, then its id, when the file has none)."""
    actor = next((a for a in partnerships.actors if a.id == actor_id), None)
    return _pick(actor.names, lang, actor_id) if actor else actor_id


def kind_name(kind_id: str, partnerships: Partnerships, lang: str) -> str:
    """The relation kind's name in ``lang`` (English, then its id, when the file has none)."""
    kind = next((k for k in partnerships.kinds if k.id == kind_id), None)
    return _pick(kind.names, lang, kind_id) if kind else kind_id


def _pick(names: Mapping[str, str], lang: str, fallback: str) -> str:
    return names.get(lang) or names.get(CSV_LANGUAGE) or fallback


def _kinds_per_pair(
    records: Iterable[SignalRecord], suppliers: Sequence[str], recipients: Sequence[str]
) -> dict[tuple[str, str], Counter[str]]:
    known_suppliers, known_recipients = set(suppliers), set(recipients)
    pairs: dict[tuple[str, str], Counter[str]] = {}
    skipped = 0
    for record in records:
        if record.supplier not in known_suppliers or record.recipient not in known_recipients:
            skipped += 1
            continue
        pairs.setdefault((record.supplier, record.recipient), Counter())[record.kind] += 1
    if skipped:
        log.debug("partner signals skipped unknown_actors=%d", skipped)
    return pairs


def _dominant(kinds: Counter[str], order: Mapping[str, int]) -> str:
    # Kinds no longer in the file (old records) come after the known ones, by id.
    return min(kinds, key=lambda kind: (-kinds[kind], order.get(kind, len(order)), kind))
