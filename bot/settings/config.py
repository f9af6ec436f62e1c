"""config.toml to frozen settings, every key defaulted and checked, errors with file:line."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.ops.logs import parse_levels
from bot.settings.durations import parse_duration
from bot.settings.environment import with_environment
from bot.settings.tomlfile import TomlDocument, load_toml
from bot.settings.urls import channel_address, url_key, url_problem
from bot.telegram.i18n import LANGUAGES

DEFAULT_RETENTION = 30 * 86400.0
DEFAULT_HISTORY = 90 * 86400.0  # what /hits and /stats can show
DEFAULT_CONFIG_PATH = Path("config.toml")
DEFAULT_USER_AGENT = "sahel-watch/0.1 (+news monitor; polite RSS/Atom poller)"

T = TypeVar("T")


@dataclass(frozen=True)
class FeedConfig:
    """One feed to poll."""

    name: str
    url: str
    lang: str
    interval: float  # seconds between polls when the feed is healthy
    # A search of the news at an address the bot does not know as one (it knows its
    # shipped news search and global index): its watchlists' hits bring it forward.
    search: bool = False


@dataclass(frozen=True)
class TelegramConfig:
    """Where alerts go and who may administer the bot (the token is not here)."""

    chat: str | None = None
    api_base_url: str | None = None
    admins: tuple[int, ...] = ()
    language: str = "fr"
    link_preview: bool = False


@dataclass(frozen=True)
class PollingConfig:
    """How feeds are fetched: scheduling, concurrency, timeouts and limits."""

    tick: float = 30.0
    default_interval: float = 900.0
    max_interval: float = 2 * 3600.0  # the slowest a feed that never changes is polled
    max_concurrency: int = 20
    per_host: int = 2
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    backoff_base: float = 60.0
    backoff_max: float = 6 * 3600.0
    user_agent: str = DEFAULT_USER_AGENT
    parse_workers: int = 2
    allow_private_feeds: bool = False  # let /feed add reach loopback and private addresses


@dataclass(frozen=True)
class DeliveryConfig:
    """How the outbox is drained."""

    tick: float = 5.0
    once_deadline: float = 120.0  # how long run --once waits out retries before exiting
    retry_base: float = 10.0
    retry_max: float = 3600.0
    batch: int = 20
    per_chat_per_minute: int = 20  # Telegram's limit in a group or channel
    global_per_second: int = 30  # Telegram's limit across all chats
    max_hold: float = 300.0  # longest wait before pending alerts are sent as digests
    edit_interval: float = 60.0  # least time between two edits of one story's alert
    story_window: float = 72 * 3600.0  # how long a story takes in new reports


@dataclass(frozen=True)
class ReportsConfig:
    """Scheduled reports: the admins' daily one, the channel's weekly partnership map."""

    daily_at: tuple[int, int] | None = (7, 0)  # local hour and minute; None: no report
    # Day of week (0 = Monday), hour and minute of the weekly partnership digest; None: none.
    partners_weekly: tuple[int, int, int] | None = (0, 8, 0)


@dataclass(frozen=True)
class LoggingConfig:
    """Log lines: their detail (per module if wanted) and their format."""

    level: str = "INFO"  # a level, then optional module=level pairs: "INFO,bot.fetch=DEBUG"
    format: str = "text"  # "text" (key=value) or "json" (one object per line)


@dataclass(frozen=True)
class MetricsConfig:
    """The optional Prometheus endpoint."""

    port: int | None = None  # None: no endpoint
    host: str = "127.0.0.1"


@dataclass(frozen=True)
class Config:
    """Everything the bot needs to run, except the token."""

    path: Path
    storage_path: Path
    watchlists_dir: Path
    feeds: tuple[FeedConfig, ...]
    partnerships_file: Path | None = None  # actors and relation kinds; None: no signals
    atom_dir: Path | None = None  # an Atom feed of recent hits per watchlist; None: none
    retention: float = 30 * 86400.0  # article texts are kept this long
    history: float = 90 * 86400.0  # stories, items and hits are kept this long
    telegram: TelegramConfig = TelegramConfig()
    polling: PollingConfig = PollingConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    reports: ReportsConfig = ReportsConfig()
    logging: LoggingConfig = LoggingConfig()
    metrics: MetricsConfig = MetricsConfig()
    timezone: str = "UTC"


TELEGRAM_KEYS = {"chat", "api_base_url", "admins", "language", "link_preview"}
STORAGE_KEYS = {"path", "retention", "history", "atom_dir"}
POLLING_DURATIONS = ("tick", "default_interval", "max_interval", "connect_timeout",
                     "read_timeout", "total_timeout", "backoff_base", "backoff_max")
POLLING_COUNTS = ("max_concurrency", "per_host", "max_bytes", "max_redirects", "parse_workers")
POLLING_KEYS = {*POLLING_DURATIONS, *POLLING_COUNTS, "user_agent", "allow_private_feeds"}
DELIVERY_COUNTS = ("batch", "per_chat_per_minute", "global_per_second")
DELIVERY_DURATIONS = ("tick", "once_deadline", "retry_base", "retry_max", "max_hold",
                      "edit_interval", "story_window")
REPORTS_KEYS = {"daily_at", "partners_weekly"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_PARTNERSHIPS = "partnerships/partnerships.toml"  # in the watchlists folder
# A channel's web preview has no validators: it is fetched whole each time, so no oftener.
CHANNEL_MIN_INTERVAL = 300.0
LOGGING_KEYS = {"level", "format"}
LOG_FORMATS = ("text", "json")
METRICS_KEYS = {"port", "host"}
MAX_PORT = 65535
# Every setting but the feeds, by table (None: a top-level value): what the environment
# may override.
SETTINGS: dict[str, frozenset[str] | None] = {
    "watchlists_dir": None, "timezone": None, "partnerships_file": None,
    "telegram": frozenset(TELEGRAM_KEYS),
    "storage": frozenset(STORAGE_KEYS), "polling": frozenset(POLLING_KEYS),
    "delivery": frozenset({*DELIVERY_COUNTS, *DELIVERY_DURATIONS}),
    "reports": frozenset(REPORTS_KEYS), "logging": frozenset(LOGGING_KEYS),
    "metrics": frozenset(METRICS_KEYS),
}
TOP_KEYS = {*SETTINGS, "feeds"}
CLOCK_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate ``path``, with the SAHEL_WATCH_ variables of ``environ`` over
    its values; raise ConfigError naming the first problem (file and line, or variable)."""
    doc = load_toml(path)
    if environ is not None:
        doc = with_environment(doc, environ, SETTINGS)
    return config_from_document(doc)


