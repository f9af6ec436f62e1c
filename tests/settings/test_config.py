"""config.toml: defaults, the shipped file, and errors that name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings.config import load_config
from bot.settings.credentials import load_token
from bot.settings.durations import format_duration, parse_duration
from tests.support.common import ROOT


def test_shipped_config_is_valid_and_has_feeds_in_both_languages() -> None:
    config = load_config(ROOT / "config.toml")
    assert {feed.lang for feed in config.feeds} == {"fr", "en"}
    assert len(config.feeds) >= 10
    assert config.storage_path == ROOT / "state" / "sahel-watch.db"
    assert config.telegram.chat


def test_minimal_config_takes_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[[feeds]]\nname = "A"\nurl = "https://a.example/rss"\n', encoding="utf-8")
    config = load_config(path)
    assert config.feeds[0].interval == 900
    assert config.feeds[0].lang == "fr"
    assert config.polling.per_host == 2
    assert config.telegram.chat is None
    assert config.watchlists_dir == tmp_path / "watchlists"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("[telegram]\nchatt = '@x'\n", 2, "unknown key 'chatt'"),
        ("[[feeds]]\nname = 'A'\nurl = 'ftp://a'\n", 3, "not an http or https address"),
        ("[[feeds]]\nname = 'A'\nurl = 'https://a'\ninterval = 'soon'\n", 4, "interval"),
        ("[[feeds]]\nname = 'A'\nurl = 'https://a'\n[[feeds]]\nname = 'A'\nurl = 'https://b'\n",
         5, "used twice"),
        ("[[feeds]]\nname = 'A'\n", 1, "missing 'url'"),
        ("[polling]\nper_host = 0\n", 2, "at least 1"),
        ("[telegram]\nlanguage = 'de'\n", 2, "language must be one of"),
        # Values the parser accepted that crashed the bot (nothing past here may be a crash).
        ("[[feeds]]\nname = 'A'\nurl = 'https://a'\ninterval = inf\n", 4,
         "must be a number of seconds"),
        ("[[feeds]]\nname = 'A'\nurl = 'https://a'\ninterval = nan\n", 4,
         "must be a number of seconds"),
        ("[polling]\ntick = inf\n", 2, "must be a number of seconds"),
        ("[polling]\ntick = nan\n", 2, "must be a number of seconds"),
        ("[storage]\nretention = 1e300\n", 2, "at most 3650d"),
        ("[storage]\nhistory = 1e12\n", 2, "at most 3650d"),
        ("[[feeds]]\nname = 'A'\nurl = 'https://a.example:99999/rss'\n", 3,
         "is not a valid address (Port out of range"),
        ("[[feeds]]\nname = 'A'\nurl = 'http://[::1'\n", 3, "is not a valid address"),
        ("[[feeds]]\nname = 'A'\nurl = 'http://a.example/rss'\n[[feeds]]\nname = 'B'\n"
         "url = 'HTTP://A.example/rss'\n", 6, "listed twice (first at line 3)"),
        ("[telegram]\nadmins = ['bob']\n", 2, "numeric Telegram user ids"),
        ("timezone = 'Mars/Olympus'\n", 1, "unknown time zone"),
        ("[telegram\nchat = 1\n", 1, "invalid TOML"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.line == line
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("2h", 7200),
                                               ("7d", 604800), (30, 30), ("45", 45)])
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "soon", "-5m", 0, True, "5y"])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_format_duration() -> None:
    assert [format_duration(s) for s in (900, 3600, 86400, 45)] == ["15m", "1h", "1d", "45s"]


def test_token_from_environment_or_file_never_shown(tmp_path: Path) -> None:
    secret = "123456:SECRET-token_value"
    token = load_token({"TELEGRAM_BOT_TOKEN": secret})
    assert token is not None and token.reveal() == secret
    assert secret not in repr(token) and secret not in str(token)
    file = tmp_path / "token"
    file.write_text(secret + "\n", encoding="utf-8")
    from_file = load_token({"TELEGRAM_BOT_TOKEN_FILE": str(file)})
    assert from_file is not None and from_file.reveal() == secret
    assert load_token({}) is None


def test_malformed_token_error_does_not_echo_it() -> None:
    with pytest.raises(ConfigError) as caught:
        load_token({"TELEGRAM_BOT_TOKEN": "not a token SECRETPART"})
    assert "SECRETPART" not in str(caught.value)
