"""The words and distances partnership detection reads: negation, doubt, places, time."""

from __future__ import annotations

# A cue links a pair when it lies between the two actors or at most this many words from
# the nearer one ("Turkey delivered drones to Mali": 0; "Les FAMa ... formées par la Turquie").
CUE_WINDOW = 6
# Two actors more than this many words apart in one clause are rarely about each other.
MAX_PAIR_GAP = 30
# A cue of one word this long or longer may carry a slip ("deliverd", "livraisons"); shorter
# words and phrases have real neighbours ("troupes" and "groupes", "commandés" and
# "commandos", "a commandé" and "a commander").
CUE_FUZZY_MIN_LENGTH = 9
# A negation this many words or fewer before a cue silences it ("aucune livraison",
# "did not deliver any drones", "n'a jamais formé").
NEGATION_WINDOW = 3
# A word of doubt this many words or fewer before a cue silences it ("pourrait bientôt
# livrer", "is considering sending instructors").
DOUBT_WINDOW = 6

NEGATIONS = frozenset({
    "pas", "jamais", "aucun", "aucune", "aucuns", "aucunes", "nul", "nulle", "ni", "sans",
    "not", "never", "no", "none", "nor", "without", "neither",
})
# French "ne"/"n'" negates the verb after it, unless "que" follows ("ne ... que": only).
CLITIC_NEGATIONS = frozenset({"n", "ne"})
RESTRICTIVES = frozenset({"que", "qu"})
RESTRICTIVE_WINDOW = 4
# "not only", "non seulement": the negation does not bear on what follows.
NEGATION_BREAKERS = frozenset({"only", "seulement", "uniquement", "merely", "just"})
DOUBTS = frozenset({
    "pourrait", "pourraient", "pourrais", "envisage", "envisagent", "envisagerait",
    "envisageraient", "eventuel", "eventuelle", "eventuels", "eventuelles", "eventuellement",
    "hypothetique", "hypothese", "rumeur", "rumeurs", "speculations", "si",
    "could", "might", "considering", "considers", "mulls", "mulling", "weighs", "weighing",
    "whether", "if", "hypothetical", "potential", "potentially", "rumoured", "rumored",
    "rumours", "rumors", "speculation", "possible", "possibly",
    # what had happened before the news is its background, not the news
    "formerly", "previously", "autrefois", "jadis",
    "auparavant",
    # a guess from afar is not a report, an aim is not a deal
    "suggere", "suggerent", "suggest", "suggests", "semble", "semblent", "seem", "seems",
    "lorgne", "lorgnent", "vise", "visent", "eyes", "eyeing", "seeks", "seeking",
})
# "même si", "even if": a concession, not a hypothesis.
CONCESSIONS = frozenset({"meme", "even"})
# "may" the modal, not "May" the month: only in lower case.
CASED_DOUBTS = frozenset({"may"})
# Words and phrases that deny what their clause reports, or an intention, wherever they stand
# in the clause.
DENIALS = (
    "dément", "démentent", "démenti", "démentie", "démentis", "nie", "nient", "niant",
    "réfute", "réfutent", "infirme", "sans fondement", "infox", "fausses informations",
    "fausse information", "denies", "denied", "deny", "denying", "denial", "refutes",
    "refuted", "rejects reports", "rejected reports", "rejects claims", "rejected claims",
    "dismisses reports", "dismissed reports", "dismissed claims", "false reports",
    "fake news", "baseless", "unfounded", "aucun projet", "pas l'intention", "no plans",
    "no intention", "fausses", "fausse", "untrue", "false", "pure fabrication",
    "fabricated", "pure invention", "mensonge", "mensonges",
    # a clause that calls what it reports unlikely does not report it
    "hypothétique", "hypothétiques", "hypothetical", "unlikely", "improbable",
    "peu probable",
)

