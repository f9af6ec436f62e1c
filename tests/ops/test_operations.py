"""Running it: environment overrides, the effective configuration, log formats, health."""

from __future__ import annotations

import io
import json
import logging
import re
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.errors import ConfigError
from bot.ops.health import assess
from bot.ops.logs import configure_logging
from bot.settings.config import SETTINGS, load_config
from bot.settings.urls import redact_url
from bot.settings.view import describe
from bot.storage.records import CycleRecord
from bot.storage.store import Store
from tests.support.common import NOW, ROOT, write_config
from tests.support.feedserver import FeedServer, rss_feed

SHIPPED = ROOT / "config.toml"
ITEM = {"title": "Bamako : des instructeurs turcs aux côtés des FAMa",
        "link": "https://news.example/fama-instructeurs", "guid": "fama-1",
        "description": "La formation a commencé lundi.", "pubDate": "Tue, 24 Nov 2026 08:00:00 GMT"}


pytestmark = pytest.mark.usefixtures("restore_logging")


def run(*argv: str, env: dict[str, str] | None = None,
        monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    if monkeypatch is not None:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


# ------------------------------------------------------------------ environment overrides


def test_environment_overrides_any_setting_but_the_feeds() -> None:
    config = load_config(SHIPPED, {
        "SAHEL_WATCH_POLLING__TICK": "10s", "SAHEL_WATCH_TELEGRAM__CHAT": "-1001234567890",
        "SAHEL_WATCH_TELEGRAM__ADMINS": "[11, 22]", "SAHEL_WATCH_TIMEZONE": "Africa/Bamako",
        "SAHEL_WATCH_STORAGE__PATH": "/data/bot.db", "SAHEL_WATCH_METRICS__PORT": "9464",
        "SAHEL_WATCH_POLLING__ALLOW_PRIVATE_FEEDS": "true", "PATH": "/usr/bin"})
    assert config.polling.tick == 10
    assert config.telegram.chat == "-1001234567890"
    assert config.telegram.admins == (11, 22)
    assert config.timezone == "Africa/Bamako"
    assert config.storage_path == Path("/data/bot.db")
    assert config.metrics.port == 9464
    assert config.polling.allow_private_feeds is True
    assert config.polling.per_host == 2  # untouched: the file's value
    assert len(config.feeds) == len(load_config(SHIPPED).feeds)


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("SAHEL_WATCH_POLLING__TIK", "10s", "unknown setting (expected one of: "
                                       "SAHEL_WATCH_POLLING__ALLOW_PRIVATE_FEEDS"),
    ("SAHEL_WATCH_FEEDS", "[]", "unknown setting"),
    ("SAHEL_WATCH_POLLING__TICK", "soon", "tick: "),
    ("SAHEL_WATCH_TELEGRAM__LANGUAGE", "de", "language must be one of fr, en"),
    ("SAHEL_WATCH_TIMEZONE__X", "1", "timezone is a single value, not a table"),
])
def test_a_bad_override_names_its_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(SHIPPED, {variable: value})
    assert str(caught.value).startswith(f"{variable} (environment): ")
    assert message in str(caught.value)


# ------------------------------------------------------------------ effective configuration


def test_check_prints_the_effective_configuration_with_secrets_redacted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    token = "123456:SECRET-token-value"
    code, out, err = run("--config", str(SHIPPED), "check", env={
        "TELEGRAM_BOT_TOKEN": token, "SAHEL_WATCH_DELIVERY__MAX_HOLD": "10m",
        "SAHEL_WATCH_TELEGRAM__API_BASE_URL": "https://bot:hunter2@api.example:8443/"},
        monkeypatch=monkeypatch)
    assert code == 0, err
    assert token not in out and "hunter2" not in out
    assert "overridden by SAHEL_WATCH_DELIVERY__MAX_HOLD, SAHEL_WATCH_TELEGRAM__API_BASE_URL" \
        in out
    assert "# token: set" in out
    effective = out[: out.index("\nconfig: ")]
    settings = tomllib.loads(effective)  # what check prints is itself a config file
    assert settings["delivery"]["max_hold"] == "10m"
    assert settings["telegram"]["api_base_url"] == "https://[redacted]@api.example:8443"
    assert len(settings["feeds"]) == len(load_config(SHIPPED).feeds)


def test_credentials_in_feed_addresses_are_redacted() -> None:
    assert redact_url("https://news.example/rss?q=Mali&apikey=abc123&Token=x") == \
        "https://news.example/rss?q=Mali&apikey=%5Bredacted%5D&Token=%5Bredacted%5D"
    assert redact_url("https://news.example/rss?q=Mali") == "https://news.example/rss?q=Mali"


def test_describe_shows_defaults_for_a_minimal_file(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, []))
    text = describe(config, {}, token_set=False)
    assert "# token: not set" in text
    assert 'format = "text"' in text and "# port: not set (no endpoint)" in text


# ------------------------------------------------------------------ logs


