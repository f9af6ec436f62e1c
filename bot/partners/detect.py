"""Partnership signals in an item: a supplier and a recipient linked by a relation cue (pure).

An item is read sentence by sentence (a question is skipped: it asks, it does not report)
and, inside a sentence, clause by clause: semicolons, contrasts ("tandis que", "while") and
parentheses each start a new clause. A signal needs a supplier and a recipient in the same
clause and a cue of a relation kind between them or within a few words of one of them.

A cue speaks of the supplier and the recipient nearest to it (and of those listed with
them: "au Mali, au Burkina et au Niger"), not of a farther one. It is silenced by a denial
or a rivalry in its clause ("dément", "denies", "se disputent"), by a negation or a word of
doubt just before it ("aucune", "did not", "pourrait", "if"), or when it ties
two suppliers to each other ("leur alliance", "entre Moscou et Ankara"). A recipient is no
party where it is the source ("selon l'armée malienne") or ruled out ("pas au Niger").
When cues of several kinds link a pair, the one in the same comma-separated part as the
actors wins, then the kind of highest precedence, a strong cue over a weak one, and the
cue nearest to the recipient.

Beyond one clause: a summary clause that opens on the title's subject ("Les appareils…",
"The firm…") leans on the title, whose parties and cues stand for those it leaves unnamed.
An actor named beside a newspaper, a border, a route or "former", or among a country's
people who do not act for it (aid workers, citizens), is no party. Objects (drones,
weapons) are weak cues, so the relation decides the kind; what an accord "provides for"
is the accord's. Two predicates joined by "and" give a pair two kinds of equal precedence.
A weak cue tells its kind only when no strong cue links the pair anywhere in the item.

Where and when: a country named as where a thing was made is its maker, a party only when
the thing changes hands; a relation recalled after "depuis", "after", or in a part of the
sentence dated years before the item, is background, with who took part in it; so is the
opening part of a clause that starts on what came before ("Après le Mali et le Burkina,
…"). A recipient named as where a threat comes from ("venues du Niger") is a place.

Actors and cues are found with the watchlists' Matcher, so accents, case, elision (l', d')
and one-letter slips are handled as for the watchlists.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from bot.matching.matcher import Matcher
from bot.matching.text import TOKEN_RE, WordForms, composed, phrase_tokens
from bot.matching.watchlists import Term, Watchlist
from bot.partners.catalog import ROLES, Partnerships, alias_term
from bot.partners.clauses import split_clauses, split_sentences
from bot.partners.cues import (
    Span,
    beyond_accords,
    for_others,
    gap,
    held_by_higher,
    joined,
    most_specific,
    overlap,
    yielding,
)
from bot.partners.lexicon import (
    ANAPHORA,
    ASIDE_WINDOW,
    BACKGROUND,
    BETWEEN,
    BORDER_LINKS,
    BORDER_WINDOW,
    BORDERS,
    CARRIERS,
    CASED_DOUBTS,
    CLITIC_NEGATIONS,
    CONCESSIONS,
    CONJUNCTIONS,
    COORDINATION,
    CUE_FUZZY_MIN_LENGTH,
    CUE_WINDOW,
    DENIALS,
    DETERMINERS,
    DOUBT_WINDOW,
    DOUBTS,
    EARLIEST_YEAR,
    FLYOVER,
    FORMER,
    MADE,
    MADE_BY_ORIGIN,
    MADE_IN,
    MADE_IN_VERBS,
    MAX_PAIR_GAP,
    MENTION_NEGATION_WINDOW,
    MENTION_NEGATIONS,
    NEGATION_BREAKERS,
    NEGATION_WINDOW,
    NEGATIONS,
    NEW_TOPIC,
    NEW_TOPIC_PHRASES,
    NOT_PARTIES,
    OBJECT_WINDOW,
    ONGOING,
    OPENING_WORDS,
    ORIGIN_WINDOW,
    ORIGINS,
    OVER,
    PART_MARKS,
    PAST_YEARS,
    POSSESSIVE,
    PREPOSITIONS,
    RECIPROCAL_WINDOW,
    RECIPROCALS,
    RESTRICTIVE_WINDOW,
    RESTRICTIVES,
    RIVALRIES,
    ROUTE_JOINS,
    ROUTE_WORDS,
    SOURCE_PAIRS,
    SOURCE_WINDOW,
    SOURCES,
)

ACTOR, ACTOR_EXCLUDE, KIND, WEAK, KIND_EXCLUDE, VETO = "a", "ax", "k", "kw", "kx", "v"
CARRIER = "c"
PREFILTER = "p"
EXACT = 100  # the score of a hit as written
SUPPLIER, RECIPIENT = ROLES


@dataclass(frozen=True)
class Signal:
    """A supplier and a recipient reported together in a partnership of one kind."""

    supplier: str
    recipient: str
    kind: str
    evidence: str
    field: str



class SignalDetector:
    """Finds partnership signals in items; built once per partnership file, reused for all."""

    def __init__(self, partnerships: Partnerships) -> None:
        self.partnerships = partnerships
        self._roles = {a.id: a.role for a in partnerships.actors}
        self._rank = {k.id: (k.precedence, -i) for i, k in enumerate(partnerships.kinds)}
        self._precedence = {k.id: k.precedence for k in partnerships.kinds}
        lists: list[Watchlist] = []
        for actor in partnerships.actors:
            lists.append(_watchlist(ACTOR, actor.id, actor.terms))
            if actor.exclude:
                lists.append(_watchlist(ACTOR_EXCLUDE, actor.id,
                                        [_exact(p) for p in actor.exclude]))
        for kind in partnerships.kinds:
            lists.append(_watchlist(KIND, kind.id, [_cue(c) for c in kind.cues]))
            if kind.weak:
                lists.append(_watchlist(WEAK, kind.id, [_cue(c) for c in kind.weak]))
            if kind.exclude:
                lists.append(_watchlist(KIND_EXCLUDE, kind.id,
                                        [_exact(p) for p in kind.exclude]))
        lists.append(_watchlist(VETO, "veto", [_cue(v) for v in (*DENIALS, *RIVALRIES)]))
        lists.append(_watchlist(CARRIER, "carrier", [_exact(c) for c in CARRIERS]))
        self._matcher = Matcher(lists)
        # A quick first look over the whole item: without a supplier and a recipient
        # somewhere in it, no clause can link them (most news items stop here). Its terms
        # drop their context and exclusions, so it finds every mention the clauses could.
        self._sides = Matcher([
            _watchlist(PREFILTER, role, [replace(term, context=(), exclude=())
                                         for actor in partnerships.actors
                                         if actor.role == role for term in actor.terms])
            for role in (SUPPLIER, RECIPIENT)])

    def detect(self, title: str, summary: str, words: Sequence[WordForms] | None = None,
               *, year: int | None = None) -> list[Signal]:
        """The signals of an item's plain-text title and summary, title first, at most one
        per (supplier, recipient, kind), each with the first sentence that shows it. A
        summary that continues a title without a signal may lean on the title: its actors
        and its cues stand for a party or a relation the summary's clause leaves unnamed
        ("Baykar livre deux drones Akinci | Les appareils sont destinés à l'armée
        tchadienne"). ``words``: the item's words as the watchlists' matcher read them, for
        the first look; ``year``: the item's, so that a relation dated years before is read
        as background (None: years are not read)."""
        if words is None:
            words = [*self._sides.words(composed(title)), *self._sides.words(composed(summary))]
        sides = self._sides_of(words)
        if len(sides) < len((SUPPLIER, RECIPIENT)):
            return []
        signals: dict[tuple[str, str, str], Signal] = {}
        weak: set[tuple[str, str, str]] = set()  # told by a weak cue only
        carried: _Carried | None = None
        for field, text in (("title", title), ("summary", summary)):
            text = composed(text)
            if field == "summary" and not signals:
                carried = self._title_context(composed(title), words)
            for sentence in split_sentences(text):
                if sentence.rstrip(" \"'»”’)").endswith("?"):
                    continue  # a question asks, it does not report
                for clause in split_clauses(sentence):
                    for supplier, recipient, kind, strong in self._links(clause, carried,
                                                                         year, words):
                        key = (supplier, recipient, kind)
                        if key not in signals:
                            signals[key] = Signal(supplier, recipient, kind, sentence.strip(),
                                                  field)
                            if not strong:
                                weak.add(key)
                        elif strong:
                            weak.discard(key)
        # A weak cue tells its kind only when no strong one links the pair, in the item as
        # in a clause: "Turkey trains Malian troops | The soldiers will deploy to Gao".
        strong_pairs = {key[:2] for key in signals if key not in weak}
        return [s for key, s in signals.items() if key not in weak or key[:2] not in strong_pairs]

    def _sides_of(self, words: Sequence[WordForms]) -> set[str]:
        """The sides (supplier, recipient) whose actors may be named among ``words``."""
        may_begin = self._sides.may_begin
        sides: set[str] = set()
        for word in words:
            found = may_begin(word)
            if found:
                sides.update(found)
        return sides

    def _title_context(self, title: str, around: Sequence[WordForms]) -> _Carried | None:
        """The title's parties and strong cues, as a summary may lean on them (None when
        the title denies or names nobody)."""
        spans = self._spans(title, around)
        if spans is None or spans[VETO]:
            return None
        words = self._matcher.words(title)
        mentions = self._parties(spans, words, title)
        if not mentions:
            return None
        # A maker in the title ("Turkish-built drones") is a maker in the summary too.
        things = spans[KIND] + spans[WEAK]
        carried = {m.target: Span(m.target, -1, -1, -1, -1, carried=True,
                                   made=_maker(title, words, m, things).made)
                   for m in mentions}
        cues = {c.target: Span(c.target, -1, -1, -1, -1, carried=True)
                for c in for_others(words, most_specific(spans[KIND]))
                if not _doubted(words, c.first)}
        return _Carried(tuple(carried.values()), tuple(cues.values()))

    def _parties(self, spans: dict[str, list[Span]], words: Sequence[WordForms],
                 clause: str) -> list[Span]:
        """The actor mentions of a clause that are parties: not inside an exclusion, not a
        source, a place or the past."""
        # One mention per actor and place: two aliases found at one place are one mention.
        unique = {(m.target, m.first, m.last): m for m in spans[ACTOR]}
        mentions = [m for m in unique.values() if not any(
            x.target == m.target and x.start <= m.start and m.end <= x.end
            for x in spans[ACTOR_EXCLUDE])]
        return [m for m in mentions
                if not _aside(words, m) and not _route(clause, words, m, mentions)]

    def _links(self, clause: str, carried: _Carried | None = None, year: int | None = None,
               around: Sequence[WordForms] = ()) -> Iterator[tuple[str, str, str, bool]]:
        """(supplier, recipient, kind, strong) for each pair the clause links: the best
        kind, and another one told by a second predicate ("livre ... et forme ..."); strong:
        told by a strong cue."""
        spans = self._spans(clause, around)
        if spans is None or spans[VETO]:
            return
        words = self._matcher.words(clause)
        mentions = self._parties(spans, words, clause)
        suppliers = [m for m in mentions if self._roles[m.target] == "supplier"
                     and not _negated(words, m.first)]  # "Belarusian, not Russian"
        recipients = [m for m in mentions if self._roles[m.target] == "recipient"
                      and not _source(words, m.first) and not _negated(words, m.first)
                      and not _origin(words, m.first)]
        continues = carried is not None and _continues(words)
        if carried is not None and (suppliers or recipients) and not _new_topic(words):
            suppliers, recipients = self._carry(carried, suppliers, recipients, continues)
        if not suppliers or not recipients:
            return
        recalled = [c for c in spans[KIND] if _background(words, c.first)]
        if recalled:  # "depuis le départ des soldats français": who left is no party here
            suppliers = [m for m in suppliers if not _recalled(m, recalled, clause)]
            recipients = [m for m in recipients if not _recalled(m, recalled, clause)]
            if not suppliers or not recipients:
                return
        silenced = {x.target for x in spans[KIND_EXCLUDE]}
        cues = [c for c in yielding([c for c in most_specific(spans[KIND] + spans[WEAK])
                                      if not any(overlap(c, r) for r in recipients)
                                      and not _doubted(words, c.first, wide=not c.strong)
                                      and not _background(words, c.first)],
                                     spans[CARRIER])
                if c.target not in silenced]
        past = _past_parts(clause, words, year)
        if past:  # "expelled from Mali in 2022": neither the relation nor Mali is the news
            chunks = _chunks(clause)
            cues = [c for c in cues if c.carried or chunks(c.start) not in past]
            suppliers = [m for m in suppliers if m.carried or chunks(m.start) not in past]
            recipients = [m for m in recipients if m.carried or chunks(m.start) not in past]
            if not suppliers or not recipients:
                return
        cues = held_by_higher(for_others(words, beyond_accords(words, cues)), mentions,
                              self._precedence)
        if words and words[0].folded in BACKGROUND:
            cues, suppliers, recipients = _after_opening(clause, cues, suppliers, recipients)
        if not cues and carried is not None and continues:
            cues = [c for c in carried.cues if c.target not in silenced]
        if not cues:
            return
        suppliers = [m if m.carried else _maker(clause, words, m, cues) for m in suppliers]
        best = self._best_kinds(clause, words, cues, suppliers, recipients)
        for (supplier, recipient), kinds in best.items():
            ranked = sorted(kinds.items(), key=lambda k: k[1][0], reverse=True)
            top_kind, (_, top_cue) = ranked[0]
            yield supplier, recipient, top_kind, top_cue.strong
            for kind, (_, cue) in ranked[1:]:
                # "the withdrawal of instructors and of advisers" is one end, not training
                if (cue.strong and top_cue.strong and joined(words, cue, top_cue)
                        and self._rank[kind][0] == self._rank[top_kind][0]):
                    yield supplier, recipient, kind, True

    def _carry(self, carried: _Carried, suppliers: list[Span], recipients: list[Span],
               continues: bool) -> tuple[list[Span], list[Span]]:
        """The clause's parties, the title's standing in for a missing side: when the
        clause opens on the title's subject ("Les appareils…", "The firm…"), or when it
        names only parties the title named (a title of two parties and no relation)."""
        title_suppliers = [m for m in carried.actors if self._roles[m.target] == SUPPLIER]
        title_recipients = [m for m in carried.actors if self._roles[m.target] == RECIPIENT]
        named = {m.target for m in (*suppliers, *recipients)}
        if not (continues or named <= {m.target for m in carried.actors}):
            return suppliers, recipients
        if not suppliers and len(title_suppliers) == 1:  # two suppliers: whose is it?
            return title_suppliers, recipients
        if not recipients:
            return suppliers, title_recipients
        return suppliers, recipients

    def _spans(self, clause: str,
               around: Sequence[WordForms] = ()) -> dict[str, list[Span]] | None:
        """The clause's actors, cues, exclusions and vetoes as word spans; None for none.
        ``around``: the item's words, which count for an actor's context ("Africa Corps"
        is Russia's where the item names the Sahel)."""
        hits = self._matcher.match(clause, every=True, around=around)
        if not hits:
            return None
        starts = [m.start() for m in TOKEN_RE.finditer(clause)]
        spans: dict[str, list[Span]] = {ACTOR: [], ACTOR_EXCLUDE: [], KIND: [], WEAK: [],
                                         KIND_EXCLUDE: [], VETO: [], CARRIER: []}
        exact = {(h.start, h.end) for h in hits if h.score == EXACT and h.watchlist[0] == KIND}
        for hit in hits:
            group, _, target = hit.watchlist.partition(":")
            if group in (KIND, WEAK) and hit.score < EXACT and (hit.start, hit.end) in exact:
                continue  # "purchase" is a cue as written, not "purchased" with a slip
            first = bisect_right(starts, hit.start) - 1  # a fused word's part: its token
            last = first + len(TOKEN_RE.findall(hit.text)) - 1
            spans[group].append(Span(target, first, last, hit.start, hit.end,
                                      strong=group != WEAK))
        return spans

    def _best_kinds(self, clause: str, words: Sequence[WordForms], cues: Sequence[Span],
                    suppliers: Sequence[Span], recipients: Sequence[Span],
                    ) -> dict[tuple[str, str], dict[str, tuple[tuple[int, ...], Span]]]:
        """For each (supplier, recipient) the cues can link: per kind, its best cue and the
        cue's score."""
        chunks = _chunks(clause)
        supplier_groups = _groups(suppliers, words)
        recipient_groups = _groups(recipients, words)
        best: dict[tuple[str, str], dict[str, tuple[tuple[int, ...], Span]]] = {}
        for cue in cues:
            near_s = _nearest_group(cue, suppliers, supplier_groups, chunks)
            if _among_themselves(words, cue, near_s):
                continue
            near_r = {m.target for m in _nearest_group(cue, recipients, recipient_groups,
                                                       chunks)}
            supplier_ids = {m.target for m in near_s}
            for s in suppliers:
                if s.target not in supplier_ids or (
                        s.made is not None and not (cue.strong and cue.target == s.made)):
                    continue  # a maker supplies its thing only when the thing changes hands
                for r in recipients:
                    if r.target not in near_r or gap(s, r) > MAX_PAIR_GAP:
                        continue
                    low, high = min(s.first, r.first), max(s.last, r.last)
                    gap_r, gap_s = gap(cue, r), gap(cue, s)
                    if not ((low <= cue.first and cue.last <= high) or cue.carried) \
                            and min(gap_r, gap_s) > CUE_WINDOW:
                        continue
                    precedence, order = self._rank[cue.target]
                    chunk = chunks(cue.start)
                    affinity = (chunk == chunks(s.start)) + (chunk == chunks(r.start))
                    # A weak cue tells its kind only when no strong one links the pair.
                    score = (cue.strong, affinity, precedence, -gap_r, -gap_s, order)
                    kinds = best.setdefault((s.target, r.target), {})
                    if cue.target not in kinds or score > kinds[cue.target][0]:
                        kinds[cue.target] = (score, cue)
        return best


def _exact(phrase: str) -> Term:
    """An exclusion matches as written (accents and case aside), never with a slip: one
    slip from "nigérian" is "nigérien", the very word it must not hide."""
    return replace(alias_term(phrase), fuzzy=False)


def _cue(phrase: str) -> Term:
    """A cue tolerates a slip only when it is one long word."""
    tokens = phrase_tokens(phrase)
    return replace(alias_term(phrase),
                   fuzzy=len(tokens) == 1 and len(tokens[0]) >= CUE_FUZZY_MIN_LENGTH)


def _watchlist(group: str, target: str, terms: Sequence[Term]) -> Watchlist:
    return Watchlist(id=f"{group}:{target}", name=target, description="", terms=tuple(terms))




def _chunks(clause: str) -> Callable[[int], int]:
    """Which comma-separated part of ``clause`` an offset falls in: a cue in the same part
    as an actor ("La Russie, qui a formé l'armée malienne, livre ...") is about it; a
    title's topic before a colon is a part of its own ("Formation des officiers : Bamako
    et Moscou signent un protocole" is an accord)."""
    commas = [i for i, c in enumerate(clause) if c in PART_MARKS]
    return lambda offset: bisect_left(commas, offset)


def _groups(mentions: Sequence[Span], words: Sequence[WordForms]) -> dict[int, int]:
    """Number the mentions (in text order) so that coordinated ones share a number: "au
    Mali, au Burkina et au Niger", "Turkey and Russia". A run joined by commas alone is a
    list only if a conjunction closes it ("After Niger, Chad asks ..." is not one). The
    parties carried from the title are one group."""
    if all(m.carried for m in mentions):
        return {id(m): 0 for m in mentions}
    ordered = sorted(mentions, key=lambda m: m.first)
    runs: list[list[Span]] = []
    joints: list[list[set[str]]] = []  # the words between consecutive members of each run
    for mention in ordered:
        if runs:
            between = {w.folded for w in words[runs[-1][-1].last + 1 : mention.first]}
            if between <= COORDINATION and mention.first > runs[-1][-1].last:
                runs[-1].append(mention)
                joints[-1].append(between)
                continue
        runs.append([mention])
        joints.append([])
    groups: dict[int, int] = {}
    number = 0
    for run, gaps in zip(runs, joints, strict=True):
        listed = any(gap & CONJUNCTIONS for gap in gaps)
        for index, mention in enumerate(run):
            if index and not listed and not (gaps[index - 1] - PREPOSITIONS):
                number += 1  # only a comma (and prepositions) before it, and no "and" after
            groups[id(mention)] = number
        number += 1
    return groups


def _nearest_group(cue: Span, mentions: Sequence[Span], groups: dict[int, int],
                   chunks: Callable[[int], int]) -> list[Span]:
    """The mention nearest to ``cue`` and those coordinated with it: a cue tells about the
    nearest supplier (or recipient), not about another one farther away; between two as
    near, the one in the cue's comma-separated part ("matériel américain et français,
    formation française")."""
    part = chunks(cue.start)
    group = groups[id(min(mentions, key=lambda m: (gap(cue, m), chunks(m.start) != part,
                                                   m.first)))]
    return [m for m in mentions if groups[id(m)] == group]


def _among_themselves(words: Sequence[WordForms], cue: Span, group: Sequence[Span]) -> bool:
    """True when ``cue`` tells a relation between the coordinated suppliers of ``group``
    ("La Chine et la Russie renforcent leur alliance", "accord entre Moscou et Ankara")."""
    if len({m.target for m in group}) < 2 or any(m.carried for m in group):
        return False
    first = min(m.first for m in group)
    before_group = {w.folded for w in words[max(0, first - 1) : first]}
    around_cue = {w.folded for w in words[max(0, cue.first - RECIPROCAL_WINDOW) : cue.first]}
    around_cue.update(w.folded for w in words[cue.last + 1 : cue.last + 1 + RECIPROCAL_WINDOW])
    return bool(before_group & BETWEEN or around_cue & RECIPROCALS)



def _source(words: Sequence[WordForms], first: int) -> bool:
    """True when the mention at ``first`` is who says it ("selon l'armée malienne",
    "according to a Malian official"), not a party to what is said."""
    before = [w.folded for w in words[max(0, first - SOURCE_WINDOW) : first]]
    return any(w in SOURCES for w in before) or any(
        pair in SOURCE_PAIRS for pair in pairwise(before))


def _negated(words: Sequence[WordForms], first: int) -> bool:
    """True for a mention ruled out where it stands: "au Bénin, pas au Niger", "not Chad"."""
    before = [w.folded for w in words[max(0, first - MENTION_NEGATION_WINDOW) : first]]
    return any(w in MENTION_NEGATIONS for w in before)


def _origin(words: Sequence[WordForms], first: int) -> bool:
    """True for a recipient named as where a threat comes from ("venues du Burkina")."""
    return any(w.folded in ORIGINS for w in words[max(0, first - ORIGIN_WINDOW) : first])


def _background(words: Sequence[WordForms], first: int) -> bool:
    """True for a relation recalled as what came before the news: "depuis le départ",
    "après la rupture", "since the withdrawal", "following the expulsion"."""
    before = [w.folded for w in words[max(0, first - 2) : first]]
    return bool(before) and (before[-1] in BACKGROUND or (
        len(before) == 2 and before[0] in BACKGROUND and before[1] in DETERMINERS))


def _past_parts(clause: str, words: Sequence[WordForms], year: int | None) -> set[int]:
    """The comma-separated parts of ``clause`` (see _chunks) that name a year at least
    PAST_YEARS before ``year`` and no span that lasts from it: what they say is years old."""
    past: set[int] = set()
    if year is None:
        return past
    chunks = _chunks(clause)
    starts: list[int] | None = None
    for i, word in enumerate(words):
        text = word.folded
        if len(text) != 4 or not text.isdigit():
            continue
        if not EARLIEST_YEAR <= int(text) <= year - PAST_YEARS:
            continue
        if i and words[i - 1].folded in ONGOING:
            continue
        if i < OPENING_WORDS:  # "In 2013, French troops…": the year dates the clause
            return set(range(chunks(len(clause)) + 1))
        if starts is None:
            starts = [m.start() for m in TOKEN_RE.finditer(clause)]
        past.add(chunks(starts[i]))
    return past


def _after_opening(clause: str, cues: list[Span], suppliers: list[Span],
                   recipients: list[Span]) -> tuple[list[Span], list[Span], list[Span]]:
    """A clause that opens on what came before ("Après le Mali et le Burkina, la France
    retire…", "Since France left, …"): the relations of its opening part are background,
    and so is an actor there when the rest of the clause names another on its side."""
    chunks = _chunks(clause)
    if chunks(len(clause)) == 0:
        return cues, suppliers, recipients
    cues = [c for c in cues if c.carried or chunks(c.start) > 0]

    def news(side: list[Span]) -> list[Span]:
        later = [m for m in side if m.carried or chunks(m.start) > 0]
        return later or side
    return cues, news(suppliers), news(recipients)


def _recalled(mention: Span, recalled: Sequence[Span], clause: str) -> bool:
    """True for a mention inside a relation recalled as background, within a few words
    after its cue and before the next comma ("après le retrait des troupes françaises")."""
    return any(0 < mention.first - cue.last <= CUE_WINDOW
               and PART_MARKS.isdisjoint(clause[cue.end : mention.start])
               for cue in recalled)


def _doubted(words: Sequence[WordForms], first: int, *, wide: bool = False) -> bool:
    """True when a negation or a word of doubt stands just before the word ``first``;
    ``wide``: a negation counts as far as a doubt (a weak cue names a thing, and the verb
    that denies it stands further: "did not receive any Emirati aircraft")."""
    for i in range(max(0, first - DOUBT_WINDOW), first):
        word = words[i].folded
        near = first - i <= (DOUBT_WINDOW if wide else NEGATION_WINDOW)
        if near and word in NEGATIONS:
            following = words[i + 1].folded if i + 1 < len(words) else ""
            if following not in NEGATION_BREAKERS:
                return True
        if near and word == "t" and i and words[i - 1].folded.endswith("n"):
            return True  # didn't, hasn't, won't
        if near and word in CLITIC_NEGATIONS and not any(
            w.folded in RESTRICTIVES for w in words[first + 1 : first + 1 + RESTRICTIVE_WINDOW]
        ):
            return True  # "n'ont signé aucun accord", but not "n'a livré que deux drones"
        if word in DOUBTS and not (i and words[i - 1].folded in CONCESSIONS):
            return True
        if words[i].cased in CASED_DOUBTS:
            return True
    return False


@dataclass(frozen=True)
class _Carried:
    """A title's parties and cues, for the summary clauses that continue it."""

    actors: tuple[Span, ...]
    cues: tuple[Span, ...]


def _aside(words: Sequence[WordForms], mention: Span) -> bool:
    """True for a mention that names a source, a place or the past, not a party: "a
    Turkish newspaper", "la frontière nigérienne", "the Chadian border", "a former French
    base"."""
    before = {w.folded for w in words[max(0, mention.first - ASIDE_WINDOW) : mention.first]}
    border_before = {w.folded for w in words[max(0, mention.first - ASIDE_WINDOW - 1) :
                                             mention.first]}
    # The words right beside it: "journal turc", "Turkish newspaper", "Chadian border".
    after = mention.last + 1
    if after < len(words) and words[after].folded == POSSESSIVE:
        after += 1  # "Niger's southern neighbour": the word after the possessive
    beside = {w.folded for w in (*words[max(0, mention.first - 1) : mention.first],
                                 *words[after : after + ASIDE_WINDOW])}
    flown = (mention.first >= 2 and words[mention.first - 1].folded == OVER
             and words[mention.first - 2].folded in FLYOVER)  # "flew over Chad"
    return bool(beside & NOT_PARTIES or border_before & BORDERS or flown
                or {w.folded for w in words[mention.last + 1 : mention.last + 2]} & BORDERS
                or before & FORMER or _across_border(words, mention))


def _across_border(words: Sequence[WordForms], mention: Span) -> bool:
    """True for a mention a border names a few words before it, with only prepositions,
    articles and names between ("la frontière du Bénin avec le Niger")."""
    for i in range(mention.first - 1, max(-1, mention.first - 1 - BORDER_WINDOW), -1):
        word = words[i]
        if word.folded in BORDERS:
            return True
        if not (word.folded in COORDINATION or word.folded in BORDER_LINKS
                or word.cased[:1].isupper()):
            return False
    return False


def _maker(clause: str, words: Sequence[WordForms], mention: Span,
           cues: Sequence[Span]) -> Span:
    """The mention as a maker when it says where a thing was made ("Turkish-made",
    "Turkish- and Chinese-made", "de fabrication russe", "made in China"), with the kind
    of the thing named beside it; the mention unchanged otherwise."""
    after = words[mention.last + 1 : mention.last + 3]
    before = [w.folded for w in words[max(0, mention.first - 2) : mention.first]]
    hyphened = clause[mention.end : mention.end + 1] == "-" and bool(after) and (
        after[0].folded in MADE or (after[0].folded in CONJUNCTIONS and len(after) > 1))
    made = (hyphened or (bool(after) and after[0].folded in MADE)
            or bool(set(before) & MADE_BY_ORIGIN)
            or (len(before) == 2 and before[0] in MADE_IN_VERBS and before[1] in MADE_IN))
    if not made:
        return mention
    things = [c for c in cues if not c.strong and not c.carried
              and -OBJECT_WINDOW - 2 <= c.first - mention.first <= OBJECT_WINDOW + 2]
    return replace(mention, made=things[0].target if things else "")


def _route(clause: str, words: Sequence[WordForms], mention: Span,
           mentions: Sequence[Span]) -> bool:
    """True for one end of a route or an axis: two names joined by a dash alone in a
    clause about travel ("le vol Paris-Bamako", "l'axe Niamey–Ouagadougou"); elsewhere the
    pair is the two sides of a relation ("Tchad-Russie : un accord")."""
    if not any(w.folded in ROUTE_WORDS for w in words):
        return False
    return any(clause[o.end : mention.start] in ROUTE_JOINS
               or clause[mention.end : o.start] in ROUTE_JOINS
               for o in mentions if o is not mention)


def _continues(words: Sequence[WordForms]) -> bool:
    """Whether a clause opens on the subject of what came before: a pronoun, a possessive
    or a definite article ("Its instructors", "Les appareils", "The firm")."""
    return bool(words) and words[0].folded in ANAPHORA


def _new_topic(words: Sequence[WordForms]) -> bool:
    """Whether a clause opens on other news ("Separately,", "Le même jour,")."""
    opening = " ".join(w.folded for w in words[:4])
    return bool(words) and (words[0].folded in NEW_TOPIC
                            or opening.startswith(NEW_TOPIC_PHRASES))


