"""The garbage collector's setting while the bot runs, and its restoring."""

from __future__ import annotations

import asyncio
import gc
import io
import socket
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.ops.collector import YOUNG_THRESHOLD, fewer_collections, release_memory
from bot.runtime.app import BotApp
from bot.settings.config import Config, load_config
from tests.support.common import write_config


@pytest.fixture(autouse=True)
def default_setting() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_the_setting_holds_inside_and_is_restored(default_setting: tuple[int, int, int]) -> None:
    with fewer_collections(5_000):
        assert gc.get_threshold() == (5_000, *default_setting[1:])
    assert gc.get_threshold() == default_setting


def test_a_change_made_meanwhile_stands(default_setting: tuple[int, int, int]) -> None:
    with fewer_collections(5_000):
        gc.set_threshold(1_234, *default_setting[1:])  # someone else's choice, not undone
    assert gc.get_threshold() == (1_234, *default_setting[1:])


async def _threshold_inside(config: Config) -> tuple[int, int, int]:
    async with BotApp(config, None, io.StringIO()):
        return gc.get_threshold()


def test_the_bot_runs_with_fewer_collections_and_restores_the_setting(
        tmp_path: Path, default_setting: tuple[int, int, int]) -> None:
    config = load_config(write_config(tmp_path, []))
    assert asyncio.run(_threshold_inside(config)) == (YOUNG_THRESHOLD, *default_setting[1:])
    assert gc.get_threshold() == default_setting


def test_a_start_that_fails_half_way_restores_it_too(
        tmp_path: Path, default_setting: tuple[int, int, int]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = load_config(write_config(tmp_path, []),
                            {"SAHEL_WATCH_METRICS__PORT": str(busy.getsockname()[1])})
        with pytest.raises(ConfigError, match="cannot listen"):
            asyncio.run(_threshold_inside(taken))
    assert gc.get_threshold() == default_setting


class Node:
    """One half of a reference cycle, holding a large buffer."""

    def __init__(self) -> None:
        self.other: Node | None = None
        self.buffer = bytearray(1_000_000)


def test_release_memory_frees_the_cycles_young_collections_leave_behind() -> None:
    with fewer_collections(young=1_000_000):  # as in the bot: young passes are rare
        first, second = Node(), Node()
        first.other, second.other = second, first
        watcher = weakref.ref(first)
        del first, second
        assert watcher() is not None  # a cycle outlives its last outside reference
        release_memory()
        assert watcher() is None
