"""Quality on labelled sets: matching per watchlist, and "same story" over pairs of items."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import ConfigError
from bot.matching.matcher import Hit, Matcher
from bot.matching.text import html_to_text
from bot.stories.anchors import NO_NAMES, Names
from bot.stories.identity import canonical_url, guid_key
from bot.stories.index import StoryIndex

DEFAULT_LABELLED_SET = Path("tests/data/matching.jsonl")
# Every shipped matching set, as `eval` without a file scores them (a split set half by
# half): the first written with the watchlists, the others blind, from the third on of
# messy text.
MATCHING_SETS = (DEFAULT_LABELLED_SET, Path("tests/data/matching-holdout.jsonl"),
                 Path("tests/data/matching-messy.jsonl"),
                 Path("tests/data/matching-messy-holdout.jsonl"),
                 Path("tests/data/matching-messy-3.jsonl"),
                 Path("tests/data/matching-messy-4.jsonl"),
                 Path("tests/data/matching-messy-5.jsonl"),
                 Path("tests/data/matching-messy-6.jsonl"))
MESSY_SETS = MATCHING_SETS[2:]
POOLED_HOLDOUTS = "messy hold-outs together"  # the row of every messy held-out item
T = TypeVar("T")
TUNE, HOLDOUT = "tune", "holdout"  # the parts of a set ("part"): tuned on, and kept out
PARTS = (TUNE, HOLDOUT)
WATCHLIST_WIDTH = 16  # the first column of a set's table: a watchlist id fits
SET_WIDTH = 32  # the first column of the table of sets: a file name and its part fit


@dataclass(frozen=True)
class LabelledItem:
    """An item with the watchlists it truly mentions."""

    id: str
    title: str
    summary: str
    expected: frozenset[str]
    lang: str = ""
    note: str = ""
    part: str = ""  # TUNE, HOLDOUT, or "" for a set not split


@dataclass
class Score:
    """Counts of one watchlist (or all of them) and the measures drawn from them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """Share of flagged items that were right (1.0 when nothing was flagged)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of true mentions that were flagged (1.0 when there were none)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Miss:
    """One wrong answer, with what explains it."""

    item: LabelledItem
    watchlist: str
    kind: str  # "missed" or "false alarm"
    reason: str


@dataclass
class Evaluation:
    """The result of running the matcher over a labelled set."""

    per_watchlist: dict[str, Score] = field(default_factory=dict)
    overall: Score = field(default_factory=Score)
    misses: list[Miss] = field(default_factory=list)
    items: int = 0


def load_labelled(path: Path) -> list[LabelledItem]:
    """Read a JSON-lines labelled set; ConfigError with file and line on a bad line."""
    return _read_jsonl(path, "labelled item", _labelled_item)


def _labelled_item(record: dict[str, Any]) -> LabelledItem:
    expected = record["expected"]
    if not isinstance(expected, list) or not all(isinstance(e, str) for e in expected):
        raise TypeError("expected must be a list of watchlist ids")
    return LabelledItem(
        id=str(record["id"]), title=str(record.get("title") or ""),
        summary=str(record.get("summary") or ""), expected=frozenset(expected),
        lang=str(record.get("lang", "")), note=str(record.get("note", "")),
        part=part_of(record),
    )


def part_of(record: dict[str, Any]) -> str:
    """The record's ``part`` (TUNE or HOLDOUT), "" when the set is not split."""
    part = record.get("part", "")
    if part not in ("", *PARTS):
        raise TypeError(f"part must be {' or '.join(PARTS)}, not {part!r}")
    return str(part)


