"""The parse workers' pool: feedparser in worker processes, so parsing uses every core."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.errors import ParseError
from bot.ingest.items import ParsedFeed
from bot.ingest.parseworker import parse_feed_timed, start_worker

PARSER_MODULE = "bot.ingest.parseworker"  # loaded once in the fork server, not per worker


class ParsePool:
    """Runs feedparser in worker processes, so parsing uses every core and never the loop."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.cpu_seconds = 0.0  # spent parsing, in the workers, since the start
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        # The fork server loads the parser once; workers forked from it share those pages.
        context.set_forkserver_preload([PARSER_MODULE])
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                   initializer=start_worker, initargs=(os.getpid(),))

    async def __call__(self, body: bytes, url: str, content_type: str | None) -> ParsedFeed:
        loop = asyncio.get_running_loop()
        try:
            parsed, spent = await loop.run_in_executor(self._pool, parse_feed_timed, body, url,
                                                       content_type)
        except BrokenProcessPool:
            # A worker died (killed, out of memory); start afresh for the other feeds.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            raise ParseError("parser process died while reading this feed") from None
        self.cpu_seconds += spent
        return parsed

    def close(self) -> None:
        """Stop the workers."""
        self._pool.shutdown(wait=True, cancel_futures=True)
