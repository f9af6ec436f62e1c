"""Feed addresses as people see them: credentials redacted, untitled feeds named by host."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.settings.credentials import REDACTED

SECRET_PARAMS = ("key", "apikey", "api_key", "token", "access_token", "secret", "password",
                 "pass", "sig", "signature", "auth")
# user:password@ in any address inside a text (an error message, a name given as a URL).
CREDENTIALS_IN_TEXT_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")
MAX_SHOWN_PATH = 60  # characters of the path in a feed's shown name
# A public Telegram channel is read from its web preview, t.me/s/<channel>; its name is
# 5 to 32 letters, digits and underscores, starting with a letter.
CHANNEL_HOSTS = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me"})
CHANNEL_PATH_RE = re.compile(r"/(?:s/)?([A-Za-z][A-Za-z0-9_]{4,31})/?")
CHANNEL_PREVIEW = "https://t.me/s/{channel}"
# Searches of the news (by host, and the path their searches start with), as /feeds names
# them whatever their format: a news search's topic pages are not searches.
SEARCHES = (("news.google.com", "/rss/search"), ("api.gdeltproject.org", "/api/v2/doc/"))


def redact_url(url: str) -> str:
    """``url`` without a user name, password or credential-like query values."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SECRET_PARAMS for k, _ in pairs):
            query = urlencode([(k, REDACTED if k.lower() in SECRET_PARAMS else v)
                               for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str) -> str:
    """``text`` with the credentials of every address in it replaced."""
    return CREDENTIALS_IN_TEXT_RE.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)


def shown_name(url: str) -> str:
    """A name for a feed that has none: its host and path, never its credentials or query
    ("news.example/afrique/rss")."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path.rstrip("/")
    if len(path) > MAX_SHOWN_PATH:
        path = path[:MAX_SHOWN_PATH] + "…"
    return f"{host}{path}" or redact_url(url)


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a feed's address (not http(s), no host, a port out of range,
    a broken IPv6 literal), or None when it can."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        return f"{_redact_any(url)!r} is not a valid address ({exc})"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"{_redact_any(url)!r} is not an http or https address"
    return None


def channel_address(url: str) -> str | None:
    """The web preview address of a public Telegram channel named by ``url``
    ("https://t.me/sahelveille", "t.me/s/sahelveille", "telegram.me/sahelveille" ->
    "https://t.me/s/sahelveille"); None for any other address."""
    try:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        host = (parts.hostname or "").lower()
    except ValueError:  # not an address at all: others say why
        return None
    if host not in CHANNEL_HOSTS or parts.query:
        return None
    match = CHANNEL_PATH_RE.fullmatch(parts.path)
    # Channel names are not case-sensitive: one channel, one address.
    return CHANNEL_PREVIEW.format(channel=match[1].lower()) if match else None


def is_search(url: str) -> bool:
    """Whether ``url`` is a search of the news (a news search, a global news index)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return any(host == h and parts.path.startswith(p) for h, p in SEARCHES)


def search_query(url: str) -> str:
    """What a search address looks for: its ``q`` or ``query`` value ("" for none)."""
    values = dict(parse_qsl(urlsplit(url).query))
    return values.get("q") or values.get("query") or ""


def url_key(url: str) -> str:
    """``url`` as compared for duplicates: scheme and host are case-insensitive."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query,
                       parts.fragment))


def _redact_any(url: str) -> str:
    """redact_url, or the text with its credentials redacted when it does not parse."""
    try:
        return redact_url(url)
    except ValueError:
        return redact_text(url)
