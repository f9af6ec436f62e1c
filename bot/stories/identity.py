"""Item identity: canonical links, GUID keys and body digests, so one article is one row."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit

# Query parameters that only say how a reader arrived, never which article it is.
TRACKING_PREFIXES = ("utm_", "at_", "mtm_", "pk_", "hsa_", "ga_")
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "xtor",
    "xtref", "ocid", "cmpid", "ref", "ref_src", "src", "source", "feature", "ito", "smid",
    "outputtype", "amp", "_ga", "_gl", "spm", "share", "s_cid", "icid", "int_cmp",
})
DEFAULT_PORTS = {"http": 80, "https": 443}
AMP_PATH_SUFFIXES = ("/amp", ".amp")
AMP_PATH_PREFIX = "/amp/"
MAX_PORT = 65535
# An http(s) address with a plain host name and no user, spaces or control characters:
# what urlsplit would make of it, in one match. Anything else goes through urlsplit.
SIMPLE_URL_RE = re.compile(
    r"(?P<scheme>https?)://(?P<host>[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?"
    r"(?P<path>/[^?#\s]*)?(?:\?(?P<query>[^#\s]*))?(?:#\S*)?\Z", re.IGNORECASE)


def canonical_url(url: str) -> str | None:
    """A scheme-free key that equal articles share: host without www., path, sorted query.

    Tracking parameters, fragments, the scheme, default ports, a trailing slash and AMP
    variants are dropped; None when ``url`` is not an http(s) address.
    """
    url = url.strip()
    simple = SIMPLE_URL_RE.match(url)  # most links: skip urlsplit, the slow part
    if simple and int(simple["port"] or 0) <= MAX_PORT:
        scheme, hostname = simple["scheme"].lower(), simple["host"]
        port = int(simple["port"]) if simple["port"] else None
        raw_path, raw_query = simple["path"] or "", simple["query"] or ""
    else:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return None
        scheme, hostname = parts.scheme.lower(), parts.hostname or ""
        raw_path, raw_query = parts.path, parts.query
    if scheme not in DEFAULT_PORTS or not hostname:
        return None
    host = hostname.lower().rstrip(".")
    host = host.removeprefix("www.").removeprefix("amp.").removeprefix("m.")
    if port and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = raw_path or "/"
    if path.startswith(AMP_PATH_PREFIX):
        path = path[len(AMP_PATH_PREFIX) - 1 :]
    for suffix in AMP_PATH_SUFFIXES:
        path = path.removesuffix(suffix)
    path = path.rstrip("/") or ""
    query = sorted(
        (key, value)
        for key, value in parse_qsl(raw_query, keep_blank_values=True)
        if not _is_tracking(key)
    ) if raw_query else []
    return f"{host}{path}" + (f"?{urlencode(query)}" if query else "")


def _is_tracking(key: str) -> bool:
    lowered = key.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def guid_key(guid: str | None, feed_url: str) -> str | None:
    """The identity a GUID gives: global when it is a URL, URN or tag, else scoped to its feed.

    Many feeds number their entries "1", "2", ...; such GUIDs only mean something together
    with the feed that wrote them.
    """
    if not guid:
        return None
    value = guid.strip()
    lowered = value.lower()
    if "://" in value or lowered.startswith(("urn:", "tag:")):
        return value
    return f"{feed_url}#{value}"


def content_hash(body: bytes) -> str:
    """A short stable digest of a response body, to skip re-parsing an unchanged feed."""
    return hashlib.blake2b(body, digest_size=16).hexdigest()
