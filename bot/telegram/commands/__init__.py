"""Chat commands: check the arguments, ask the store, reply in the reader's language."""

from __future__ import annotations

from bot.telegram.commands.deps import DEFAULT_PERIOD, MAX_PERIOD, CheckFeed, CommandDeps
from bot.telegram.commands.paging import RECENT_MAX, Page, PageKind
from bot.telegram.commands.registry import Commands

__all__ = ["DEFAULT_PERIOD", "MAX_PERIOD", "RECENT_MAX", "CheckFeed", "CommandDeps", "Commands",
           "Page", "PageKind"]
