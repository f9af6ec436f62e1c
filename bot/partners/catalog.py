"""The partnership file to actors and relation kinds, validated with file and line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.matching.text import phrase_tokens
from bot.matching.watchlists import CHAT_RE, PRIORITIES, WATCHLIST_ID_RE, Term, Watchlist
from bot.settings.tomlfile import TomlDocument, load_toml
from bot.telegram.i18n import LANGUAGES

ROLES = ("supplier", "recipient")
TOP_KEYS = {"routing", "actor", "kind"}
ROUTING_KEYS = {"chat", "topic", "priority"}
ACTOR_KEYS = {"id", "role", "names", "aliases", "watchlists", "exclude"}
KIND_KEYS = {"id", "names", "cues", "weak", "precedence", "exclude"}
DEFAULT_PRECEDENCE = 1
MAX_PRECEDENCE = 9


@dataclass(frozen=True)
class Actor:
    """A supplier or a recipient of security, and every phrase that names it."""

    id: str
    names: Mapping[str, str]
    role: str
    aliases: tuple[str, ...]
    watchlists: tuple[str, ...]
    exclude: tuple[str, ...] = ()  # phrases holding an alias that do not name the actor
    # Every term that names it: its names and aliases, then the reused watchlists' terms.
    terms: tuple[Term, ...] = ()


@dataclass(frozen=True)
class RelationKind:
    """What links a supplier to a recipient, told by cue words in French and English."""

    id: str
    names: Mapping[str, str]
    cues: tuple[str, ...]
    precedence: int = DEFAULT_PRECEDENCE  # the highest wins when kinds compete in a clause
    exclude: tuple[str, ...] = ()  # phrases that, in the same clause, silence the cues
    weak: tuple[str, ...] = ()  # cues that count only when no stronger cue links the pair


@dataclass(frozen=True)
class SignalRouting:
    """Where partnership signals are posted."""

    chat: str | None = None
    topic: int | None = None
    priority: str = "high"


@dataclass(frozen=True)
class Partnerships:
    """The actors and relation kinds of one partnership file, in the file's order."""

    actors: tuple[Actor, ...]
    kinds: tuple[RelationKind, ...]
    routing: SignalRouting = SignalRouting()
    path: Path | None = None

    def actor(self, actor_id: str) -> Actor:
        """The actor with ``actor_id``; KeyError if there is none."""
        for actor in self.actors:
            if actor.id == actor_id:
                return actor
        raise KeyError(f"no actor {actor_id!r}")

    def kind(self, kind_id: str) -> RelationKind:
        """The relation kind with ``kind_id``; KeyError if there is none."""
        for kind in self.kinds:
            if kind.id == kind_id:
                return kind
        raise KeyError(f"no relation kind {kind_id!r}")

    @property
    def suppliers(self) -> tuple[Actor, ...]:
        """The suppliers, in the file's order."""
        return tuple(a for a in self.actors if a.role == "supplier")

    @property
    def recipients(self) -> tuple[Actor, ...]:
        """The recipients, in the file's order."""
        return tuple(a for a in self.actors if a.role == "recipient")


def alias_term(text: str, line: int | None = None) -> Term:
    """The term an alias or cue stands for: a phrase written in capitals only ("AES", "US",
    "U.S.") keeps its case, so that "us" or "eau" never name a country."""
    letters = [c for c in text if c.isalpha()]
    case = len(letters) >= 2 and all(c.isupper() for c in letters)
    return Term(text=text, case=case, line=line)


def load_partnerships(path: Path, watchlists: Sequence[Watchlist]) -> Partnerships:
    """Read and validate the partnership file; ConfigError (file, line, what) on any problem.

    ``watchlists`` are those an actor may reuse by id; their terms become its aliases.
    """
    return partnerships_from_document(load_toml(path), watchlists)


def partnerships_from_document(doc: TomlDocument,
                               watchlists: Sequence[Watchlist]) -> Partnerships:
    """Validate one parsed partnership file."""
    data = doc.data
    _no_unknown_keys(doc, data, TOP_KEYS, "the file")
    routing = _routing(doc, data.get("routing", {}))
    raw_actors = _tables(doc, data, "actor")
    raw_kinds = _tables(doc, data, "kind")
    by_id = {w.id: w for w in watchlists}
    actors = tuple(_actor(doc, index, table, by_id) for index, table in enumerate(raw_actors))
    kinds = tuple(_kind(doc, index, table) for index, table in enumerate(raw_kinds))
    _unique_ids(doc, "actor", [a.id for a in actors])
    _unique_ids(doc, "kind", [k.id for k in kinds])
    for role in ROLES:
        if not any(a.role == role for a in actors):
            raise ConfigError(doc.path, f"no {role}: add an [[actor]] with role = \"{role}\"")
    if not kinds:
        raise ConfigError(doc.path, "no relation kind: add a [[kind]] table")
    _unique_watchlists(doc, actors)
    _unique_phrases(doc, "actor", [
        (actor.id, term.text, term.line if origin == "" else None, term.case,
         origin or f"line {term.line}")
        for actor in actors for term, origin in _term_origins(actor, by_id)])
    _unique_phrases(doc, "kind", [
        (kind.id, cue, line, alias_term(cue).case, f"line {line}")
        for index, kind in enumerate(kinds)
        for key, cues in (("cues", kind.cues), ("weak", kind.weak)) for cue in cues
        for line in [doc.line_of_value(cue, "kind", index, key)]])
    return Partnerships(actors=actors, kinds=kinds, routing=routing, path=doc.path)


