"""Hostile feeds are contained: bounded time and memory, a log line naming the feed and the
reason, the feed backed off, and the other feeds' alerts still delivered.

Most cases share one ``python -m bot run --once`` over many feeds at once (the module-scoped
``hostile`` fixture, with a good feed whose alert must arrive); the cases that need runs of
their own have their own tests.

The bot runs under a small wrapper that reports its peak memory, parse workers included, and
with a generated ``sitecustomize`` that keeps it on loopback: the conftest guard patches
sockets in the pytest process only, so it cannot see the bot subprocess, nor the C resolver,
which would otherwise send a real DNS query for ``feed.invalid`` to the configured name server.
"""

from __future__ import annotations

import html
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from bot.ingest.items import MAX_ITEMS_PER_FEED, MAX_TITLE_CHARS
from bot.telegram import alerts as alert_format
from bot.telegram.i18n import MONTHS
from tests.support.botapi import ApiCall, BotApiStandIn, SentMessage
from tests.support.botprocess import GOITA_ITEM, TOKEN, bot_env, run_bot, telegram_section
from tests.support.common import ROOT, write_config
from tests.support.feedserver import FeedServer, RequestRecord, rss_feed

pytestmark = pytest.mark.skipif(sys.platform != "linux",
                                reason="ru_maxrss in kilobytes and PR_SET_CHILD_SUBREAPER")

MEMORY_LIMIT_KB = 300 * 1024  # ru_maxrss is in kilobytes on Linux
RUN_TIME_LIMIT = 30.0  # seconds for a whole --once run over every hostile feed
TOTAL_TIMEOUT = 3.0
MAX_BYTES = 5_000_000
MAX_REDIRECTS = 5
INTERVAL = timedelta(minutes=1)  # of every feed: a success is checked again this soon
BACKOFF = timedelta(minutes=10)  # a first failure waits this long (longer than INTERVAL)
POLLING = {
    "total_timeout": f'"{TOTAL_TIMEOUT:g}s"', "read_timeout": '"2s"', "connect_timeout": '"2s"',
    "max_bytes": "5_000_000", "max_redirects": str(MAX_REDIRECTS), "backoff_base": '"10m"',
    # Every feed is on 127.0.0.1: the default of two fetches per host would queue them.
    "per_host": "40", "max_concurrency": "40", "parse_workers": "2",
}

# --- Running the bot: measured, and kept off the network --------------------------------------

# Runs the bot, then reports its exit status, time and peak memory. Parse workers are children
# of multiprocessing's fork server, which the bot never waits for, so a plain RUSAGE_CHILDREN
# misses them; as a subreaper this wrapper inherits them when orphaned and waits for them too.
MEASURE = """\
import ctypes, json, os, resource, subprocess, sys, time
spec = json.loads(sys.argv[1])
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
start = time.monotonic()
code = subprocess.run(spec["argv"], cwd=spec["cwd"], timeout=spec["timeout"]).returncode
elapsed = time.monotonic() - start
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if pid == 0:
        time.sleep(0.02)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(spec["report"], "w", encoding="utf-8") as report:
    json.dump({"returncode": code, "elapsed": elapsed, "peak_kb": peak}, report)
"""

# Loaded by every Python process of the bot: names other than loopback fail at once, as RFC
# 6761 asks resolvers to do for .invalid, and connections beyond loopback are refused; both
# are noted in a file the tests read.
NETWORK_SHIM = '''\
import errno
import ipaddress
import os
import socket

_NOTES = os.environ["HOSTILE_NETWORK_NOTES"]
_getaddrinfo = socket.getaddrinfo
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _host(host):
    return host.decode("ascii", "replace") if isinstance(host, bytes) else host


def _local(host):
    host = _host(host)
    if host is None or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _note(text):
    with open(_NOTES, "a", encoding="utf-8") as notes:
        notes.write(text + "\\n")


def getaddrinfo(host, *args, **kwargs):
    if not _local(host):
        _note(f"lookup {_host(host)}")
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return _getaddrinfo(host, *args, **kwargs)


def _check(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
        _note(f"connect {address[0]}")
        raise OSError(errno.ENETUNREACH, "network blocked by the hostile-feed tests")


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


socket.getaddrinfo = getaddrinfo
socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
'''


