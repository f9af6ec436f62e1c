"""What two reports of one event share whatever their language: names, figures, days (pure)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from bot.matching.text import fold
from bot.stories.concepts import CONCEPTS, concepts_of
from bot.stories.fingerprint import STOPWORDS

# An anchor is a short tagged string: "p:senou" (a proper name), "e:mali" (an actor or a
# watchlist named by any of its aliases), "n:310e6" (a figure, units applied, to the digits
# it was written with), "d:5" (a weekday), "y:2027" (a year), "s:3e0" (a figure under ten).
NAME, ENTITY, NUMBER, DAY, YEAR, SMALL = "p:", "e:", "n:", "d:", "y:", "s:"
RATE = "r:"  # a percentage: "r:6e0" ("6 %", "six per cent")
SPAN = "t:"  # a duration in days: "t:9e1" ("trois mois", "90 days")
CONCEPT = "c:"  # the kind of event, in either language: "c:ambush" (see concepts.py)
WEEKDAYS = {
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5,
    "dimanche": 6, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
    "saturday": 5, "sunday": 6,
}
NUMBER_WORDS = {
    "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15,
    "seize": 16, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
    "cent": 100, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "hundred": 100, "dozen": 12, "douzaine": 12, "quinzaine": 15,
    "vingtaine": 20, "trentaine": 30, "quarantaine": 40, "cinquantaine": 50,
    "centaine": 100,
}
SCALES = {
    "mille": 1e3, "thousand": 1e3, "million": 1e6, "millions": 1e6, "m": 1e6,
    "milliard": 1e9, "milliards": 1e9, "billion": 1e9, "billions": 1e9, "bn": 1e9,
    "trillion": 1e12, "trillions": 1e12,
}
MONTHS = frozenset("""
janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre january
february march april may june july august september october november december jan feb mar apr
jun jul aug sep sept oct nov dec
""".split())
# Capitalised words that are no names: English writes weekdays and months so.
NOT_NAMES = STOPWORDS | MONTHS | frozenset(WEEKDAYS)
# A duration is counted in days, so that "trois mois" and "90 days" are one figure.
DURATIONS = {
    "jour": 1, "jours": 1, "day": 1, "days": 1, "semaine": 7, "semaines": 7, "week": 7,
    "weeks": 7, "mois": 30, "month": 30, "months": 30,
    "an": 365, "ans": 365, "annee": 365, "annees": 365, "year": 365, "years": 365,
}
PERCENT_WORDS = ("percent", "pour cent", "per cent")
ZERO = "0e0"
SMALL_NUMBER = 10  # below this, a figure is weak evidence ("two drones", "6 heures")
FIRST_YEAR, LAST_YEAR = 1900, 2100  # a plain four-digit figure in between is a year
# A figure, its thousands groups ("1,500", "3 245"), its decimals ("7,1", "3.2"), then an
# optional scale word.
FIGURE_RE = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:(?:[ \u00a0\u202f]|,(?=\d{3}\b))\d{3})+|\d+)(?:[.,](\d+))?"
    r"(?:\s*(" + "|".join(sorted(SCALES, key=len, reverse=True)) + r")\b)?"
    r"(?:\s*(%|" + "|".join(PERCENT_WORDS) + "|" + "|".join(DURATIONS) + r")(?!\w))?",
    re.IGNORECASE)
TOKEN_RE = re.compile(r"[^\W\d_]+|\d+")  # the words of folded text, elisions split
# Capitalised words and codes (TB2, B-52), the candidates for proper names.
CAPITAL_RE = re.compile(r"(?<![\w'’-])[A-ZÀ-ÖØ-ÞŒА-ЯЁ][^\W_]*(?:['’-][^\W_]+)*")
DIGIT_RE = re.compile(r"\d")
SEPARATORS_RE = re.compile(r"[ \u00a0\u202f,]")  # thousands separators in a figure
SENTENCE_END = frozenset(".!?:;«»\"“”")
SUMMARY_CHARS = 600
SUMMARY_WORDS = 100  # about as many words
HUNDREDS = frozenset({"cent", "cents", "hundred"})
MAX_NAME_WORDS = 4
FOLDED_CACHE = 65_536  # words whose folded form is remembered (news reuses its words)
OPENER_LOOKBACK = 4  # characters looked at before a word for the end of a sentence
TITLE_CASE_SHARE = 0.6  # "Gunmen Attack Army Camp": capitals say nothing there
DATELINE = frozenset(":–—-,")
# Names that French and English write differently (accents and case aside), each to one.
EXONYMS = {
    "timbuktu": "tombouctou", "ecowas": "cedeao", "unhcr": "hcr", "un": "onu",
    "mauritania": "mauritanie", "chad": "tchad", "algeria": "algerie", "libya": "libye",
    "morocco": "maroc", "guinea": "guinee", "cameroon": "cameroun", "egypt": "egypte",
    "brussels": "bruxelles", "geneva": "geneve", "moscou": "moscow", "russie": "russia",
    "turquie": "turkey", "chine": "china", "iounous-bek": "yunus-bek",
}


@dataclass(frozen=True)
class Names:
    """Folded names ("turcs", "forces armees maliennes") to the id of what they name ("" for
    a word of longer names that names nothing alone), and the first words of longer names."""

    ids: Mapping[str, str]
    starts: frozenset[str] = frozenset()  # first words of names of several words
    # Names written in capitals only ("EAU", "AES"): they name something only when the text
    # writes them so too ("pénurie d'eau" names no Emirates), as in the matcher.
    acronyms: Mapping[str, str] = field(default_factory=dict)


NO_NAMES = Names({})


@dataclass(frozen=True)
class Anchors:
    """The anchors of an item, those of its title alone (where conflicts are read), its
    language ("" when unknown), and whether it is a round-up of many events."""

    all: frozenset[str]
    title: frozenset[str]
    lang: str = ""
    roundup: bool = False
    revised: bool = False  # its title revises a figure ("le bilan s'alourdit")
    # The places and people its title names, other than actors (compared as actors).
    places: frozenset[str] = frozenset()


NO_ANCHORS = Anchors(frozenset(), frozenset())
# Titles of recurring features (briefs, press reviews, live pages): they name many events
# and are none of them.
ROUNDUP_WORDS = frozenset("""
brief briefing briefings revue roundup round-up digest direct live hebdo weekly newsletter
recap recapitulatif bulletin chronique
""".split())
ROUNDUP_PHRASES = ("le point", "ce qu il faut retenir", "a la une", "round up",  # as words
                   "the week in", "what we know", "week in review", "en bref", "in brief")
# Words that say a figure was revised: the new toll does not make a new event.
REVISION_WORDS = frozenset("""
alourdit alourdi revu revise revised revises rises risen climbs climbed updated grimpe
actualise
""".split())


def anchors_of(title: str, summary: str, aliases: Names, lang: str = "",
               words: tuple[Sequence[str], Sequence[str]] | None = None) -> Anchors:
    """The language-independent anchors of an item; ``aliases`` names actors and watched
    subjects; ``words``: the folded words of title and summary when already read (by the
    matcher), else they are read here."""
    title_words, summary_words = words or (TOKEN_RE.findall(fold(title)), None)
    in_title = frozenset(_anchors(title, aliases, title_words, is_title=True))
    folded_title = f" {' '.join(title_words)} "
    roundup = (not ROUNDUP_WORDS.isdisjoint(title_words)
               or any(f" {phrase} " in folded_title for phrase in ROUNDUP_PHRASES))
    summary_words = summary_words[:SUMMARY_WORDS] if summary_words is not None else None
    places = frozenset(x for x in in_title if x.startswith(NAME) and not DIGIT_RE.search(x)
                       and x[len(NAME):] not in aliases.ids)
    return Anchors(in_title | frozenset(_anchors(summary[:SUMMARY_CHARS], aliases,
                                                 summary_words)), in_title,
                   lang, roundup, not REVISION_WORDS.isdisjoint(title_words), places)


def _anchors(text: str, aliases: Names, words: Sequence[str] | None,
             is_title: bool = False) -> Iterable[str]:
    """The anchors of one text. Two quick passes: the folded words for the names of actors,
    numbers in words and weekdays; the capitalised words for proper names."""
    if DIGIT_RE.search(text):
        for match in FIGURE_RE.finditer(text):
            yield _figure(match)
    words = words if words is not None else TOKEN_RE.findall(fold(text))
    yield from _keywords(words, aliases)
    yield from (CONCEPT + concept for concept in concepts_of(words, CONCEPTS))
    capitals = list(CAPITAL_RE.finditer(text))
    if not capitals:
        return
    title_case = is_title and len(capitals) > TITLE_CASE_SHARE * len(words) > 2
    opens = [_opens(text, m) for m in capitals]
    inside = {_folded(m.group()) for m, first in zip(capitals, opens, strict=True) if not first}
    for match, first in zip(capitals, opens, strict=True):
        word = match.group()
        folded = _folded(word)
        if DIGIT_RE.search(word):
            yield NAME + folded  # a model or a code: TB2, B-52
        elif folded in aliases.acronyms and word.isupper():
            yield ENTITY + aliases.acronyms[folded]
        elif (len(folded) > 2 and folded not in NOT_NAMES and aliases.ids.get(folded) != ""
                and _named(text, match, word, folded, inside, title_case or first)):
            yield NAME + folded  # a place, a person




def _keywords(words: Sequence[str], aliases: Names) -> Iterable[str]:
    """Actors by any of their names, weekdays and numbers in words, from folded words."""
    ids, starts = aliases.ids, aliases.starts
    position, count = 0, len(words)
    while position < count:
        word = words[position]
        position += 1
        if word in starts:
            for length in range(min(MAX_NAME_WORDS, count - position + 1), 1, -1):
                entity = ids.get(" ".join(words[position - 1:position - 1 + length]))
                if entity is not None:
                    position += length - 1
                    if entity:
                        yield ENTITY + entity
                    break
            else:
                if ids.get(word):
                    yield ENTITY + ids[word]
        elif word in ids:
            if ids[word]:
                yield ENTITY + ids[word]
        elif word in WEEKDAYS:
            yield DAY + str(WEEKDAYS[word])
        elif word in NUMBER_WORDS or word in HUNDREDS:
            value = 0
            while True:
                value = max(value, 1) * 100 if word in HUNDREDS else value + NUMBER_WORDS[word]
                if position >= count or not (words[position] in NUMBER_WORDS
                                             or words[position] in HUNDREDS):
                    break
                word = words[position]
                position += 1
            unit = words[position] if position < count else ""
            if unit in DURATIONS or unit == "percent":
                position += 1
            yield _counted(value, len(str(value)), unit)


@lru_cache(maxsize=FOLDED_CACHE)
def _folded(word: str) -> str:
    """A word as names are compared: folded, elision and possessive off, exonym mapped."""
    folded = fold(word).replace("’", "'")
    folded = folded.split("'", 1)[1] if "'" in folded[:3] else folded  # l'armée, d'Ankara
    folded = folded.removesuffix("'s")  # Niger's
    return EXONYMS.get(folded, folded)






def _opens(text: str, match: re.Match[str]) -> bool:
    """Whether the word opens the text or a sentence (its capital is the sentence's)."""
    start = match.start()
    before = text[max(0, start - OPENER_LOOKBACK):start].rstrip()
    return not before or before[-1] in SENTENCE_END


def _named(text: str, match: re.Match[str], word: str, folded: str, inside: set[str],
           doubtful: bool) -> bool:
    """Whether a capitalised word is a name: written so mid-sentence, in capitals (an
    acronym), or opening a dateline ("Kidal : …"); not the capital of a sentence's first
    word or of a title written in title case (``doubtful``: one of those)."""
    if word.isupper() and len(word) > 1:
        return True
    if doubtful:
        after = text[match.end():match.end() + 3].lstrip()
        return folded in inside or (not text[:match.start()].strip()
                                    and after[:1] in DATELINE)
    return True


def _figure(match: re.Match[str]) -> str:
    """One figure as an anchor, its scale applied, written with the precision it was
    given ("3.2 trillion": two digits, "3 245 milliards": four)."""
    whole = SEPARATORS_RE.sub("", match.group(1))
    decimals = match.group(2)
    scale = SCALES.get((match.group(3) or "").casefold(), 1.0)
    if decimals is not None and len(decimals) == 3 and scale == 1.0:
        whole, decimals = whole + decimals, None  # "1.500" and "1,500": thousands
    value = float(f"{whole}.{decimals}" if decimals else whole) * scale
    if value == 0:
        return SMALL + ZERO
    if (scale == 1.0 and decimals is None and match.group(1).isdigit()
            and FIRST_YEAR <= value <= LAST_YEAR):
        return YEAR + whole
    # Every written digit counts: "4 000" is not "4 184"; a scale word keeps the digits
    # before it ("3.2 trillion": two, so it is also "3 245 milliards").
    digits = len((whole + (decimals or "")).lstrip("0")) or 1
    return _counted(value, digits, (match.group(4) or "").casefold())


def _counted(value: float, digits: int, unit: str) -> str:
    """A figure with the unit written after it: a rate, a duration in days, or a count."""
    if unit == "%" or unit in PERCENT_WORDS:
        return RATE + _figure_key(value, digits)
    if unit in DURATIONS:
        return SPAN + _figure_key(value * DURATIONS[unit], digits)
    return (SMALL if value < SMALL_NUMBER else NUMBER) + _figure_key(value, digits)


def _figure_key(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits, as "<digits>e<exponent>"."""
    exponent = math.floor(math.log10(value)) - digits + 1
    mantissa = round(value / 10 ** exponent)
    if mantissa >= 10 ** digits:  # 9.99 rounded up to 10.0
        mantissa, exponent = mantissa // 10, exponent + 1
    return f"{mantissa}e{exponent}"


def same_figure(a: str, b: str) -> bool:
    """Whether two figure anchors are one figure, the more precise rounded as the other
    was written ("3245e9" and "32e11" agree; "4051e0" and "4058e0" do not)."""
    if a == b:
        return True
    a, b = _as_count(a), _as_count(b)
    if a[:2] != b[:2] or ZERO in (a[2:], b[2:]):
        return False
    (ma, ea), (mb, eb) = (x[len(NUMBER):].split("e") for x in (a, b))
    if len(ma) == len(mb):
        return False  # written to the same precision, and different
    digits = min(len(ma), len(mb))
    va, vb = int(ma) * 10.0 ** int(ea), int(mb) * 10.0 ** int(eb)
    return _figure_key(va, digits) == _figure_key(vb, digits)


CONCEPT_WEIGHT = 1.0
# How much a shared anchor says that two reports tell one event.
WEIGHTS = {NAME: 1.0, ENTITY: 1.0, NUMBER: 2.0, DAY: 0.5, YEAR: 0.5, SMALL: 0.5, RATE: 1.0,
           SPAN: 0.5, CONCEPT: CONCEPT_WEIGHT}


def weight(anchor: str) -> float:
    """The evidence one shared anchor gives."""
    return WEIGHTS[anchor[:2]]


def conflict(a: Anchors, b: Anchors) -> bool:
    """True when the two tell different facts: each states a figure, a weekday or a model
    in its title that the other never mentions (two deliveries of two aircraft, two tolls,
    two days)."""
    days_a, days_b = _tagged(a.all, DAY), _tagged(b.all, DAY)
    if _tagged(a.title, DAY) - days_b and _tagged(b.title, DAY) - days_a:
        return True
    if not (a.revised or b.revised):  # "the toll rises to 34": the same event, a new figure
        figures_a, figures_b = _figures(a.all), _figures(b.all)
        for kind in FIGURE_KINDS:  # a rate and an amount are two sides of one budget
            if (_unmatched(_tagged(a.title, kind), figures_b)
                    and _unmatched(_tagged(b.title, kind), figures_a)):
                return True
    # Each title names an actor the other report never names: two deliveries of one model
    # to two armies, two visits of one minister to two capitals.
    if _tagged(a.title, ENTITY) - b.all and _tagged(b.title, ENTITY) - a.all:
        return True
    # An ambush in Gao, another in Kidal. Within one language only: across languages
    # names of institutions are translated ("World Bank", "Banque mondiale").
    if (a.lang == b.lang or not (a.lang and b.lang)) and a.places - b.all and b.places - a.all:
        return True
    codes_a = {x for x in a.title if x.startswith(NAME) and any(c.isdigit() for c in x)}
    codes_b = {x for x in b.title if x.startswith(NAME) and any(c.isdigit() for c in x)}
    return bool(codes_a - b.all and codes_b - a.all)


# Counts, amounts and years (a four-digit count reads as a year: "1944 personnes"); rates;
# spans.
FIGURE_KINDS = ((NUMBER, SMALL, YEAR), (RATE,), (SPAN,))


def _as_count(figure: str) -> str:
    """A year as the count it may also be ("y:1944" is "n:1944e0")."""
    return f"{NUMBER}{figure[len(YEAR):]}e0" if figure.startswith(YEAR) else figure


def _tagged(anchors: frozenset[str], tag: str | tuple[str, ...]) -> set[str]:
    """The anchors with one of the tags."""
    return {x for x in anchors if x.startswith(tag)}


def _figures(anchors: frozenset[str]) -> set[str]:
    """The figures among ``anchors``, small ones and rates included."""
    return {x for x in anchors if x.startswith((NUMBER, SMALL, YEAR, RATE, SPAN))}


def _unmatched(figures: set[str], others: set[str]) -> set[str]:
    """The figures with no figure among ``others`` that is the same one."""
    return {x for x in figures if not any(same_figure(x, y) for y in others)}


# Anchors that find candidates in the index (days, years and small numbers are too common).
ROUNDED = (NUMBER, SPAN)  # figures compared to the precision they were written with
FACTS = (NAME, ENTITY, NUMBER)  # what tells one event from another of its kind
INDEXED = (*FACTS, CONCEPT)
ANCHOR_JOIN = 3.0  # shared evidence for two reports to be one story
LATE_ANCHOR_JOIN = 4.5  # the same, for reports more than LATE_REPORT apart
MIN_DISTINCT = 2  # and at least this many names, actors or figures among it
MIN_COVERAGE = 0.4  # the share of the sparer report's evidence the other must carry
MIN_RICHER_COVERAGE = 0.3  # and of the richer one's: a round-up is not any one story


def anchor_score(a: Anchors, b: Anchors, rare: Callable[[str], bool], late: bool) -> float | None:
    """How strongly the anchors two reports share say they tell one event (None when not
    enough, or when their facts conflict). ``rare`` tells the anchors that still tell
    stories apart (not carried by most recent items). The cheap tests come first: most
    candidates share too little to go further."""
    if a.roundup or b.roundup:
        return None
    common = a.all & b.all
    figures_b = _figures(b.all)
    shared = [x for x in common if rare(x) and not x.startswith(ROUNDED)]
    if figures_b:  # figures written to another precision are the same ("3.2", "3 245")
        shared += [x for x in a.all if x.startswith(ROUNDED) and not _unmatched({x}, figures_b)]
    score = sum(map(weight, shared))
    if score < (LATE_ANCHOR_JOIN if late else ANCHOR_JOIN):
        return None
    if (sum(1 for x in shared if x[:2] in INDEXED) < MIN_DISTINCT
            or not any(x[:2] in FACTS for x in shared)):
        return None
    # Most of what the sparer report states must be in the other: a round-up naming many
    # places and figures shares a few with every story of the week.
    sizes = sorted((sum(map(weight, filter(rare, a.all))), sum(map(weight, filter(rare, b.all)))))
    if score < MIN_COVERAGE * sizes[0] or score < MIN_RICHER_COVERAGE * sizes[1]:
        return None
    if conflict(a, b) or not (_about(a, b, rare) and _about(b, a, rare)):
        return None
    return score


def _about(a: Anchors, b: Anchors, rare: Callable[[str], bool]) -> bool:
    """Whether ``b`` mentions something ``a``'s title is about (when its title names
    anything): a weekly brief's title names no event of the week."""
    named = [x for x in a.title if x[:2] in FACTS and rare(x)]
    if not named or any(x in b.all for x in named):
        return True
    # The actors of the title, whichever of their names each report used ("FAMa", "Mali").
    actors = _tagged(a.title, ENTITY)
    return bool(actors) and actors <= b.all


def alias_map(named: Iterable[tuple[str, Iterable[str]]]) -> Names:
    """Folded one-word names ("turcs", "FAMa", "Tiani") to the id of what they name, from
    (id, phrases) pairs; the first pair that claims a word keeps it."""
    aliases: dict[str, str] = {}
    acronyms: dict[str, str] = {}
    parts: dict[str, set[str]] = {}
    for entity, phrases in named:
        for phrase in phrases:
            words = TOKEN_RE.findall(fold(phrase))
            if not words or len(words) > MAX_NAME_WORDS:
                continue
            if len(words) == 1 and phrase.strip().isupper():
                acronyms.setdefault(words[0], entity)
                continue
            aliases.setdefault(" ".join(words), entity)
            for word in words if len(words) > 1 else ():
                if len(word) > 2 and word not in STOPWORDS:
                    parts.setdefault(word, set()).add(entity)
    for part, entities in parts.items():
        if part not in aliases:  # "Faso" names Burkina alone; "forces" names nobody
            aliases[part] = next(iter(entities)) if len(entities) == 1 else ""
    return Names(aliases, frozenset(key.split(" ", 1)[0] for key in aliases if " " in key),
                 acronyms)
