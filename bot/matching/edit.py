"""/watch add and /watch remove: change one term in a watchlist file, keeping its comments."""

from __future__ import annotations

import copy
import os
import re
import shutil
import tempfile
import threading
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Array

from bot.errors import BotError, ConfigError
from bot.matching.text import phrase_tokens
from bot.matching.watchlists import WATCHLIST_ID_RE, validate_watchlists, watchlist_from_document
from bot.settings.atomicfile import write_atomic
from bot.settings.tomlfile import HEADER_RE, parse_toml

UNKNOWN_WATCHLIST = "unknown-watchlist"
DUPLICATE = "duplicate"
NOT_FOUND = "not-found"
INVALID = "invalid"
TOO_LONG = "too-long"
ERROR_CODES = frozenset({UNKNOWN_WATCHLIST, DUPLICATE, NOT_FOUND, INVALID, TOO_LONG})

MAX_TERM_LENGTH = 200
WATCHLIST_SUFFIX = ".toml"
TERMS_KEY = "terms"  # the top-level list of simple aliases
TABLE_KEY = "term"  # the [[term]] tables
TEXT_KEY = "text"
NEW_ITEM_INDENT = "  "  # indentation of items in a terms list this module creates
COMMENT_PREFIX = "#"
CRLF = "\r\n"
MAX_REPORTED_ERRORS = 3

# One line of a block-layout array of strings: values, an optional trailing comma and
# an optional comment. Group 1 is the trailing comma.
_STRING = r"""(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
ARRAY_LINE_RE = re.compile(rf"^\s*{_STRING}(?:\s*,\s*{_STRING})*\s*(,)?\s*(?:#.*)?$")

_LOCK = threading.Lock()  # one edit at a time: read, check and replace must not interleave


class WatchEditError(BotError):
    """A /watch change was refused; ``code`` says why, the message says it in English."""

    def __init__(self, code: str, message: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown WatchEditError code {code!r}")
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class _TermPlace:
    """One term of a file: an item of the terms list, or a [[term]] table."""

    key: str  # TERMS_KEY or TABLE_KEY
    index: int
    text: str


def add_term(directory: Path, watchlist_id: str, term: str) -> Path:
    """Append ``term`` to the watchlist's ``terms`` list; return the file written."""
    term = term.strip()
    if not term:
        raise WatchEditError(INVALID, "the term is empty")
    if len(term) > MAX_TERM_LENGTH:
        raise WatchEditError(TOO_LONG, f"the term is longer than {MAX_TERM_LENGTH} characters")
    if any(unicodedata.category(char) == "Cc" for char in term):
        raise WatchEditError(INVALID, "the term must be a single line of text")
    path = _watchlist_path(directory, watchlist_id)
    with _LOCK:
        text, data = _read(path)
        wanted = phrase_tokens(term)
        for entry in _entries(data):
            if wanted and phrase_tokens(entry.text) == wanted:
                raise WatchEditError(DUPLICATE, f"{watchlist_id} already has the term "
                                     f"“{entry.text}”")
        expected = copy.deepcopy(data)
        expected[TERMS_KEY] = [*expected.get(TERMS_KEY, []), term]
        new_text = _edited(text, lambda lf_text: _with_term_added(lf_text, term))
        _check_and_write(directory, path, new_text, expected)
    return path


def remove_term(directory: Path, watchlist_id: str, term: str) -> Path:
    """Remove the entry equal to ``term`` (list item or [[term]] table); return the file."""
    term = term.strip()
    if not term:
        raise WatchEditError(INVALID, "the term is empty")
    path = _watchlist_path(directory, watchlist_id)
    with _LOCK:
        text, data = _read(path)
        entries = _entries(data)
        entry = _find(entries, term, watchlist_id)
        if len(entries) == 1:
            raise WatchEditError(INVALID, f"“{entry.text}” is the last term of {watchlist_id}; "
                                 "a watchlist needs at least one term")
        expected = copy.deepcopy(data)
        del expected[entry.key][entry.index]
        new_text = _edited(text, lambda lf_text: _with_entry_removed(lf_text, entry))
        _check_and_write(directory, path, new_text, expected)
    return path


def _watchlist_path(directory: Path, watchlist_id: str) -> Path:
    if not WATCHLIST_ID_RE.fullmatch(watchlist_id):
        raise WatchEditError(UNKNOWN_WATCHLIST, f"unknown watchlist “{watchlist_id}”")
    path = directory / f"{watchlist_id}{WATCHLIST_SUFFIX}"
    if not path.is_file():
        raise WatchEditError(UNKNOWN_WATCHLIST, f"unknown watchlist “{watchlist_id}”")
    return path


