"""Read a TOML file and remember on which line each key and array item stands."""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

TablePath = tuple[str | int, ...]

HEADER_RE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
KEY_RE = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")
DECODE_POSITION_RE = re.compile(r"\(at line (\d+), column \d+\)")
# Every quoted string of a line, as written between its quotes (basic or literal).
STRING_RE = re.compile(r""""((?:[^"\\\n]|\\.)*)"|'([^'\n]*)'""")
MAX_TOML_BYTES = 5_000_000  # a settings or watchlist file larger than this is a mistake


@dataclass(frozen=True)
class TomlDocument:
    """A parsed TOML file with a map from key paths to line numbers."""

    path: Path
    data: dict[str, Any]
    text: str
    lines: dict[TablePath, int] = field(default_factory=dict)
    # Keys set from the environment, with the variable that set each (see bot.settings.environment).
    sources: dict[TablePath, str] = field(default_factory=dict)

    def line_of(self, *key: str | int) -> int | None:
        """The line of ``key`` (a path such as ("feeds", 2, "url")), or of its nearest parent."""
        path: TablePath = tuple(key)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def line_of_value(self, value: str, *key: str | int) -> int | None:
        """The line where the string ``value`` is written at or after ``key``'s line."""
        start = self.line_of(*key) or 1
        lines = self._value_lines.get(value, ())
        found = bisect_left(lines, start)
        return lines[found] if found < len(lines) else self.line_of(*key)

    @cached_property
    def _value_lines(self) -> dict[str, list[int]]:
        """Each quoted string of the file and the lines it is written on, in order: read in
        one pass, so that finding the line of every term of a long list stays linear."""
        found: dict[str, list[int]] = {}
        for number, line in enumerate(self.text.splitlines(), start=1):
            for match in STRING_RE.finditer(line):
                written = match.group(1) if match.group(1) is not None else match.group(2)
                lines = found.setdefault(written, [])
                if not lines or lines[-1] != number:
                    lines.append(number)
        return found

    def error(self, message: str, *key: str | int) -> ConfigError:
        """A ConfigError naming this file and the line of ``key``, or the environment
        variable that set it."""
        variable = self.sources.get(tuple(key))
        if variable is not None:
            return ConfigError(f"{variable} (environment)", message)
        return ConfigError(self.path, message, self.line_of(*key))


def load_toml(path: Path) -> TomlDocument:
    """Parse ``path``; a syntax or encoding error becomes a ConfigError with its line."""
    try:
        size = path.stat().st_size
        if size > MAX_TOML_BYTES:
            raise ConfigError(path, f"file too large: {size:,} bytes (at most "
                              f"{MAX_TOML_BYTES:,}); split it, or remove what it repeats")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot read: {exc.strerror}") from None
    return parse_toml(path, text)


def parse_toml(path: Path, text: str) -> TomlDocument:
    """Parse TOML ``text`` that came from ``path``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = DECODE_POSITION_RE.search(str(exc))
        line = int(match.group(1)) if match else None
        message = DECODE_POSITION_RE.sub("", str(exc)).strip()
        raise ConfigError(path, f"invalid TOML: {message}", line) from None
    return TomlDocument(path=path, data=data, text=text, lines=_key_lines(text))


def _key_lines(text: str) -> dict[TablePath, int]:
    """Map each table header, array-of-tables entry and key to its 1-based line."""
    lines: dict[TablePath, int] = {}
    counts: dict[tuple[str, ...], int] = {}
    table: TablePath = ()
    for number, line in enumerate(text.splitlines(), start=1):
        if header := HEADER_RE.match(line):
            names = tuple(part.strip().strip("\"'") for part in header.group(2).split("."))
            if header.group(1) == "[[":
                index = counts.get(names, 0)
                counts[names] = index + 1
                table = (*names, index)
            else:
                table = names
            lines.setdefault(table, number)
            continue
        if key := KEY_RE.match(line):
            lines.setdefault((*table, key.group(1).strip("\"'")), number)
    return lines
