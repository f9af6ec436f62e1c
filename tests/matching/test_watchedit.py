"""/watch add and /watch remove: files keep their comments and layout; bad edits are refused."""

from __future__ import annotations

import os
import shutil
import stat
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.matching.edit import MAX_TERM_LENGTH, WatchEditError, add_term, remove_term
from bot.matching.watchlists import load_watchlists, validate_watchlists
from tests.support.common import WATCHLISTS


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the shipped watchlists, with a config.toml beside it that must never change."""
    copy = tmp_path / "watchlists"
    shutil.copytree(WATCHLISTS, copy)
    (tmp_path / "config.toml").write_text('watchlists_dir = "watchlists"\n', encoding="utf-8")
    return copy


def read(folder: Path, name: str) -> str:
    return (folder / f"{name}.toml").read_bytes().decode("utf-8")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.parent.rglob("*")) if p.is_file()}


def refused(code: str, action: Callable[[Path, str, str], Path], folder: Path, watchlist: str,
            term: str) -> str:
    """Run a change that must be refused with ``code``; no file may change. Returns the message."""
    before = snapshot(folder)
    with pytest.raises(WatchEditError) as caught:
        action(folder, watchlist, term)
    assert caught.value.code == code, str(caught.value)
    assert snapshot(folder) == before
    return str(caught.value)


def terms_of(folder: Path, watchlist: str) -> list[str]:
    found = {w.id: w for w in load_watchlists(folder)}
    return [term.text for term in found[watchlist].terms]


# Adding -----------------------------------------------------------------------------------


def test_add_to_a_multiline_list_keeps_every_other_byte(folder: Path) -> None:
    before = read(folder, "canik-academy")
    written = add_term(folder, "canik-academy", "  Canik Academy Istanbul ")
    assert written == folder / "canik-academy.toml"
    assert read(folder, "canik-academy") == (
        "# Canik Academy: the Turkish military training company (also \"Canik Akademi\").\n"
        "# Not Canik pistols (TP9, METE, Canik Arms), not the Canik district of Samsun,\n"
        "# not other Turkish military companies such as SADAT.\n"
        'name = "Canik Academy"\n'
        'description = "Turkish military training company Canik Academy / Canik Akademi"\n'
        'priority = "high"\n'
        "\n"
        "# Simple aliases: matched accent- and case-insensitively, on whole words,\n"
        "# with one-character slips tolerated in words of 7 letters or more.\n"
        "terms = [\n"
        '  "Canik Academy",\n'
        '  "Canik Akademi",\n'
        '  "Canik Académie",\n'
        '  "Académie Canik",\n'
        '  "Canik Akademisi",\n'
        '  "Canik Academy Istanbul",\n'
        "]\n"
    )
    assert before.replace('"Canik Akademisi",\n', '"Canik Akademisi",\n'
                          '  "Canik Academy Istanbul",\n') == read(folder, "canik-academy")


def test_add_before_the_tables_keeps_the_tables_and_their_comments(folder: Path) -> None:
    before = read(folder, "wagner")
    add_term(folder, "wagner", "Wagner contractors")
    after = read(folder, "wagner")
    assert after == before.replace('  "группа Вагнера",\n]\n',
                                   '  "группа Вагнера",\n  "Wagner contractors",\n]\n')
    assert "Wagner contractors" in terms_of(folder, "wagner")


def test_add_creates_the_terms_list_before_the_first_table(folder: Path) -> None:
    path = folder / "sadat.toml"
    path.write_text(
        "# SADAT, the Turkish defence consultancy.\n"
        'name = "SADAT"\n'
        'priority = "low"\n'
        "\n"
        "# The acronym, with its capitals.\n"
        "[[term]]\n"
        'text = "SADAT"\n'
        "case = true\n",
        encoding="utf-8",
    )
    add_term(folder, "sadat", 'SADAT "International Defense" Consulting')
    assert path.read_text(encoding="utf-8") == (
        "# SADAT, the Turkish defence consultancy.\n"
        'name = "SADAT"\n'
        'priority = "low"\n'
        "\n"
        "terms = [\n"
        '  "SADAT \\"International Defense\\" Consulting",\n'
        "]\n"
        "\n"
        "# The acronym, with its capitals.\n"
        "[[term]]\n"
        'text = "SADAT"\n'
        "case = true\n"
    )
    assert terms_of(folder, "sadat") == ['SADAT "International Defense" Consulting', "SADAT"]
    add_term(folder, "sadat", "SADAT AŞ")
    assert '  "SADAT \\"International Defense\\" Consulting",\n  "SADAT AŞ",\n]\n\n# The' in \
        path.read_text(encoding="utf-8")


@pytest.mark.parametrize("variant", ["Goïta", "goita", "GOITA", "  goïta ", "Goi\u0308ta",
                                     "ASSIMI GOÏTA", "assimi-goita"])
def test_add_refuses_a_term_the_file_already_has(folder: Path, variant: str) -> None:
    message = refused("duplicate", add_term, folder, "goita", variant)
    assert "already has" in message


def test_add_refuses_a_spelling_of_a_table_term(folder: Path) -> None:
    refused("duplicate", add_term, folder, "tb2", "TB-2")


def test_add_refuses_a_term_another_watchlist_has(folder: Path) -> None:
    message = refused("invalid", add_term, folder, "goita", "wagner group")
    assert "duplicates the term" in message
    assert str(folder) not in message  # file names only, no server paths in a chat reply


def test_add_refuses_a_term_that_can_never_match(folder: Path) -> None:
    message = refused("invalid", add_term, folder, "goita", "!!!")
    assert "never match" in message


@pytest.mark.parametrize("term", ["", "   ", "Goïta\nWagner", "tab\tinside"])
def test_add_refuses_empty_or_multiline_terms(folder: Path, term: str) -> None:
    refused("invalid", add_term, folder, "goita", term)


def test_add_limits_the_length(folder: Path) -> None:
    refused("too-long", add_term, folder, "goita", "a" * (MAX_TERM_LENGTH + 1))
    add_term(folder, "goita", " " + "a" * MAX_TERM_LENGTH + " ")
    assert "a" * MAX_TERM_LENGTH in terms_of(folder, "goita")


# Removing ---------------------------------------------------------------------------------


def test_remove_from_the_list_by_any_spelling(folder: Path) -> None:
    before = read(folder, "goita")
    written = remove_term(folder, "goita", "ГОИТА")
    assert written == folder / "goita.toml"
    assert read(folder, "goita") == before.replace('  "Гоита",\n', "")
    assert terms_of(folder, "goita")[:2] == ["Assimi Goïta", "Ассими Гоита"]
    assert "Гоита" not in terms_of(folder, "goita")


def test_remove_from_the_middle_of_a_list_with_comments(folder: Path) -> None:
    before = read(folder, "wagner")
    remove_term(folder, "wagner", "чвк вагнер")
    assert read(folder, "wagner") == before.replace('  "ЧВК Вагнер",\n', "", 1)


def test_remove_a_table_takes_its_comment_and_nothing_else(folder: Path) -> None:
    before = read(folder, "tb2")
    remove_term(folder, "tb2", "tb 2")
    table = before[before.index('# "TB2", "TB-2"') : before.index('# "Bayraktar" alone')]
    assert table.count("[[term]]") == 1 and table.endswith("]\n\n")
    assert read(folder, "tb2") == before.replace(table, "")
    assert terms_of(folder, "tb2") == ["Bayraktar TB2", "Байрактар ТБ2", "Байрактар TB2",
                                       "Bayraktar"]


def test_remove_the_last_table_leaves_no_trailing_blank_line(folder: Path) -> None:
    before = read(folder, "tb2")
    remove_term(folder, "tb2", "Bayraktar")
    assert read(folder, "tb2") == before[: before.index("\n\n# \"Bayraktar\" alone")] + "\n"
    assert terms_of(folder, "tb2") == ["Bayraktar TB2", "Байрактар ТБ2", "Байрактар TB2",
                                       "TB2"]


def test_remove_picks_the_exact_spelling_among_case_sensitive_tables(folder: Path) -> None:
    message = refused("invalid", remove_term, folder, "fama", "fama")
    assert "“FAMa”, “FAMA”, “Fama”" in message
    before = read(folder, "fama")
    remove_term(folder, "fama", "FAMA")
    start = before.index("# Other spellings")
    end = before.index('[[term]]\ntext = "Fama"')
    assert read(folder, "fama") == before[:start] + before[end:]
    assert "FAMA" not in terms_of(folder, "fama")
    assert "FAMa" in terms_of(folder, "fama")


def test_remove_refuses_an_unknown_term(folder: Path) -> None:
    refused("not-found", remove_term, folder, "goita", "Goya")
    refused("not-found", remove_term, folder, "goita", "!!!")
    refused("not-found", remove_term, folder, "goita", "Wagner Group")  # in another file


def test_remove_refuses_the_last_term(folder: Path) -> None:
    first, *others = terms_of(folder, "goita")
    for spelling in others:
        remove_term(folder, "goita", spelling)
    message = refused("invalid", remove_term, folder, "goita", first)
    assert "at least one term" in message


def test_remove_from_inline_term_tables(folder: Path) -> None:
    path = folder / "inline.toml"
    path.write_text('name = "Inline"\nterm = [\n  {text = "Alpha"},\n  {text = "Beta"},\n]\n',
                    encoding="utf-8")
    remove_term(folder, "inline", "alpha")
    assert path.read_text(encoding="utf-8") == \
        'name = "Inline"\nterm = [\n  {text = "Beta"},\n]\n'


# Which file ------------------------------------------------------------------------------


@pytest.mark.parametrize("watchlist", ["nope", "../config", "..", "goita/../goita", "/etc/passwd",
                                       "Goita", "goita.toml", "goita\n", "", "-goita",
                                       "a" * 65])
def test_unknown_or_unsafe_ids_are_refused(folder: Path, watchlist: str) -> None:
    refused("unknown-watchlist", add_term, folder, watchlist, "Ségou")
    refused("unknown-watchlist", remove_term, folder, watchlist, "name")


# The written file ------------------------------------------------------------------------


def test_written_files_validate_like_a_hand_edit(folder: Path) -> None:
    add_term(folder, "goita", "Colonel Goïta")
    add_term(folder, "fama", "armée nationale malienne")
    remove_term(folder, "wagner", "Corps africain")
    remove_term(folder, "fama", "FAMas")
    watchlists, errors = validate_watchlists(folder)
    assert errors == []
    terms = {w.id: [t.text for t in w.terms] for w in watchlists}
    assert "Colonel Goïta" in terms["goita"]
    assert terms["fama"][-5:] == ["armée nationale malienne", "FAMa", "FAMA", "Fama", "FAMAs"]
    assert "Corps africain" not in terms["wagner"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in
                                                               WATCHLISTS.iterdir())


def test_an_edit_is_refused_while_another_file_is_invalid(folder: Path) -> None:
    (folder / "broken.toml").write_text('name = "Broken"\nterms = [\n', encoding="utf-8")
    message = refused("invalid", add_term, folder, "goita", "Colonel Goïta")
    assert "broken.toml" in message


def test_a_file_invalid_as_it_stands_is_not_edited(folder: Path) -> None:
    path = folder / "goita.toml"
    path.write_text(read(folder, "goita") + "colour = 1\n", encoding="utf-8")
    message = refused("invalid", add_term, folder, "goita", "Colonel Goïta")
    assert "unknown key 'colour'" in message


def test_permissions_are_kept(folder: Path) -> None:
    path = folder / "goita.toml"
    path.chmod(0o640)
    add_term(folder, "goita", "Colonel Goïta")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    remove_term(folder, "goita", "Colonel Goïta")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_symlinked_watchlist_keeps_its_link(folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.toml"
    shutil.move(folder / "goita.toml", target)
    os.symlink(target, folder / "goita.toml")
    add_term(folder, "goita", "Colonel Goïta")
    assert (folder / "goita.toml").is_symlink()
    assert '"Colonel Goïta",' in target.read_text(encoding="utf-8")


def test_crlf_line_ends_are_kept(folder: Path) -> None:
    path = folder / "goita.toml"
    path.write_bytes(read(folder, "goita").replace("\n", "\r\n").encode("utf-8"))
    before = path.read_bytes()
    last = f'  "{tomllib.loads(before.decode("utf-8"))["terms"][-1]}",\r\n'.encode()
    add_term(folder, "goita", "Colonel Goïta")
    assert path.read_bytes() == before.replace(last, last + '  "Colonel Goïta",\r\n'.encode())


# Layouts of the terms list ---------------------------------------------------------------


LAYOUTS = [
    # a comment after the last item: the new item goes after it, before the bracket
    ('terms = [\n    "Alpha",  # first\n    # more to come\n]\n',
     'terms = [\n    "Alpha",  # first\n    # more to come\n    "Omega",\n]\n', None),
    # no trailing comma: the last item gets one, the new item has none, like the old last;
    # removing the new item again leaves the comma that adding it needed
    ('terms = [\n  "Alpha",\n  "Beta"\n]\n',
     'terms = [\n  "Alpha",\n  "Beta",\n  "Omega"\n]\n',
     'terms = [\n  "Alpha",\n  "Beta",\n]\n'),
    # tabs and a comment on the opening and closing lines
    ('terms = [  # aliases\n\t"Alpha",\n\t"Beta",\n]  # end\n',
     'terms = [  # aliases\n\t"Alpha",\n\t"Beta",\n\t"Omega",\n]  # end\n', None),
    # one line stays one line
    ('terms = ["Alpha", "Beta"]\n', 'terms = ["Alpha", "Beta", "Omega"]\n', None),
    # several items on the last line: the new one takes that line's indentation
    ('terms = [\n  "Alpha", "Beta",\n]\n', 'terms = [\n  "Alpha", "Beta",\n  "Omega",\n]\n',
     None),
    # an empty list written over two lines
    ('terms = [\n]\n\n[[term]]\ntext = "Alpha"\n',
     'terms = [\n  "Omega",\n]\n\n[[term]]\ntext = "Alpha"\n', None),
]


@pytest.mark.parametrize(("before", "added", "removed"), LAYOUTS)
def test_add_follows_the_layout_of_the_list(folder: Path, before: str, added: str,
                                            removed: str | None) -> None:
    path = folder / "layout.toml"
    path.write_text(f'name = "Layout"\n\n{before}', encoding="utf-8")
    add_term(folder, "layout", "Omega")
    assert path.read_text(encoding="utf-8") == f'name = "Layout"\n\n{added}'
    remove_term(folder, "layout", "omega")
    assert path.read_text(encoding="utf-8") == f'name = "Layout"\n\n{removed or before}'


def test_no_temporary_files_are_left_behind(folder: Path) -> None:
    add_term(folder, "goita", "Colonel Goïta")
    refused("invalid", add_term, folder, "goita", "???")
    remove_term(folder, "goita", "Colonel Goïta")
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in
                                                               WATCHLISTS.iterdir())