def shielded_env(work: Path, token: str | None) -> dict[str, str]:
    """bot_env plus the network shim; its notes go to ``work / "network-notes.txt"``."""
    shim = work / "shim"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(NETWORK_SHIM, encoding="utf-8")
    env = bot_env(token)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(shim), env.get("PYTHONPATH")) if p)
    env["HOSTILE_NETWORK_NOTES"] = str(work / "network-notes.txt")
    return env


@dataclass(frozen=True)
class BotRun:
    """One measured run of the bot."""

    returncode: int
    stdout: str
    stderr: str
    elapsed: float  # seconds
    peak_kb: int  # largest resident set of the bot or any of its processes
    started: datetime
    finished: datetime
    network: tuple[str, ...]  # lookups and connections beyond loopback, refused by the shim


def run_measured(config: Path, work: Path, *args: str, token: str | None = None,
                 timeout: float = 90) -> BotRun:
    notes = work / "network-notes.txt"
    notes.unlink(missing_ok=True)
    report = work / "measure.json"
    spec = {"argv": [sys.executable, "-m", "bot", "--config", str(config), "run", *args],
            "cwd": str(ROOT), "timeout": timeout, "report": str(report)}
    started = datetime.now(UTC)
    result = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(spec)],
                            capture_output=True, text=True, timeout=timeout + 30, cwd=ROOT,
                            env=shielded_env(work, token))
    finished = datetime.now(UTC)
    # Kept for conftest's session check that no token ever reaches a log.
    (work / f"run-{started:%H%M%S%f}.log").write_text(result.stdout + result.stderr,
                                                      encoding="utf-8")
    assert result.returncode == 0 and report.exists(), result.stderr[-5000:]
    measured = json.loads(report.read_text(encoding="utf-8"))
    network = notes.read_text(encoding="utf-8").splitlines() if notes.exists() else []
    return BotRun(measured["returncode"], result.stdout, result.stderr, measured["elapsed"],
                  measured["peak_kb"], started, finished, tuple(network))


# --- Reading the results ----------------------------------------------------------------------

FAILED_RE = re.compile(
    r"^(?P<at>\S+ \S+) level=WARNING logger=bot\.pipeline\.poll feed failed "
    r"feed=(?P<feed>.+?) "
    r"url=(?P<url>\S+) reason=(?P<reason>\S+) detail=(?P<detail>.*) "
    r"failures=(?P<failures>\d+) retry_at=(?P<retry_at>\S+)$", re.MULTILINE)
READY_RE = re.compile(
    r"^(?P<at>\S+ \S+) level=INFO logger=bot\.runtime\.app bot ready", re.MULTILINE)
SHOWN_TIME_RE = re.compile(r" · (\d{1,2}) (\S+) (\d{4}), (\d{2}):(\d{2}) UTC")


def failure_lines(stderr: str, feed: str) -> list[re.Match[str]]:
    return [m for m in FAILED_RE.finditer(stderr) if m["feed"] == feed]


def log_time(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")


def query(db: Path, sql: str, *params: Any) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params)]


def database_text(db: Path) -> str:
    with closing(sqlite3.connect(db)) as conn:
        return "\n".join(conn.iterdump())


def alert_for(sent: list[SentMessage], link: str) -> SentMessage:
    """The one alert whose title links to ``link``."""
    found = [m for m in sent if f'<a href="{alert_format.attribute(link)}">' in m.text]
    assert len(found) == 1, (link, [m.text for m in sent])
    return found[0]


def shown_time(message: SentMessage) -> datetime:
    """The time an alert shows next to its source (French, UTC)."""
    match = SHOWN_TIME_RE.search(message.text)
    assert match, message.text
    day, month, year, hour, minute = match.groups()
    return datetime(int(year), MONTHS["fr"].index(month) + 1, int(day), int(hour), int(minute),
                    tzinfo=UTC)


def linked_title(message: SentMessage) -> str:
    match = re.search(r'<a href="[^"]*">(.*?)</a>', message.text, re.DOTALL)
    assert match, message.text
    return html.unescape(match.group(1))