def _term_origins(actor: Actor,
                  watchlists: Mapping[str, Watchlist]) -> list[tuple[Term, str]]:
    """Each term of ``actor`` with "" if the partnership file wrote it, else its watchlist."""
    reused = {id(term): f"watchlist {w!r}" for w in actor.watchlists
              for term in watchlists[w].terms}
    pairs = [(term, reused.get(id(term), "")) for term in actor.terms]
    # The watchlists' terms first, so that a repeat is reported where this file wrote it.
    return sorted(pairs, key=lambda pair: pair[1] == "")


def _routing(doc: TomlDocument, table: object) -> SignalRouting:
    if not isinstance(table, dict):
        raise doc.error("routing must be a [routing] table", "routing")
    _no_unknown_keys(doc, table, ROUTING_KEYS, "[routing]", "routing")
    chat = table.get("chat")
    if chat is not None and (isinstance(chat, bool) or not isinstance(chat, str | int)
                             or not CHAT_RE.match(str(chat))):
        raise doc.error("chat must be a channel @name or a numeric chat id", "routing", "chat")
    topic = table.get("topic")
    if topic is not None and (isinstance(topic, bool) or not isinstance(topic, int)
                              or topic < 1):
        raise doc.error("topic must be a forum topic id (a positive whole number)", "routing",
                        "topic")
    priority = table.get("priority", "high")
    if priority not in PRIORITIES:
        raise doc.error(f"priority must be one of {', '.join(PRIORITIES)}", "routing",
                        "priority")
    return SignalRouting(chat=str(chat) if chat is not None else None, topic=topic,
                         priority=priority)


