"""Addresses as shown: credentials never, untitled feeds by host and path."""

from __future__ import annotations

import io
import logging

import pytest

from bot.ingest.opml import write_opml
from bot.ops.logs import configure_logging
from bot.settings.config import FeedConfig
from bot.settings.urls import redact_text, redact_url, shown_name
from tests.support.common import NOW


@pytest.mark.parametrize(("url", "name"), [
    ("https://reader:s3cret@news.example/afrique/rss?key=abc", "news.example/afrique/rss"),
    ("http://user@NEWS.example:8080/", "news.example"),
    ("https://news.example/" + "a" * 100, "news.example/" + "a" * 59 + "…"),
])
def test_an_untitled_feed_is_named_by_host_and_path(url: str, name: str) -> None:
    assert shown_name(url) == name


def test_credentials_leave_any_text_that_holds_an_address() -> None:
    text = ("connect-failed: http://reader:s3cret@news.example/rss refused; "
            "see HTTPS://a:b@other.example and mailto:x@y.example")
    assert redact_text(text) == ("connect-failed: http://[redacted]@news.example/rss "
                                 "refused; see HTTPS://[redacted]@other.example and "
                                 "mailto:x@y.example")
    assert redact_url("https://u:p@news.example/rss") == "https://[redacted]@news.example/rss"


def test_every_log_line_is_redacted_even_without_a_token(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("INFO", None, stream)
    logging.getLogger("bot.pipeline.poll").warning(
        "feed failed feed=%s url=%s", "Veille", "https://reader:s3cret@news.example/rss")
    assert "s3cret" not in stream.getvalue() and "[redacted]@news.example" in stream.getvalue()


def test_an_exported_feed_list_carries_no_password() -> None:
    feeds = [FeedConfig("https://reader:s3cret@news.example/rss",
                        "https://reader:s3cret@news.example/rss", "fr", 600)]
    text = write_opml(feeds, "feeds", NOW)
    assert "s3cret" not in text and "https://[redacted]@news.example/rss" in text
