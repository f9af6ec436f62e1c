"""Canonical links and item identity keys, so one article is stored and alerted once (pure)."""

from __future__ import annotations

import hashlib
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


def canonical_url(url: str) -> str | None:
    """A scheme-free key that equal articles share: host without www., path, sorted query.

    Tracking parameters, fragments, the scheme, default ports, a trailing slash and AMP
    variants are dropped; None when ``url`` is not an http(s) address.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    host = host.removeprefix("www.").removeprefix("amp.").removeprefix("m.")
    if port and port != DEFAULT_PORTS[parts.scheme.lower()]:
        host = f"{host}:{port}"
    path = parts.path or "/"
    if path.startswith(AMP_PATH_PREFIX):
        path = path[len(AMP_PATH_PREFIX) - 1 :]
    for suffix in AMP_PATH_SUFFIXES:
        path = path.removesuffix(suffix)
    path = path.rstrip("/") or ""
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(key)
    )
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
