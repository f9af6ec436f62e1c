"""Matching speed on one core: our indexed Matcher against a regex OR and a naive loop."""

from __future__ import annotations

import argparse
import datetime
import gc
import math
import os
import platform
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.matching.matcher import Matcher  # noqa: E402
from bot.matching.text import fold  # noqa: E402
from bot.matching.watchlists import Term, Watchlist, load_watchlists  # noqa: E402

WATCHLISTS_DIR = ROOT / "watchlists"
SEED = 20_241_125
DEFAULT_ITEMS = 20_000
QUICK_ITEMS = 600

# Corpus shape.
VOCABULARY_SIZE = 20_000  # large enough that new words keep arriving, as in real feeds
ZIPF_EXPONENT = 1.0
TITLE_WORDS = (8, 14)
SUMMARY_WORDS = 60
FRENCH_SHARE = 0.5
MENTION_RATE = 0.02  # items naming something on a shipped watchlist
NAME_MENTION_RATE = 0.01  # items naming one of the generated names
NEAR_MISS_RATE = 0.02  # items with a look-alike that must not match
MENTION_IN_TITLE_SHARE = 0.4
PERIOD_RATE = 0.07
COMMA_RATE = 0.08
ACCENT_RATE = 0.15
CODA_RATE = 0.3
SYLLABLES = (2, 4)

# Generated watchlists.
GENERATED_TERMS = 2_000
SCALING_SIZES = (100, 500, 2_000)
MULTI_WORD_SHARE = 0.6
PERSON_SHARE = 0.6  # of multi-word names; the rest are organisations
RANK_SHARE = 0.5
ACRONYM_SHARE = 0.3  # of single-word names; matched with their case
ACRONYM_LENGTH = (3, 5)
NAMES_PER_WATCHLIST = 500

# Timing.
REPEATS = 3
QUICK_REPEATS = 1
RUN_BUDGET_S = 4.0  # a timed run of a slow baseline is cut to about this long
QUICK_RUN_BUDGET_S = 0.08
WARMUP_BUDGET_S = 1.0
QUICK_WARMUP_BUDGET_S = 0.04
WARMUP_MAX_ITEMS = 1_000
WARMUP_FIRST_CHUNK = 10

# Targets (items per second, one core).
TARGET_SHIPPED = 20_000
TARGET_NAMES = 5_000
TARGET_NAMES_TERMS = 2_000

