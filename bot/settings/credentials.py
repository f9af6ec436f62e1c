"""The Telegram token: read from the environment or a file it names, never shown."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from bot.errors import ConfigError

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
TOKEN_FILE_ENV = "TELEGRAM_BOT_TOKEN_FILE"
TOKEN_SHAPE_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
REDACTED = "[redacted]"


class Token:
    """A secret bot token; its repr and str never reveal it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The token itself, for the one place that sends it to Telegram."""
        return self._value

    def redact(self, text: str) -> str:
        """``text`` with every occurrence of the token replaced."""
        return text.replace(self._value, REDACTED) if self._value else text

    def __repr__(self) -> str:
        return f"Token({REDACTED})"

    __str__ = __repr__


def load_token(environ: Mapping[str, str]) -> Token | None:
    """The token from TELEGRAM_BOT_TOKEN, or from the file TELEGRAM_BOT_TOKEN_FILE names."""
    value = environ.get(TOKEN_ENV, "").strip()
    source = TOKEN_ENV
    if not value and (file_name := environ.get(TOKEN_FILE_ENV, "").strip()):
        source = f"{TOKEN_FILE_ENV} ({file_name})"
        try:
            value = Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(file_name, f"cannot read the token file: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(file_name, "the token file is not UTF-8 text") from None
        if not value:  # a named file that holds nothing is a mistake, not "no token"
            raise ConfigError(file_name, f"the token file is empty ({TOKEN_FILE_ENV})")
    if not value:
        return None
    if not TOKEN_SHAPE_RE.match(value):
        # Say what is wrong without echoing any part of the secret.
        raise ConfigError(source, "the Telegram token is malformed (expected digits:letters)")
    return Token(value)
