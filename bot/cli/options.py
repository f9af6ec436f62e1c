"""Options every command takes, before or after its name, and the subcommands' parsers."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.settings.config import LOG_FORMATS

CONFIG_ENV = "SAHEL_WATCH_CONFIG"


def add_common_options(parser: argparse.ArgumentParser, defaults: dict[str, Any] | None) -> None:
    """--config, --log-level and --log-format; with no ``defaults``, an option not given
    leaves what the options before the command said."""
    def default(name: str) -> Any:
        return argparse.SUPPRESS if defaults is None else defaults[name]

    parser.add_argument("--config", type=Path, default=default("config"),
                        help=f"configuration file (default: ${CONFIG_ENV} or config.toml)")
    parser.add_argument("--log-level", metavar="LEVEL", default=default("log_level"),
                        help="log detail, optionally per module: INFO,bot.fetch=DEBUG "
                             "(default: [logging] level)")
    parser.add_argument("--log-format", choices=LOG_FORMATS, default=default("log_format"),
                        help="text (key=value) or json lines (default: [logging] format)")


class Subcommands:
    """The subcommands' parsers, each accepting the common options after its name."""

    def __init__(self, actions: argparse._SubParsersAction[argparse.ArgumentParser],
                 common: argparse.ArgumentParser) -> None:
        self.actions = actions
        self.common = common

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        """A subcommand's parser (``help`` and the rest as argparse takes them)."""
        return self.actions.add_parser(name, parents=[self.common], **kwargs)