COMMON_FR = (
    "le", "la", "les", "de", "des", "du", "un", "une", "et", "à", "en", "dans", "pour", "sur",
    "par", "avec", "au", "aux", "qui", "que", "est", "sont", "a", "ont", "ce", "cette", "son",
    "sa", "ses", "leur", "leurs", "plus", "pas", "ne", "après", "selon", "contre", "entre",
    "depuis", "vers", "sous", "lors", "gouvernement", "président", "ministre", "armée",
    "sécurité", "région", "attaque", "frontière", "élection", "transition", "junte", "pays",
    "capitale", "forces", "militaires", "soldats", "civils", "village", "villages", "nord",
    "centre", "sud", "est", "ouest", "opération", "opérations", "accord", "coopération",
    "partenaires", "défense", "terroristes", "djihadistes", "groupe", "groupes", "armés",
    "déclaré", "annoncé", "affirmé", "réunion", "sommet", "visite", "officielle", "économie",
    "crise", "réfugiés", "déplacés", "humanitaire", "aide", "été", "être", "très", "déjà",
    "où", "là", "même", "première", "général", "colonel", "ministère", "décret", "conseil",
    "national", "nationale", "autorités", "communiqué", "lundi", "mardi", "mercredi", "jeudi",
    "vendredi", "samedi", "dimanche", "l'armée", "d'une", "l'attaque", "aujourd'hui", "bientôt",
    "élèves", "santé", "école", "hôpital", "marché", "prix", "céréales", "pluies", "saison",
)
COMMON_EN = (
    "the", "a", "an", "of", "to", "in", "and", "for", "on", "with", "by", "at", "from", "as",
    "is", "are", "was", "were", "has", "have", "had", "that", "this", "it", "its", "their",
    "after", "before", "says", "said", "over", "against", "between", "into", "amid", "new",
    "government", "president", "minister", "army", "security", "region", "attack", "border",
    "election", "transition", "junta", "country", "capital", "forces", "troops", "soldiers",
    "civilians", "village", "villages", "north", "central", "south", "east", "west",
    "operation", "operations", "agreement", "cooperation", "partners", "defence", "defense",
    "militants", "jihadists", "group", "groups", "armed", "announced", "statement", "meeting",
    "summit", "official", "visit", "economy", "crisis", "refugees", "displaced", "humanitarian",
    "aid", "been", "very", "already", "where", "first", "general", "colonel", "ministry",
    "decree", "council", "national", "authorities", "Monday", "Tuesday", "Wednesday",
    "Thursday", "Friday", "Saturday", "Sunday", "week", "year", "years", "people", "killed",
    "wounded", "report", "reports", "sources", "local", "officials", "would", "could", "will",
    "school", "health", "market", "prices", "grain", "rains", "season", "drought", "gold",
)
RANKS = (
    "Colonel", "Général", "Capitaine", "Commandant", "Lieutenant", "Sergent", "Ministre",
    "Imam", "Cheick", "Docteur",
)
FIRST_NAMES = (
    "Amadou", "Moussa", "Ibrahim", "Oumar", "Aïssata", "Fatoumata", "Souleymane", "Abdoulaye",
    "Mahamadou", "Boubacar", "Sékou", "Modibo", "Adama", "Mariam", "Hamidou", "Issa", "Salif",
    "Kadiatou", "Djibril", "Ousmane", "Aminata", "Bakary", "Seydou", "Hawa", "Lassana",
    "Yacouba", "Mohamed", "Ismaël", "Rokia", "Tiémoko", "Aboubacar", "Mamadou", "Assétou",
    "Fousseyni", "Kalifa", "Youssouf", "Zeïnabou", "Hamadoun", "Bréhima", "Daouda",
)
SURNAMES = (
    "Traoré", "Diarra", "Keïta", "Coulibaly", "Koné", "Touré", "Sangaré", "Diallo", "Cissé",
    "Maïga", "Konaté", "Sidibé", "Dembélé", "Camara", "Sissoko", "Doumbia", "Ouattara",
    "Tiendrébéogo", "Zongo", "Kaboré", "Sawadogo", "Ouédraogo", "Bazoum", "Tchiani", "Déby",
    "Mahamat", "Guindo", "Dicko", "Togola", "Samaké", "Bagayoko", "Fofana", "Kanté", "Haïdara",
    "Sanogo", "Wagué", "Djiré", "Tangara", "Kouyaté", "Bathily",
)
ORG_HEADS = (
    "Société", "Compagnie", "Groupe", "Agence", "Bureau", "Office", "Front", "Mouvement",
    "Coordination", "Conseil", "Brigade", "Bataillon", "Union", "Alliance", "Fondation",
)
ORG_ADJECTIVES = (
    "Générale", "Nationale", "Africaine", "Sahélienne", "Internationale", "Malienne",
    "Militaire", "Républicaine", "Populaire", "Islamique", "Unie", "Patriotique", "Stratégique",
)
ORG_NOUNS = (
    "Sécurité", "Défense", "Sûreté", "Libération", "Protection", "Renseignement", "Logistique",
    "Développement", "Reconstruction", "Formation", "Transport", "Énergie", "Mines", "Aviation",
)
ORG_LINKS = ("de", "pour la", "de la", "du")
PLACES = (
    "Sahel", "Mali", "Niger", "Burkina", "Liptako", "Gourma", "Ménaka", "Kidal", "Tombouctou",
    "Gao", "Mopti", "Ségou", "Azawad", "Bamako", "Niamey", "Ouagadougou", "Tillabéri",
)
ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "s", "t", "z", "ch", "dj", "gu", "tr", "ou")
VOWELS = ("a", "e", "i", "o", "u", "ou", "ai")
ACCENTED_VOWELS = ("é", "è", "ê", "à", "â", "ï", "î", "ô", "û", "ç")
CODAS = ("n", "r", "s", "t", "l", "m")
# Made-up single-word names end like West African names, so that they are rarely one slip
# away from a made-up word of the corpus.
NAME_ENDINGS = ("ara", "ogo", "éba", "idou", "anké", "ouma")
UPPERCASE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Real mentions of the shipped watchlists, including a typo, a bare Wagner with context
# and unaccented forms; and look-alikes that must not match (from tests/test_match.py).
SHIPPED_MENTIONS = (
    "Assimi Goïta", "le colonel Assimi Goita", "le général Goïta", "groupe Wagner",
    "Wagner Group", "les mercenaires de Wagner", "Wagner à Bamako", "Africa Corps", "FAMa",
    "les Forces armées maliennes", "l'armée malienne", "the Malian army", "Bayraktar TB2",
    "des drones TB-2", "Canik Academy", "Canik Akademi", "Canik Acadmey", "ЧВК Вагнер",
)
NEAR_MISSES = (
    "Richard Wagner", "l'opéra de Wagner à Bayreuth", "le fusil FAMAS", "Eugene Fama", "goitre",
    "Goya", "Gaeta", "le pistolet Canik TP9", "le district de Canik", "Selçuk Bayraktar",
    "un disque de 2 TB", "Thunderbolt 2", "l'Afrika Korps", "les Forces armées nigériennes",
    "le drone Akinci", "Canik Arms",
)

