"""How messy text is read for matching: broken and fused words, countries, people's names."""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import pairwise

# A hyphen at a line break (or before a space) inside a word: "Wag-\nner", "Afri- ca".
# The halves are joined when the joined word is a word of a term.
BREAK_GAP_RE = re.compile(r"[-\u2010]\s+")  # what stands between the halves
# After a run of capitals, a capital starts a new word only if this many lower-case
# letters follow it ("PMCWagner"; not "FAMa", "FAMas").
WORD_AFTER_ACRONYM = 3
# Flags are pairs of regional indicator symbols: 🇲🇱 is M, L.
FLAG_RE = re.compile("[\U0001f1e6-\U0001f1ff]{2}")
REGIONAL_A = 0x1F1E6

# Countries and the words a reader takes for them: a context phrase that is one of them
# stands for all (a term that needs "Mali" counts beside "Malian" or "malienne"), and a
# flag counts as its country's name. Folded forms; the two letters are the flag's code.
COUNTRIES: dict[str, tuple[str, ...]] = {
    "ML": ("mali", "malien", "malienne", "maliens", "maliennes", "malian", "malians"),
    "RU": ("russie", "russia", "russe", "russes", "russian", "russians"),
    "BF": ("burkina", "burkinabe", "burkinabes"),
    "NE": ("niger", "nigerien", "nigerienne", "nigeriens", "nigeriennes"),
    "TD": ("tchad", "chad", "tchadien", "tchadienne", "tchadiens", "tchadiennes", "chadian",
           "chadians"),
    "CF": ("centrafrique", "centrafricain", "centrafricaine", "centrafricains",
           "centrafricaines"),
    "LY": ("libye", "libya", "libyen", "libyenne", "libyens", "libyennes", "libyan",
           "libyans"),
    "SD": ("soudan", "sudan", "soudanais", "soudanaise", "soudanaises", "sudanese"),
    "SY": ("syrie", "syria", "syrien", "syrienne", "syriens", "syriennes", "syrian",
           "syrians"),
    "TR": ("turquie", "turkey", "turc", "turque", "turcs", "turques", "turkish"),
    "UA": ("ukraine", "ukrainien", "ukrainienne", "ukrainiens", "ukrainiennes", "ukrainian",
           "ukrainians"),
    "NG": ("nigeria", "nigerian", "nigeriane", "nigerians", "nigerianes"),
    "ET": ("ethiopie", "ethiopia", "ethiopien", "ethiopienne", "ethiopiens", "ethiopiennes",
           "ethiopian", "ethiopians"),
    "SO": ("somalie", "somalia", "somalien", "somalienne", "somaliens", "somaliennes",
           "somali", "somalian", "somalians"),
    "MZ": ("mozambique", "mozambicain", "mozambicaine", "mozambicains", "mozambican",
           "mozambicans"),
    "FR": ("france", "francais", "francaise", "francaises", "french"),
}
NATIONS = {word: names for names in COUNTRIES.values() for word in names}

