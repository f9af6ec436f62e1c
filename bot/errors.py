"""The package's exception tree, so callers can catch one feed's or one alert's failure.

    BotError                 anything the bot raises on purpose
    ├── ConfigError          config.toml or a watchlist is invalid (file, line, what)
    ├── StoreError           the database cannot be opened, checked or written
    ├── FetchError           a feed could not be fetched (reason: timeout, http-404, too-large ...)
    └── ParseError           a fetched body is not a usable feed
"""

from __future__ import annotations

from pathlib import Path


class BotError(Exception):
    """Base of every error the bot raises on purpose."""


class ConfigError(BotError):
    """A configuration or watchlist file is invalid; names the file and line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


class StoreError(BotError):
    """The database cannot be opened, checked or written."""


class FetchError(BotError):
    """A feed could not be fetched; ``reason`` is a short stable code for logs."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class ParseError(BotError):
    """A fetched body is not a usable feed."""
