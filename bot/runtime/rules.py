"""The rules the bot reads from files, watchlists and the partnership file, taken up live."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from bot.errors import ConfigError
from bot.matching.matcher import Matcher
from bot.matching.reload import ReloadOutcome, WatchlistReloader
from bot.matching.watchlists import Watchlist
from bot.partners.catalog import Partnerships, load_partnerships, named_phrases
from bot.partners.detect import SignalDetector
from bot.pipeline.poll import Poller
from bot.settings.config import Config
from bot.storage.store import Store
from bot.stories.anchors import alias_map
from bot.telegram.notices import partnerships_refused_notice, watchlists_refused_notice

log = logging.getLogger(__name__)


class Rules:
    """The watchlists and the partnership file the poller works with.

    Both are read again when a file changes (the folder's ``*.toml``, or the partnership
    file). An edit that does not validate is refused: the rules before it stay, and the
    admins are told which file and line is wrong, once per edit.
    """

    def __init__(self, config: Config, poller: Poller, store: Store, admins: Sequence[str],
                 clock: Callable[[], datetime]) -> None:
        self.config, self.poller, self.store = config, poller, store
        self.admins, self.clock = admins, clock
        self.watchlists: tuple[Watchlist, ...] = ()
        self.partnerships: Partnerships | None = None
        path = config.partnerships_file
        self.reloader = WatchlistReloader(config.watchlists_dir,
                                          also=(path,) if path is not None else ())

    def use(self, watchlists: tuple[Watchlist, ...]) -> None:
        """Match with ``watchlists`` from now on (names are shared with the commands), and
        read the partnership file again: its actors reuse the watchlists' terms."""
        self.watchlists = watchlists
        poller = self.poller
        poller.matcher = Matcher(watchlists)
        self._use_partnerships(watchlists)
        # Reports join across languages by the names of actors and watched subjects.
        poller.stories.aliases = alias_map(named_phrases(watchlists, self.partnerships))
        chat = poller.composer.chat
        poller.composer = replace(
            poller.composer, names={w.id: w.name for w in watchlists},
            priorities={w.id: w.priority for w in watchlists},
            routes={w.id: (w.chat or chat, w.topic) for w in watchlists if w.chat or w.topic},
            partnerships=self.partnerships)

    def _use_partnerships(self, watchlists: tuple[Watchlist, ...]) -> None:
        """Detect partnership signals with the partnership file, if there is one; an invalid
        file is reported and the previous one kept."""
        path = self.config.partnerships_file
        if path is None:
            return
        try:
            partnerships = load_partnerships(path, watchlists)
        except ConfigError as exc:
            log.error("partnership file refused error=%s", exc)
            self._tell_admins(partnerships_refused_notice(
                exc, self.partnerships is not None, self.config.telegram.language))
            return
        self.partnerships = partnerships
        self.poller.detector = SignalDetector(partnerships)

    def reload(self) -> bool:
        """Take up edits of the watchlists folder or the partnership file, if any."""
        return self.take_up(self.reloader.poll())

    def take_up(self, outcome: ReloadOutcome | None) -> bool:
        """Match with the watchlists a reload found, or report why they were refused."""
        if outcome is None:
            return False
        if outcome.watchlists is not None:
            self.use(outcome.watchlists)
            log.info("watchlists reloaded watchlists=%d terms=%d", len(outcome.watchlists),
                     sum(len(w.terms) for w in outcome.watchlists))
            return True
        for error in outcome.errors:
            log.error("watchlist edit refused error=%s", error)
        self._tell_admins(watchlists_refused_notice(outcome.errors,
                                                    self.config.telegram.language))
        return False

    def _tell_admins(self, notice: str) -> None:
        for chat in self.admins:
            self.store.queue_message(chat, notice, self.clock())
