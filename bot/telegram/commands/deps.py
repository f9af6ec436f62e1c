"""What the commands read and change, and the look-ups and checks they share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.ingest.items import ParsedFeed
from bot.matching.matcher import Matcher
from bot.matching.watchlists import Watchlist
from bot.partners.catalog import Partnerships
from bot.settings.config import Config
from bot.settings.durations import parse_duration
from bot.storage.store import Store
from bot.telegram.html import escape
from bot.telegram.i18n import t

DEFAULT_PERIOD = 7 * 86400.0
MAX_PERIOD = 90 * 86400.0
MAX_NAME_ECHOED = 50  # characters of an unknown watchlist's name repeated in the answer

CheckFeed = Callable[[str], Awaitable[ParsedFeed]]


@dataclass
class CommandDeps:
    """What the commands read and change; the app owns them."""

    store: Store
    config: Config
    watchlists: Callable[[], tuple[Watchlist, ...]]
    matcher: Callable[[], Matcher]
    reload_watchlists: Callable[[], bool]
    muted: Callable[[], Mapping[str, datetime]]  # watchlist -> end of its mute
    mutes_changed: Callable[[], None]  # the store's mutes changed: take them up
    check_feed: CheckFeed
    clock: Callable[[], datetime]
    partnerships: Callable[[], Partnerships | None] = lambda: None


def find_watchlist(deps: CommandDeps, name: str) -> Watchlist | None:
    """The watchlist whose id is ``name`` (case and surrounding spaces ignored), if any."""
    wanted = name.lower().strip()
    return next((w for w in deps.watchlists() if w.id == wanted), None)


def watchlist_names(deps: CommandDeps) -> dict[str, str]:
    """Each watchlist's name by its id."""
    return {w.id: w.name for w in deps.watchlists()}


def unknown_watchlist(deps: CommandDeps, name: str, lang: str) -> str:
    """The answer to a watchlist name that matches none (Telegram HTML), naming them all."""
    known = ", ".join(w.id for w in deps.watchlists())
    return escape(t(lang, "cmd.unknown_watchlist", name=name[:MAX_NAME_ECHOED], known=known))


def read_period(value: str | None, default: float = DEFAULT_PERIOD) -> float | None:
    """Seconds in ``value`` (such as 24h or 7d), ``default`` when there is none, None when
    it is not a duration or is longer than MAX_PERIOD."""
    if value is None:
        return default
    try:
        seconds = parse_duration(value)
    except ValueError:
        return None
    return seconds if seconds <= MAX_PERIOD else None


def is_duration(value: str) -> bool:
    """True when ``value`` reads as a duration (such as 120d), whatever its length."""
    try:
        parse_duration(value)
    except ValueError:
        return False
    return True
