"""The partnership map from stored signals, when the weekly digest posts it, actors by name."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.matching.text import fold
from bot.partners.catalog import Actor, Partnerships
from bot.partners.matrix import PartnerMap, build_map, previous_period
from bot.settings.config import WEEKDAYS
from bot.storage.store import Store

STORED_RESOLUTION = timedelta(seconds=1)


def partner_map_from(store: Store, partnerships: Partnerships, since: datetime,
                     until: datetime, history: float) -> PartnerMap:
    """The map of signals stored in [since, until), against the period of the same length
    before it, with the pairs never seen before ``since``.

    Signals are kept ``history`` seconds: when the previous period reaches further back,
    there is no comparison and no pair is called new (its past is forgotten, not empty).
    """
    previous_start, _ = previous_period(since, until)
    if previous_start < until - timedelta(seconds=history):
        current = store.signal_records(since, until + STORED_RESOLUTION)
        return build_map(current, [], {(r.supplier, r.recipient) for r in current},
                         partnerships, since, until)
    # Stored times are to the second: the current period takes in the second ``until``
    # falls in, so a signal stored a moment ago counts; the periods still meet at ``since``.
    return build_map(store.signal_records(since, until + STORED_RESOLUTION),
                     store.signal_records(previous_start, since),
                     store.signal_pairs_before(since), partnerships, since, until)


def partner_digest_trigger(day: int, hour: int, minute: int, zone: ZoneInfo) -> CronTrigger:
    """Every week on ``day`` (0 = Monday) at ``hour``:``minute``, local time."""
    return CronTrigger(day_of_week=WEEKDAYS[day], hour=hour, minute=minute, timezone=zone)


def find_actor(partnerships: Partnerships, text: str) -> Actor | None:
    """The actor ``text`` names: its id, a name in either language, or an alias; accents
    and case do not matter."""
    wanted = fold(text.strip())
    if not wanted:
        return None
    for actor in partnerships.actors:
        names = (actor.id, *actor.names.values(), *actor.aliases)
        if any(fold(name) == wanted for name in names):
            return actor
    return None
