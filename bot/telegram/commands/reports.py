"""The daily health report to the admins: feeds, stories, alerts over the last day."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.telegram.commands.deps import CommandDeps, watchlist_names
from bot.telegram.html import bold, escape, fit, local_time
from bot.telegram.i18n import t

REPORT_WINDOW = timedelta(days=1)
NONE = "0"  # what the report says where a list is empty


def health_report(deps: CommandDeps, lang: str) -> str:
    """The daily report to the admins (Telegram HTML): feeds, stories, alerts."""
    now = deps.clock()
    day = now - REPORT_WINDOW
    health = deps.store.feed_health(day)
    failing = [f.name for f in health if f.failures]
    stale = [f.name for f in health if not f.last_success or f.last_success < day]
    hits = deps.store.hits_by_watchlist(day)
    names = watchlist_names(deps)
    alerts = deps.store.alert_counts(day)
    when = local_time(now, lang, ZoneInfo(deps.config.timezone))
    lines = [
        f"{bold(t(lang, 'report.title'))} · {escape(when)}",
        escape(t(lang, "report.feeds", failing=", ".join(failing) or NONE,
                 stale=", ".join(stale) or NONE)),
        escape(t(lang, "report.hits", hits=", ".join(
            f"{names.get(w, w)} {n}" for w, n in sorted(hits.items())) or NONE)),
        escape(t(lang, "report.alerts", sent=alerts.get("sent", 0),
                 pending=alerts.get("pending", 0), failed=alerts.get("failed", 0))),
    ]
    return fit("\n".join(lines))
