"""Every word a Telegram reader sees, in French and English."""

from __future__ import annotations

from datetime import datetime

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

MESSAGES: dict[str, dict[str, str]] = {
    "fr": {
        "alert.matched": "Termes :",
        "alert.field.title": "titre",
        "alert.field.summary": "résumé",
        "alert.source": "Source",
        "alert.published": "publié",
        "alert.no_title": "(sans titre)",
        "alert.also": "Aussi rapporté par :",
        "digest.header": "🗞 {count} alertes regroupées",
        "admin.alert_refused": "⚠️ Telegram refuse les alertes pour {chat} :",
        "alert.outlets": "{count} médias",
        "recent.header": "Dernières alertes ({count})",
        "recent.empty": "Aucune alerte pour l'instant.",
        "recent.bad_count": "Indiquez un nombre entre 1 et {max}, par exemple /recent 5.",
        "admin.watchlists_refused": "⚠️ Modification des listes de veille refusée ; "
        "les listes précédentes restent actives.",
    },
    "en": {
        "alert.matched": "Matched:",
        "alert.field.title": "title",
        "alert.field.summary": "summary",
        "alert.source": "Source",
        "alert.published": "published",
        "alert.no_title": "(untitled)",
        "alert.also": "Also reported by:",
        "digest.header": "🗞 {count} alerts in one message",
        "admin.alert_refused": "⚠️ Telegram refuses alerts for {chat}:",
        "alert.outlets": "{count} outlets",
        "recent.header": "Latest alerts ({count})",
        "recent.empty": "No alerts yet.",
        "recent.bad_count": "Give a number from 1 to {max}, for example /recent 5.",
        "admin.watchlists_refused": "⚠️ Watchlist edit refused; the previous watchlists "
        "stay active.",
    },
}

MONTHS = {
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
           "nov.", "déc."),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


def pick_language(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """French or English from a Telegram language code such as "fr-FR" or "en"."""
    if code:
        prefix = code.split("-")[0].lower()
        if prefix in LANGUAGES:
            return prefix
    return default if default in LANGUAGES else DEFAULT_LANGUAGE


def t(lang: str, key: str, **values: object) -> str:
    """The message ``key`` in ``lang``, with ``values`` filled in."""
    template = MESSAGES.get(lang, MESSAGES[DEFAULT_LANGUAGE])[key]
    return template.format(**values) if values else template


def format_time(moment: datetime, lang: str) -> str:
    """A readable local time: "24 nov. 2026, 10:05 UTC" / "24 Nov 2026, 10:05 UTC"."""
    month = MONTHS.get(lang, MONTHS["en"])[moment.month - 1]
    zone = moment.tzname() or ""
    return f"{moment.day} {month} {moment.year}, {moment:%H:%M} {zone}".rstrip()
