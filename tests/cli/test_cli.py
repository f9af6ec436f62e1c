"""The command line: match (text and JSON lines) and check."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.support.common import ROOT, WATCHLISTS, write_config


def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        real = sys.stdin
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv), stdout=out, stderr=err)
    finally:
        if stdin is not None:
            sys.stdin = real
    return code, out.getvalue(), err.getvalue()


def test_match_text_explains_the_hit() -> None:
    code, out, _ = run("match", "--watchlists", str(WATCHLISTS), "Le colonel Assimi Goita")
    assert code == 0
    assert out == "goita: «Assimi Goita» matches term «Assimi Goïta» (score 100)\n"


def readme_match_examples() -> list[tuple[str, str]]:
    """The `python -m bot match` examples the README shows: the text, and what it prints."""
    examples: list[tuple[str, str]] = []
    inside = False  # within an example, until the next command or the end of its block
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        inside = inside and not line.startswith(("$", "```"))
        if line.startswith('$ python -m bot match "'):
            examples.append((line.split('"')[1], ""))
            inside = True
        elif inside:
            examples[-1] = (examples[-1][0], examples[-1][1] + line + "\n")
    return examples


def test_the_readme_match_examples_print_what_it_shows() -> None:
    examples = readme_match_examples()
    assert len(examples) >= 3
    for text, printed in examples:
        code, out, _ = run("match", "--watchlists", str(WATCHLISTS), text)
        assert (code, out) == (0, printed), text


def test_match_text_without_hit() -> None:
    code, out, _ = run("match", "--watchlists", str(WATCHLISTS), "Météo à Dakar")
    assert (code, out) == (0, "no match\n")


def test_match_json_keeps_input_order_and_reports_bad_lines(tmp_path: Path) -> None:
    lines = [
        {"id": "b", "title": "Rien", "summary": "<p>Les <b>FAMa</b> avancent</p>", "lang": "fr"},
        {"id": 7, "title": "Wagner Group in Mali", "summary": ""},
        "not json",
        {"id": "c", "title": "Goïta", "summary": None},
    ]
    source = tmp_path / "items.jsonl"
    source.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines),
                      encoding="utf-8")
    code, out, err = run("match", "--json", "--watchlists", str(WATCHLISTS), "--file",
                         str(source))
    assert code == 1
    assert f"{source}:3:" in err
    records = [json.loads(line) for line in out.splitlines()]
    assert [r.get("id") for r in records] == ["b", 7, None, "c"]
    assert records[0]["hits"] == [{"watchlist": "fama", "term": "FAMa", "text": "FAMa",
                                   "field": "summary", "score": 100}]
    assert records[1]["hits"][0]["watchlist"] == "wagner"
    assert records[2]["line"] == 3
    assert records[3]["hits"][0]["term"] == "Goïta"


def test_match_json_reads_standard_input() -> None:
    code, out, _ = run("match", "--json", "--watchlists", str(WATCHLISTS),
                       stdin='{"id": 1, "title": "TB-2 drones over Mali"}\n')
    assert code == 0
    assert json.loads(out)["hits"][0]["watchlist"] == "tb2"


def test_check_passes_on_shipped_files() -> None:
    code, out, err = run("--config", str(ROOT / "config.toml"), "check")
    assert (code, err) == (0, "")
    assert "watchlists: 5 valid" in out and out.endswith("ok\n")


def test_check_lists_every_error_with_file_and_line(tmp_path: Path) -> None:
    lists = tmp_path / "watchlists"
    lists.mkdir()
    (lists / "a.toml").write_text('terms = ["x"]\nbogus = 1\n', encoding="utf-8")
    (lists / "b.toml").write_text('terms = [\n  "",\n]\n', encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text('[telegram]\nchat = "@c"\nlanguage = "xx"\n', encoding="utf-8")
    code, _, err = run("--config", str(config), "check")
    assert code == 1
    assert f"{config}:3: language must be one of" in err
    config.write_text('[[feeds]]\nname = "A"\nurl = "https://a.example/"\n', encoding="utf-8")
    code, _, err = run("--config", str(config), "check")
    assert code == 1
    assert f"{lists / 'a.toml'}:2: unknown key 'bogus'" in err
    assert f"{lists / 'b.toml'}:2: empty term" in err


def test_module_entry_point_and_bad_config() -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "--config", "/nonexistent.toml",
                             "run", "--once"], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert result.returncode == 1
    assert "error: /nonexistent.toml: file not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_watchlist_is_reported_once_not_again_through_the_partnerships(
        tmp_path: Path) -> None:
    lists = tmp_path / "watchlists"
    shutil.copytree(WATCHLISTS, lists)
    tb2 = lists / "tb2.toml"
    tb2.write_text(tb2.read_text(encoding="utf-8") + "colour = 1\n", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'watchlists_dir = "{lists}"\n', encoding="utf-8")
    code, out, err = run("--config", str(config), "check")
    assert code == 1
    assert err.count("error:") == 1 and "tb2.toml" in err and "unknown key 'colour'" in err
    assert "partnerships: not checked until the watchlists are valid" in out


@pytest.mark.parametrize("argv", [
    ["run", "--once", "--config", "{config}"],
    ["--config", "{config}", "run", "--once"],
    ["--config", "/elsewhere.toml", "run", "--config", "{config}", "--once"],
    ["check", "--config", "{config}"],
    ["feeds", "export", "--config", "{config}"],
    ["export", "--format", "csv", "--config", "{config}"],
    ["health", "--log-level", "INFO", "--config", "{config}"],
])
def test_the_common_options_go_before_or_after_the_command(tmp_path: Path,
                                                           argv: list[str]) -> None:
    config = tmp_path / "missing.toml"  # each command names the file it was given
    code, _, err = run(*(a.format(config=config) for a in argv))
    assert code == 1 and f"{config}: file not found" in err, err
    assert "elsewhere" not in err  # the option after the command wins


def test_options_before_the_command_stay_when_none_follow_it(tmp_path: Path) -> None:
    config = write_config(tmp_path, [])
    code, _, err = run("--log-level", "INFO,bot.fetch=LOUD", "run", "--once", "--config",
                       str(config))
    assert code == 1 and "--log-level: unknown log level 'LOUD'" in err
