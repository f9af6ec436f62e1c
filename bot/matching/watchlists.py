"""watchlists/*.toml to Watchlist objects, validated with file and line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.matching.text import phrase_tokens
from bot.settings.tomlfile import TomlDocument, load_toml

WATCHLIST_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
CHAT_RE = re.compile(r"^(@[A-Za-z0-9_]{4,}|-?\d+)$")
PRIORITIES = ("high", "normal", "low")
DEFAULT_THRESHOLD = 85
MIN_THRESHOLD = 50
WATCHLIST_KEYS = {"name", "description", "enabled", "priority", "threshold", "terms", "term",
                  "chat", "topic"}
TERM_KEYS = {"text", "case", "fuzzy", "context", "exclude", "surname"}


@dataclass(frozen=True)
class Term:
    """One name or alias to look for, with its options."""

    text: str
    case: bool = False
    fuzzy: bool = True
    context: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    line: int | None = None
    # A surname too ("Wagner"): beside a first name ("Markus Wagner", "Wagner Love") it
    # names a person, unless the item names an organisation ("group", "mercenaries").
    surname: bool = False


@dataclass(frozen=True)
class Watchlist:
    """A named set of terms; a hit on any term is a hit on the watchlist."""

    id: str
    name: str
    description: str
    terms: tuple[Term, ...]
    enabled: bool = True
    priority: str = "normal"
    threshold: int = DEFAULT_THRESHOLD
    path: Path | None = None
    chat: str | None = None  # send this watchlist's alerts here instead of [telegram] chat
    topic: int | None = None  # forum topic (message_thread_id) in that chat


def load_watchlists(directory: Path) -> tuple[Watchlist, ...]:
    """Every watchlist in ``directory``; raise the first ConfigError found."""
    watchlists, errors = validate_watchlists(directory)
    if errors:
        raise errors[0]
    return watchlists


def validate_watchlists(directory: Path) -> tuple[tuple[Watchlist, ...], list[ConfigError]]:
    """Every valid watchlist in ``directory`` and every error, in file order."""
    if not directory.is_dir():
        return (), [ConfigError(directory, "watchlists folder not found")]
    watchlists: list[Watchlist] = []
    errors: list[ConfigError] = []
    seen: dict[tuple[str, ...], tuple[str, int | None]] = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            watchlist = watchlist_from_document(load_toml(path))
        except ConfigError as exc:
            errors.append(exc)
            continue
        errors.extend(_duplicate_terms(watchlist, seen))
        watchlists.append(watchlist)
    if not watchlists and not errors:
        errors.append(ConfigError(directory, "no watchlist files (*.toml) in this folder"))
    return tuple(watchlists), errors


def watchlist_from_document(doc: TomlDocument) -> Watchlist:
    """Validate one parsed watchlist file; its stem is the watchlist id."""
    data = doc.data
    watchlist_id = doc.path.stem
    if not WATCHLIST_ID_RE.match(watchlist_id):
        raise ConfigError(doc.path, f"file name {watchlist_id!r} is not a valid watchlist id "
                          "(lower-case letters, digits and hyphens)")
    for key in data:
        if key not in WATCHLIST_KEYS:
            raise doc.error(f"unknown key {key!r} (expected one of: "
                            f"{', '.join(sorted(WATCHLIST_KEYS))})", key)
    name = _string(doc, data, "name", watchlist_id)
    description = _string(doc, data, "description", "")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise doc.error("enabled must be true or false", "enabled")
    priority = data.get("priority", "normal")
    if priority not in PRIORITIES:
        raise doc.error(f"priority must be one of {', '.join(PRIORITIES)}", "priority")
    threshold = data.get("threshold", DEFAULT_THRESHOLD)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not (
        MIN_THRESHOLD <= threshold <= 100
    ):
        raise doc.error(f"threshold must be a whole number from {MIN_THRESHOLD} to 100",
                        "threshold")
    chat = data.get("chat")
    if chat is not None and (isinstance(chat, bool) or not isinstance(chat, str | int)
                             or not CHAT_RE.match(str(chat))):
        raise doc.error("chat must be a channel @name or a numeric chat id", "chat")
    topic = data.get("topic")
    if topic is not None and (isinstance(topic, bool) or not isinstance(topic, int)
                              or topic < 1):
        raise doc.error("topic must be a forum topic id (a positive whole number)", "topic")
    terms = _simple_terms(doc, data.get("terms", [])) + _detailed_terms(doc, data.get("term", []))
    if not terms:
        raise ConfigError(doc.path, "no terms: add terms = [\"...\"] or [[term]] tables")
    return Watchlist(id=watchlist_id, name=name, description=description, terms=terms,
                     enabled=enabled, priority=priority, threshold=threshold, path=doc.path,
                     chat=str(chat) if chat is not None else None, topic=topic)


def _simple_terms(doc: TomlDocument, raw: object) -> tuple[Term, ...]:
    if not isinstance(raw, list):
        raise doc.error("terms must be a list of strings", "terms")
    terms = []
    for value in raw:
        if not isinstance(value, str):
            raise doc.error(f"terms must hold strings, found {value!r}", "terms")
        line = doc.line_of_value(value, "terms")
        terms.append(_checked(doc, Term(text=value.strip(), line=line)))
    return tuple(terms)


def _detailed_terms(doc: TomlDocument, raw: object) -> tuple[Term, ...]:
    if not isinstance(raw, list):
        raise doc.error("term must be written as [[term]] tables", "term")
    terms = []
    for index, table in enumerate(raw):
        where = ("term", index)
        if not isinstance(table, dict):
            raise doc.error("each term must be a [[term]] table", *where)
        for key in table:
            if key not in TERM_KEYS:
                raise doc.error(f"unknown key {key!r} in [[term]] (expected one of: "
                                f"{', '.join(sorted(TERM_KEYS))})", *where, key)
        if "text" not in table:
            raise doc.error("[[term]] is missing text", *where)
        term = Term(
            text=_string(doc, table, "text", "", *where).strip(),
            case=_flag(doc, table, "case", False, *where),
            fuzzy=_flag(doc, table, "fuzzy", True, *where),
            context=_phrases(doc, table, "context", *where),
            exclude=_phrases(doc, table, "exclude", *where),
            line=doc.line_of(*where, "text"),
            surname=_flag(doc, table, "surname", False, *where),
        )
        terms.append(_checked(doc, term))
    return tuple(terms)


def _checked(doc: TomlDocument, term: Term) -> Term:
    if not term.text:
        raise ConfigError(doc.path, "empty term", term.line)
    tokens = phrase_tokens(term.text)
    if not tokens:
        raise ConfigError(doc.path, f"term {term.text!r} has no letters or digits, so it can "
                          "never match", term.line)
    if term.surname and len(tokens) > 1:
        raise ConfigError(doc.path, f"term {term.text!r}: surname = true needs a term of one "
                          "word (a surname beside a first name)", term.line)
    for phrase in term.exclude:
        if _within(phrase_tokens(phrase), tokens):
            raise ConfigError(doc.path, f"term {term.text!r} can never match: its exclusion "
                              f"{phrase!r} is part of the term itself", term.line)
    return term


def _within(part: tuple[str, ...], whole: tuple[str, ...]) -> bool:
    """True when ``part`` occurs as consecutive words of ``whole``."""
    width = len(part)
    return any(whole[i : i + width] == part for i in range(len(whole) - width + 1))


def _duplicate_terms(watchlist: Watchlist,
                     seen: dict[tuple[str, ...], tuple[str, int | None]]) -> list[ConfigError]:
    errors = []
    for term in watchlist.terms:
        key = (str(term.case), *phrase_tokens(term.text, case=term.case))
        if key in seen:
            other, line = seen[key]
            where = f"{other}:{line}" if line else other
            errors.append(ConfigError(watchlist.path or watchlist.id,
                                      f"term {term.text!r} duplicates the term at {where}",
                                      term.line))
        else:
            seen[key] = (str(watchlist.path or watchlist.id), term.line)
    return errors


def _string(doc: TomlDocument, table: dict[str, Any], key: str, default: str,
            *where: str | int) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise doc.error(f"{key} must be text", *where, key)
    return value


def _flag(doc: TomlDocument, table: dict[str, Any], key: str, default: bool,
          *where: str | int) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise doc.error(f"{key} must be true or false", *where, key)
    return value


def _phrases(doc: TomlDocument, table: dict[str, Any], key: str,
             *where: str | int) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise doc.error(f"{key} must be a list of non-empty strings", *where, key)
    return tuple(v.strip() for v in value)