Item = tuple[str, str]
Runner = Callable[[Sequence[Item]], int]


@dataclass(frozen=True)
class Settings:
    """How long and how often to measure."""

    items: int
    repeats: int
    run_budget: float
    warmup_budget: float


@dataclass(frozen=True)
class Measure:
    """Best throughput of one runner, on how many items, and how many of them had a hit."""

    rate: float
    items: int
    hit_items: int


@dataclass(frozen=True)
class Row:
    """One line of the report table."""

    scenario: str
    terms: int
    ours: Measure
    regex: Measure
    naive: Measure | None
    target: int | None

    @property
    def missed(self) -> bool:
        return self.target is not None and self.ours.rate < self.target


# ---------------------------------------------------------------- corpus


def pseudo_word(rng: random.Random) -> str:
    """A pronounceable made-up word, sometimes with accents."""
    parts = []
    for _ in range(rng.randint(*SYLLABLES)):
        vowels = ACCENTED_VOWELS if rng.random() < ACCENT_RATE else VOWELS
        parts.append(rng.choice(ONSETS) + rng.choice(vowels))
    if rng.random() < CODA_RATE:
        parts.append(rng.choice(CODAS))
    return "".join(parts)


def ranked_vocabularies(rng: random.Random, size: int) -> dict[str, list[str]]:
    """French and English words, most frequent first: common words, then names and made-up."""
    shared = dict.fromkeys((*RANKS, *FIRST_NAMES, *SURNAMES, *PLACES, *ORG_NOUNS))
    while len(shared) < size - max(len(COMMON_FR), len(COMMON_EN)):
        shared.setdefault(pseudo_word(rng), None)
    rest = list(shared)
    rng.shuffle(rest)
    return {"fr": [*COMMON_FR, *rest], "en": [*COMMON_EN, *rest]}


def zipf_weights(size: int) -> list[float]:
    """Cumulative Zipf weights for ``size`` ranked words."""
    weights: list[float] = []
    total = 0.0
    for rank in range(1, size + 1):
        total += 1.0 / rank**ZIPF_EXPONENT
        weights.append(total)
    return weights


def prose(words: list[str], rng: random.Random, *, sentences: bool) -> str:
    """Words joined into a title (``sentences`` False) or sentences with punctuation."""
    out = []
    capital = True
    for word in words:
        if capital:
            word = word[:1].upper() + word[1:]
            capital = False
        if sentences:
            roll = rng.random()
            if roll < PERIOD_RATE:
                word += "."
                capital = True
            elif roll < PERIOD_RATE + COMMA_RATE:
                word += ","
        out.append(word)
    text = " ".join(out)
    return text + "." if sentences and not text.endswith(".") else text


def insert_phrase(title: list[str], summary: list[str], phrase: str, rng: random.Random) -> None:
    """Put ``phrase`` in place of one word of the title or the summary."""
    words = title if rng.random() < MENTION_IN_TITLE_SHARE else summary
    words[rng.randrange(len(words))] = phrase


def build_corpus(count: int, seed: int, names: Sequence[str]) -> list[Item]:
    """``count`` (title, summary) items; the first N are the same whatever ``count`` is."""
    rng = random.Random(seed)
    vocabularies = ranked_vocabularies(rng, VOCABULARY_SIZE)
    cumulative = {lang: zipf_weights(len(words)) for lang, words in vocabularies.items()}
    items = []
    for _ in range(count):
        lang = "fr" if rng.random() < FRENCH_SHARE else "en"
        words, weights = vocabularies[lang], cumulative[lang]
        title = rng.choices(words, cum_weights=weights, k=rng.randint(*TITLE_WORDS))
        summary = rng.choices(words, cum_weights=weights, k=SUMMARY_WORDS)
        roll = rng.random()
        if roll < MENTION_RATE:
            insert_phrase(title, summary, rng.choice(SHIPPED_MENTIONS), rng)
        elif roll < MENTION_RATE + NAME_MENTION_RATE:
            insert_phrase(title, summary, rng.choice(names), rng)
        elif roll < MENTION_RATE + NAME_MENTION_RATE + NEAR_MISS_RATE:
            insert_phrase(title, summary, rng.choice(NEAR_MISSES), rng)
        items.append((prose(title, rng, sentences=False), prose(summary, rng, sentences=True)))
    return items