def config_from_document(doc: TomlDocument) -> Config:
    """Validate a parsed config document."""
    base = doc.path.parent
    data = doc.data
    _no_unknown_keys(doc, data, TOP_KEYS)
    telegram = _telegram(doc, _table(doc, data, "telegram"))
    storage = _table(doc, data, "storage")
    _no_unknown_keys(doc, storage, STORAGE_KEYS, "storage")
    storage_path = base / _get(doc, storage, "path", str, "state/sahel-watch.db", "storage")
    atom_dir = _get(doc, storage, "atom_dir", str, "state/atom", "storage").strip()
    retention = _duration(doc, storage, "retention", DEFAULT_RETENTION, "storage")
    history = _duration(doc, storage, "history", DEFAULT_HISTORY, "storage")
    polling = _polling(doc, _table(doc, data, "polling"))
    delivery = _delivery(doc, _table(doc, data, "delivery"))
    reports = _reports(doc, _table(doc, data, "reports"))
    logging = _logging(doc, _table(doc, data, "logging"))
    metrics = _metrics(doc, _table(doc, data, "metrics"))
    watchlists_dir = base / _get(doc, data, "watchlists_dir", str, "watchlists")
    partnerships_file: Path | None
    if "partnerships_file" in data:
        chosen = _get(doc, data, "partnerships_file", str, "").strip()
        partnerships_file = base / chosen if chosen else None
    else:  # the file the watchlists folder ships with, if it has one
        default = watchlists_dir / DEFAULT_PARTNERSHIPS
        partnerships_file = default if default.exists() else None
    timezone = _get(doc, data, "timezone", str, "UTC")
    _check_timezone(doc, timezone)
    return Config(
        path=doc.path,
        storage_path=storage_path,
        atom_dir=base / atom_dir if atom_dir else None,
        retention=retention,
        history=max(history, retention),
        watchlists_dir=watchlists_dir,
        partnerships_file=partnerships_file,
        feeds=_feeds(doc, data.get("feeds", []), polling.default_interval),
        telegram=telegram,
        polling=polling,
        delivery=delivery,
        reports=reports,
        logging=logging,
        metrics=metrics,
        timezone=timezone,
    )