# --- The hostile feeds ------------------------------------------------------------------------


def raw_rss(channel: str, items: str, *, prolog: str = "",
            declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    """An RSS document written by hand, for what rss_feed() escapes (entities, odd dates)."""
    return (f"{declaration}\n{prolog}<rss version=\"2.0\"><channel><title>{channel}</title>"
            f"<link>https://example.org/</link><description>{channel}</description>{items}"
            "</channel></rss>\n")


def raw_item(title: str, link: str, *, description: str = "", extra: str = "") -> str:
    return (f"<item><title>{title}</title><link>{link}</link>"
            f"<description>{description}</description>{extra}</item>")


def billion_laughs() -> str:
    """Ten levels of entities, ten references each: 10⁹ "lol" if expanded."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
    prolog = "<!DOCTYPE rss [\n" + "\n".join(entities) + "\n]>\n"
    return raw_rss("Laughs", raw_item("Africa Corps recrute à Tombouctou &lol9;",
                                      LINKS["laughs"], description="&lol9;"), prolog=prolog)


def quadratic_blowup(value_bytes: int, references: int) -> str:
    """One plain entity referenced many times: no nesting, value_bytes × references if expanded.

    The title is ASCII: an accent makes feedparser five times slower on the expanded text.
    """
    prolog = f'<!DOCTYPE rss [\n<!ENTITY big "{"lol" * (value_bytes // 3)}">\n]>\n'
    return raw_rss("Quadratic", raw_item("Wagner Group recrute a Bourem " + "&big;" * references,
                                         "https://quadratic.example/bourem"), prolog=prolog)


def garbage(size: int, seed: int = 1729) -> bytes:
    return random.Random(seed).randbytes(size)


def closed_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


LINKS = {
    "laughs": "https://laughs.example/tombouctou",
    "xxe-file": "https://xxe.example/ankara",
    "xxe-entity": "https://xxe.example/sikasso",
    "xxe-dtd": "https://xxe.example/douentza",
    "xxe-param": "https://xxe.example/hombori",
    "cp1252": "https://charset.example/mopti",
    "latin1": "https://charset.example/kati",
    "many-hit": "https://bulletins.example/5",
    "many-beyond": "https://bulletins.example/9999",
    "mega": "https://mega.example/niamey",
    "future": "https://dates.example/kidal",
    "missing": "https://dates.example/gao",
    "bad-date": "https://dates.example/menaka",
    "soon": "https://dates.example/koulouba",
    "reused-1": "https://reused.example/tessalit",
    "reused-2": "https://reused.example/segou",
}
CP1252_TITLE = "Les FAMa à Mopti : l’armée paie 5 000 € — « coût » réel"
LATIN1_TITLE = "Assimi Goïta à Kati : « déjà » l'été, señor"
MEGA_TITLE_START = "Bayraktar TB2 livrés à Niamey : "

# Feeds that must fail, with the reason and a piece of the detail their log line gives.
FAILING = {
    "Redirect loop": ("too-many-redirects", f"more than {MAX_REDIRECTS}"),
    "Redirect to a file": ("bad-url", "file://"),
    "DNS failure": ("connect-failed", "Name or service not known"),
    "Connection refused": ("connect-failed", "Connect call failed"),
    "One byte a second": ("timeout", f"within {TOTAL_TIMEOUT:g}s"),
    "300 MB with length": ("too-large", "Content-Length 300000000 > 5000000"),
    "300 MB without length": ("too-large", "body over 5000000 bytes"),
    "Gzip bomb": ("too-large", "body over 5000000 bytes"),
    "Binary garbage": ("ParseError", "not an RSS or Atom feed"),
}


def serve_hostile_feeds(server: FeedServer, secret_file: Path,
                        now: datetime) -> dict[str, str]:
    """Register every hostile route; the feeds' names and addresses, the good feed first."""
    server.route("/good", rss_feed("Good", [GOITA_ITEM]))
    server.route_redirect("/loop-a", "/loop-b")
    server.route_redirect("/loop-b", "/loop-a")
    server.route_redirect("/to-file", "file:///etc/passwd")
    server.route_slow_drip("/drip", total_bytes=10_000, bytes_per_second=1)
    server.route_huge("/huge", 300_000_000)
    server.route_huge("/huge-unsized", 300_000_000, content_length=False)
    server.route_gzip_bomb("/bomb", 1_000_000_000)
    server.route("/garbage", garbage(200_000))
    server.route("/laughs", billion_laughs())
    # External entities: a local file, and addresses on this server (which must never be asked
    # for them) and beyond loopback (which the shim would note).
    for probe in ("entity", "dtd", "param"):
        server.route(f"/xxe/{probe}", f'<!ENTITY fromdtd "PROBE-{probe}">PROBE-{probe}')
    server.route("/xxe-file", raw_rss("XXE file", raw_item(
        "Canik Academy forme des officiers à Ankara &passwd;&secret;", LINKS["xxe-file"],
        description="&passwd; &secret;"), prolog=(
            '<!DOCTYPE rss [\n<!ENTITY passwd SYSTEM "file:///etc/passwd">\n'
            f'<!ENTITY secret SYSTEM "file://{secret_file}">\n]>\n')))
    server.route("/xxe-entity", raw_rss("XXE http", raw_item(
        "Assimi Goïta visite Sikasso &probe;&outside;", LINKS["xxe-entity"],
        description="&probe;"), prolog=(
            f'<!DOCTYPE rss [\n<!ENTITY probe SYSTEM "{server.url("/xxe/entity")}">\n'
            '<!ENTITY outside SYSTEM "http://192.0.2.1/xxe">\n]>\n')))
    server.route("/xxe-dtd", raw_rss("XXE DTD", raw_item(
        "Wagner Group recrute à Douentza &fromdtd;", LINKS["xxe-dtd"]),
        prolog=f'<!DOCTYPE rss SYSTEM "{server.url("/xxe/dtd")}">\n'))
    server.route("/xxe-param", raw_rss("XXE param", raw_item(
        "Africa Corps patrouille à Hombori &fromdtd;", LINKS["xxe-param"]), prolog=(
            f'<!DOCTYPE rss [\n<!ENTITY % remote SYSTEM "{server.url("/xxe/param")}">\n'
            "%remote;\n]>\n")))
    # A windows-1252 body that says it is UTF-8 (header and declaration), and a latin-1 body
    # that says nothing at all.
    server.route("/cp1252", rss_feed("CP", [{"title": CP1252_TITLE, "link": LINKS["cp1252"],
                                             "guid": "cp-1"}]).encode("cp1252"))
    latin1 = rss_feed("L1", [{"title": LATIN1_TITLE, "link": LINKS["latin1"], "guid": "l1-1"}])
    server.route("/latin1", latin1.replace(' encoding="utf-8"', "").encode("latin-1"),
                 content_type="application/rss+xml")
    bulletins: list[dict[str, Any]] = [
        {"title": f"Bulletin météo n°{n} pour Bamako", "link": f"https://bulletins.example/{n}",
         "guid": f"bulletin-{n}"} for n in range(10_000)]
    bulletins[5] = {"title": "Les FAMa reprennent Léré", "link": LINKS["many-hit"],
                    "guid": "bulletin-5"}
    bulletins[9999] = {"title": "Les FAMa reprennent Tessalit", "link": LINKS["many-beyond"],
                       "guid": "bulletin-9999"}
    server.route("/many", rss_feed("Bulletins", bulletins))
    mega = MEGA_TITLE_START + "escadrille " * (1_048_576 // len("escadrille "))
    server.route("/mega", rss_feed("Mega", [{"title": mega, "link": LINKS["mega"]}]))
    soon = format_datetime(now + timedelta(minutes=30), usegmt=True)
    server.route("/dates", raw_rss("Dates", "".join([
        raw_item("Wagner Group quitte Kidal", LINKS["future"],
                 extra="<pubDate>Thu, 01 Jan 2099 12:00:00 GMT</pubDate>"),
        raw_item("Africa Corps s'installe à Gao", LINKS["missing"]),
        raw_item("Les FAMa patrouillent près de Ménaka", LINKS["bad-date"],
                 extra="<pubDate>32 Foo 2026 99:99:99 +9999</pubDate>"),
        raw_item("Assimi Goïta reçoit à Koulouba", LINKS["soon"],
                 extra=f"<pubDate>{soon}</pubDate>"),
    ])))
    server.route("/reused", rss_feed("Reused", [
        {"title": "Wagner Group évacue Tessalit", "link": LINKS["reused-1"], "guid": "1"},
        {"title": "Canik Academy ouvre une école à Ségou", "link": LINKS["reused-2"],
         "guid": "1"},
    ]))
    paths = {
        "Good": "/good", "Redirect loop": "/loop-a", "Redirect to a file": "/to-file",
        "One byte a second": "/drip", "300 MB with length": "/huge",
        "300 MB without length": "/huge-unsized", "Gzip bomb": "/bomb",
        "Binary garbage": "/garbage", "Billion laughs": "/laughs", "XXE file": "/xxe-file",
        "XXE http entity": "/xxe-entity", "XXE http DTD": "/xxe-dtd",
        "XXE parameter entity": "/xxe-param", "Mislabelled cp1252": "/cp1252",
        "Undeclared latin-1": "/latin1", "Ten thousand items": "/many",
        "Megabyte title": "/mega", "Odd dates": "/dates", "Reused GUID": "/reused",
    }
    urls = {name: server.url(path) for name, path in paths.items()}
    urls["DNS failure"] = "http://feed.invalid/rss"
    urls["Connection refused"] = f"http://127.0.0.1:{closed_port()}/rss"
    return urls


@dataclass(frozen=True)
class Hostile:
    """What one run over every hostile feed left behind."""

    run: BotRun
    urls: dict[str, str]
    db: Path
    secret: str
    requests: list[RequestRecord]
    sent: list[SentMessage]
    calls: list[ApiCall]

    def feed(self, name: str) -> dict[str, Any]:
        [row] = query(self.db, "SELECT * FROM feeds WHERE name = ?", name)
        return row

    def items(self, name: str) -> list[dict[str, Any]]:
        return query(self.db, "SELECT items.* FROM items JOIN feeds ON feeds.id = feed_id "
                              "WHERE feeds.name = ? ORDER BY items.id", name)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    work = tmp_path_factory.mktemp("hostile")
    secret = f"HOSTILE-SECRET-{random.Random().getrandbits(64):016x}"
    secret_file = work / "secret.txt"
    secret_file.write_text(secret + "\n", encoding="utf-8")
    with FeedServer() as server, BotApiStandIn(token=TOKEN) as api:
        urls = serve_hostile_feeds(server, secret_file, datetime.now(UTC))
        feeds = [{"name": name, "url": url, "lang": "fr", "interval": "1m"}
                 for name, url in urls.items()]
        config = write_config(work, feeds, telegram=telegram_section(api), polling=POLLING)
        run = run_measured(config, work, "--once", token=TOKEN)
        print(f"\nhostile run: {run.elapsed:.1f} s, peak memory {run.peak_kb / 1024:.0f} MB, "
              f"{len(api.sent)} alerts")
        return Hostile(run, urls, work / "state" / "bot.db", secret, server.requests,
                       api.sent, api.calls)


# --- One run, many hostile feeds ----------------------------------------------------------------


def test_the_run_is_bounded_and_the_good_feed_still_alerts(hostile: Hostile) -> None:
    run = hostile.run
    assert run.returncode == 0, run.stderr[-5000:]
    assert run.elapsed < RUN_TIME_LIMIT, f"{run.elapsed:.1f} s"
    assert run.peak_kb < MEMORY_LIMIT_KB, f"peak {run.peak_kb / 1024:.0f} MB"
    assert f"cycle done feeds={len(hostile.urls)} " in run.stderr
    assert "Traceback" not in run.stderr and "feed crashed" not in run.stderr
    good = alert_for(hostile.sent, GOITA_ITEM["link"])
    assert linked_title(good) == GOITA_ITEM["title"]
    assert hostile.feed("Good")["consecutive_failures"] == 0
    # Every alert was valid Telegram HTML within 4096 characters: the stand-in took them all.
    sends = [c for c in hostile.calls if c.method == "sendMessage"]
    assert sends and all(c.status == 200 for c in sends), [c.status for c in sends]
    assert len(hostile.sent) == len(sends)


@pytest.mark.parametrize("name", list(FAILING))
def test_a_failing_feed_is_logged_and_backed_off(hostile: Hostile, name: str) -> None:
    reason, detail = FAILING[name]
    [line] = failure_lines(hostile.run.stderr, name)
    assert line["url"] == hostile.urls[name]
    assert line["reason"] == reason, line.group(0)
    assert detail in line["detail"], line.group(0)
    assert line["failures"] == "1"
    feed = hostile.feed(name)
    assert feed["consecutive_failures"] == 1
    assert feed["last_error"].startswith(reason if reason != "ParseError" else detail)
    next_check = datetime.fromisoformat(feed["next_check_at"])
    assert next_check >= hostile.run.started.replace(microsecond=0) + BACKOFF
    assert next_check == datetime.fromisoformat(line["retry_at"])
    assert hostile.items(name) == []


def test_a_redirect_loop_is_followed_max_redirects_times(hostile: Hostile) -> None:
    loop = [r for r in hostile.requests if r.path in ("/loop-a", "/loop-b")]
    assert len(loop) == MAX_REDIRECTS + 1


def test_dns_failure_is_answered_on_the_machine(hostile: Hostile) -> None:
    # The only name the bot looked up was feed.invalid, and it reached nothing beyond loopback.
    assert hostile.run.network == ("lookup feed.invalid",)


def test_one_byte_a_second_is_cut_by_the_total_timeout(hostile: Hostile) -> None:
    # Each read gets a byte within the 2 s read timeout; only the total bound can stop it.
    [line] = failure_lines(hostile.run.stderr, "One byte a second")
    ready = READY_RE.search(hostile.run.stderr)
    assert ready
    waited = (log_time(line["at"]) - log_time(ready["at"])).total_seconds()
    assert TOTAL_TIMEOUT - 0.5 <= waited <= TOTAL_TIMEOUT + 2.5, waited
    [request] = [r for r in hostile.requests if r.path == "/drip"]
    assert request.status == 200


def test_a_billion_laughs_is_never_expanded(hostile: Hostile) -> None:
    name = "Billion laughs"
    log = hostile.run.stderr
    assert (failure_lines(log, name)
            or f"feed irregular but readable feed={name} warning=" in log), log[-3000:]
    assert "lollollol" not in database_text(hostile.db)
    assert not any("lollollol" in m.text for m in hostile.sent)
    for item in hostile.items(name):
        assert len(item["title"]) < 100 and len(item["summary"]) < 100
    assert datetime.fromisoformat(hostile.feed(name)["next_check_at"]) >= (
        hostile.run.started.replace(microsecond=0) + INTERVAL)


def test_a_local_file_in_an_external_entity_never_comes_out(hostile: Hostile) -> None:
    passwd = [line for line in Path("/etc/passwd").read_text().splitlines() if len(line) > 8]
    stored = database_text(hostile.db)
    alerts = "\n".join(m.text for m in hostile.sent)
    for secret in [hostile.secret, *passwd]:
        assert secret not in stored
        assert secret not in alerts
        assert secret not in hostile.run.stderr
    # The item itself went through, without the file.
    [item] = hostile.items("XXE file")
    assert item["title"].startswith("Canik Academy forme des officiers à Ankara")
    alert_for(hostile.sent, LINKS["xxe-file"])


@pytest.mark.parametrize("name", ["XXE http entity", "XXE http DTD", "XXE parameter entity"])
def test_an_external_entity_over_http_is_never_fetched(hostile: Hostile, name: str) -> None:
    assert [r.target for r in hostile.requests if r.path.startswith("/xxe/")] == []
    assert not any(note.startswith("connect") for note in hostile.run.network)
    assert "PROBE-" not in database_text(hostile.db)
    assert not any("PROBE-" in m.text for m in hostile.sent)
    [item] = hostile.items(name)
    alert_for(hostile.sent, item["link"])


@pytest.mark.parametrize(("name", "title", "link"), [
    ("Mislabelled cp1252", CP1252_TITLE, LINKS["cp1252"]),
    ("Undeclared latin-1", LATIN1_TITLE, LINKS["latin1"]),
])
def test_wrong_or_missing_charsets_are_decoded(hostile: Hostile, name: str, title: str,
                                               link: str) -> None:
    [item] = hostile.items(name)
    assert item["title"] == title
    alert = alert_for(hostile.sent, link)
    assert linked_title(alert) == title
    assert "\ufffd" not in alert.text and "Ã" not in alert.text
    assert f"feed irregular but readable feed={name} warning=" in hostile.run.stderr


def test_ten_thousand_items_are_cut_to_the_limit_and_logged(hostile: Hostile) -> None:
    name = "Ten thousand items"
    assert (f"level=WARNING logger=bot.pipeline.poll feed too long feed={name} "
            f"dropped_items={10_000 - MAX_ITEMS_PER_FEED}") in hostile.run.stderr
    items = hostile.items(name)
    assert len(items) == MAX_ITEMS_PER_FEED
    assert {item["guid"] for item in items} == {f"bulletin-{n}" for n in range(1000)}
    alert_for(hostile.sent, LINKS["many-hit"])  # a hit within the limit still alerts
    assert not any(LINKS["many-beyond"] in m.text for m in hostile.sent)


def test_a_megabyte_title_is_cut_in_storage_and_in_its_alert(hostile: Hostile) -> None:
    [item] = hostile.items("Megabyte title")
    assert len(item["title"]) == MAX_TITLE_CHARS
    assert item["title"].startswith(MEGA_TITLE_START) and item["title"].endswith("…")
    alert = alert_for(hostile.sent, LINKS["mega"])
    title = linked_title(alert)
    assert len(title) <= alert_format.MAX_TITLE_CHARS and title.endswith("…")
    assert title.startswith(MEGA_TITLE_START.rstrip())
    assert alert_format.visible_length(alert.text) <= alert_format.MAX_MESSAGE_UTF16
    assert len(alert.plain_text.encode("utf-16-le")) // 2 <= alert_format.MAX_MESSAGE_UTF16


@pytest.mark.parametrize("link", [LINKS["future"], LINKS["missing"], LINKS["bad-date"]])
def test_far_future_missing_or_broken_dates_show_the_time_of_the_poll(hostile: Hostile,
                                                                      link: str) -> None:
    shown = shown_time(alert_for(hostile.sent, link))
    assert hostile.run.started.replace(second=0, microsecond=0) <= shown <= hostile.run.finished


def test_no_alert_shows_a_time_ahead_of_the_clock(hostile: Hostile) -> None:
    assert [m.text.splitlines()[2] for m in hostile.sent
            if shown_time(m) > hostile.run.finished] == []


def test_a_guid_reused_within_one_feed_keeps_both_articles(hostile: Hostile) -> None:
    assert {item["link"] for item in hostile.items("Reused GUID")} == {
        LINKS["reused-1"], LINKS["reused-2"]}
    alert_for(hostile.sent, LINKS["reused-1"])
    alert_for(hostile.sent, LINKS["reused-2"])


# --- Cases that need runs of their own ---------------------------------------------------------


def test_a_guid_reused_across_runs_is_a_new_article(tmp_path: Path,
                                                    feed_server: FeedServer) -> None:
    first = {"title": "Wagner Group évacue Anéfis", "link": "https://reuse.example/anefis",
             "guid": "42"}
    global_guid = "https://reuse.example/"  # a URL as GUID: global, not scoped to the feed
    other = {"title": "Bayraktar TB2 exposé à Dakar", "link": "https://reuse.example/dakar",
             "guid": global_guid}
    feed_server.route("/rss", rss_feed("Réemploi", [first, other]))
    config = write_config(tmp_path, [{"name": "Réemploi", "url": feed_server.url("/rss"),
                                      "lang": "fr"}], polling=POLLING)
    one = run_bot(config, "--once")
    assert one.returncode == 0, one.stderr
    assert "évacue Anéfis" in one.stdout and "exposé à Dakar" in one.stdout
    # The site reuses both GUIDs for new articles, newest first, the old ones still listed.
    new = {"title": "Assimi Goïta nomme un gouverneur à Tombouctou",
           "link": "https://reuse.example/tombouctou", "guid": "42"}
    new_other = {"title": "Canik Academy diplôme une promotion à Koulikoro",
                 "link": "https://reuse.example/koulikoro", "guid": global_guid}
    feed_server.route("/rss", rss_feed("Réemploi", [new, new_other, first, other]))
    two = run_bot(config, "--once")
    assert two.returncode == 0, two.stderr
    assert "Tombouctou" in two.stdout and "Koulikoro" in two.stdout
    assert "Anéfis" not in two.stdout and "Dakar" not in two.stdout
    assert two.stdout.count("-" * 60) == 2
    rows = query(tmp_path / "state" / "bot.db", "SELECT guid, title FROM items ORDER BY id")
    assert [(r["guid"], r["title"]) for r in rows] == [
        ("42", first["title"]), (global_guid, other["title"]), ("42", new["title"]),
        (global_guid, new_other["title"])]


def test_a_failing_feed_waits_out_its_backoff_while_the_others_poll(
        tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.route("/good", rss_feed("Good", [GOITA_ITEM]))
    feed_server.route("/garbage", garbage(50_000))
    config = write_config(tmp_path, [
        {"name": "Good", "url": feed_server.url("/good"), "lang": "fr", "interval": "1s"},
        {"name": "Garbage", "url": feed_server.url("/garbage"), "lang": "fr",
         "interval": "1s"},
    ], polling={**POLLING, "tick": '"1s"', "backoff_base": '"2s"'})
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=ROOT,
        env=shielded_env(tmp_path, None), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        deadline = time.monotonic() + 30
        while feed_server.hits("/garbage") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(6.5)  # backoff 2 s, then 4 s, while Good is polled every 1 s tick
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "le colonel Assimi Goita" in out
    polls = [r.time for r in feed_server.requests if r.path == "/garbage"]
    good_polls = feed_server.hits("/good")
    lines = failure_lines(err, "Garbage")
    assert [int(line["failures"]) for line in lines] == list(range(1, len(polls) + 1))
    assert 2 <= len(polls) <= 3, polls
    assert good_polls >= 4 and good_polls > len(polls), (good_polls, len(polls))
    # Times are kept to the second, so a 2 s wait can come up to a second early.
    assert polls[1] - polls[0] >= 1.0
    feed = query(tmp_path / "state" / "bot.db", "SELECT * FROM feeds WHERE name = 'Garbage'")[0]
    assert feed["consecutive_failures"] == len(polls)
    waited = (datetime.fromisoformat(feed["next_check_at"])
              - datetime.fromisoformat(feed["last_error_at"]))
    assert waited == timedelta(seconds=2 ** len(polls))  # 2 s, doubling


def test_a_quadratic_entity_expansion_is_bounded_in_memory(tmp_path: Path,
                                                           feed_server: FeedServer) -> None:
    feed_server.route("/good", rss_feed("Good", [GOITA_ITEM]))
    body = quadratic_blowup(100_000, 1_500)  # 160 kB that expands to 150 MB
    assert len(body) < MAX_BYTES // 20
    feed_server.route("/quadratic", body)
    config = write_config(tmp_path, [
        {"name": "Quadratic", "url": feed_server.url("/quadratic"), "lang": "fr"},
        {"name": "Good", "url": feed_server.url("/good"), "lang": "fr"},
    ], polling=POLLING)
    run = run_measured(config, tmp_path, "--once")
    print(f"\nquadratic run: {run.elapsed:.1f} s, peak memory {run.peak_kb / 1024:.0f} MB")
    assert run.returncode == 0, run.stderr
    assert "le colonel Assimi Goita" in run.stdout
    assert run.peak_kb < MEMORY_LIMIT_KB, f"peak {run.peak_kb / 1024:.0f} MB"
