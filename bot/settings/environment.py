"""Settings overridden by environment variables: SAHEL_WATCH_<SECTION>__<KEY>=value."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.errors import ConfigError
from bot.settings.tomlfile import TablePath, TomlDocument

ENV_PREFIX = "SAHEL_WATCH_"
SECTION_SEPARATOR = "__"
# Variables with the prefix that are not settings.
NOT_SETTINGS = frozenset({"SAHEL_WATCH_CONFIG"})


def setting_variable(*key: str) -> str:
    """The variable that overrides ``key`` ("polling", "tick" -> SAHEL_WATCH_POLLING__TICK)."""
    return ENV_PREFIX + SECTION_SEPARATOR.join(part.upper() for part in key)


def with_environment(doc: TomlDocument, environ: Mapping[str, str],
                     known: Mapping[str, frozenset[str] | None]) -> TomlDocument:
    """``doc`` with every SAHEL_WATCH_ variable applied over the file's values.

    ``known`` maps each top-level key to the keys of its table (None for a plain value);
    feeds are a list and are set in the file only. A value is read as TOML when it is
    one (20, true, [1, 2], "text") and as text otherwise (15m, @channel, Africa/Bamako).
    """
    data = copy.deepcopy(doc.data)
    sources: dict[TablePath, str] = {}
    for variable in sorted(environ):
        if not variable.startswith(ENV_PREFIX) or variable in NOT_SETTINGS:
            continue
        key = _key(variable, known)
        table = data
        for part in key[:-1]:
            section = table.setdefault(part, {})
            if not isinstance(section, dict):
                raise ConfigError(f"{variable} (environment)",
                                  f"{part} is not a table in {doc.path}")
            table = section
        table[key[-1]] = _value(environ[variable])
        sources[key] = variable
    if not sources:
        return doc
    return replace(doc, data=data, sources=sources)


def _key(variable: str, known: Mapping[str, frozenset[str] | None]) -> tuple[str, ...]:
    parts = tuple(variable[len(ENV_PREFIX):].lower().split(SECTION_SEPARATOR))
    where = f"{variable} (environment)"
    if parts[0] not in known:
        names = ", ".join(setting_variable(k) + ("__<KEY>" if known[k] else "")
                          for k in sorted(known))
        raise ConfigError(where, f"unknown setting (expected one of: {names})")
    keys = known[parts[0]]
    if keys is None:
        if len(parts) != 1:
            raise ConfigError(where, f"{parts[0]} is a single value, not a table")
        return parts
    if len(parts) != 2 or parts[1] not in keys:
        hint = ", ".join(setting_variable(parts[0], k) for k in sorted(keys))
        raise ConfigError(where, f"unknown setting (expected one of: {hint})")
    return parts


def _value(raw: str) -> Any:
    try:
        return tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        return raw.strip()
