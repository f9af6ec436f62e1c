"""Notice edits in the watchlists folder and hand over new watchlists only when they validate."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ConfigError
from bot.matching.watchlists import Watchlist, validate_watchlists

Snapshot = tuple[tuple[str, int, int], ...]


def folder_snapshot(directory: Path, also: Sequence[Path] = ()) -> Snapshot:
    """Name, modification time and size of every watchlist file, and of the files ``also``
    watched (the partnership file): changes when any file does."""
    try:
        files = [*sorted(directory.glob("*.toml")), *(p for p in also if p.exists())]
        return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError:
        return ()


@dataclass(frozen=True)
class ReloadOutcome:
    """What a changed folder held: new watchlists, or the errors that refused them."""

    watchlists: tuple[Watchlist, ...] | None
    errors: tuple[ConfigError, ...] = ()


class WatchlistReloader:
    """Compares the folder with the last snapshot; validates it again only when it changed."""

    def __init__(self, directory: Path, also: Sequence[Path] = ()) -> None:
        self.directory = directory
        self.also = tuple(also)  # more files whose edits call for a reload
        self._snapshot = folder_snapshot(directory, self.also)
        self._lock = threading.Lock()  # polled from a worker thread and from chat commands

    def poll(self) -> ReloadOutcome | None:
        """None when nothing changed since the last call; otherwise the outcome of the change.

        A refused edit is reported once; the next report comes with the next change.
        """
        with self._lock:
            snapshot = folder_snapshot(self.directory, self.also)
            if snapshot == self._snapshot:
                return None
            self._snapshot = snapshot
            watchlists, errors = validate_watchlists(self.directory)
        if errors:
            return ReloadOutcome(None, tuple(errors))
        return ReloadOutcome(watchlists)