# Two suppliers competing for a recipient are not its partners.
RIVALRIES = (
    "rivalité", "rivalités", "rivaux", "se disputent", "concurrence", "concurrents",
    "rivalry", "rivalries", "rivals", "compete", "competes", "competing", "competition",
    "vie for", "vying",
)
# Between two mentions, only these words make them one group ("Turkey and Russia", "au
# Mali, au Burkina et au Niger").
CONJUNCTIONS = frozenset({"et", "ou", "ni", "and", "or", "nor"})
PREPOSITIONS = frozenset({
    "au", "aux", "a", "la", "le", "les", "l", "du", "de", "des", "d", "the", "to", "of",
})
COORDINATION = CONJUNCTIONS | PREPOSITIONS

# Words that turn a relation back on the suppliers named together: "leur alliance", "their
# deal", "renforcent leur ..." (within RECIPROCAL_WINDOW words of the cue), "entre Moscou
# et Ankara".
RECIPROCALS = frozenset({
    "leur", "leurs", "mutuel", "mutuelle", "mutuels", "mutuelles", "bilateral", "bilaterale",
    "bilateraux", "bilaterales", "their", "mutual",
})
BETWEEN = frozenset({"entre", "between"})
RECIPROCAL_WINDOW = 2
# "pas au Niger", "not Chad": a recipient this many words or fewer after a negation is
# ruled out, not named as a party.
MENTION_NEGATION_WINDOW = 2
MENTION_NEGATIONS = frozenset({"pas", "non", "not", "no", "aucun", "aucune"})
# A recipient named this few words after one of these is where a threat comes from
# ("incursions venues du Burkina"), a place.
ORIGINS = frozenset({"venus", "venues", "venant", "provenance", "originating"})
ORIGIN_WINDOW = 3
# Armed groups that are no state: a cue whose object they are arms them, not the country
# around them ("accusée d'armer les jihadistes au Mali").
NON_STATE = frozenset({
    "jihadistes", "djihadistes", "jihadists", "jihadist", "terroristes", "terrorists",
    "terrorist", "rebelles", "rebels", "insurges", "insurgents", "milices", "militias",
    "separatistes", "separatists",
})
# What may stand between a cue and such an object: articles, "to", and the thing sent
# ("supplying weapons to terrorist groups", "livrer des armes aux rebelles").
OBJECT_LINKS = frozenset({
    "les", "des", "aux", "a", "au", "de", "d", "to", "the", "groupes", "groups", "armes",
    "arms", "weapons", "armement", "munitions", "ammunition",
})
OBJECT_GAP = 5  # words after a cue looked at for its object
# A recipient named this many words or fewer after one of these is the source of the news.
SOURCE_WINDOW = 3
SOURCES = frozenset({"selon"})
SOURCE_PAIRS = frozenset({("d", "apres"), ("according", "to"), ("cited", "by")})

# An actor named beside one of these is a source or a place, not a party: "a Turkish
# newspaper", "selon un quotidien français", "la frontière nigérienne", "near the Chadian
# border"; or the past: "a former French base", "l'ancien allié russe".
NOT_PARTIES = frozenset({
    "journal", "journaux", "quotidien", "quotidiens", "hebdomadaire", "presse", "media",
    "medias", "agence", "chaine", "television", "radio", "site", "newspaper", "newspapers",
    "daily", "weekly", "outlet", "outlets", "press", "agency", "broadcaster", "tv",
    "channel", "website", "tabloid", "magazine", "broadcasters", "agencies", "channels",
    "websites", "tabloids", "magazines", "radios", "televisions", "chaines",
    "agences",
    # people and bodies of a country that do not act for its state
    "ong", "ngo", "ngos", "citoyens", "citizens", "ressortissants", "nationals", "aid",
    "humanitaires", "humanitarian", "executives", "cadres", "touristes", "tourists",
    "journalistes", "journalists", "businessmen", "expatries", "expatriates", "workers",
    # a country named for the one beside it: "Nigeria, Niger's southern neighbour"
    "voisin", "voisins", "voisine", "voisines", "neighbour", "neighbours", "neighbor",
    "neighbors",
})
BORDERS = frozenset({"frontiere", "frontieres", "border", "borders", "frontier", "airspace",
                     "aerien", "menace", "menaces", "threat", "threats", "survol", "survole",
                     "survolent", "survoles", "overflew", "overflight", "overflights",
                     # a country goods pass through is a place
                     "transit", "transite", "transitent", "transitant", "transiter",
                     "transits", "transiting", "transiterait", "transiteraient",
                     "transitaient", "transitait"})
