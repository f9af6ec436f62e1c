"""Partnership signals against a labelled set: precision and recall, and which kinds blur."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.matching.evaluate import Score, _read_jsonl, part_of, score_header, score_row
from bot.matching.text import html_to_text
from bot.partners.detect import SignalDetector

DEFAULT_PARTNERSHIP_SET = Path("tests/data/partnerships.jsonl")
SIGNAL_KEYS = ("supplier", "recipient", "kind")
TEXT_SHOWN = 160  # characters of an item shown beside each error
# The labelled sets' items are the news of this year: a relation they date years before
# it is background (see SignalDetector.detect).
LABELLED_YEAR = 2026
NAME_WIDTH = 14  # the first column of the tables: a kind and a language fit
NO_KIND = "none"  # the confusion table's row or column for a signal without counterpart

Triple = tuple[str, str, str]  # (supplier, recipient, kind)


@dataclass(frozen=True)
class LabelledSignals:
    """An item with the partnership signals it truly reports."""

    id: str
    title: str
    summary: str
    expected: frozenset[Triple]
    lang: str = ""
    hard: bool = False
    note: str = ""
    part: str = ""  # TUNE, HOLDOUT, or "" for a set not split


@dataclass(frozen=True)
class SignalMiss:
    """One wrong answer: a signal missed, or a false alarm with the sentence that raised it."""

    item: LabelledSignals
    signal: Triple
    kind: str  # "missed" or "false alarm"
    evidence: str = ""


@dataclass
class SignalEvaluation:
    """The result of running the detector over a labelled set."""

    overall: Score = field(default_factory=Score)
    per_kind: dict[str, Score] = field(default_factory=dict)
    pairs: Score = field(default_factory=Score)  # supplier and recipient right, any kind
    per_group: dict[str, Score] = field(default_factory=dict)  # "fr", "en", "hard" ...
    per_kind_lang: dict[tuple[str, str], Score] = field(default_factory=dict)
    # (expected kind, produced kind) -> count, on the pairs of each item; NO_KIND on the
    # expected side is a false alarm on a pair, on the produced side a signal missed
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    misses: list[SignalMiss] = field(default_factory=list)
    items: int = 0


def load_labelled_signals(path: Path) -> list[LabelledSignals]:
    """Read a JSON-lines set of {"id", "lang", "title", "summary", "signals": [{"supplier",
    "recipient", "kind"}], "hard", "note"}; ConfigError with file and line on a bad line."""
    return _read_jsonl(path, "labelled signal item", _labelled)


def _labelled(record: dict[str, Any]) -> LabelledSignals:
    signals = record["signals"]
    if not isinstance(signals, list):
        raise TypeError("signals must be a list of {supplier, recipient, kind}")
    expected = set()
    for signal in signals:
        if not isinstance(signal, dict) or not all(
            isinstance(signal.get(key), str) and signal[key] for key in SIGNAL_KEYS
        ):
            raise TypeError(f"each signal needs supplier, recipient and kind: {signal!r}")
        expected.add((signal["supplier"], signal["recipient"], signal["kind"]))
    hard = record.get("hard", False)
    if not isinstance(hard, bool):
        raise TypeError("hard must be true or false")
    return LabelledSignals(
        id=str(record["id"]), title=str(record.get("title") or ""),
        summary=str(record.get("summary") or ""), expected=frozenset(expected),
        lang=str(record.get("lang", "")), hard=hard, note=str(record.get("note", "")),
        part=part_of(record),
    )


def evaluate_signals(detector: SignalDetector, items: Iterable[LabelledSignals],
                     year: int = LABELLED_YEAR) -> SignalEvaluation:
    """Detect signals in every item and score them against the labels; ``year``: the year
    the items are read as published in."""
    result = SignalEvaluation()
    result.per_kind = {kind.id: Score() for kind in detector.partnerships.kinds}
    for item in items:
        result.items += 1
        found = {(s.supplier, s.recipient, s.kind): s.evidence
                 for s in detector.detect(html_to_text(item.title), html_to_text(item.summary),
                                          year=year)}
        groups = [g for g in (item.lang, "hard" if item.hard else "") if g]
        scores = [result.overall, *(result.per_group.setdefault(g, Score()) for g in groups)]
        for triple in sorted(item.expected | found.keys()):
            per_kind = result.per_kind.setdefault(triple[2], Score())
            per_lang = result.per_kind_lang.setdefault((triple[2], item.lang), Score())
            for score in (*scores, per_kind, per_lang):
                _count(score, triple in item.expected, triple in found)
            if triple not in item.expected:
                result.misses.append(SignalMiss(item, triple, "false alarm", found[triple]))
            elif triple not in found:
                result.misses.append(SignalMiss(item, triple, "missed"))
        expected_pairs = {t[:2] for t in item.expected}
        found_pairs = {t[:2] for t in found}
        for pair in expected_pairs | found_pairs:
            _count(result.pairs, pair in expected_pairs, pair in found_pairs)
            _confuse(result.confusion,
                     {t[2] for t in item.expected if t[:2] == pair},
                     {t[2] for t in found if t[:2] == pair})
    return result


def _confuse(table: dict[tuple[str, str], int], expected: set[str], found: set[str]) -> None:
    """Count one pair's kinds: a kind both expected and produced on the diagonal, then the
    kinds left on either side paired in order, then what is still left against NO_KIND."""
    for kind in expected & found:
        table[kind, kind] = table.get((kind, kind), 0) + 1
    missed, extra = sorted(expected - found), sorted(found - expected)
    pairs = list(zip(missed, extra, strict=False))
    pairs += [(kind, NO_KIND) for kind in missed[len(pairs):]]
    pairs += [(NO_KIND, kind) for kind in extra[len(missed):]]
    for cell in pairs:
        table[cell] = table.get(cell, 0) + 1


def _count(score: Score, expected: bool, found: bool) -> None:
    if expected and found:
        score.tp += 1
    elif found:
        score.fp += 1
    else:
        score.fn += 1


def format_signal_report(result: SignalEvaluation, *, items_shown: bool = True) -> str:
    """A table of the measures per kind, overall, per language and for hard items, then
    (``items_shown``) every miss and false alarm with its item."""
    rows = [score_header("kind", NAME_WIDTH)]
    rows += [score_row(kind, score, NAME_WIDTH) for kind, score in result.per_kind.items()]
    rows.append(score_row("overall", result.overall, NAME_WIDTH))
    rows.append(score_row("pairs", result.pairs, NAME_WIDTH))
    rows.append("")
    rows.append(score_header("items", NAME_WIDTH))
    rows += [score_row(group, score, NAME_WIDTH) for group, score in _ordered(result.per_group)]
    rows.append("")
    rows.append(score_header("kind, lang", NAME_WIDTH))
    order = {kind: rank for rank, kind in enumerate(result.per_kind)}
    rows += [score_row(f"{kind} {lang}", score, NAME_WIDTH)
             for (kind, lang), score in sorted(result.per_kind_lang.items(),
                                               key=lambda cell: (order[cell[0][0]], cell[0][1]))
             if lang]
    rows.append("\nkinds: expected (rows) × produced (columns)")
    rows += format_confusion(result.confusion, list(result.per_kind))
    missed = sum(1 for m in result.misses if m.kind == "missed")
    rows.append(f"\n{result.items} items, {missed} signals missed, "
                f"{len(result.misses) - missed} false alarms")
    for miss in result.misses if items_shown else ():
        supplier, recipient, kind = miss.signal
        note = f" ({miss.item.note})" if miss.item.note else ""
        text = f"«{miss.evidence}»" if miss.evidence else f"{miss.item.title} | {miss.item.summary}"
        rows.append(f"- {miss.kind} {supplier} → {recipient} {kind} [{miss.item.id}]{note}: "
                    f"{text[:TEXT_SHOWN]}")
    return "\n".join(rows) + "\n"


def format_confusion(table: Mapping[tuple[str, str], int], kinds: list[str]) -> list[str]:
    """Expected kinds down, produced kinds across, on the pairs both sides found or missed;
    the column ``none`` counts signals missed, the row ``none`` false alarms."""
    labels = [*kinds, NO_KIND]
    width = max(len(label) for label in labels) + 1
    rows = [f"{'expected':<{width}}" + "".join(f"{label:>{width}}" for label in labels)]
    for expected in labels:
        cells = [table.get((expected, produced), 0) for produced in labels]
        if expected == NO_KIND:
            cells[-1] = 0
        rows.append(f"{expected:<{width}}" + "".join(
            f"{cell if cell else '.':>{width}}" for cell in cells))
    return rows


def _ordered(groups: Mapping[str, Score]) -> list[tuple[str, Score]]:
    return sorted(groups.items(), key=lambda g: (g[0] == "hard", g[0]))