def _telegram(doc: TomlDocument, table: dict[str, Any]) -> TelegramConfig:
    where = "telegram"
    _no_unknown_keys(doc, table, TELEGRAM_KEYS, where)
    chat_value = table.get("chat")
    if (chat_value is not None and not isinstance(chat_value, str | int)) or chat_value is True:
        raise doc.error("chat must be a channel @name or a numeric chat id", where, "chat")
    chat = str(chat_value).strip() if chat_value not in (None, "") else None
    if chat and not (chat.startswith("@") or chat.lstrip("-").isdigit()):
        raise doc.error(f"chat {chat!r} must be an @name or a numeric id", where, "chat")
    api_base_url = _get(doc, table, "api_base_url", str, "", where).rstrip("/") or None
    if api_base_url:
        _check_http_url(doc, api_base_url, where, "api_base_url")
    admins = _get(doc, table, "admins", list, [], where)
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in admins):
        raise doc.error("admins must be a list of numeric Telegram user ids", where, "admins")
    language = _get(doc, table, "language", str, "fr", where)
    if language not in LANGUAGES:
        raise doc.error(f"language must be one of {', '.join(LANGUAGES)}", where, "language")
    return TelegramConfig(
        chat=chat,
        api_base_url=api_base_url,
        admins=tuple(admins),
        language=language,
        link_preview=_get(doc, table, "link_preview", bool, False, where),
    )


def _polling(doc: TomlDocument, table: dict[str, Any]) -> PollingConfig:
    where = "polling"
    defaults = PollingConfig()
    _no_unknown_keys(doc, table, POLLING_KEYS, where)
    values: dict[str, Any] = {
        key: _duration(doc, table, key, getattr(defaults, key), where)
        for key in POLLING_DURATIONS
    }
    for key in POLLING_COUNTS:
        values[key] = _positive_int(doc, table, key, getattr(defaults, key), where)
    values["user_agent"] = _get(doc, table, "user_agent", str, defaults.user_agent, where)
    values["allow_private_feeds"] = _get(doc, table, "allow_private_feeds", bool,
                                         defaults.allow_private_feeds, where)
    return PollingConfig(**values)


def _delivery(doc: TomlDocument, table: dict[str, Any]) -> DeliveryConfig:
    where = "delivery"
    defaults = DeliveryConfig()
    _no_unknown_keys(doc, table, {*DELIVERY_COUNTS, *DELIVERY_DURATIONS}, where)
    values: dict[str, Any] = {
        key: _duration(doc, table, key, getattr(defaults, key), where)
        for key in DELIVERY_DURATIONS
    }
    for key in DELIVERY_COUNTS:
        values[key] = _positive_int(doc, table, key, getattr(defaults, key), where)
    return DeliveryConfig(**values)


def _reports(doc: TomlDocument, table: dict[str, Any]) -> ReportsConfig:
    _no_unknown_keys(doc, table, REPORTS_KEYS, "reports")
    value = _get(doc, table, "daily_at", str, "07:00", "reports")
    daily: tuple[int, int] | None = None
    if value.strip().lower() not in ("", "off", "none"):
        match = CLOCK_RE.match(value.strip())
        if not match:
            raise doc.error(f"daily_at must be a time such as 07:00 (or \"off\"), got "
                            f"{value!r}", "reports", "daily_at")
        daily = (int(match.group(1)), int(match.group(2)))
    weekly_value = _get(doc, table, "partners_weekly", str, "mon 08:00", "reports").strip()
    weekly: tuple[int, int, int] | None = None
    if weekly_value.lower() not in ("", "off", "none"):
        day, _, clock = weekly_value.partition(" ")
        match = CLOCK_RE.match(clock.strip())
        if day.lower()[:3] not in WEEKDAYS or not match:
            raise doc.error(f"partners_weekly must be a day and a time such as \"mon 08:00\" "
                            f"(or \"off\"), got {weekly_value!r}", "reports", "partners_weekly")
        weekly = (WEEKDAYS.index(day.lower()[:3]), int(match.group(1)), int(match.group(2)))
    return ReportsConfig(daily_at=daily, partners_weekly=weekly)


def _logging(doc: TomlDocument, table: dict[str, Any]) -> LoggingConfig:
    _no_unknown_keys(doc, table, LOGGING_KEYS, "logging")
    level = _get(doc, table, "level", str, "INFO", "logging")
    try:
        parse_levels(level)
    except ValueError as exc:
        raise doc.error(f"level: {exc}", "logging", "level") from None
    form = _get(doc, table, "format", str, "text", "logging")
    if form not in LOG_FORMATS:
        raise doc.error(f"format must be one of {', '.join(LOG_FORMATS)}", "logging", "format")
    return LoggingConfig(level=level, format=form)


