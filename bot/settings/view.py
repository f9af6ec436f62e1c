"""The effective configuration as TOML-like text, with secrets and credentials redacted."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from bot.settings.config import WEEKDAYS, Config
from bot.settings.credentials import TOKEN_ENV, TOKEN_FILE_ENV
from bot.settings.durations import format_duration
from bot.settings.environment import ENV_PREFIX
from bot.settings.urls import redact_url

# Query parameters whose values are credentials (an API key in a feed address, say).
# Settings held in seconds, shown as durations.
DURATION_FIELDS = frozenset({
    "tick", "default_interval", "max_interval", "connect_timeout", "read_timeout",
    "total_timeout", "backoff_base", "backoff_max", "once_deadline", "retry_base",
    "retry_max", "max_hold", "edit_interval", "story_window", "retention", "history",
    "interval",
})


def describe(config: Config, environ: Mapping[str, str], token_set: bool) -> str:
    """Every setting as the bot will use it, one per line, grouped as in config.toml."""
    overridden = sorted(v for v in environ if v.startswith(ENV_PREFIX))
    lines = [f"# from {config.path}"
             + (f", overridden by {', '.join(overridden)}" if overridden else "")]
    lines += [
        f"watchlists_dir = {_show('watchlists_dir', config.watchlists_dir)}",
        f"timezone = {_show('timezone', config.timezone)}",
        f"partnerships_file = {_show('partnerships_file', config.partnerships_file)}",
        "", "[telegram]",
        f"# token: {'set' if token_set else 'not set'} ({TOKEN_ENV} or {TOKEN_FILE_ENV})",
    ]
    lines += _fields(config.telegram)
    lines += ["", "[storage]", f"path = {_show('path', config.storage_path)}",
              f"retention = {_show('retention', config.retention)}",
              f"history = {_show('history', config.history)}",
              f"atom_dir = {_show('atom_dir', config.atom_dir)}"]
    lines += ["", "[polling]", *_fields(config.polling)]
    lines += ["", "[delivery]", *_fields(config.delivery)]
    daily = config.reports.daily_at
    weekly = config.reports.partners_weekly
    lines += ["", "[reports]",
              f'daily_at = "{daily[0]:02d}:{daily[1]:02d}"' if daily else 'daily_at = "off"',
              f'partners_weekly = "{WEEKDAYS[weekly[0]]} {weekly[1]:02d}:{weekly[2]:02d}"'
              if weekly else 'partners_weekly = "off"']
    lines += ["", "[logging]", *_fields(config.logging)]
    port = config.metrics.port
    lines += ["", "[metrics]", f"port = {port}" if port else "# port: not set (no endpoint)",
              f"host = {_show('host', config.metrics.host)}"]
    for feed in config.feeds:
        lines += ["", "[[feeds]]", *_fields(feed)]
    return "\n".join(lines) + "\n"


def _fields(settings: object) -> list[str]:
    if not dataclasses.is_dataclass(settings):
        raise TypeError(f"not a settings table: {settings!r}")
    return [f"{field.name} = {_show(field.name, getattr(settings, field.name))}"
            for field in dataclasses.fields(settings)]


def _show(name: str, value: object) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if name in DURATION_FIELDS and isinstance(value, int | float):
        return f'"{format_duration(value)}"'
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(name, v) for v in value) + "]"
    if isinstance(value, Path):
        value = str(value)
    text = str(value)
    if name in ("url", "api_base_url"):
        text = redact_url(text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