# ---------------------------------------------------------------- generated watchlists


def person_name(rng: random.Random) -> str:
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
    return f"{rng.choice(RANKS)} {name}" if rng.random() < RANK_SHARE else name


def organisation_name(rng: random.Random) -> str:
    head, adjective = rng.choice(ORG_HEADS), rng.choice(ORG_ADJECTIVES)
    if rng.random() < 0.5:
        return f"{head} {adjective} {rng.choice(ORG_LINKS)} {rng.choice(ORG_NOUNS)}"
    return f"{head} {adjective} du {rng.choice(PLACES)}"


def single_name(rng: random.Random) -> Term:
    if rng.random() < ACRONYM_SHARE:
        letters = rng.choices(UPPERCASE, k=rng.randint(*ACRONYM_LENGTH))
        return Term("".join(letters), case=True)
    return Term((pseudo_word(rng) + rng.choice(NAME_ENDINGS)).capitalize())


def generated_terms(count: int, seed: int) -> list[Term]:
    """``count`` distinct names (about 60% multi-word), in a shuffled but fixed order."""
    rng = random.Random(seed)
    terms: dict[str, Term] = {}
    while len(terms) < count:
        if rng.random() < MULTI_WORD_SHARE:
            maker = person_name if rng.random() < PERSON_SHARE else organisation_name
            term = Term(maker(rng))
        else:
            term = single_name(rng)
        terms.setdefault(term.text if term.case else fold(term.text), term)
    return list(terms.values())


def as_watchlists(terms: Sequence[Term]) -> list[Watchlist]:
    """``terms`` spread over watchlists of NAMES_PER_WATCHLIST terms each."""
    return [
        Watchlist(f"generated-{n + 1}", f"Generated {n + 1}", "synthetic names",
                  tuple(terms[start : start + NAMES_PER_WATCHLIST]))
        for n, start in enumerate(range(0, len(terms), NAMES_PER_WATCHLIST))
    ]


# ---------------------------------------------------------------- runners


def ours(watchlists: Sequence[Watchlist]) -> Runner:
    """Our Matcher: items with at least one hit."""
    matcher = Matcher(watchlists)

    def run(items: Sequence[Item]) -> int:
        match = matcher.match
        return sum(1 for title, summary in items if match(title, summary))

    return run


def regex_or(texts: Sequence[str]) -> Runner:
    """One compiled alternation of every term, whole words, case-insensitive."""
    alternatives = "|".join(re.escape(t) for t in sorted(texts, key=len, reverse=True))
    pattern = re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)

    def run(items: Sequence[Item]) -> int:
        search = pattern.search
        return sum(1 for title, summary in items if search(title + " " + summary))

    return run


def naive_loop(texts: Sequence[str]) -> Runner:
    """Every term, lower-cased, looked for as a substring of the lower-cased item."""
    lowered = [t.lower() for t in texts]

    def run(items: Sequence[Item]) -> int:
        hit_items = 0
        for title, summary in items:
            text = (title + " " + summary).lower()
            for term in lowered:
                if term in text:
                    hit_items += 1
                    break
        return hit_items

    return run


# ---------------------------------------------------------------- timing


def pin_to_one_core() -> int | None:
    """Restrict this process to its first allowed CPU; that CPU, or None if unsupported."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def seconds_per_item(run: Runner, items: Sequence[Item], budget: float) -> float:
    """Warm ``run`` up on growing chunks until ``budget`` is spent; the last chunk's cost."""
    done, size, spent, per_item = 0, WARMUP_FIRST_CHUNK, 0.0, 0.0
    while done < min(WARMUP_MAX_ITEMS, len(items)) and (spent < budget or not per_item):
        chunk = items[done : done + size]
        start = time.perf_counter()
        run(chunk)
        elapsed = time.perf_counter() - start
        per_item = max(elapsed / len(chunk), 1e-9)
        spent, done, size = spent + elapsed, done + len(chunk), size * 2
    return per_item


def measure(run: Runner, items: Sequence[Item], settings: Settings) -> Measure:
    """Best-of-N items/s; a slow runner is timed on a prefix that fits the run budget."""
    per_item = seconds_per_item(run, items, settings.warmup_budget)
    count = max(1, min(len(items), int(settings.run_budget / per_item)))
    subset = items[:count]
    best, hit_items = math.inf, 0
    for _ in range(settings.repeats):
        gc.collect()
        start = time.perf_counter()
        hit_items = run(subset)
        best = min(best, time.perf_counter() - start)
    return Measure(count / best, count, hit_items)