def test_json_log_lines_carry_the_fields_and_levels_per_module() -> None:
    stream = io.StringIO()
    configure_logging("WARNING,bot.fetch=DEBUG", None, stream, json_lines=True)
    logging.getLogger("bot.pipeline.poll").warning(
        "feed failed feed=%s url=%s reason=%s", "Le Quotidien du Mali",
        "https://news.example/rss", "http-503")
    logging.getLogger("bot.pipeline.poll").info("not shown")
    logging.getLogger("bot.ingest.fetch").debug("fetch slow seconds=%d", 12)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(x["logger"], x["event"]) for x in lines] == [
        ("bot.pipeline.poll", "feed failed"), ("bot.ingest.fetch", "fetch slow")]
    assert lines[0]["feed"] == "Le Quotidien du Mali"
    assert lines[0]["reason"] == "http-503" and lines[1]["seconds"] == "12"


def test_a_bad_log_level_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run("--config", str(write_config(tmp_path, [])), "--log-level",
                       "INFO,bot.fetch=LOUD", "run", "--once")
    assert code == 1
    assert "--log-level: unknown log level 'LOUD'" in err


# ------------------------------------------------------------------ health


def test_health_verdicts() -> None:
    cycle = CycleRecord(started_at=NOW - timedelta(seconds=40), finished_at=NOW, feeds=21,
                        new=2, not_modified=18, failed=1, new_items=3, hits=1, alerts_sent=1)
    assert not assess(None, NOW, 300).healthy
    ok = assess(cycle, NOW + timedelta(seconds=42), 300)
    assert ok.healthy and ok.summary.startswith("healthy: last cycle finished 42s ago; 21 feeds")
    stale = assess(cycle, NOW + timedelta(hours=2), 300)
    assert not stale.healthy
    assert stale.summary.startswith("unhealthy: last cycle finished 2h ago (limit 5m)")


def test_health_command_follows_the_bot(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.route("/rss", rss_feed("Le Quotidien", [ITEM]))
    config = write_config(tmp_path, [{"name": "Le Quotidien", "url": feed_server.url("/rss"),
                                      "lang": "fr"}])
    code, out, _ = run("--config", str(config), "health")
    assert (code, out.split(":")[0]) == (1, "unhealthy")
    assert "no database (the bot has not run here yet)" in out
    Store.open(tmp_path / "state" / "bot.db").close()
    code, out, _ = run("--config", str(config), "health")
    assert (code, out) == (1, "unhealthy: no poll cycle has completed yet\n")
    code, _, err = run("--config", str(config), "run", "--once")
    assert code == 0, err
    assert "cycle done feeds=1 new=1 not_modified=0 unchanged=0 failed=0 new_items=1 hits=1 " \
           "alerts_queued=1 alerts_sent=1 " in err
    code, out, _ = run("--config", str(config), "health")
    assert code == 0, out
    assert "1 feeds polled: 1 with news" in out and "1 alerts sent" in out
    code, _, err = run("--config", str(config), "health", "--max-age", "soon")
    assert code == 1 and "--max-age" in err


# ------------------------------------------------------------------ documentation


def _readme_settings() -> set[tuple[str | None, str]]:
    """(table, key) of every row of the README's configuration table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Configuration"):text.index("## Watchlists")]
    found: set[tuple[str | None, str]] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            cell = line.split("|")[1]
            table = re.search(r"\[(\w+)\]", cell)
            for key in re.findall(r"`(?:\[\w+\] )?(\w+)`", cell):
                found.add((table.group(1) if table else None, key))
    return found


def _shipped_settings() -> set[tuple[str | None, str]]:
    """(table, key) of every key config.toml sets or shows in a comment."""
    found: set[tuple[str | None, str]] = set()
    table: str | None = None
    for line in SHIPPED.read_text(encoding="utf-8").splitlines():
        if header := re.match(r"^\[(\w+)\]$", line):
            table = header.group(1)
        elif key := re.match(r"^(?:# )?(\w+) = ", line):
            found.add((table, key.group(1)))
    return found


def test_every_setting_is_documented_in_the_readme_and_in_config_toml() -> None:
    settings = {(None, table) if keys is None else (table, key)
                for table, keys in SETTINGS.items() for key in (keys or [table])}
    assert settings - _readme_settings() == set()
    assert settings - _shipped_settings() == set()


def test_the_metrics_endpoint_follows_a_cycle(tmp_path: Path, feed_server: FeedServer) -> None:
    import asyncio
    import socket

    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    from bot.runtime.app import BotApp

    with socket.socket() as probe:  # a free port for the endpoint
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    feed_server.route("/rss", rss_feed("Le Quotidien", [ITEM]))
    path = write_config(tmp_path, [{"name": "Le Quotidien", "url": feed_server.url("/rss"),
                                    "lang": "fr"}])
    config = load_config(path, {"SAHEL_WATCH_METRICS__PORT": str(port)})

    async def go() -> str:
        async with BotApp(config, None, io.StringIO()) as app:
            await app.run_once()
            return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text

    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(asyncio.run(go()))
               for s in family.samples}
    assert samples[("sahelwatch_feeds_polled_total", (("status", "new"),))] == 1
    assert samples[("sahelwatch_hits_total", (("watchlist", "fama"),))] == 1
    assert samples[("sahelwatch_alerts_sent_total", ())] == 1
    assert samples[("sahelwatch_alerts_pending", ())] == 0
    with pytest.raises(httpx.ConnectError):  # closed with the bot
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
