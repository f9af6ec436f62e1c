"""Logging set-up: one key=value line per event, secrets redacted, noisy libraries quieted."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from bot.credentials import Token

# Libraries that log request URLs, which carry the bot token, at INFO or DEBUG.
QUIET_LOGGERS = {"httpx": logging.WARNING, "httpcore": logging.WARNING,
                 "telegram": logging.WARNING, "apscheduler": logging.WARNING}
LOG_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


class RedactingFilter(logging.Filter):
    """Replaces the token wherever it appears in a record, arguments and traceback included."""

    def __init__(self, token: Token) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self.token.redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.token.redact(record.exc_text)
        return True


def configure_logging(level: str = "INFO", token: Token | None = None,
                      stream: TextIO = sys.stderr) -> None:
    """Send log lines to ``stream``; called once, by the command line."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    if token is not None:
        handler.addFilter(RedactingFilter(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet, root.level))