def _read_jsonl(path: Path, what: str, build: Callable[[dict[str, Any]], T]) -> list[T]:
    """One ``build(record)`` per non-blank line; ConfigError naming the file and the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(path, f"cannot read the {what}s: {exc.strerror}") from None
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(build(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(path, f"bad {what}: {exc!r}", number) from None
    return records


def evaluate(matcher: Matcher, items: Iterable[LabelledItem]) -> Evaluation:
    """Match every item and score the answers against the labels."""
    result = Evaluation()
    known = [w.id for w in matcher.watchlists]
    result.per_watchlist = {watchlist: Score() for watchlist in known}
    for item in items:
        result.items += 1
        hits = matcher.match(html_to_text(item.title), html_to_text(item.summary))
        found = {hit.watchlist for hit in hits}
        for watchlist in known:
            score = result.per_watchlist[watchlist]
            expected = watchlist in item.expected
            if expected and watchlist in found:
                score.tp += 1
            elif watchlist in found:
                score.fp += 1
                result.misses.append(Miss(item, watchlist, "false alarm",
                                          _evidence([h for h in hits if h.watchlist == watchlist])))
            elif expected:
                score.fn += 1
                result.misses.append(Miss(item, watchlist, "missed", "no term matched"))
    for score in result.per_watchlist.values():
        result.overall.tp += score.tp
        result.overall.fp += score.fp
        result.overall.fn += score.fn
    return result


def _evidence(hits: Sequence[Hit]) -> str:
    return "; ".join(f"«{h.text}» matched term «{h.term}» in the {h.field} (score {h.score})"
                     for h in hits)


def score_header(first: str, width: int) -> str:
    """The header of a table of measures whose first column is ``width`` wide."""
    return (f"{first:<{width}} {'precision':>9} {'recall':>7} {'F1':>6} {'TP':>5} {'FP':>4} "
            f"{'FN':>4}")


def score_row(name: str, score: Score, width: int) -> str:
    """One row of a table of measures (see score_header)."""
    return (f"{name:<{width}} {score.precision:>9.3f} {score.recall:>7.3f} {score.f1:>6.3f} "
            f"{score.tp:>5} {score.fp:>4} {score.fn:>4}")


def format_sets(evaluations: Sequence[tuple[str, Evaluation]]) -> str:
    """One line per labelled set: its name and overall measures, then its weakest
    watchlist."""
    rows = [f"{score_header('set', SET_WIDTH)}  weakest watchlist"]
    for name, result in evaluations:
        weakest = min(result.per_watchlist.items(),
                      key=lambda item: min(item[1].precision, item[1].recall), default=None)
        low = (f"{weakest[0]} {min(weakest[1].precision, weakest[1].recall):.3f}"
               if weakest else "")
        rows.append(f"{score_row(name, result.overall, SET_WIDTH)}  {low}")
    return "\n".join(rows) + "\n"


def format_report(evaluation: Evaluation, *, items_shown: bool = True) -> str:
    """A readable table of the measures, then (``items_shown``) every miss with its
    reason."""
    rows = [score_header("watchlist", WATCHLIST_WIDTH)]
    scores = [*sorted(evaluation.per_watchlist.items()), ("overall", evaluation.overall)]
    rows += [score_row(name, score, WATCHLIST_WIDTH) for name, score in scores]
    rows.append(f"\n{evaluation.items} items, {len(evaluation.misses)} errors")
    for miss in evaluation.misses if items_shown else ():
        text = f"{miss.item.title} | {miss.item.summary}"
        rows.append(f"- {miss.kind} {miss.watchlist} [{miss.item.id}] {miss.reason}"
                    f"{f' ({miss.item.note})' if miss.item.note else ''}: {text[:160]}")
    return "\n".join(rows) + "\n"


DEFAULT_STORY_SET = Path("tests/data/stories.jsonl")
STORY_WINDOW = timedelta(hours=72)


@dataclass(frozen=True)
class StoryItem:
    """A feed item labelled with the story it reports."""

    id: str
    feed: str
    lang: str
    guid: str | None
    link: str | None
    title: str
    summary: str
    published: datetime
    story: str
    trap: bool = False  # a near miss: alike another item, yet another event


@dataclass
class StoryEvaluation:
    """Pairwise "same story" scores, for same-language and cross-language pairs."""

    same_language: Score = field(default_factory=Score)
    cross_language: Score = field(default_factory=Score)
    errors: list[tuple[str, StoryItem, StoryItem]] = field(default_factory=list)
    items: int = 0
    stories: int = 0
    traps: int = 0  # items labelled as near misses
    trap_errors: int = 0  # pairs wrongly joined where one item is a near miss


def load_story_items(path: Path) -> list[StoryItem]:
    """Read a JSON-lines story set; ConfigError with file and line on a bad line."""
    return _read_jsonl(path, "story item", lambda r: StoryItem(
        id=str(r["id"]), feed=str(r["feed"]), lang=str(r.get("lang", "")), guid=r.get("guid"),
        link=r.get("link"), title=html_to_text(r["title"]),
        summary=html_to_text(r.get("summary") or ""),
        published=datetime.fromisoformat(r["published"]), story=str(r["story"]),
        trap=bool(r.get("trap", False)),
    ))


def assign_stories(items: Sequence[StoryItem],
                   aliases: Names = NO_NAMES) -> dict[str, int]:
    """Group items into stories as the bot does, in publication order: item id -> story.
    ``aliases``: the names of actors and watched subjects (see ``alias_map``)."""
    index = StoryIndex(STORY_WINDOW, aliases)
    by_identity: dict[str, int] = {}
    assigned: dict[str, int] = {}
    for number, item in enumerate(sorted(items, key=lambda i: i.published)):
        keys = [k for k in (guid_key(item.guid, item.feed),
                            canonical_url(item.link) if item.link else None) if k]
        story = next((by_identity[k] for k in keys if k in by_identity), None)
        fp = index.fingerprint(item.title, item.summary)
        anchors = index.anchors(item.title, item.summary, item.lang)
        if story is None:
            story = index.find(fp, item.published, anchors)
        if story is None:
            story = number
        for key in keys:
            by_identity.setdefault(key, story)
        index.add(number, story, item.published, fp, anchors)
        assigned[item.id] = story
    return assigned


def evaluate_stories(items: Sequence[StoryItem],
                     aliases: Names = NO_NAMES) -> StoryEvaluation:
    """Score every pair of items: are they put in the same story exactly when labelled so?"""
    assigned = assign_stories(items, aliases)
    result = StoryEvaluation(items=len(items), stories=len(set(assigned.values())),
                             traps=sum(item.trap for item in items))
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            truth = a.story == b.story
            predicted = assigned[a.id] == assigned[b.id]
            score = result.same_language if a.lang == b.lang else result.cross_language
            if truth and predicted:
                score.tp += 1
            elif predicted:
                score.fp += 1
                result.trap_errors += a.trap or b.trap
                result.errors.append(("wrongly joined", a, b))
            elif truth:
                score.fn += 1
                result.errors.append(("wrongly split", a, b))
    return result


def format_story_report(evaluation: StoryEvaluation) -> str:
    """Pairwise precision and recall, the near misses wrongly joined, then each wrong
    pair."""
    rows = [f"{evaluation.items} items, {evaluation.stories} stories found",
            f"{'pairs':<16} {'precision':>9} {'recall':>7} {'F1':>6} {'TP':>5} {'FP':>4} "
            f"{'FN':>4}"]
    for name, score in (("same language", evaluation.same_language),
                        ("cross-language", evaluation.cross_language)):
        rows.append(f"{name:<16} {score.precision:>9.3f} {score.recall:>7.3f} {score.f1:>6.3f} "
                    f"{score.tp:>5} {score.fp:>4} {score.fn:>4}")
    rows.append(f"near-miss traps: {evaluation.traps} items, {evaluation.trap_errors} pairs "
                "wrongly joined")
    for kind, a, b in evaluation.errors:
        rows.append(f"- {kind} [{a.id} {a.story}] {a.title[:70]} | [{b.id} {b.story}] "
                    f"{b.title[:70]}")
    return "\n".join(rows) + "\n"
