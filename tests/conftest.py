"""Shared fixtures: a fixed clock, local servers, config files, and no network beyond loopback."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

from tests.support.botapi import BotApiStandIn
from tests.support.botprocess import TOKEN
from tests.support.common import SECRET_TOKENS
from tests.support.feedserver import FeedServer

# In CI the property tests draw the same examples every run, so that a run fails only for
# a change; elsewhere they explore (and a failure found there gets pinned by an example).
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# As the command line does: python-telegram-bot's durations as timedelta, no warnings.
os.environ.setdefault("PTB_TIMEDELTA", "1")



def _is_local(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return True  # Unix sockets and socketpairs stay on the machine


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach beyond loopback."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if not _is_local(address):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> Any:
        if not _is_local(address):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)



@pytest.fixture(scope="session", autouse=True)
def no_token_in_any_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the whole suite, read every log file the tests kept and look for tokens."""
    yield
    base = tmp_path_factory.getbasetemp()
    leaks = [
        str(path) for path in base.rglob("*.log")
        if any(token in path.read_text(encoding="utf-8", errors="replace")
               for token in SECRET_TOKENS)
    ]
    assert not leaks, f"a token appeared in: {leaks}"


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A local feed server on loopback."""
    with FeedServer() as server:
        yield server




@pytest.fixture
def api() -> Iterator[BotApiStandIn]:
    """A local stand-in for the Telegram Bot API that accepts the test token."""
    with BotApiStandIn(token=TOKEN) as stand_in:
        yield stand_in


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """For tests that run the command line, which reconfigures logging: put it back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in list(logging.Logger.manager.loggerDict):
        if name == "bot" or name.startswith("bot."):
            logging.getLogger(name).setLevel(logging.NOTSET)