def term_texts(watchlists: Sequence[Watchlist]) -> list[str]:
    return [term.text for watchlist in watchlists for term in watchlist.terms]


def scenario(name: str, watchlists: Sequence[Watchlist], items: Sequence[Item],
             settings: Settings, *, naive: bool, target: int | None) -> Row:
    texts = term_texts(watchlists)
    return Row(
        scenario=name,
        terms=len(texts),
        ours=measure(ours(watchlists), items, settings),
        regex=measure(regex_or(texts), items, settings),
        naive=measure(naive_loop(texts), items, settings) if naive else None,
        target=target,
    )


def run_all(items: Sequence[Item], names: Sequence[Term], settings: Settings) -> list[Row]:
    shipped = load_watchlists(WATCHLISTS_DIR)
    rows = [scenario("shipped watchlists (5)", shipped, items, settings, naive=True,
                     target=TARGET_SHIPPED)]
    for size in SCALING_SIZES:
        target = TARGET_NAMES if size == TARGET_NAMES_TERMS else None
        rows.append(scenario("generated names", as_watchlists(names[:size]), items, settings,
                             naive=size != SCALING_SIZES[1], target=target))
    return rows


# ---------------------------------------------------------------- report


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cell(result: Measure | None, corpus_size: int) -> str:
    if result is None:
        return "—"
    partial = "*" if result.items < corpus_size else ""
    return f"{result.rate:,.0f}{partial}"


def target_cell(row: Row) -> str:
    if row.target is None:
        return "—"
    if not row.missed:
        return f"≥ {row.target:,} · met"
    short = 1 - row.ours.rate / row.target
    return f"≥ {row.target:,} · **missed** ({short:.0%} short)"


def report(rows: Sequence[Row], corpus_size: int, cpu: int | None, seed: int) -> str:
    lines = [
        "| scenario | terms | ours (items/s) | regex OR (items/s) | naive loop (items/s) "
        "| target |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        lines.append(f"| {row.scenario} | {row.terms:,} | {cell(row.ours, corpus_size)} | "
                     f"{cell(row.regex, corpus_size)} | {cell(row.naive, corpus_size)} | "
                     f"{target_cell(row)} |")
    pinned = f"pinned to CPU {cpu}" if cpu is not None else "not pinned"
    lines += [
        "",
        f"Python {platform.python_version()} · {cpu_model()} · {datetime.date.today()} · "
        f"{pinned} · {corpus_size:,} items, seed {seed}",
        "",
    ]
    for row in rows:
        lines.append(
            f"- {row.scenario}, {row.terms:,} terms: ours is {row.ours.rate / row.regex.rate:.1f}× "
            f"the regex OR; items with a hit: ours {hit_share(row.ours)}, "
            f"regex {hit_share(row.regex)}"
            + (f", naive {hit_share(row.naive)}" if row.naive else "")
        )
    if any(m.items < corpus_size for row in rows for m in (row.ours, row.regex, row.naive) if m):
        lines.append("- \\* timed on the first items only, to keep each run near the budget")
    return "\n".join(lines)


def hit_share(result: Measure) -> str:
    return f"{result.hit_items / result.items:.2%}"


# ---------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run for tests (< 5 s)")
    parser.add_argument("--items", type=int, help=f"corpus size (default {DEFAULT_ITEMS:,}, "
                        f"{QUICK_ITEMS:,} with --quick)")
    parser.add_argument("--seed", type=int, default=SEED, help="corpus and names seed")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.items is not None and args.items < 1:
        parser.error("--items must be at least 1")
    return args


def settings_for(args: argparse.Namespace) -> Settings:
    if args.quick:
        return Settings(args.items or QUICK_ITEMS, QUICK_REPEATS, QUICK_RUN_BUDGET_S,
                        QUICK_WARMUP_BUDGET_S)
    return Settings(args.items or DEFAULT_ITEMS, REPEATS, RUN_BUDGET_S, WARMUP_BUDGET_S)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = settings_for(args)
    cpu = pin_to_one_core()
    names = generated_terms(GENERATED_TERMS, args.seed + 1)
    items = build_corpus(settings.items, args.seed, [t.text for t in names])
    rows = run_all(items, names, settings)
    print(report(rows, len(items), cpu, args.seed))
    return 1 if args.check and any(row.missed for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
