"""A small partnership file and made-up signal records for the map, chart and digest tests."""

from __future__ import annotations

from datetime import timedelta

from bot.partners.catalog import Actor, Partnerships, RelationKind, SignalRouting
from bot.partners.matrix import PartnerMap, SignalRecord, build_map
from tests.support.common import NOW

SINCE = NOW - timedelta(days=30)


def actor(actor_id: str, fr: str, en: str, role: str) -> Actor:
    return Actor(id=actor_id, names={"fr": fr, "en": en}, role=role, aliases=(), watchlists=())


def kind(kind_id: str, fr: str, en: str) -> RelationKind:
    return RelationKind(id=kind_id, names={"fr": fr, "en": en}, cues=())


PARTNERSHIPS = Partnerships(
    actors=(
        actor("turkey", "Turquie", "Turkey", "supplier"),
        actor("mali", "Mali", "Mali", "recipient"),
        actor("russia", "Russie", "Russia", "supplier"),
        actor("burkina-faso", "Burkina Faso", "Burkina Faso", "recipient"),
        actor("china", "Chine", "China", "supplier"),
        actor("niger", "Niger", "Niger", "recipient"),
    ),
    # Not alphabetical: ties must follow this order, not the ids'.
    kinds=(
        kind("training", "formation", "training"),
        kind("arms", "armement", "arms"),
        kind("protection", "protection", "protection"),
        kind("agreement", "accord", "agreement"),
        kind("end", "fin de partenariat", "end of partnership"),
    ),
    routing=SignalRouting(),
)


def record(supplier: str, recipient: str, kind_id: str, *, days_ago: float = 1,
           story: int = 1) -> SignalRecord:
    return SignalRecord(
        supplier=supplier, recipient=recipient, kind=kind_id,
        seen_at=NOW - timedelta(days=days_ago), evidence=f"{supplier} {kind_id} {recipient}.",
        title="Titre", link="https://example.org/a", story_id=story,
    )


def records(supplier: str, recipient: str, kind_id: str, count: int,
            *, days_ago: float = 1) -> list[SignalRecord]:
    return [record(supplier, recipient, kind_id, days_ago=days_ago, story=n)
            for n in range(count)]


def sample_map(seen_before: set[tuple[str, str]] | None = None) -> PartnerMap:
    """Turkey → Mali grows 2 → 7 (training), Russia → Mali falls 5 → 1 (protection),
    Russia → Niger stays at 2, Turkey → Niger is new (arms), Russia → Burkina Faso stops."""
    current = [
        *records("turkey", "mali", "training", 5),
        *records("turkey", "mali", "arms", 2),
        *records("russia", "mali", "protection", 1),
        *records("russia", "niger", "agreement", 2),
        *records("turkey", "niger", "arms", 1),
    ]
    previous = [
        *records("turkey", "mali", "arms", 2, days_ago=40),
        *records("russia", "mali", "protection", 5, days_ago=40),
        *records("russia", "niger", "agreement", 2, days_ago=40),
        *records("russia", "burkina-faso", "end", 3, days_ago=40),
    ]
    seen = {("turkey", "mali"), ("russia", "mali"), ("russia", "niger"),
            ("russia", "burkina-faso")} if seen_before is None else seen_before
    return build_map(current, previous, seen, PARTNERSHIPS, SINCE, NOW)