def _metrics(doc: TomlDocument, table: dict[str, Any]) -> MetricsConfig:
    _no_unknown_keys(doc, table, METRICS_KEYS, "metrics")
    port = table.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)
                             or not 1 <= port <= MAX_PORT):
        raise doc.error(f"port must be a whole number from 1 to {MAX_PORT}", "metrics", "port")
    return MetricsConfig(port=port, host=_get(doc, table, "host", str, "127.0.0.1", "metrics"))


def feed_default_interval(url: str, default: float) -> float:
    """The interval of a feed that sets none: the default, never under a channel's least."""
    return max(default, CHANNEL_MIN_INTERVAL) if channel_address(url) else default


def _feeds(doc: TomlDocument, raw: object, default_interval: float) -> tuple[FeedConfig, ...]:
    if not isinstance(raw, list):
        raise doc.error("feeds must be written as [[feeds]] tables", "feeds")
    feeds: list[FeedConfig] = []
    names: dict[str, int] = {}
    urls: dict[str, int] = {}
    for index, table in enumerate(raw):
        where = ("feeds", index)
        if not isinstance(table, dict):
            raise doc.error("each feed must be a [[feeds]] table", *where)
        _no_unknown_keys(doc, table, {"name", "url", "lang", "interval", "search"},
                         *where)
        for required in ("name", "url"):
            if required not in table:
                raise doc.error(f"feed is missing {required!r}", *where)
        name = _get(doc, table, "name", str, "", *where).strip()
        url = _get(doc, table, "url", str, "", *where).strip()
        if not name:
            raise doc.error("feed name is empty", *where, "name")
        url = channel_address(url) or url
        _check_http_url(doc, url, *where, "url")
        lang = _get(doc, table, "lang", str, "fr", *where)
        if lang not in LANGUAGES:
            raise doc.error(f"lang must be one of {', '.join(LANGUAGES)}", *where, "lang")
        if name in names:
            raise doc.error(f"feed name {name!r} is used twice (first at line {names[name]})",
                            *where, "name")
        if url_key(url) in urls:
            raise doc.error(f"feed url is listed twice (first at line {urls[url_key(url)]})",
                            *where, "url")
        names[name] = doc.line_of(*where, "name") or 0
        urls[url_key(url)] = doc.line_of(*where, "url") or 0
        interval = _duration(doc, table, "interval", feed_default_interval(url, default_interval),
                             *where)
        if channel_address(url) and interval < CHANNEL_MIN_INTERVAL:
            raise doc.error(f"a Telegram channel is read at most every "
                            f"{CHANNEL_MIN_INTERVAL / 60:.0f} minutes: interval is too short",
                            *where, "interval")
        search = _get(doc, table, "search", bool, False, *where)
        feeds.append(FeedConfig(name=name, url=url, lang=lang, interval=interval,
                                search=search))
    return tuple(feeds)


def _table(doc: TomlDocument, data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise doc.error(f"{key} must be a [{key}] table", key)
    return value


def _get(doc: TomlDocument, table: dict[str, Any], key: str, kind: type[T], default: T,
         *where: str | int) -> T:
    value = table.get(key, default)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise doc.error(f"{key} must be {_KIND_NAMES.get(kind, kind.__name__)}", *where, key)
    return value


def _duration(doc: TomlDocument, table: dict[str, Any], key: str, default: float,
              *where: str | int) -> float:
    return _convert(doc, table, key, default, parse_duration, *where)


def _positive_int(doc: TomlDocument, table: dict[str, Any], key: str, default: int,
                  *where: str | int) -> int:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"expected a whole number of at least 1, got {value!r}")
        return value

    return _convert(doc, table, key, default, check, *where)


def _convert(doc: TomlDocument, table: dict[str, Any], key: str, default: T,
             convert: Callable[[object], T], *where: str | int) -> T:
    if key not in table:
        return default
    try:
        return convert(table[key])
    except ValueError as exc:
        raise doc.error(f"{key}: {exc}", *where, key) from None


def _no_unknown_keys(doc: TomlDocument, table: dict[str, Any], known: set[str],
                     *where: str | int) -> None:
    for key in table:
        if key not in known:
            hint = ", ".join(sorted(known))
            raise doc.error(f"unknown key {key!r} (expected one of: {hint})", *where, key)


def _check_http_url(doc: TomlDocument, url: str, *where: str | int) -> None:
    problem = url_problem(url)
    if problem is not None:
        raise doc.error(problem, *where)


def _check_timezone(doc: TomlDocument, name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise doc.error(f"unknown time zone {name!r} (for example UTC or Africa/Bamako)",
                        "timezone") from None


_KIND_NAMES = {str: "text", bool: "true or false", list: "a list", int: "a whole number"}
