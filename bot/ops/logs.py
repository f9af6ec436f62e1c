"""Logging set-up: one key=value (or JSON) line per event, secrets redacted, levels per module."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import TextIO

from bot.settings.credentials import Token
from bot.settings.urls import redact_text

# Libraries that log request URLs, which carry the bot token, at INFO or DEBUG.
QUIET_LOGGERS = {"httpx": logging.WARNING, "httpcore": logging.WARNING,
                 "telegram": logging.WARNING, "apscheduler": logging.WARNING}
LOG_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FIELD_RE = re.compile(r"(?:^|(?<= ))([a-z_]+)=(.*?)(?= [a-z_]+=|$)", re.DOTALL)


class RedactingFilter(logging.Filter):
    """Replaces the token, and the credentials of any address, wherever they appear in a
    record: message, arguments and traceback."""

    def __init__(self, token: Token | None) -> None:
        super().__init__()
        self.token = token

    def redact(self, text: str) -> str:
        """``text`` without the token or address credentials."""
        text = redact_text(text)
        return self.token.redact(text) if self.token is not None else text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event, then the message's key=value
    pairs as fields (a value runs to the next " key=")."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        first = FIELD_RE.search(message)
        entry: dict[str, object] = {
            "time": self.formatTime(record), "level": record.levelname,
            "logger": record.name,
            "event": (message[: first.start()] if first else message).strip(),
        }
        if first:
            for key, value in FIELD_RE.findall(message[first.start():]):
                entry.setdefault(key, value.strip())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


# Logger names people wrote in --log-level before the modules moved into subpackages, and
# the logger (a module, or the package a module was split into) that now does that job.
FORMER_LOGGERS = {
    "bot.alerts": "bot.telegram.alerts", "bot.app": "bot.runtime", "bot.cadence": "bot.ingest",
    "bot.charts": "bot.telegram.charts", "bot.cli": "bot.cli", "bot.clidata": "bot.cli",
    "bot.collector": "bot.ops.collector", "bot.commands": "bot.telegram.commands",
    "bot.config": "bot.settings", "bot.configview": "bot.settings",
    "bot.credentials": "bot.settings", "bot.deliver": "bot.telegram.deliver",
    "bot.envconfig": "bot.settings", "bot.evaluate": "bot.matching.evaluate",
    "bot.export": "bot.ops.export", "bot.fetch": "bot.ingest.fetch", "bot.health": "bot.ops.health",
    "bot.logs": "bot.ops.logs", "bot.match": "bot.matching.matcher",
    "bot.metrics": "bot.ops.metrics", "bot.netbackend": "bot.ingest.netbackend",
    "bot.opml": "bot.ingest.opml", "bot.parse": "bot.ingest.parse",
    "bot.parseworker": "bot.ingest.parseworker", "bot.partnerchart": "bot.partners",
    "bot.partnermap": "bot.partners", "bot.partners": "bot.partners",
    "bot.partnerships": "bot.partners", "bot.poll": "bot.pipeline",
    "bot.progress": "bot.ops.progress", "bot.reload": "bot.matching.reload",
    "bot.rematch": "bot.matching.rematch", "bot.signaleval": "bot.partners",
    "bot.signals": "bot.partners", "bot.store": "bot.storage", "bot.stories": "bot.stories",
    "bot.text": "bot.matching.text", "bot.tomlfile": "bot.settings",
    "bot.watchedit": "bot.matching.edit", "bot.watchlists": "bot.matching.watchlists",
}


def parse_levels(spec: str) -> tuple[str, dict[str, str]]:
    """``"INFO,bot.fetch=DEBUG"`` -> ("INFO", {"bot.ingest.fetch": "DEBUG"}); ValueError if bad.

    Logger names from before the package had subpackages (``bot.fetch``) still work."""
    default, modules = "INFO", {}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, _, level = part.rpartition("=")
        level = level.strip().upper()
        if level not in LEVELS:
            raise ValueError(f"unknown log level {level!r} (expected one of {', '.join(LEVELS)})")
        if name:
            name = name.strip()
            modules[FORMER_LOGGERS.get(name, name)] = level
        else:
            default = level
    return default, modules


def configure_logging(level: str = "INFO", token: Token | None = None,
                      stream: TextIO = sys.stderr, *, json_lines: bool = False) -> None:
    """Send log lines to ``stream``; called once, by the command line.

    ``level`` is a level, optionally followed by per-module levels
    ("INFO,bot.fetch=DEBUG,bot.deliver=WARNING").
    """
    default, modules = parse_levels(level)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactingFilter(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(default)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet, root.level))
    for name, module_level in modules.items():
        logging.getLogger(name).setLevel(module_level)