def _tables(doc: TomlDocument, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    raw = data.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise doc.error(f"{key} must be written as [[{key}]] tables", key)
    return raw


def _actor(doc: TomlDocument, index: int, table: dict[str, Any],
           watchlists: Mapping[str, Watchlist]) -> Actor:
    where = ("actor", index)
    _no_unknown_keys(doc, table, ACTOR_KEYS, "[[actor]]", *where)
    actor_id = _identifier(doc, table, "actor", *where)
    role = table.get("role")
    if role not in ROLES:
        raise doc.error(f"actor {actor_id!r}: role must be \"supplier\" or \"recipient\", "
                        f"got {role!r}", *where, "role")
    names = _names(doc, table, actor_id, *where)
    aliases = _phrases(doc, table, "aliases", actor_id, *where)
    exclude = _phrases(doc, table, "exclude", actor_id, *where)
    reused = _phrases(doc, table, "watchlists", actor_id, *where)
    terms = [alias_term(name, doc.line_of(*where, "names")) for name in dict.fromkeys(
        names.values())]
    terms += [alias_term(alias, doc.line_of_value(alias, *where, "aliases"))
              for alias in aliases]
    for watchlist_id in reused:
        watchlist = watchlists.get(watchlist_id)
        if watchlist is None:
            known = ", ".join(sorted(watchlists)) or "none"
            raise ConfigError(doc.path, f"actor {actor_id!r}: unknown watchlist "
                              f"{watchlist_id!r} (known: {known})",
                              doc.line_of_value(watchlist_id, *where, "watchlists"))
        terms += watchlist.terms
    if not terms:
        raise doc.error(f"actor {actor_id!r} has no names or aliases", *where)
    return Actor(id=actor_id, names=names, role=role, aliases=aliases, watchlists=reused,
                 exclude=exclude, terms=tuple(terms))


def _kind(doc: TomlDocument, index: int, table: dict[str, Any]) -> RelationKind:
    where = ("kind", index)
    _no_unknown_keys(doc, table, KIND_KEYS, "[[kind]]", *where)
    kind_id = _identifier(doc, table, "kind", *where)
    names = _names(doc, table, kind_id, *where)
    cues = _phrases(doc, table, "cues", kind_id, *where)
    weak = _phrases(doc, table, "weak", kind_id, *where)
    if not cues and not weak:
        raise doc.error(f"kind {kind_id!r} has no cues: list the words that tell it",
                        *where, "cues")
    precedence = table.get("precedence", DEFAULT_PRECEDENCE)
    if isinstance(precedence, bool) or not isinstance(precedence, int) or not (
        0 <= precedence <= MAX_PRECEDENCE
    ):
        raise doc.error(f"kind {kind_id!r}: precedence must be a whole number from 0 to "
                        f"{MAX_PRECEDENCE}", *where, "precedence")
    exclude = _phrases(doc, table, "exclude", kind_id, *where)
    return RelationKind(id=kind_id, names=names, cues=cues, precedence=precedence,
                        exclude=exclude, weak=weak)


def _identifier(doc: TomlDocument, table: dict[str, Any], what: str, *where: str | int) -> str:
    value = table.get("id")
    if value is None:
        raise doc.error(f"[[{what}]] is missing id", *where)
    if not isinstance(value, str) or not WATCHLIST_ID_RE.match(value):
        raise doc.error(f"{what} id {value!r} must be lower-case letters, digits and hyphens",
                        *where, "id")
    return value


def _names(doc: TomlDocument, table: dict[str, Any], owner: str,
           *where: str | int) -> dict[str, str]:
    names = table.get("names")
    expected = " and ".join(LANGUAGES)
    if not isinstance(names, dict):
        raise doc.error(f"{owner!r}: names must be a table with {expected}, such as "
                        "names = { fr = \"Turquie\", en = \"Turkey\" }", *where, "names")
    for lang in names:
        if lang not in LANGUAGES:
            raise doc.error(f"{owner!r}: unknown language {lang!r} in names (expected "
                            f"{expected})", *where, "names")
    for lang in LANGUAGES:
        value = names.get(lang)
        if not isinstance(value, str) or not value.strip():
            raise doc.error(f"{owner!r}: names needs a non-empty {lang!r} name", *where,
                            "names")
        if not phrase_tokens(value):
            raise doc.error(f"{owner!r}: name {value!r} has no letters or digits", *where,
                            "names")
    return {lang: names[lang].strip() for lang in LANGUAGES}


def _phrases(doc: TomlDocument, table: dict[str, Any], key: str, owner: str,
             *where: str | int) -> tuple[str, ...]:
    raw = table.get(key, [])
    if not isinstance(raw, list):
        raise doc.error(f"{owner!r}: {key} must be a list of strings", *where, key)
    phrases = []
    for value in raw:
        if not isinstance(value, str):
            raise doc.error(f"{owner!r}: {key} must hold strings, found {value!r}", *where,
                            key)
        line = doc.line_of_value(value, *where, key)
        if not value.strip():
            raise ConfigError(doc.path, f"{owner!r}: empty string in {key}", line)
        if not phrase_tokens(value):
            raise ConfigError(doc.path, f"{owner!r}: {value!r} in {key} has no letters or "
                              "digits, so it can never match", line)
        phrases.append(value.strip())
    return tuple(phrases)


def _no_unknown_keys(doc: TomlDocument, table: dict[str, Any], allowed: set[str], what: str,
                     *where: str | int) -> None:
    for key in table:
        if key not in allowed:
            raise doc.error(f"unknown key {key!r} in {what} (expected one of: "
                            f"{', '.join(sorted(allowed))})", *where, key)


def _unique_ids(doc: TomlDocument, what: str, ids: list[str]) -> None:
    first: dict[str, int] = {}
    for index, item_id in enumerate(ids):
        if item_id in first:
            where = doc.line_of(what, first[item_id])
            raise doc.error(f"duplicate {what} id {item_id!r} (first at line {where})", what,
                            index, "id")
        first[item_id] = index


def _unique_watchlists(doc: TomlDocument, actors: Sequence[Actor]) -> None:
    owner: dict[str, str] = {}
    for index, actor in enumerate(actors):
        for watchlist_id in actor.watchlists:
            if watchlist_id in owner:
                raise ConfigError(doc.path, f"actor {actor.id!r}: watchlist {watchlist_id!r} "
                                  f"already names actor {owner[watchlist_id]!r}",
                                  doc.line_of_value(watchlist_id, "actor", index,
                                                    "watchlists"))
            owner[watchlist_id] = actor.id


def _unique_phrases(doc: TomlDocument, what: str,
                    phrases: Sequence[tuple[str, str, int | None, bool, str]]) -> None:
    """The same words must not name two actors (or tell two kinds), nor one twice.

    ``phrases`` holds (owner id, text, line, case-sensitive, where it comes from)."""
    seen: dict[tuple[str, ...], tuple[str, str, str]] = {}
    for owner, text, line, case, origin in phrases:
        key = (str(case), *phrase_tokens(text, case=case))
        if key in seen:
            other, other_text, other_origin = seen[key]
            if other == owner:
                message = f"{text!r} repeats {other_text!r} ({other_origin})"
            else:
                message = f"{text!r} is also in {what} {other!r} ({other_origin})"
            raise ConfigError(doc.path, f"{what} {owner!r}: {message}", line)
        seen[key] = (owner, text, origin)


def named_phrases(watchlists: Sequence[Watchlist], partnerships: Partnerships | None,
                  ) -> list[tuple[str, list[str]]]:
    """(id, phrases) of every actor of the partnership file, then every watchlist: the
    names that tell what a report is about in any language (story grouping reads them)."""
    named = [(actor.id, [term.text for term in actor.terms])
             for actor in (partnerships.actors if partnerships else ())]
    return named + [(watchlist.id, [term.text for term in watchlist.terms])
                    for watchlist in watchlists]
