"""The parse workers' entry point: parse a fetched body and say how much CPU it took."""

from __future__ import annotations

import time

from bot.parse import ParsedFeed, parse_feed


def parse_feed_timed(body: bytes, url: str,
                     content_type: str | None = None) -> tuple[ParsedFeed, float]:
    """:func:`bot.parse.parse_feed` and the CPU seconds it took in the worker process."""
    start = time.process_time()
    parsed = parse_feed(body, url, content_type)
    return parsed, time.process_time() - start
