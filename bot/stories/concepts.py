"""The kind of event a report tells, in French or English, as one concept (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

# What happened, said in either language. Each line is a concept and its words, folded
# (accents and case off) and written with their usual forms; a trailing "s" is tried off.
# These are the words news uses for the kind of event: alone they tell no story apart
# (every attack is an attack), beside a place, an actor or a figure they do.
LEXICON = """
attack: attaque attaquer attaquent attaques assaut assauts offensive attack attacked
 attacks attacking assault assaulted raid raids
ambush: embuscade embuscades ambush ambushed ambushes
explosive: engin explosif explosifs ied mine bombe bomb roadside explosion blast
 kamikaze suicide
killed: tue tues tuee tuees morts mort deces killed kill kills dead death deaths toll bilan
 victimes victims massacre massacred carnage
wounded: blesse blesses blessees wounded injured injuries
kidnap: enlevement enleve enleves enlevee enlevees rapt otage otages kidnap kidnapped
 kidnapping abducted abduction hostage hostages seized
release: libere liberes liberee liberation released release freed
drone: drone drones uav uavs
airstrike: frappe frappes bombardement bombardements airstrike airstrikes bombing bombings
 bombed
helicopter: helicoptere helicopteres helicopter helicopters
aircraft: avion avions appareil appareils aircraft jet jets plane planes fighter
convoy: convoi convois convoy convoys escorte escorted escort
delivery: livraison livraisons livre livres livree receptionne receptionnent reception
 delivery deliveries delivered delivers deliver shipment batch arrivee arrival arrive
 arrived arrives
training: formation formations forme former instructeurs instructeur entrainement
 training train trains trained instructor instructors drill
agreement: accord accords convention protocole memorandum agreement agreements deal deals
 pact treaty signe signent signature sign signs signed
withdrawal: retrait retire retirent quitte quittent depart withdrawal withdraw withdraws
 withdrew withdrawn pullout leave leaves leaving exit
return: retour retournent reviennent revient return returns returned
coup: coup putsch putschistes junta junte
curfew: couvre curfew
night: nuit nocturne nocturnes night overnight
budget: budget budgets budgetaire finances spending
gold: aurifere auriferes orpaillage orpailleurs gold bullion
exports: exportation exportations export exports exported
revenue: recettes revenus earnings revenue revenues
fuel: carburant carburants essence gasoil citerne citernes fuel petrol gasoline diesel
 tanker tankers
truckers: camion camions transporteur transporteurs routiers camionneurs truck trucks
 truckers lorries lorry drivers chauffeurs
strike: greve greves grevistes walkout
school: ecole ecoles eleves scolaire classe classes enseignants school schools pupils
 students teachers classroom
health: cholera epidemie sante paludisme rougeole outbreak epidemic health malaria measles
flood: inondation inondations crue crues floods flood flooding flooded
election: election elections scrutin vote referendum electoral ballot polls
talks: negociations negociateurs pourparlers discussions dialogue talks negotiations
 negotiators mediation mediateur mediator
summit: sommet summit
visit: visite visit visits rencontre rencontrent entretien entretiens meets meeting met
suspend: suspend suspendu suspendue suspension suspendre suspends suspended ban banned
 bans interdit interdiction interdit prohibits
media: television tele tv radio chaine chaines journal journaux journaliste journalistes
 media broadcaster broadcasting journalist journalists channel newspaper
reshuffle: remaniement remanie remanier reshuffle reshuffles reshuffled
government: gouvernement cabinet ministres ministre government minister ministers
sanctions: sanction sanctions embargo
displaced: refugies refugie deplaces deplacees refugees refugee displaced
arrest: arrestation arrestations interpelle interpelles arrested arrest
 arrests detained detention
trial: proces tribunal condamne condamnes juge verdict trial court sentenced judge
mining: mine mines minier miniere permis mining miner miners licence license
uranium: uranium
oil: petrole petrolier pipeline oleoduc oil crude
price: prix inflation cherte price prices
protest: manifestation manifestations manifestants protest protests protesters
 demonstration demonstrators rally
blockade: blocus encerclement siege blockade besieged
jihadists: jihadistes djihadistes terroristes islamistes jihadists militants insurgents
 terrorists gunmen assaillants assailants
base: base bases camp camps caserne barracks garrison
border: frontiere frontieres frontalier border borders
market: marche marches market markets
bridge: pont ponts bridge bridges
food: famine faim alimentaire vivres hunger food
nationalise: nationalisation nationalise nationalises nationalised nationalized
 nationalisation
recruit: recrutement recrues recrute recruitment recruits recruited enrol
weapons: armes armement armements munitions weapons arms ammunition
mercenaries: mercenaires mercenaries paramilitaire paramilitaires paramilitary
expel: expulse expulsion expulses expelled expulsion expels ambassadeur ambassador
"""
# Trailing letters tried off a word not in the lexicon as written: plurals, past tenses.
ENDINGS = ("s", "es", "ed", "ing")


def concept_map(lexicon: str = LEXICON) -> Mapping[str, str]:
    """Folded words to the concept they say, from the lexicon's lines."""
    concepts: dict[str, str] = {}
    concept = ""
    for line in lexicon.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            concept, _, line = line.partition(":")
        for word in line.split():
            concepts.setdefault(word, concept)
    return concepts


def concepts_of(words: Sequence[str], concepts: Mapping[str, str]) -> Iterable[str]:
    """The concepts that folded ``words`` say, each once."""
    seen: set[str] = set()
    for word in words:
        concept = concepts.get(word)
        if concept is None and len(word) > 4:
            concept = next((concepts[stem] for stem in (
                word.removesuffix(end) for end in ENDINGS if word.endswith(end))
                if stem in concepts), None)
        if concept is not None and concept not in seen:
            seen.add(concept)
            yield concept


CONCEPTS = concept_map()  # the lexicon, read once