def _read(path: Path) -> tuple[str, dict[str, Any]]:
    """The file's text and data; refuse a file that does not validate as it stands."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WatchEditError(INVALID, f"{path.name} is not UTF-8 text ({exc.reason}); "
                             "fix it by hand first") from None
    try:
        document = parse_toml(path, text)
        watchlist_from_document(document)
    except ConfigError as exc:
        raise WatchEditError(INVALID, f"{path.name} is invalid as it stands; fix it by hand "
                             f"first: {_relative(exc, path.parent)}") from None
    return text, document.data


def _entries(data: dict[str, Any]) -> list[_TermPlace]:
    """Every term of a validated file, list items first, as watchlist_from_document reads them."""
    entries = [_TermPlace(TERMS_KEY, index, value.strip())
               for index, value in enumerate(data.get(TERMS_KEY, []))]
    entries += [_TermPlace(TABLE_KEY, index, str(table[TEXT_KEY]).strip())
                for index, table in enumerate(data.get(TABLE_KEY, []))]
    return entries


def _find(entries: list[_TermPlace], term: str, watchlist_id: str) -> _TermPlace:
    """The one entry ``term`` names: same words, accents and case aside; the exact
    spelling, then the same capitals, decide between case-sensitive variants (FAMa, FAMA)."""
    wanted = phrase_tokens(term)
    matches = [e for e in entries if wanted and phrase_tokens(e.text) == wanted]
    if not matches:
        raise WatchEditError(NOT_FOUND, f"{watchlist_id} has no term “{term}”")
    if len(matches) > 1:
        exact = unicodedata.normalize("NFC", term)
        narrowed = [e for e in matches if unicodedata.normalize("NFC", e.text) == exact]
        if not narrowed:
            cased = phrase_tokens(term, case=True)
            narrowed = [e for e in matches if phrase_tokens(e.text, case=True) == cased]
        if len(narrowed) != 1:
            spellings = ", ".join(f"“{e.text}”" for e in matches)
            raise WatchEditError(INVALID, f"“{term}” could be any of {spellings} in "
                                 f"{watchlist_id}; write the term exactly as listed")
        matches = narrowed
    return matches[0]


def _edited(text: str, change: Callable[[str], str]) -> str:
    """Apply ``change`` (LF text to LF text), keeping the file's CRLF line ends if it has them."""
    crlf = CRLF in text and text.count(CRLF) == text.count("\n")
    if not crlf:
        return change(text)
    return change(text.replace(CRLF, "\n")).replace("\n", CRLF)


def _with_term_added(text: str, term: str) -> str:
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise WatchEditError(INVALID, f"cannot edit this file automatically: {exc}") from None
    if TERMS_KEY not in document:
        return _with_terms_list(text, term)
    array = document[TERMS_KEY]
    if not isinstance(array, Array):
        raise WatchEditError(INVALID, f"{TERMS_KEY} is not a list")
    _append(array, term)
    return document.as_string()


def _append(array: Array, term: str) -> None:
    """Append ``term`` in the array's own layout.

    An array written one item per line, with the closing bracket on its own line, gets a new
    line before the bracket, indented like the last item, with a trailing comma if the last
    item had one. Other layouts (one line, or the bracket after the last item) are left to
    tomlkit, which follows them.
    """
    rendered = array.as_string()
    lines = rendered.split("\n")
    closing = lines[-1]
    if len(lines) < 2 or closing.strip() != "]":
        array.append(term)
        return
    values = [line for line in lines[1:-1]
              if line.strip() and not line.lstrip().startswith(COMMENT_PREFIX)]
    if not values:
        array.add_line(term, indent=closing[: -len("]")] + NEW_ITEM_INDENT, add_comma=True)
        return
    last = ARRAY_LINE_RE.match(values[-1])
    if last is None:  # a multi-line string or another value we cannot read line by line
        array.append(term)
        return
    indent = values[-1][: len(values[-1]) - len(values[-1].lstrip())]
    array.add_line(term, indent=indent, add_comma=last.group(1) is not None)


def _with_terms_list(text: str, term: str) -> str:
    """``text`` with a new ``terms = [...]`` before the first table and its comment."""
    block = (f"{TERMS_KEY} = [\n{NEW_ITEM_INDENT}{tomlkit.string(term).as_string()},\n]\n")
    lines = text.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if HEADER_RE.match(line)), None)
    if first is None:
        head = text if not text or text.endswith("\n") else text + "\n"
        gap = "\n" if head.strip() and not head.endswith("\n\n") else ""
        return head + gap + block
    start = _attached_comment_start(lines, first)
    return "".join(lines[:start]) + block + "\n" + "".join(lines[start:])