# "flew over Chad": the sky of a country is a place.
FLYOVER = frozenset({"flew", "fly", "flies", "flying", "flown"})
OVER = "over"
# "la frontière du Bénin avec le Niger", "the border between Mali and Niger": a border
# this many words before a mention names it as a place when only prepositions, articles
# and other names stand between.
BORDER_WINDOW = 7
BORDER_LINKS = frozenset({"avec", "with", "entre", "between", "par", "through", "est",
                          "ouest", "nord", "sud", "east", "west", "north", "south"})
FORMER = frozenset({"former", "ancien", "ancienne", "anciens", "anciennes", "ex"})
ASIDE_WINDOW = 2  # words on either side of a mention looked at for those
POSSESSIVE = "s"  # the word an English possessive leaves after a name ("Niger's")
# A hyphen or dash alone between two names makes a route or an axis ("Paris-Bamako").
ROUTE_JOINS = frozenset({"-", "–", "—"})
# ... in a clause about travel; elsewhere two names so joined are a relation's two sides.
ROUTE_WORDS = frozenset({
    "vol", "vols", "flight", "flights", "airline", "airlines", "compagnie", "ligne", "lignes",
    "liaison", "liaisons", "route", "routes", "road", "roads", "axe", "axis", "corridor",
    "trajet", "desserte", "dessert", "relie", "reliant", "connects", "connecting", "bus",
    "aerienne", "aeriennes", "escale", "stopover",
})
# Words that join two predicates: a second kind of the same pair is reported too
# ("déploie des soldats pour protéger ... et former ...", "supplied by Turkey, whose
# technicians are training ...").
PREDICATE_JOINS = frozenset({"et", "puis", "dont", "and", "while", "whose", "then"})
# A summary clause that opens with one of these continues the title's subject ("Les
# appareils sont destinés à…", "The firm will provide…", "Ils suivront…"); one that opens
# with these turns to other news.
ANAPHORA = frozenset({
    "il", "ils", "elle", "elles", "le", "la", "les", "l", "ce", "cet", "cette", "ces", "son",
    "sa", "ses", "leur", "leurs", "it", "its", "they", "their", "he", "his", "she", "her",
    "the", "this", "these", "those", "such",
})
NEW_TOPIC = frozenset({"separately", "meanwhile", "elsewhere", "ailleurs", "parallelement"})
NEW_TOPIC_PHRASES = ("par ailleurs", "le meme jour", "on the same day", "in other news",
                     "de son cote", "dans le meme temps")
