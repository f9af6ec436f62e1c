"""The command line: one module per command group; package errors become exit codes."""

from bot.cli.main import main

__all__ = ["main"]
