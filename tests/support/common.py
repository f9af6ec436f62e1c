"""What many tests share: a fixed clock, the project's folders, test tokens, config files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
WATCHLISTS = ROOT / "watchlists"
SHARED = ROOT.parent / "shared"


# Every token a test hands the bot; none may appear in any log the suite keeps.
SECRET_TOKENS = ("123456:TEST-token-for-the-stand-in", "999:WRONG-secret-token")


# Tests send a few alerts at a time; pacing has its own tests.
DELIVERY_DEFAULTS = {"per_chat_per_minute": "6000"}
REPORTS_DEFAULTS = {"daily_at": "\"off\"", "partners_weekly": "\"off\""}
POLLING_DEFAULTS = {"tick": '"1s"', "backoff_base": '"1m"', "total_timeout": '"10s"',
                    "read_timeout": '"5s"', "parse_workers": "1"}


def write_config(directory: Path, feeds: list[dict[str, str]], *, telegram: str = "",
                 polling: dict[str, str] | None = None, delivery: dict[str, str] | None = None,
                 watchlists: Path = WATCHLISTS, partnerships: Path | None = None,
                 reports: dict[str, str] | None = None) -> Path:
    """A config.toml in ``directory`` with ``feeds``; values in the dicts are TOML literals.
    Partnership signals are off unless ``partnerships`` names a partnership file. The daily
    report is off unless ``reports`` sets it: a test running across its hour would
    otherwise find it among the messages it waits for."""
    lines = [f'watchlists_dir = "{watchlists}"',
             f'partnerships_file = "{partnerships or ""}"', "", "[storage]",
             f'path = "{directory / "state" / "bot.db"}"', "", "[telegram]", telegram]
    for table, values in (("polling", {**POLLING_DEFAULTS, **(polling or {})}),
                          ("delivery", {**DELIVERY_DEFAULTS, **(delivery or {})}),
                          ("reports", {**REPORTS_DEFAULTS, **(reports or {})})):
        lines += ["", f"[{table}]"] + [f"{key} = {value}" for key, value in values.items()]
    for feed in feeds:
        lines += ["", "[[feeds]]"] + [f'{key} = "{value}"' for key, value in feed.items()]
    path = directory / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