# Words that say an organisation is meant: beside them a surname is the organisation's
# name ("Wagner fighters"), not a person's.
ORGANISATION_WORDS = frozenset({
    "groupe", "group", "gruppe", "pmc", "smp", "chvk", "mercenaire", "mercenaires", "mercenary",
    "mercenaries", "paramilitaire", "paramilitaires", "paramilitary", "paramilitaries",
    "combattants", "fighters", "milice", "militia", "wagneriens", "prigojine", "prigozhin",
    "utkin", "contractors", "operatives", "private",
    # Russian, folded (й is и, ё is е): fighters, group, PMC, mercenaries, militants
    "боицы", "боицов", "группа", "группы", "чвк", "наемники", "наемников", "боевики",
    "боевиков",
})
# Titles and ranks, folded: one written just before a surname ("le lieutenant-colonel
# Wagner", "Dr. Wagner", "coach Wagner") makes it a person's, as a first name does.
TITLES = frozenset({
    "m", "mr", "mrs", "ms", "mme", "mlle", "dr", "docteur", "doctor", "prof", "professeur",
    "professor", "herr", "frau", "colonel", "lieutenant", "capitaine", "captain", "commandant",
    "general", "major", "sergent", "sergeant", "adjudant", "caporal", "corporal", "amiral",
    "admiral", "marechal", "juge", "judge", "maitre", "pere", "father", "soeur", "sister",
    "ministre", "minister", "senateur", "senator", "depute", "coach", "entraineur",
    "president", "presidente", "chef", "chief", "leader", "head", "premier", "interim",
    "transitional", "strongman", "ruler", "junta", "commander",
})
# A text where at least this share of its longer words (and this many) open on a capital
# is written in title case ("Envoy Meets Goita In Kati"): a capital there is no sign of
# a name.
TITLE_CASE_SHARE = 0.7
TITLE_CASE_WORDS = 4
TITLE_CASE_MIN_LENGTH = 4
# Capitalised words that are not first names: articles, prepositions, pronouns, question
# words and a few adjectives that open sentences and headlines.
NOT_NAMES = frozenset({
    "le", "la", "les", "l", "un", "une", "des", "du", "de", "d", "au", "aux", "ce", "cet",
    "cette", "ces", "son", "sa", "ses", "leur", "leurs", "et", "ou", "mais", "donc", "ni",
    "car", "selon", "apres", "avant", "avec", "sans", "pour", "par", "sur", "dans", "entre",
    "vers", "chez", "contre", "comment", "pourquoi", "quand", "qui", "que", "quoi", "ex",
    "pro", "anti", "nouveau", "nouvelle", "nouveaux", "nouvelles", "ancien", "anciens",
    "the", "a", "an", "of", "and", "or", "but", "for", "to", "in", "on", "at", "by", "with",
    "from", "this", "that", "these", "those", "his", "her", "its", "their", "our", "new",
    "how", "why", "what", "when", "where", "who", "after", "before", "as", "if", "is",
    "are", "was", "were", "not", "no", "former", "more", "less", "inside", "exclusive",
    "breaking", "report", "video", "photos", "analysis", "update", "urgent", "direct",
})


def camel_parts(raw: str) -> tuple[tuple[int, str], ...]:
    """The words fused in one token, with their offsets ("AfricaCorps" -> (0, "Africa"),
    (6, "Corps"); "PMCWagner", "ЧВКВагнер" -> the acronym, then the name); empty for a
    token that is one word."""
    tail = raw[1:]
    if tail == tail.lower():  # no capital after the first letter: nearly every word
        return ()
    cuts = [i for i in range(1, len(raw)) if raw[i].isupper() and (
        raw[i - 1].islower()
        or (raw[i - 1].isupper() and raw[i + 1 : i + 1 + WORD_AFTER_ACRONYM].islower()
            and len(raw) - i > WORD_AFTER_ACRONYM))]
    if not cuts:
        return ()
    bounds = [0, *cuts, len(raw)]
    return tuple((start, raw[start:end]) for start, end in pairwise(bounds))


def flag_words(text: str) -> set[str]:
    """The names of the countries whose flags ``text`` shows (🇲🇱: Mali, its adjectives)."""
    words: set[str] = set()
    for flag in FLAG_RE.findall(text):
        code = "".join(chr(ord(c) - REGIONAL_A + ord("A")) for c in flag)
        words.update(COUNTRIES.get(code, ()))
    return words


def with_nations(phrases: Iterable[tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    """Context phrases, each country or adjective of a country standing for all its words."""
    out: dict[tuple[str, ...], None] = {}
    for phrase in phrases:
        out[phrase] = None
        if len(phrase) == 1:
            for word in NATIONS.get(phrase[0], ()):
                out[(word,)] = None
    return tuple(out)


def title_case(words: Iterable[str]) -> bool:
    """Whether a text's words (case kept) are written in title case."""
    longer = [w for w in words if len(w) >= TITLE_CASE_MIN_LENGTH and w.isalpha()]
    capitals = sum(1 for w in longer if w[0].isupper())
    return capitals >= TITLE_CASE_WORDS and capitals >= TITLE_CASE_SHARE * len(longer)


def name_shaped(cased: str, folded: str) -> bool:
    """Whether a word is written as a first name: a capital, then lower-case letters, and
    not a function word or a country ("Markus", "Love"; not "Les", "Russian")."""
    return (len(cased) >= 2 and cased[0].isupper() and cased[1:].islower()
            and folded not in NOT_NAMES and folded not in NATIONS
            and folded not in ORGANISATION_WORDS and folded not in TITLES)
