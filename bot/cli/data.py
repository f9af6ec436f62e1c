"""Command-line data in and out: feeds as OPML, hits as CSV, JSON lines or Atom, rematch."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo

from bot.cli.exits import EXIT_OK
from bot.cli.options import Subcommands
from bot.errors import ConfigError
from bot.settings.atomicfile import replacing
from bot.settings.config import Config, load_config
from bot.settings.durations import parse_duration
from bot.storage.records import FeedState
from bot.storage.store import Store
from bot.telegram.i18n import LANGUAGES

if TYPE_CHECKING:  # loaded by the commands that need them
    from bot.matching.watchlists import Watchlist
    from bot.partners.detect import SignalDetector

EXPORT_FORMATS = ("csv", "jsonl", "atom")
OPML_TITLE = "Sahel Watch feeds"


def add_parsers(commands: Subcommands) -> None:
    """The feeds, export and rematch subcommands."""
    feeds = commands.add_parser("feeds", help="move the feed list in and out as OPML")
    actions = Subcommands(feeds.add_subparsers(dest="feeds_command", required=True,
                                               metavar="ACTION"), commands.common)
    read = actions.add_parser("import", help="add the feeds of an OPML file to config.toml")
    read.add_argument("file", type=Path, help="an OPML file (from any feed reader)")
    read.add_argument("--lang", choices=LANGUAGES, default="fr",
                      help="language of feeds the file does not give one (default: fr)")
    write = actions.add_parser("export", help="write the feed list as OPML")
    write.add_argument("--output", type=Path, help="file to write (default: standard output)")

    export = commands.add_parser("export", help="write stored hits as CSV, JSON lines or Atom")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="csv")
    export.add_argument("--watchlist", metavar="ID", help="only this watchlist's hits")
    export.add_argument("--since", metavar="PERIOD", help="only hits this recent: 24h, 7d, 90d")
    export.add_argument("--output", type=Path, help="file to write (default: standard output)")

    partners = commands.add_parser(
        "partners", help="the supplier × recipient map of partnership signals, as CSV or PNG")
    partners.add_argument("--since", metavar="PERIOD", default="90d",
                          help="the period mapped, up to now (default: 90d)")
    partners.add_argument("--format", choices=("csv", "png"), default="csv")
    partners.add_argument("--lang", choices=LANGUAGES, help="names in the picture "
                          "(default: [telegram] language)")
    partners.add_argument("--output", type=Path,
                          help="file to write (default: standard output; a PNG needs a file)")

    rematch = commands.add_parser(
        "rematch", help="run the current watchlists and partnership file over stored items "
                        "(after an edit)")
    rematch.add_argument("--since", metavar="PERIOD", help="only items this recent")
    rematch.add_argument("--watchlist", metavar="ID", action="append",
                         help="only this watchlist (repeat for more; default: all)")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run a data subcommand; ConfigError and StoreError go up to the caller."""
    if args.command == "feeds":
        return _import_feeds(args, out, err) if args.feeds_command == "import" \
            else _export_feeds(args, out)
    if args.command == "export":
        return _export(args, out, err)
    if args.command == "partners":
        return _partners(args, out, err)
    return _rematch(args, out, err)


def _since(period: str | None, now: datetime) -> datetime | None:
    if period is None:
        return None
    try:
        return now - timedelta(seconds=parse_duration(period))
    except ValueError as exc:
        raise ConfigError("--since", str(exc)) from None


@contextlib.contextmanager
def _output(path: Path | None, out: TextIO, encoding: str = "utf-8") -> Iterator[TextIO]:
    """``path`` opened for writing (replaced only once complete), or ``out``."""
    if path is None:
        yield out
        return
    try:
        with replacing(path, encoding) as stream:
            yield stream
    except OSError as exc:
        raise ConfigError(path, f"cannot write: {exc.strerror or exc}") from None


