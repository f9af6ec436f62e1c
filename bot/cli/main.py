"""The command line: run, web, check, match, eval; package errors become messages and exit codes."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot import __version__
from bot.cli import data as clidata
from bot.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_PENDING
from bot.cli.options import CONFIG_ENV, Subcommands, add_common_options
from bot.errors import BotError, ConfigError, StoreError
from bot.matching.evaluate import (
    DEFAULT_LABELLED_SET,
    DEFAULT_STORY_SET,
    HOLDOUT,
    MATCHING_SETS,
    MESSY_SETS,
    PARTS,
    POOLED_HOLDOUTS,
    LabelledItem,
    evaluate,
    evaluate_stories,
    format_report,
    format_sets,
    format_story_report,
    load_labelled,
    load_story_items,
)
from bot.matching.matcher import RULE_NONE, Hit, Matcher
from bot.matching.text import html_to_text
from bot.matching.watchlists import Watchlist, load_watchlists, validate_watchlists
from bot.ops.logs import configure_logging
from bot.settings.config import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_PARTNERSHIPS,
    Config,
    load_config,
)
from bot.settings.credentials import Token, load_token
from bot.settings.view import describe
from bot.stories.anchors import Names, alias_map

log = logging.getLogger(__name__)
PTB_TIMEDELTA_ENV = "PTB_TIMEDELTA"


def build_parser(environ: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Watch French and English news feeds and alert a Telegram channel.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_common_options(parser, {"config": Path(environ.get(CONFIG_ENV, DEFAULT_CONFIG_PATH)),
                             "log_level": None, "log_format": None})
    # The same options after the command (`run --config my.toml`), where given.
    common = argparse.ArgumentParser(add_help=False)
    add_common_options(common, None)
    commands = Subcommands(parser.add_subparsers(dest="command", required=True,
                                               metavar="COMMAND"), common)

    run = commands.add_parser("run", help="poll feeds and deliver alerts until stopped")
    run.add_argument("--once", action="store_true",
                     help="poll every feed once, deliver, and exit (for cron and tests)")

    _add_web_parser(commands)

    commands.add_parser("check", help="validate config.toml and every watchlist, and print "
                                      "the effective configuration (secrets redacted)")

    health = commands.add_parser(
        "health", help="exit 0 if a poll cycle completed recently, 1 if not (for HEALTHCHECK)")
    health.add_argument("--max-age", metavar="DURATION",
                        help="oldest acceptable last cycle (default: 4 polling ticks, "
                             "at least 5m)")

    match = commands.add_parser("match", help="try the watchlists on a text or on JSON lines")
    match.add_argument("text", nargs="*", help="a text to try (omit with --json)")
    match.add_argument("--json", action="store_true",
                       help='read JSON lines {"id", "title", "summary"} and write hits as JSON')
    match.add_argument("--file", type=Path, help="read JSON lines from FILE (default: stdin)")
    match.add_argument("--watchlists", type=Path,
                       help="watchlists folder (default: the one config.toml names)")

    clidata.add_parsers(commands)

    evaluate = commands.add_parser("eval", help="measure matching quality on a labelled set")
    evaluate.add_argument("file", nargs="?", type=Path,
                          help="labelled JSON lines (default: every shipped matching set, "
                               f"figures only; or {DEFAULT_STORY_SET} with --stories)")
    evaluate.add_argument("--stories", action="store_true",
                          help="measure story grouping (pairwise precision and recall)")
    evaluate.add_argument("--partners", action="store_true",
                          help="measure partnership signals (precision and recall)")
    evaluate.add_argument("--part", choices=PARTS,
                          help="only the items of this part of a labelled set; a "
                               "hold-out part prints its figures, not its items")
    evaluate.add_argument("--watchlists", type=Path,
                          help="watchlists folder (default: the one config.toml names)")
    return parser


def _add_web_parser(commands: Subcommands) -> None:
    from bot.web.serve import DEFAULT_HOST, DEFAULT_PORT  # no Datasette at import

    web = commands.add_parser(
        "web", help="serve the history read-only in a browser, through Datasette "
                    "(pip install -e '.[web]')")
    web.add_argument("--host", default=DEFAULT_HOST,
                     help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    web.add_argument("--port", type=int, default=DEFAULT_PORT,
                     help=f"port (default {DEFAULT_PORT})")
    web.add_argument("--base-url", default="/",
                     help="path the pages live under, behind a reverse proxy that strips it "
                          "(default /)")
    web.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                     help="a host name a reverse proxy reaches it by (repeatable); requests "
                          "naming any other host than this machine's are refused")


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    """Run one command; returns the process exit status."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args, out, err)
        if args.command == "check":
            return _check(args, out, err)
        if args.command == "health":
            return _health(args, out)
        if args.command == "web":
            return _web(args, err)
        if args.command in ("feeds", "export", "rematch", "partners"):
            return clidata.run(args, out, err)
        if args.command == "eval":
            return _eval(args, out)
        return _match(args, out, err)
    except BotError as exc:
        err.write(f"error: {_redacted(str(exc))}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # Opt in to python-telegram-bot's durations as timedelta (its next major default).
    os.environ.setdefault(PTB_TIMEDELTA_ENV, "1")
    from bot.runtime.app import run  # the Telegram and scheduler stack loads only when running

    token = load_token(os.environ)
    config = load_config(args.config, os.environ)
    _configure_logging(args, config, token, err)
    if token is None:
        err.write("no TELEGRAM_BOT_TOKEN set: alerts are printed here instead of sent\n")
    try:
        pending = asyncio.run(run(config, token, once=args.once, out=out))
        return EXIT_PENDING if pending else EXIT_OK
    except BotError:
        raise
    except Exception:
        # A bug: its traceback goes through the log, where the token is redacted.
        log.exception("bot crashed")
        return EXIT_ERROR


def _web(args: argparse.Namespace, err: TextIO) -> int:
    from bot.web.serve import build, serve  # Datasette loads only for the web view

    config = load_config(args.config, os.environ)
    _configure_logging(args, config, None, err)
    datasette = build(config, lambda: datetime.now(UTC), base_url=args.base_url,
                      host=args.host, allowed_hosts=args.allowed_host)
    err.write(f"serving the history read-only at http://{args.host}:{args.port}"
              f"{datasette.setting('base_url')} (Ctrl-C stops)\n")
    serve(datasette, host=args.host, port=args.port)
    return EXIT_OK


def _configure_logging(args: argparse.Namespace, config: Config | None, token: Token | None,
                       err: TextIO) -> None:
    """Logging as the command line asks, else as [logging] says."""
    level = args.log_level or (config.logging.level if config else "INFO")
    form = args.log_format or (config.logging.format if config else "text")
    try:
        configure_logging(level, token, err, json_lines=form == "json")
    except ValueError as exc:
        raise ConfigError("--log-level", str(exc)) from None


def _health(args: argparse.Namespace, out: TextIO) -> int:
    from bot.ops.health import assess, max_age_for
    from bot.settings.durations import parse_duration
    from bot.storage.upkeep import last_cycle

    config = load_config(args.config, os.environ)
    try:
        max_age = (parse_duration(args.max_age) if args.max_age
                   else max_age_for(config.polling.tick))
    except ValueError as exc:
        raise ConfigError("--max-age", str(exc)) from None
    try:
        verdict = assess(last_cycle(config.storage_path), datetime.now(UTC), max_age)
    except StoreError as exc:
        out.write(f"unhealthy: {exc}\n")
        return EXIT_ERROR
    out.write(verdict.summary + "\n")
    return EXIT_OK if verdict.healthy else EXIT_ERROR


def _check_database(config: Config, out: TextIO) -> list[ConfigError]:
    """The database's health, when it exists (check never creates it)."""
    from bot.storage.store import Store

    path = config.storage_path
    if not path.exists():
        out.write(f"database: {path} not created yet (the first run creates it)\n")
        return []
    try:
        store = Store.open(path)
    except StoreError as exc:
        return [ConfigError(path, str(exc).removeprefix(f"{path}: "))]
    try:
        health = store.health()
    finally:
        store.close()
    out.write("database: " + " ".join(f"{k}={v}" for k, v in health.items()) + "\n")
    if health["integrity"] != "ok":
        return [ConfigError(path, f"integrity check failed: {health['integrity']}")]
    return []


def _check_partnerships(config: Config, watchlists: Sequence[Watchlist],
                        out: TextIO) -> list[ConfigError]:
    """The partnership file's actors and kinds, when one is configured."""
    from bot.partners.catalog import load_partnerships

    path = config.partnerships_file
    if path is None:
        out.write("partnerships: off (partnerships_file is empty)\n")
        return []
    try:
        partnerships = load_partnerships(path, watchlists)
    except ConfigError as exc:
        return [exc]
    out.write(f"partnerships: {len(partnerships.actors)} actors, {len(partnerships.kinds)} "
              f"relation kinds in {path}\n")
    return []


def _redacted(text: str) -> str:
    """``text`` without the token, whatever put it there."""
    try:
        token = load_token(os.environ)
    except ConfigError:
        return text
    return token.redact(text) if token else text


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    errors: list[ConfigError] = []
    config: Config | None = None
    try:
        config = load_config(args.config, os.environ)
    except ConfigError as exc:
        errors.append(exc)
    watchlists_dir = config.watchlists_dir if config else Path("watchlists")
    watchlists, watchlist_errors = validate_watchlists(watchlists_dir)
    errors.extend(watchlist_errors)
    try:
        token = load_token(os.environ)
    except ConfigError as exc:
        errors.append(exc)
        token = None
    if config:
        out.write(describe(config, os.environ, token is not None) + "\n")
        out.write(f"config: {config.path} ({len(config.feeds)} feeds, database "
                  f"{config.storage_path})\n")
        out.write(f"telegram: chat={config.telegram.chat or '-'} "
                  f"token={'set' if token else 'not set (alerts go to standard output)'}\n")
    if config:
        errors.extend(_check_database(config, out))
        if watchlist_errors:  # its actors name watchlists: checked once they are valid
            out.write("partnerships: not checked until the watchlists are valid\n")
        else:
            errors.extend(_check_partnerships(config, watchlists, out))
    for error in errors:
        err.write(f"error: {error}\n")
    terms = sum(len(w.terms) for w in watchlists)
    out.write(f"watchlists: {len(watchlists)} valid in {watchlists_dir} ({terms} terms)\n")
    out.write("ok\n" if not errors else f"{len(errors)} error(s)\n")
    return EXIT_ERROR if errors else EXIT_OK


def _matcher(args: argparse.Namespace) -> Matcher:
    directory = args.watchlists
    if directory is None:
        directory = (load_config(args.config, os.environ).watchlists_dir
                     if args.config.exists()
                     else Path("watchlists"))
    return Matcher(load_watchlists(directory))


def _eval(args: argparse.Namespace, out: TextIO) -> int:
    if args.partners:
        return _eval_partners(args, out)
    if args.stories:
        stories = evaluate_stories(load_story_items(args.file or DEFAULT_STORY_SET),
                                   _story_aliases(args))
        out.write(format_story_report(stories))
        return EXIT_OK
    if args.file is None and args.part is None:
        # Every shipped set, figures only: hold-outs are not read item by item.
        matcher = _matcher(args)
        rows = [(name, evaluate(matcher, items)) for name, items in _halves(MATCHING_SETS)]
        held_out = [item for path in MESSY_SETS if path.exists()
                    for item in load_labelled(path) if item.part == HOLDOUT]
        if held_out:
            rows.append((POOLED_HOLDOUTS, evaluate(matcher, held_out)))
        out.write(format_sets(rows))
        return EXIT_OK
    items = load_labelled(args.file or DEFAULT_LABELLED_SET)
    if args.part:
        items = [item for item in items if item.part == args.part]
    evaluation = evaluate(_matcher(args), items)
    out.write(format_report(evaluation, items_shown=args.part != HOLDOUT))
    return EXIT_OK


def _halves(paths: Iterable[Path]) -> Iterator[tuple[str, list[LabelledItem]]]:
    """Each labelled set that exists, by name, or each half of a split set."""
    for path in paths:
        if not path.exists():
            continue
        items = load_labelled(path)
        parts = sorted({item.part for item in items})
        if len(parts) < len(PARTS):
            yield path.name, items
            continue
        for part in parts:
            yield f"{path.name} ({part})", [item for item in items if item.part == part]


def _story_aliases(args: argparse.Namespace) -> Names:
    """The one-word names of the configured actors and watchlists, as the bot groups by."""
    from bot.partners.catalog import load_partnerships, named_phrases

    config = load_config(args.config, os.environ) if args.config.exists() else None
    directory = args.watchlists or (config.watchlists_dir if config else Path("watchlists"))
    path = (config.partnerships_file if config and config.partnerships_file
            else directory / DEFAULT_PARTNERSHIPS)
    watchlists = load_watchlists(directory)
    partnerships = load_partnerships(path, watchlists) if path.exists() else None
    return alias_map(named_phrases(watchlists, partnerships))


def _eval_partners(args: argparse.Namespace, out: TextIO) -> int:
    from bot.partners.catalog import load_partnerships
    from bot.partners.detect import SignalDetector
    from bot.partners.evaluate import (
        DEFAULT_PARTNERSHIP_SET,
        evaluate_signals,
        format_signal_report,
        load_labelled_signals,
    )

    config = load_config(args.config, os.environ) if args.config.exists() else None
    directory = args.watchlists or (config.watchlists_dir if config else Path("watchlists"))
    path = (config.partnerships_file if config and config.partnerships_file
            else directory / DEFAULT_PARTNERSHIPS)
    detector = SignalDetector(load_partnerships(path, load_watchlists(directory)))
    items = load_labelled_signals(args.file or DEFAULT_PARTNERSHIP_SET)
    if args.part:
        items = [item for item in items if item.part == args.part]
    result = evaluate_signals(detector, items)
    out.write(format_signal_report(result, items_shown=args.part != HOLDOUT))
    return EXIT_OK


def _match(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    matcher = _matcher(args)
    if args.json:
        source = args.file.open(encoding="utf-8") if args.file else sys.stdin
        name = str(args.file) if args.file else "<stdin>"
        with source:
            return _match_json(matcher, source, name, out, err)
    if not args.text:
        err.write("error: give a text to try, or --json to read JSON lines\n")
        return EXIT_ERROR
    text = html_to_text(" ".join(args.text))
    hits = matcher.match(text)
    verdicts = matcher.explain(text)
    counted = {(v.watchlist, v.term, v.text): v for v in verdicts if v.counts}
    for hit in hits:
        verdict = counted.get((hit.watchlist, hit.term, hit.text))
        why = f"; {verdict.reason}" if verdict and verdict.rule != RULE_NONE else ""
        out.write(f"{hit.watchlist}: «{hit.text}» matches term «{hit.term}» "
                  f"(score {hit.score}{why})\n")
    for verdict in verdicts:
        if not verdict.counts:
            out.write(f"{verdict.watchlist}: «{verdict.text}» does not count as term "
                      f"«{verdict.term}»: {verdict.reason}\n")
    if not hits:
        out.write("no match\n")
    return EXIT_OK


def _match_json(matcher: Matcher, lines: Iterable[str], name: str, out: TextIO,
                err: TextIO) -> int:
    status = EXIT_OK
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("expected a JSON object")
            title = record.get("title") or ""
            summary = record.get("summary") or ""
            if not isinstance(title, str) or not isinstance(summary, str):
                raise ValueError("title and summary must be strings")
        except ValueError as exc:
            err.write(f"error: {name}:{number}: {exc}\n")
            out.write(json.dumps({"id": None, "line": number, "error": str(exc)}) + "\n")
            status = EXIT_ERROR
            continue
        hits = matcher.match(html_to_text(title), html_to_text(summary))
        out.write(json.dumps({"id": record.get("id"), "hits": [_hit_json(h) for h in hits]},
                             ensure_ascii=False) + "\n")
    return status


def _hit_json(hit: Hit) -> dict[str, Any]:
    return {"watchlist": hit.watchlist, "term": hit.term, "text": hit.text, "field": hit.field,
            "score": hit.score}
