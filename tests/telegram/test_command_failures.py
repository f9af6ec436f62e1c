"""A command whose storage fails (a full disk) gets an answer, and the bot goes on."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.matching.watchlists import load_watchlists
from bot.settings.config import load_config
from bot.storage.store import Store
from bot.telegram.commands import CommandDeps
from bot.telegram.commands.admin import AdminCommands
from bot.telegram.commands.plumbing import Gate, RateLimiter
from tests.support.common import NOW, WATCHLISTS, write_config

ADMIN = 1001


@dataclass
class StubMessage:
    """What the gate and the handlers use of a python-telegram-bot Message."""

    chat_id: int = ADMIN
    forward_origin: Any = None
    replies: list[str] = field(default_factory=list)

    async def reply_text(self, text: str, **_: Any) -> None:
        self.replies.append(text)


@dataclass
class StubUser:
    id: int = ADMIN
    username: str = "admin"
    language_code: str = "en"


@dataclass
class StubUpdate:
    effective_message: StubMessage
    effective_user: StubUser


@dataclass
class StubContext:
    args: list[str]


def test_mute_on_a_full_disk_is_answered_not_a_traceback(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, [], telegram=f"admins = [{ADMIN}]"))
    store = Store.open(config.storage_path)
    watchlists = load_watchlists(WATCHLISTS)
    changed: list[bool] = []
    deps = CommandDeps(store=store, config=config, watchlists=lambda: watchlists,
                       matcher=lambda: None,  # type: ignore[arg-type,return-value]
                       reload_watchlists=lambda: False, muted=dict,
                       mutes_changed=lambda: changed.append(True),
                       check_feed=None,  # type: ignore[arg-type]
                       clock=lambda: NOW)
    gate = Gate(frozenset({ADMIN}), "fr", RateLimiter(time.monotonic))
    mute = gate.guard("mute", AdminCommands(deps).handlers()["mute"], admin_only=True)
    # The database may not grow by a single page more: SQLite answers "database or disk
    # is full", as it does when the disk is.
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    with contextlib.suppress(sqlite3.OperationalError):  # fill what room is left
        for _ in range(1000):
            with store.db.conn:
                store.db.conn.execute(
                    "INSERT INTO audit (user_id, action, target, detail, at) "
                    "VALUES (0, 'fill', '', ?, '')", ["x" * 2000])
    message = StubMessage()
    asyncio.run(mute(StubUpdate(message, StubUser()),  # type: ignore[arg-type]
                     StubContext(["wagner", "2h"])))  # type: ignore[arg-type]
    assert message.replies == [
        "That could not be saved right now (database unavailable or disk full): please "
        "try again later."]
    store.db.execute(f"PRAGMA max_page_count = {10 * pages + 1000}")  # room again
    asyncio.run(mute(StubUpdate(message, StubUser()),  # type: ignore[arg-type]
                     StubContext(["wagner", "2h"])))  # type: ignore[arg-type]
    assert "muted until" in message.replies[-1] and changed  # the bot carried on