def _import_feeds(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bot.ingest.opml import import_feeds, read_opml

    found = read_opml(args.file)
    for problem in found.problems:
        err.write(f"skipped: {problem}\n")
    report = import_feeds(args.config, found.feeds, args.lang)
    for feed in report.added:
        out.write(f"added: {feed.name} <{feed.url}> ({feed.lang})\n")
    for duplicate in report.duplicates:
        out.write(f"already there: {duplicate}\n")
    out.write(f"{report.added_count} feed(s) added to {args.config}, "
              f"{report.duplicate_count} already there, {len(found.problems)} skipped"
              + ("; restart the bot to poll them\n" if report.added_count else "\n"))
    return EXIT_OK


def _export_feeds(args: argparse.Namespace, out: TextIO) -> int:
    from bot.ingest.opml import FeedLike, write_opml

    config = load_config(args.config, os.environ)
    feeds: list[FeedLike] = [*config.feeds, *_chat_feeds(config)]
    with _output(args.output, out) as stream:
        stream.write(write_opml(feeds, OPML_TITLE, datetime.now(UTC)))
    if args.output:
        out.write(f"{len(feeds)} feeds written to {args.output}\n")
    return EXIT_OK


def _chat_feeds(config: Config) -> list[FeedState]:
    """Feeds maintainers added from chat (in the database, not in config.toml)."""
    if not config.storage_path.exists():
        return []
    store = Store.open(config.storage_path)
    try:
        listed = {feed.url for feed in config.feeds}
        return [feed for feed in store.feeds() if feed.url not in listed]
    finally:
        store.close()


def _export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bot.matching.watchlists import load_watchlists
    from bot.ops.export import (
        CSV_ENCODING,
        JSONL_ENCODING,
        atom_feed,
        feed_tag,
        write_csv,
        write_jsonl,
    )

    config = load_config(args.config, os.environ)
    now = datetime.now(UTC)
    since = _since(args.since, now)
    watchlists = {w.id: w for w in load_watchlists(config.watchlists_dir)}
    if args.watchlist and args.watchlist not in watchlists:
        raise ConfigError(config.watchlists_dir, f"no watchlist {args.watchlist!r} (known: "
                          f"{', '.join(sorted(watchlists))})")
    store = _existing_store(config)
    try:
        rows = store.exported_hits(watchlist=args.watchlist, since=since)
        with contextlib.closing(rows):
            if args.format == "atom":
                name = watchlists[args.watchlist].name if args.watchlist else "Sahel Watch"
                with _output(args.output, out) as stream:
                    stream.write(atom_feed(rows, title=name, feed_id=feed_tag(args.watchlist),
                                           self_url=None, updated=now))
                count = None
            else:
                encoding = CSV_ENCODING if args.format == "csv" else JSONL_ENCODING
                write = write_csv if args.format == "csv" else write_jsonl
                with _output(args.output, out, encoding) as stream:
                    count = write(rows, stream)
    finally:
        store.close()
    if args.output:
        err.write(f"{'hits' if count is None else f'{count} hits'} written to "
                  f"{args.output}\n")
    return EXIT_OK


def _existing_store(config: Config) -> Store:
    """The bot's database; never a new empty one made by a mistyped path."""
    if not config.storage_path.exists():
        raise ConfigError(config.storage_path, "no database yet: run the bot first")
    return Store.open(config.storage_path)


def _rematch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bot.matching.matcher import Matcher
    from bot.matching.rematch import count_items, format_report, rematch
    from bot.matching.watchlists import load_watchlists
    from bot.ops.progress import Progress

    config = load_config(args.config, os.environ)
    watchlists = load_watchlists(config.watchlists_dir)
    known = {w.id for w in watchlists}
    chosen = set(args.watchlist) if args.watchlist else None
    if chosen and not chosen <= known:
        raise ConfigError(config.watchlists_dir, f"no watchlist {sorted(chosen - known)[0]!r} "
                          f"(known: {', '.join(sorted(known))})")
    now = datetime.now(UTC)
    since = _since(args.since, now)
    # Signals are read again with the whole file, unless only some watchlists are asked for.
    detector = _detector(config, watchlists) if chosen is None else None
    store = _existing_store(config)
    try:
        total = count_items(store, since=since)
        with Progress(total, "rematch", err) as progress:
            report = rematch(store, Matcher(watchlists), since=since, watchlists=chosen,
                             progress=progress)
        if detector is not None:
            from bot.partners.resignal import format_report as format_signals
            from bot.partners.resignal import resignal

            with Progress(total, "signals", err) as progress:
                signals = resignal(store, detector, since=since, progress=progress)
    finally:
        store.close()
    out.write(format_report(report))
    if detector is not None:
        out.write(format_signals(signals))
    return EXIT_OK


def _detector(config: Config, watchlists: Sequence[Watchlist]) -> SignalDetector | None:
    """The partnership file's detector, when the configuration names one (an invalid file
    is a ConfigError with its line)."""
    from bot.partners.catalog import load_partnerships
    from bot.partners.detect import SignalDetector

    if config.partnerships_file is None:
        return None
    return SignalDetector(load_partnerships(config.partnerships_file, watchlists))


def _partners(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bot.matching.watchlists import load_watchlists
    from bot.partners.catalog import load_partnerships
    from bot.partners.digest import partner_map_from
    from bot.partners.matrix import write_csv

    config = load_config(args.config, os.environ)
    if config.partnerships_file is None:
        raise ConfigError(config.path, "partnerships_file is empty: no partnership signals")
    if args.format == "png" and args.output is None:
        raise ConfigError("--output", "a PNG goes to a file: give --output FILE.png")
    partnerships = load_partnerships(config.partnerships_file,
                                     load_watchlists(config.watchlists_dir))
    now = datetime.now(ZoneInfo(config.timezone))
    since = _since(args.since, now) or now
    store = _existing_store(config)
    try:
        partner_map = partner_map_from(store, partnerships, since, now, config.history)
    finally:
        store.close()
    if args.format == "csv":
        with _output(args.output, out) as stream:
            rows = write_csv(partner_map, partnerships, stream)
        if args.output:
            err.write(f"{rows} pairs written to {args.output}\n")
        return EXIT_OK
    from bot.partners.chart import partner_matrix_png

    png = partner_matrix_png(partner_map, partnerships, args.lang or config.telegram.language)
    try:
        args.output.write_bytes(png)
    except OSError as exc:
        raise ConfigError(args.output, f"cannot write: {exc.strerror or exc}") from None
    err.write(f"map of {len(partner_map.cells)} pairs written to {args.output}\n")
    return EXIT_OK
