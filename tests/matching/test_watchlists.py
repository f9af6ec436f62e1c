"""The watchlist format: shipped files, options, and errors with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.matching.watchlists import validate_watchlists
from tests.support.common import WATCHLISTS

SHIPPED_IDS = {"canik-academy", "wagner", "fama", "tb2", "goita"}


def test_shipped_watchlists_are_valid() -> None:
    watchlists, errors = validate_watchlists(WATCHLISTS)
    assert errors == []
    assert {w.id for w in watchlists} == SHIPPED_IDS
    assert all(w.description and w.terms for w in watchlists)


def test_options_are_read(tmp_path: Path) -> None:
    (tmp_path / "demo.toml").write_text(
        'name = "Demo"\npriority = "high"\nthreshold = 90\nterms = ["Alpha Beta"]\n'
        '[[term]]\ntext = "ABC"\ncase = true\n'
        '[[term]]\ntext = "Gamma"\ncontext = ["Mali"]\nexclude = ["Gamma Ray"]\nfuzzy = false\n',
        encoding="utf-8",
    )
    [watchlist], errors = validate_watchlists(tmp_path)
    assert errors == []
    assert (watchlist.id, watchlist.name, watchlist.priority, watchlist.threshold) == (
        "demo", "Demo", "high", 90)
    abc, gamma = watchlist.terms[1:]
    assert abc.case and abc.line == 6
    assert gamma.context == ("Mali",) and gamma.exclude == ("Gamma Ray",) and not gamma.fuzzy


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('terms = ["A"]\ncolour = "red"\n', 2, "unknown key 'colour'"),
        ('terms = [\n  "ok",\n  "",\n]\n', 3, "empty term"),
        ('terms = [\n  "!!!",\n]\n', 2, "can never match"),
        ('[[term]]\ntext = "A"\ncontext = "Mali"\n', 3, "context must be a list"),
        ('[[term]]\ncase = true\n', 1, "missing text"),
        ('priority = "urgent"\nterms = ["A"]\n', 1, "priority must be one of"),
        ('terms = [\n  "Goïta",\n  "Goita",\n]\n', 3, "duplicates the term"),
        ('terms = []\n', None, "no terms"),
        ('[[term]]\ntext = "Bayraktar TB2"\nexclude = ["tb-2"]\n', 2, "can never match"),
        ('[[term]]\ntext = "Assimi Goïta"\nsurname = true\n', 2, "needs a term of one word"),
        ('[[term]]\ntext = "Wagner"\nsurname = "yes"\n', 3, "surname must be"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int | None,
                                   message: str) -> None:
    (tmp_path / "bad.toml").write_text(text, encoding="utf-8")
    _, errors = validate_watchlists(tmp_path)
    assert len(errors) == 1
    assert errors[0].line == line
    assert message in errors[0].message
    assert errors[0].path.endswith("bad.toml")


def test_duplicate_across_files_names_both(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('terms = ["Wagner Group"]\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('terms = [\n  "wagner group",\n]\n', encoding="utf-8")
    watchlists, errors = validate_watchlists(tmp_path)
    assert len(watchlists) == 2
    [error] = errors
    assert error.path.endswith("b.toml") and error.line == 2
    assert "a.toml:1" in error.message


def test_bad_file_name_and_empty_folder(tmp_path: Path) -> None:
    _, errors = validate_watchlists(tmp_path)
    assert "no watchlist files" in errors[0].message
    (tmp_path / "Bad Name.toml").write_text('terms = ["x"]\n', encoding="utf-8")
    _, errors = validate_watchlists(tmp_path)
    assert "not a valid watchlist id" in errors[0].message


def test_an_error_deep_in_a_long_list_names_its_own_line(tmp_path: Path) -> None:
    terms = [f'  "terme numéro {n}",' for n in range(5000)]
    terms[4321] = '  "",'  # an empty term, on line 4,324 (terms start on line 3)
    (tmp_path / "long.toml").write_text('name = "Long"\nterms = [\n' + "\n".join(terms)
                                        + "\n]\n", encoding="utf-8")
    _, [error] = validate_watchlists(tmp_path)
    assert (error.line, error.message) == (4324, "empty term")


def test_a_file_over_the_size_limit_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    from bot.settings.tomlfile import MAX_TOML_BYTES

    path = tmp_path / "huge.toml"
    path.write_text('name = "Huge"\n# ' + "x" * MAX_TOML_BYTES + '\nterms = ["a b"]\n',
                    encoding="utf-8")
    _, [error] = validate_watchlists(tmp_path)
    assert error.path.endswith("huge.toml")
    assert error.message.startswith("file too large: ") and "(at most 5,000,000)" in error.message