def _with_entry_removed(text: str, entry: _TermPlace) -> str:
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise WatchEditError(INVALID, f"cannot edit this file automatically: {exc}") from None
    container = document[entry.key]
    if isinstance(container, Array):  # the terms list, or term = [{text = ...}, ...]
        del container[entry.index]
        return document.as_string()
    if isinstance(container, AoT):
        return _without_table(text, entry.index)
    raise WatchEditError(INVALID, f"cannot edit {entry.key} in this file automatically")


def _without_table(text: str, index: int) -> str:
    """``text`` without the ``index``-th [[term]] table and the comment just above it.

    A table runs from its header to its last key; blank lines and comments after that
    belong to what follows. One run of blank lines goes with the table, so the spacing
    between what was before and what was after stays as it was.
    """
    lines = text.splitlines(keepends=True)
    headers = [i for i, line in enumerate(lines) if HEADER_RE.match(line)]
    tables = [i for i in headers if _is_term_table(lines[i])]
    if index >= len(tables):
        raise WatchEditError(INVALID, "the [[term]] tables of this file cannot be edited "
                             "automatically; edit it by hand")
    header = tables[index]
    following = next((i for i in headers if i > header), len(lines))
    end = following
    while end > header + 1 and _is_trivia(lines[end - 1]):
        end -= 1
    start = _attached_comment_start(lines, header)
    after = end
    while after < len(lines) and not lines[after].strip():
        after += 1
    if after < len(lines):
        return "".join(lines[:start] + lines[after:])
    before = start
    while before > 0 and not lines[before - 1].strip():
        before -= 1
    return "".join(lines[:before] + lines[end:])


def _is_term_table(line: str) -> bool:
    header = HEADER_RE.match(line)
    if header is None or header.group(1) != "[[":
        return False
    names = tuple(part.strip().strip("\"'") for part in header.group(2).split("."))
    return names == (TABLE_KEY,)


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith(COMMENT_PREFIX)


def _is_trivia(line: str) -> bool:
    return not line.strip() or _is_comment(line)


def _attached_comment_start(lines: list[str], header: int) -> int:
    """The first line of the comment written right above line ``header`` (no blank between)."""
    start = header
    while start > 0 and _is_comment(lines[start - 1]):
        start -= 1
    return start


def _check_and_write(directory: Path, path: Path, text: str, expected: dict[str, Any]) -> None:
    """Validate ``text`` as the new ``path`` like a hand edit, then write it atomically."""
    try:
        written = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WatchEditError(INVALID, f"the change would not be valid TOML: {exc}") from None
    if _normalised(written) != _normalised(expected):
        raise WatchEditError(INVALID, f"{path.name} is laid out in a way this command cannot "
                             "edit safely; edit it by hand")
    try:
        watchlist_from_document(parse_toml(path, text))
    except ConfigError as exc:
        raise WatchEditError(INVALID, _relative(exc, directory)) from None
    errors = _folder_errors(directory, path, text)
    if errors:
        shown = "; ".join(errors[:MAX_REPORTED_ERRORS])
        more = len(errors) - MAX_REPORTED_ERRORS
        raise WatchEditError(INVALID, shown + (f" (and {more} more)" if more > 0 else ""))
    write_atomic(path, text)


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without empty term lists: an emptied list and a removed key mean the same."""
    return {key: value for key, value in data.items()
            if not (key in (TERMS_KEY, TABLE_KEY) and value == [])}


def _folder_errors(directory: Path, path: Path, text: str) -> list[str]:
    """The errors validate_watchlists finds in a copy of the folder holding the new text."""
    with tempfile.TemporaryDirectory(prefix="watchedit-") as scratch:
        folder = Path(scratch)
        for source in sorted(directory.glob(f"*{WATCHLIST_SUFFIX}")):
            if source.name != path.name and source.is_file():
                shutil.copyfile(source, folder / source.name)
        (folder / path.name).write_bytes(text.encode("utf-8"))
        _, errors = validate_watchlists(folder)
        return [_relative(error, folder) for error in errors]


def _relative(error: ConfigError, directory: Path) -> str:
    """The error's text with paths inside ``directory`` written as bare file names."""
    return str(error).replace(f"{directory}{os.sep}", "")

