"""The hand-written channel page of tests/data/sources, as tests serve it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.common import ROOT

SOURCES = ROOT / "tests" / "data" / "sources"
CHANNEL_PAGE = (SOURCES / "channel-page.html").read_bytes()
PAGE_DAY = b"2026-12-05"  # the day the page's posts were written on


def recent_page() -> bytes:
    """The channel page with its posts moved to yesterday: a running bot reads a channel's
    posts older than its history as no news."""
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat().encode()
    return CHANNEL_PAGE.replace(PAGE_DAY, yesterday)