# An accord, a contract or a memorandum "provides for" training or deliveries: what it
# provides for is its content, reported as the accord (an agreement), not as done.
ACCORDS = frozenset({
    "accord", "accords", "protocole", "protocoles", "memorandum", "contrat", "contrats",
    "convention", "traite", "agreement", "agreements", "contract", "contracts", "deal",
    "deals", "pact", "pacte", "treaty", "agree", "agrees", "agreed", "conviennent",
    "convenu", "convenus",
})
# After one of these, the rest of the clause is what the accord provides for; after one of
# the short ones, only what follows it closely ("contract to supply", "accord pour former").
PROVISIONS = frozenset({
    "prevoit", "prevoient", "prevoyant", "provides", "provide", "providing", "envisage",
    "envisagent", "foresees", "foresee", "covers", "couvre", "stipule", "stipulates",
})
SHORT_PROVISIONS = frozenset({"to", "pour", "sur", "on", "for", "porte"})
# What is still to be done "under" an accord is what the accord provides for ("Beijing will
# provide equipment under the agreement", "La Russie fournira une formation, selon un
# mémorandum"): the words that put a relation under an accord named within UNDER_WINDOW
# words after them, and the marks of a future (English words, French endings).
UNDER = frozenset({"under", "vertu", "cadre", "selon", "conformement"})
UNDER_WINDOW = 3
FUTURE_WORDS = frozenset({"will", "would", "shall", "va", "vont"})
FUTURE_ENDINGS = ("era", "eront", "ira", "iront", "erait", "eraient")
# Talks are about something: a cue this many words or fewer after a word of talks tells
# their subject ("discussed training and equipment", "négocient la livraison de drones"),
# an agreement, not a thing done.
TALKS = frozenset({
    "discuss", "discussed", "discusses", "discussing", "discussion", "discussions", "talks",
    "negotiate", "negotiates", "negotiated", "negotiating", "negotiations", "discute",
    "discutent", "discuter", "evoque", "evoquent", "evoquer", "evoquant",
    "negocie", "negocient", "negocier", "negociations", "pourparlers", "entretiens",
    "parler", "parle", "parlent",
})
TALK_WINDOW = 5
PROVISION_WINDOW = 3  # words before a cue looked at for a short provision
# A weak cue followed this closely by a weak cue of another kind yields to it: "déploie
# des drones" deploys arms, it is not a deployment of troops.
OBJECT_WINDOW = 3
# A relation named right after one of these is the background of the news, not the news:
# "depuis le départ des forces françaises", "after the withdrawal of French troops".
BACKGROUND = frozenset({"depuis", "apres", "since", "after", "following"})
DETERMINERS = frozenset({"le", "la", "les", "l", "un", "une", "son", "sa", "ses", "leur",
                         "the", "a", "an", "its", "their", "his", "her"})
# A year this many years or more before the item's own names the past: a relation in the
# same comma-separated part ("In 2002 Washington launched a programme to train troops in
# Mali", "trained in Turkey in 2021, the pilots now...") is background, unless the year
# opens a span that lasts ("depuis 2022", "since 2021").
PAST_YEARS = 2
EARLIEST_YEAR = 1900
ONGOING = frozenset({"depuis", "since", "des", "from", "until", "jusqu", "till"})
OPENING_WORDS = 4  # a year among a clause's first words dates all of it ("In March 2013,")
# The marks that end a part of a clause (see _chunks).
PART_MARKS = frozenset({",", ":"})
# A country named as where a thing was made ("Turkish-made drones", "de fabrication
# russe", "made in China") is its maker, not a party: it supplies the thing only when the
# clause tells the thing changing hands, never trains, guards or signs with it.
MADE = frozenset({"made", "built", "manufactured", "designed", "produced", "fabricated"})
MADE_BY_ORIGIN = frozenset({"fabrication", "origine", "conception", "facture", "manufacture",
                            "provenance", "origin"})
MADE_IN = frozenset({"in", "en"})
MADE_IN_VERBS = MADE | frozenset({
    "fabrique", "fabriques", "fabriquee", "fabriquees", "concu", "concus", "concue",
    "concues", "construit", "construits", "construite", "construites", "produit", "produits",
})
# Verbs of sending and handing that tell no kind of their own: the thing sent tells it, as
# strongly as a cue ("sends drones" is a delivery, "envoie des troupes" a deployment,
# "drones were handed to"), and they tell nothing without one ("sends an envoy").
CARRIERS = (
    "sends", "send", "sent", "sending", "provides", "provide", "provided", "providing",
    "hands", "handed", "handing", "transfers", "transferred", "transferring", "ships",
    "shipped", "dispatches", "dispatched", "arrive", "arrives", "arrived", "lands", "landed",
    "envoie", "envoient", "envoyé", "envoyés", "envoyée", "envoyées", "envoyer", "enverra",
    "transfère", "transfèrent", "transféré", "transférés", "cède", "cèdent", "cédé",
    "cédés", "arrivée", "arrivent", "arrivés", "arrivées", "débarquent", "débarqués",
    "obtient", "obtiennent", "obtenu", "obtenus",
)

