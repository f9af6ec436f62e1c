"""Matching quality on the labelled sets holds the bar; the eval command reports it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.matching.evaluate import (
    HOLDOUT,
    MESSY_SETS,
    POOLED_HOLDOUTS,
    Score,
    evaluate,
    evaluate_stories,
    format_report,
    format_story_report,
    load_labelled,
    load_story_items,
)
from bot.matching.matcher import Matcher
from bot.matching.watchlists import load_watchlists
from bot.partners.catalog import load_partnerships, named_phrases
from bot.stories.anchors import Names, alias_map
from tests.support.common import ROOT, WATCHLISTS

DATA = ROOT / "tests" / "data"
LABELLED_SETS = ["matching.jsonl", "matching-holdout.jsonl"]
MIN_OVERALL_PRECISION = 0.98
MIN_OVERALL_RECALL = 0.95
MIN_PER_WATCHLIST = 0.93


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_watchlists(WATCHLISTS))


def test_labelled_set_is_large_balanced_and_bilingual() -> None:
    items = load_labelled(DATA / "matching.jsonl")
    assert len(items) >= 300
    assert len({item.id for item in items}) == len(items)
    languages = {lang: sum(1 for i in items if i.lang == lang) for lang in ("fr", "en")}
    assert min(languages.values()) >= 0.4 * len(items)
    positives = sum(1 for i in items if i.expected)
    assert 0.4 <= positives / len(items) <= 0.6
    for watchlist in ("canik-academy", "wagner", "fama", "tb2", "goita"):
        assert sum(1 for i in items if watchlist in i.expected) >= 25


# Messy text (invisible characters, broken and fused words, look-alike letters…), written
# blind: the first set was tuned on; the hold-out, by another writer, never read item by
# item. Bars: the for the tuned set, what the hold-out holds for it (precision,
# recall, and the lowest of any watchlist).
MESSY_BARS = {"matching-messy.jsonl": (0.98, 0.97, 0.95),
              "matching-messy-holdout.jsonl": (0.99, 0.98, 0.96)}
# A third messy set, Wagner-heavy, by a third writer, split in halves (its hold-out scored
# 0.978 / 0.863 when it came).
MESSY_3 = "matching-messy-3.jsonl"
# A fourth, by a fourth writer, split in halves (its hold-out scored 1.000 / 0.935 when it
# came).
MESSY_4 = "matching-messy-4.jsonl"
# A fifth, by a fifth writer, split in halves (its hold-out scored 0.990 / 0.981 when it
# came).
MESSY_5 = "matching-messy-5.jsonl"
# A sixth, by a sixth writer, split in halves (its hold-out scored 1.000 / 1.000 when it
# came, and was never looked at again).
MESSY_6 = "matching-messy-6.jsonl"
SPLIT_BARS = {(MESSY_3, "tune"): (0.99, 0.99, 0.99), (MESSY_3, "holdout"): (0.97, 0.95, 0.93),
              (MESSY_4, "tune"): (0.99, 0.99, 0.99), (MESSY_4, "holdout"): (0.98, 0.95, 0.92),
              (MESSY_5, "tune"): (0.99, 0.99, 0.95), (MESSY_5, "holdout"): (0.99, 0.98, 0.94),
              (MESSY_6, "tune"): (0.99, 0.99, 0.99), (MESSY_6, "holdout"): (0.99, 0.99, 0.99)}
# The bar for messy text, on every messy item kept out of tuning, together: six
# hundred and forty items by five writers.
POOLED_BAR = (0.98, 0.97, 0.95)
BARS = {(name, ""): (MIN_OVERALL_PRECISION, MIN_OVERALL_RECALL, MIN_PER_WATCHLIST)
        for name in LABELLED_SETS} | {(name, ""): bar for name, bar in MESSY_BARS.items()} \
    | SPLIT_BARS


@pytest.mark.parametrize(("name", "part"), sorted(BARS))
def test_matching_quality_holds_the_bar(matcher: Matcher, name: str, part: str) -> None:
    items = [i for i in load_labelled(DATA / name) if not part or i.part == part]
    evaluation = evaluate(matcher, items)
    held_out = name.endswith("holdout.jsonl") or part == "holdout"
    report = format_report(evaluation, items_shown=not held_out)
    precision, recall, lowest = BARS[name, part]
    assert evaluation.overall.precision >= precision, report
    assert evaluation.overall.recall >= recall, report
    for watchlist, score in evaluation.per_watchlist.items():
        assert score.precision >= lowest, f"{watchlist}\n{report}"
        assert score.recall >= lowest, f"{watchlist}\n{report}"


def test_messy_text_holds_the_bar_on_every_hold_out_together(matcher: Matcher) -> None:
    held_out = [item for path in MESSY_SETS for item in load_labelled(ROOT / path)
                if item.part == HOLDOUT]
    assert len(held_out) >= 600
    evaluation = evaluate(matcher, held_out)
    report = format_report(evaluation, items_shown=False)
    precision, recall, lowest = POOLED_BAR
    assert evaluation.overall.precision >= precision, report
    assert evaluation.overall.recall >= recall, report
    for watchlist, score in evaluation.per_watchlist.items():
        assert min(score.precision, score.recall) >= lowest, f"{watchlist}\n{report}"


def test_eval_without_a_file_prints_every_set_and_no_item() -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "eval"], capture_output=True,
                            text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()
    assert rows[0].split()[:2] == ["set", "precision"]
    names = [row.split("  ")[0].strip() for row in rows[1:]]
    assert "matching.jsonl" in names and f"{MESSY_6} (holdout)" in names
    assert names[-1] == POOLED_HOLDOUTS
    assert not any(row.startswith("- ") for row in rows)  # hold-outs are not read


@pytest.mark.parametrize("name", sorted(MESSY_BARS))
def test_the_messy_sets_are_bilingual_and_mostly_hard(name: str) -> None:
    items = load_labelled(DATA / name)
    assert len(items) >= 200 and len({i.id for i in items}) == len(items)
    for lang in ("fr", "en"):
        assert sum(1 for i in items if i.lang == lang) == len(items) // 2
    for watchlist in ("canik-academy", "wagner", "fama", "tb2", "goita"):
        assert sum(1 for i in items if watchlist in i.expected) >= 20
    part = "holdout" if name.endswith("holdout.jsonl") else "tune"
    assert all(i.part == part for i in items)


def test_scores() -> None:
    score = Score(tp=8, fp=2, fn=0)
    assert (score.precision, score.recall) == (0.8, 1.0)
    assert round(score.f1, 3) == 0.889
    assert Score().precision == 1.0 and Score().recall == 1.0


def test_eval_command_lists_every_miss_with_its_reason(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "title": "Le colonel Goïta à Kati", "summary": "", "expected": ["goita"]},
        {"id": "b", "title": "Goya au Prado", "summary": "", "expected": ["goita"],
         "note": "mislabelled on purpose"},
        {"id": "c", "title": "Les FAMa à Gao", "summary": "", "expected": []},
    ]
    data = tmp_path / "set.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot", "eval", str(data), "--watchlists",
                             str(WATCHLISTS)], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0].split() == ["watchlist", "precision", "recall", "F1", "TP", "FP",
                                           "FN"]
    assert "- missed goita [b] no term matched (mislabelled on purpose): Goya au Prado" in out
    assert ("- false alarm fama [c] «FAMa» matched term «FAMa» in the title (score 100)"
            in out)
    overall = next(line for line in out.splitlines() if line.startswith("overall"))
    assert overall.split()[1:3] == ["0.500", "0.500"]


def test_bad_labelled_line_names_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "set.jsonl"
    data.write_text('{"id": "a", "title": "x", "expected": []}\n{"id": "b"}\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot", "eval", str(data)],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 1
    assert f"{data}:2: bad labelled item" in result.stderr


def test_match_benchmark_runs_and_prints_its_table() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "match.py"), "--quick",
                             "--items", "200"], capture_output=True, text=True, cwd=ROOT,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "| shipped watchlists (5) |" in result.stdout
    assert "regex OR" in result.stdout


def test_commands_benchmark_runs_and_prints_its_table() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "commands.py"), "--items",
                             "3000", "--runs", "2"], capture_output=True, text=True, cwd=ROOT,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "3,000 items over 90 days" in result.stdout
    assert "| /recent 50, page 5 |" in result.stdout
    assert "| /search Ménaka (accented: " in result.stdout


# Floors the grouping holds today (README, "One story, one alert"): precision first, since a
# wrong merge hides news; the hold-out set was written blind and is not tuned on.
STORY_FLOORS = {
    "stories.jsonl": {"precision": 0.99, "same": 0.95, "cross": 0.90},
    "stories-holdout.jsonl": {"precision": 0.97, "same": 0.75, "cross": 0.90},
}


@pytest.fixture(scope="module")
def story_aliases() -> Names:
    watchlists = load_watchlists(WATCHLISTS)
    partnerships = load_partnerships(WATCHLISTS / "partnerships" / "partnerships.toml",
                                     watchlists)
    return alias_map(named_phrases(watchlists, partnerships))


@pytest.mark.parametrize("name", sorted(STORY_FLOORS))
def test_story_grouping_holds_the_bar(name: str, story_aliases: Names) -> None:
    items = load_story_items(DATA / name)
    floors = STORY_FLOORS[name]
    evaluation = evaluate_stories(items, story_aliases)
    report = format_story_report(evaluation)
    assert evaluation.same_language.precision >= floors["precision"], report
    assert evaluation.cross_language.precision >= floors["precision"], report
    assert evaluation.same_language.recall >= floors["same"], report
    assert evaluation.cross_language.recall >= floors["cross"], report
    assert evaluation.traps >= 20 and evaluation.trap_errors == 0, report  # no near miss joined


def test_eval_stories_command_prints_pairwise_figures() -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "eval", "--stories"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].split()[:3] == ["pairs", "precision", "recall"]
    assert lines[2].startswith("same language") and lines[3].startswith("cross-language")


def test_story_grouping_is_the_same_in_every_process() -> None:
    """Sets of words are read in an order that changes with the hash seed; the stories
    found must not."""
    outputs = {subprocess.run([sys.executable, "-m", "bot", "eval", "--stories"],
                              capture_output=True, text=True, cwd=ROOT, timeout=60,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2", "3")}
    assert len(outputs) == 1, outputs
