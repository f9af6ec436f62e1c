"""Which cues of a clause tell its relation: cues held by talks, an accord or an end, objects
that tell a verb's kind, predicates joined by "and" (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bot.matching.text import WordForms
from bot.partners.lexicon import (
    ACCORDS,
    FUTURE_ENDINGS,
    FUTURE_WORDS,
    NON_STATE,
    OBJECT_GAP,
    OBJECT_LINKS,
    OBJECT_WINDOW,
    PREDICATE_JOINS,
    PROVISION_WINDOW,
    PROVISIONS,
    SHORT_PROVISIONS,
    TALK_WINDOW,
    TALKS,
    UNDER,
    UNDER_WINDOW,
)


@dataclass(frozen=True, slots=True)
class Span:
    """An actor mention or a cue in one clause, by word index and character offset."""

    target: str
    first: int
    last: int
    start: int
    end: int
    strong: bool = True  # a weak cue tells its kind only when no strong one links the pair
    carried: bool = False  # named in the title, not in this clause (it continues the title)
    # A maker ("Turkish-made drones"): the only kind it may supply, "" for none; None for a
    # mention that is not a maker.
    made: str | None = None


def gap(a: Span, b: Span) -> int:
    """Words strictly between two spans (0 when adjacent or overlapping)."""
    return max(0, max(a.first, b.first) - min(a.last, b.last) - 1)


def overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def most_specific(cues: list[Span]) -> list[Span]:
    """Drop a cue lying inside a longer cue ("coopération" in "fin de la coopération")."""
    return [c for c in cues if not any(
        o is not c and o.start <= c.start and c.end <= o.end and o.end - o.start > c.end - c.start
        for o in cues)]


def beyond_accords(words: Sequence[WordForms], cues: list[Span]) -> list[Span]:
    """Drop the cues an accord's provisions or talks hold: after a word for an accord, a
    cue that a provision word stands just before ("le protocole prévoit la formation",
    "contract to supply") tells what was agreed, not what was done; a cue just after a
    word of talks ("discussed training") tells what was talked about."""
    folded = [w.folded for w in words]
    talks = [i for i, w in enumerate(folded) if w in TALKS]
    if talks:
        cues = [c for c in cues if not any(0 < c.first - i <= TALK_WINDOW for i in talks)]
    accord_at = next((i for i, w in enumerate(folded) if w in ACCORDS), None)
    if accord_at is None:
        return cues
    under = next((i for i in range(max(0, accord_at - UNDER_WINDOW), accord_at)
                  if folded[i] in UNDER), None)
    if under is not None and any(w in FUTURE_WORDS or w.endswith(FUTURE_ENDINGS)
                                 for w in folded[:under]):
        cues = [c for c in cues if c.first > under]  # what will be done under the accord
    provided = next((i for i in range(accord_at + 1, len(folded))
                     if folded[i] in PROVISIONS), len(folded))
    return [c for c in cues if c.first <= accord_at or not (c.first > provided or any(
        w in SHORT_PROVISIONS for w in folded[max(accord_at + 1, c.first - PROVISION_WINDOW):
                                              c.first]))]


def yielding(cues: list[Span], carriers: Sequence[Span] = ()) -> list[Span]:
    """Drop a weak cue that a weak cue of another kind follows closely: its object tells
    the relation ("déploie des drones turcs" deploys arms), and tells it as strongly as a
    verb would ("reçoit des drones" is a delivery); so does the thing a verb of sending
    moves ("sends drones", "drones were handed to")."""
    verbs = [c for c in cues if not c.strong and any(
        not o.strong and o.target != c.target and 0 < o.first - c.last <= OBJECT_WINDOW
        for o in cues)]
    objects = {id(o) for c in verbs for o in cues if not o.strong and o.target != c.target
               and 0 < o.first - c.last <= OBJECT_WINDOW}
    objects.update(id(o) for v in carriers for o in cues if not o.strong and (
        0 < o.first - v.last <= OBJECT_WINDOW or 0 < v.first - o.last <= OBJECT_WINDOW))
    return [replace(c, strong=True) if id(c) in objects else c
            for c in cues if not any(c is v for v in verbs)]


def joined(words: Sequence[WordForms], a: Span, b: Span) -> bool:
    """Whether two cues are two predicates joined by "and", "while", "whose"...: each tells
    its own kind of the same pair."""
    if a.carried or b.carried:
        return False
    low, high = sorted((a, b), key=lambda c: c.first)
    return any(w.folded in PREDICATE_JOINS for w in words[low.last + 1 : high.first])


def held_by_higher(cues: list[Span], mentions: Sequence[Span],
                   precedence: Mapping[str, int]) -> list[Span]:
    """Drop a cue that follows closely a strong cue of a kind of higher precedence, with no
    actor between: what is suspended, ended or withdrawn is the end's ("suspendent
    formations et livraisons", "hits pause on training", "withdraws its instructors")."""
    heads = [c for c in cues if c.strong and not c.carried]
    return [c for c in cues if not any(
        precedence[h.target] > precedence[c.target] and 0 < c.first - h.last <= TALK_WINDOW
        and not any(h.last < m.first < c.first for m in mentions)
        for h in heads)]


def for_others(words: Sequence[WordForms], cues: list[Span]) -> list[Span]:
    """Drop a cue whose object is an armed group that is no state: "arming jihadists",
    "d'armer les rebelles" tell nothing of the country they fight in."""
    folded = [w.folded for w in words]

    def object_of(cue: Span) -> str:
        after = folded[cue.last + 1 : cue.last + 1 + OBJECT_GAP]
        return next((w for w in after if w not in OBJECT_LINKS), "")
    return [c for c in cues if object_of(c) not in NON_STATE]
