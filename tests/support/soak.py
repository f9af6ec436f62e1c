"""Weeks of the bot's life on a simulated clock: the real bot against feeds that publish,
a Telegram that stumbles, restarts and watchlist edits; checked and measured every day."""

from __future__ import annotations

import asyncio
import gc
import heapq
import io
import itertools
import os
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.job import Job as SchedulerJob

from bot.runtime.app import DAILY_REPORT_JOB, PARTNER_DIGEST_JOB, BotApp
from bot.runtime.jobs import Jobs
from bot.runtime.telegram import start_updates, stop_updates
from bot.settings.config import load_config
from bot.settings.credentials import Token
from bot.telegram.i18n import t
from tests.support.botapi import BotApiStandIn
from tests.support.botprocess import CHAT, TOKEN
from tests.support.common import WATCHLISTS
from tests.support.feedserver import FeedServer, rss_feed

START = datetime(2026, 11, 29, tzinfo=UTC)  # a Sunday: a Monday digest falls on day one
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
ADMIN = 1001
FEED_LENGTH = 60  # items a feed shows at once, newest first
SETTLED = timedelta(hours=12)  # an event is checked once this old (outages are shorter)
REPLY_SECONDS = 10.0  # real seconds a chat command may take to be answered
TIMEZONE = "Africa/Niamey"  # UTC+1: the reports' local times are not UTC's
DAILY_AT = (7, 0)
WEEKLY_AT = (0, 8, 0)  # Monday 08:00


REPORT_JOBS = (DAILY_REPORT_JOB, PARTNER_DIGEST_JOB)


class SimClock:
    """The simulated time every part of the bot reads."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class SteppedJobs(Jobs):
    """The bot's jobs on simulated time: the same APScheduler jobs and triggers as in
    production (``BotApp.schedule``), fired in the order of their fire times, one at a time,
    with runs that fell behind coalesced into one as ``coalesce=True`` does."""

    def __init__(self, clock: SimClock) -> None:
        super().__init__(clock)
        self.sim = clock
        self._queue: list[tuple[datetime, int, SchedulerJob]] = []
        self._order = itertools.count()
        self.fired: list[tuple[str, datetime]] = []

    def start(self) -> None:
        """Take the jobs BotApp added (the scheduler itself never runs)."""
        for job in self.scheduler.get_jobs():
            first = getattr(job, "next_run_time", None) or job.trigger.get_next_fire_time(
                None, self.sim.now)
            if first is not None:
                heapq.heappush(self._queue, (first, next(self._order), job))

    async def stop(self) -> None:
        """Nothing runs between two steps: there is nothing to cancel."""

    async def run_until(self, end: datetime) -> None:
        """Fire every job due up to ``end``, moving the clock to each fire time."""
        while self._queue and self._queue[0][0] <= end:
            when, _, job = heapq.heappop(self._queue)
            self.sim.now = max(self.sim.now, when)
            await job.func()
            if job.id in REPORT_JOBS:  # the interval jobs fire thousands of times
                self.fired.append((job.name, when))
            upcoming = job.trigger.get_next_fire_time(when, self.sim.now)
            while upcoming is not None and upcoming <= self.sim.now:
                upcoming = job.trigger.get_next_fire_time(upcoming, self.sim.now)
            if upcoming is not None:
                heapq.heappush(self._queue, (upcoming, next(self._order), job))
        self.sim.now = max(self.sim.now, end)


# The world: outlets, events and what they publish ------------------------------------------


@dataclass(frozen=True)
class Outlet:
    """A news site with one feed, publishing ``per_day`` items on average."""

    name: str
    slug: str
    lang: str
    per_day: float


OUTLETS = (
    Outlet("Actu Sahel Direct", "actu-sahel", "fr", 100),
    Outlet("Sahel Wire Daily", "sahel-wire", "en", 40),
    Outlet("Le Veilleur de Gao", "veilleur-gao", "fr", 20),
    Outlet("Dunes Daily", "dunes-daily", "en", 8),
    Outlet("Radio Fleuve Info", "radio-fleuve", "fr", 3),
    Outlet("Bulletin du Liptako", "liptako", "fr", 1),
)

RETITLED = {"fr": ("Urgent : {}", "{} (mise à jour)"), "en": ("Breaking: {}", "{} (update)")}
PLACES = ("Bamako", "Gao", "Tombouctou", "Kidal", "Mopti", "Ménaka", "Ségou", "Niamey",
          "Agadez", "Tillabéri", "Ouagadougou", "Dori", "Kayes", "Sikasso", "Diffa", "Zinder",
          "Djibo", "Koutiala", "Nioro", "Tessalit")
WATCHED = {
    "fr": ("les FAMa", "le groupe Wagner", "Africa Corps", "Assimi Goïta",
           "des drones Bayraktar TB2", "Canik Academy"),
    "en": ("the FAMa", "the Wagner Group", "Africa Corps", "Assimi Goïta",
           "Bayraktar TB2 drones", "Canik Academy"),
}
LATE_TERM = {"fr": "l'école de drones de Kati", "en": "the Kati drone school"}
QUIET = {
    "fr": ("la mairie", "les producteurs de coton", "la compagnie d'électricité",
           "les enseignants grévistes", "la fédération de football", "les commerçants",
           "la chambre d'agriculture", "l'office du tourisme", "les transporteurs",
           "la banque régionale"),
    "en": ("the city council", "cotton growers", "the power utility", "striking teachers",
           "the football federation", "traders", "the farmers' union", "the tourism office",
           "hauliers", "the regional bank"),
}
ACTIONS = {
    "fr": ("annonce", "prépare", "dément", "confirme", "suspend", "lance", "reporte",
           "présente", "évalue", "signe"),
    "en": ("announces", "prepares", "denies", "confirms", "suspends", "launches",
           "postpones", "presents", "reviews", "signs"),
}
OBJECTS = {
    "fr": ("un plan de patrouilles", "un nouveau calendrier", "un accord logistique",
           "un audit des dépenses", "une mission de reconnaissance", "un programme de forage",
           "une campagne de vaccination", "un contrat de maintenance", "une réforme fiscale",
           "un exercice conjoint", "un pont sur le fleuve", "un marché de bétail",
           "une centrale solaire", "un recensement", "un couvre-feu nocturne"),
    "en": ("a patrol plan", "a new timetable", "a logistics deal", "a spending audit",
           "a reconnaissance mission", "a well-drilling programme", "a vaccination drive",
           "a maintenance contract", "a tax reform", "a joint exercise", "a river bridge",
           "a cattle market", "a solar plant", "a census", "a night curfew"),
}
QUALIFIERS = {
    "fr": ("avant la saison des pluies", "malgré les critiques", "pour la deuxième fois",
           "après trois semaines de retard", "sous pression des bailleurs", "dans la discrétion",
           "en pleine crise du carburant", "à la veille du ramadan", "sans préavis",
           "avec l'appui des chefs coutumiers", "au grand dam des syndicats",
           "faute de financement", "après une nuit de négociations", "en présence du préfet",
           "sur fond de pénurie d'eau", "à la surprise générale"),
    "en": ("before the rainy season", "despite criticism", "for the second time",
           "three weeks late", "under donor pressure", "quietly", "amid a fuel crisis",
           "on the eve of Ramadan", "without notice", "with the backing of customary chiefs",
           "to the unions' dismay", "for lack of funding", "after a night of talks",
           "with the prefect present", "amid water shortages", "to general surprise"),
}


@dataclass(frozen=True)
class Event:
    """Something that happened, reported by one outlet or, for wire copy, several."""

    serial: int
    kind: str  # "watched", "late" (the term an edit adds) or "quiet"
    links: tuple[str, ...]  # one per outlet that carried it
    first_at: datetime
    carried: tuple[tuple[int, datetime], ...]  # (outlet, published) of each report


@dataclass(frozen=True)
class Post:
    """One item in one outlet's feed."""

    outlet: int
    published: datetime
    title: str
    summary: str
    link: str


class World:
    """What every outlet publishes over the run, drawn once from a seed."""

    def __init__(self, start: datetime, days: float, seed: int, *, wire_per_day: float = 4,
                 watched_share: float = 0.12, late_share: float = 0.03) -> None:
        self.rng = random.Random(seed)
        self.start = start
        self.end = start + timedelta(days=days)
        self.events: list[Event] = []
        self.posts: list[list[Post]] = [[] for _ in OUTLETS]
        self._serial = itertools.count(1)
        self.watched_share, self.late_share = watched_share, late_share
        for index, outlet in enumerate(OUTLETS):
            for moment in self._moments(outlet.per_day):
                self._report([index], moment)
        for moment in self._moments(wire_per_day):
            lang = self.rng.choice(("fr", "en"))  # one language: joining across is not promised
            same = [i for i, outlet in enumerate(OUTLETS) if outlet.lang == lang]
            carriers = self.rng.sample(same, min(len(same), self.rng.choice((2, 3))))
            self._report(carriers, moment, wire=True)
        for posts in self.posts:
            posts.sort(key=lambda post: post.published)

    def _moments(self, per_day: float) -> Iterator[datetime]:
        """Publication times: a Poisson process, busier by day than by night."""
        moment = self.start
        while True:
            moment += timedelta(days=self.rng.expovariate(per_day))
            if moment >= self.end - 3 * HOUR:  # the last hours are quiet: the outbox drains
                return
            if 6 <= moment.hour < 22 or self.rng.random() < 0.3:
                yield moment

    def _report(self, carriers: list[int], moment: datetime, *, wire: bool = False) -> None:
        serial = next(self._serial)
        roll = self.rng.random()
        kind = ("watched" if roll < self.watched_share * (4 if wire else 1) else
                "late" if roll < (self.watched_share * (4 if wire else 1) + self.late_share)
                else "quiet")
        story = self._story(serial, kind)
        links, carried = [], []
        for copy, outlet_index in enumerate(carriers):
            outlet = OUTLETS[outlet_index]
            when = moment + timedelta(minutes=self.rng.uniform(10, 120)) * copy
            title, summary = story[outlet.lang]
            if copy:  # the same wire copy, retitled a little by each outlet (outlet names
                # in titles are a story-grouping question, not a long-run one)
                title = RETITLED[outlet.lang][copy % 2].format(title)
            link = f"https://{outlet.slug}.example/{'wire' if wire else 'news'}/{serial}"
            links.append(link)
            carried.append((outlet_index, when))
            self.posts[outlet_index].append(Post(outlet_index, when, title, summary, link))
        self.events.append(Event(serial, kind, tuple(links), moment, tuple(carried)))

    def _story(self, serial: int, kind: str) -> dict[str, tuple[str, str]]:
        """The title and summary of one event, in both languages (an outlet uses its own)."""
        rng = self.rng
        place = rng.choice(PLACES)
        picks = {"subject": rng.randrange(len(WATCHED["fr"])),
                 "quiet": rng.randrange(len(QUIET["fr"])),
                 "action": rng.randrange(len(ACTIONS["fr"])),
                 "object": rng.randrange(len(OBJECTS["fr"])),
                 "second": rng.randrange(len(OBJECTS["fr"])),
                 "qualifier": rng.randrange(len(QUALIFIERS["fr"])),
                 "aside": rng.randrange(len(QUALIFIERS["fr"])),
                 # Real reports carry figures of their own; two events never share one here,
                 # so that two of them joining is the grouping's fault, not the draw's.
                 "count": 10 * serial + rng.randrange(10)}
        texts = {}
        for lang in ("fr", "en"):
            subject = {"watched": WATCHED[lang][picks["subject"]], "late": LATE_TERM[lang],
                       "quiet": QUIET[lang][picks["quiet"]]}[kind]
            action = ACTIONS[lang][picks["action"]]
            title = (f"{place} : {subject} {action} {OBJECTS[lang][picks['object']]} "
                     f"{QUALIFIERS[lang][picks['qualifier']]}, {picks['count']} personnes "
                     "concernées" if lang == "fr" else
                     f"{place}: {subject} {action} {OBJECTS[lang][picks['object']]} "
                     f"{QUALIFIERS[lang][picks['qualifier']]}, {picks['count']} people "
                     "affected")
            # No sentence every summary shares: real summaries have none (boilerplate such
            # as "first published on…" is a story-grouping question, not a long-run one).
            summary = (f"{QUIET[lang][picks['quiet']].capitalize()} et "
                       f"{OBJECTS[lang][picks['second']]} à {place}, "
                       f"{QUALIFIERS[lang][picks['aside']]}." if lang == "fr" else
                       f"{QUIET[lang][picks['quiet']].capitalize()} and "
                       f"{OBJECTS[lang][picks['second']]} in {place}, "
                       f"{QUALIFIERS[lang][picks['aside']]}.")
            texts[lang] = (title, summary)
        return texts

    def feed(self, outlet: int, now: datetime) -> tuple[str, str]:
        """The outlet's feed at ``now`` and its ETag."""
        posts = self.posts[outlet]
        published = [post for post in posts if post.published <= now][-FEED_LENGTH:]
        outlet_info = OUTLETS[outlet]
        items = [{"title": p.title, "link": p.link, "guid": p.link, "summary": p.summary,
                  "published": p.published} for p in reversed(published)]
        etag = f'"{outlet_info.slug}-{len(published)}-{published[-1].link if published else 0}"'
        return rss_feed(outlet_info.name, items, lang=outlet_info.lang), etag


# The plan of a run --------------------------------------------------------------------------


@dataclass(frozen=True)
class Outage:
    """An outlet answering ``status`` (with Retry-After for 429) for a while."""

    outlet: int
    day: float
    hours: float
    status: int


@dataclass(frozen=True)
class SoakPlan:
    """How long, and what goes wrong when."""

    days: int
    seed: int = 7
    history_days: float = 7
    retention_days: float = 3
    story_window_hours: float = 72
    tick: str = "1m"
    restarts: tuple[float, ...] = ()
    outages: tuple[Outage, ...] = ()
    telegram_storms: tuple[float, ...] = ()  # days when sendMessage answers 429 a while
    telegram_failures: tuple[float, ...] = ()  # days when sendMessage answers 502 a while
    watchlist_edit_day: float = 1.25  # a new watchlist appears; a broken file comes and goes


@dataclass(frozen=True)
class DayRecord:
    """What was measured at the end of one simulated day."""

    day: int
    seconds: float  # real time the day took
    rss_mb: float
    objects: int  # objects the garbage collector tracks: a leak shows here first
    blocks: int  # memory blocks Python's allocator holds (strings and numbers too)
    index_entries: int
    db_mb: float
    items: int
    stories: int
    alerts: int
    pending: int
    messages: int  # messages in the channel so far
    edits: int


@dataclass
class SoakResult:
    """The days, the jobs fired, and every broken promise found."""

    plan: SoakPlan
    days: list[DayRecord] = field(default_factory=list)
    fired: list[tuple[str, datetime]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    owed_events: int = 0
    checked_events: int = 0
    published: int = 0
    events: int = 0
    admin_reports: int = 0
    photos: int = 0
    commands_answered: int = 0
    items_per_day: float = 0.0


def rss_mb() -> float:
    """This process's resident memory now (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as stream:
        pages = int(stream.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


# Running -------------------------------------------------------------------------------------


class Soak:
    """One run of a plan in ``directory``: servers, config, the bot, the checks."""

    def __init__(self, plan: SoakPlan, directory: Path,
                 progress: Callable[[DayRecord], None] | None = None) -> None:
        self.plan = plan
        self.directory = directory
        self.progress = progress
        self.clock = SimClock(START)
        self.world = World(self.clock.now, plan.days, plan.seed)
        self.result = SoakResult(plan, published=sum(map(len, self.world.posts)),
                                 events=len(self.world.events))
        self.result.items_per_day = self.result.published / plan.days
        self.watchlists = directory / "watchlists"
        shutil.copytree(WATCHLISTS, self.watchlists)
        self.db_path = directory / "state" / "bot.db"
        self._checked: set[int] = set()
        self._story_events: dict[int, int] = {}  # story id: the event it reports
        self._message_alerts: set[int] = set()  # channel message ids some alert row holds
        self._failing: dict[int, Outage] = {}
        self._edit_at = self.clock.now + timedelta(days=plan.watchlist_edit_day)

    def run(self) -> SoakResult:
        with FeedServer() as feeds, BotApiStandIn(token=TOKEN) as api:
            self.feeds, self.api = feeds, api
            for index in range(len(OUTLETS)):
                feeds.route_callable(f"/feed/{index}", self._route(index))
            config_path = self._write_config()
            asyncio.run(self._live(config_path))
            self._final_checks()
        return self.result

    def _route(self, index: int) -> Callable[[dict[str, str]], tuple[int, dict[str, str],
                                                                     bytes | str]]:
        def answer(headers: dict[str, str]) -> tuple[int, dict[str, str], bytes | str]:
            outage = self._failing.get(index)
            if outage is not None:
                extra = {"Retry-After": "1800"} if outage.status == 429 else {}
                return outage.status, extra, b""
            body, etag = self.world.feed(index, self.clock.now)
            if headers.get("if-none-match") == etag:
                return 304, {"ETag": etag}, b""
            return 200, {"ETag": etag, "Content-Type": "application/rss+xml"}, body
        return answer

    def _write_config(self) -> Path:
        plan = self.plan
        lines = [f'watchlists_dir = "{self.watchlists}"',
                 f'partnerships_file = "{self.watchlists / "partnerships" / "partnerships.toml"}"',
                 f'timezone = "{TIMEZONE}"', "", "[storage]", f'path = "{self.db_path}"',
                 f'retention = "{plan.retention_days}d"', f'history = "{plan.history_days}d"',
                 "", "[telegram]", f'chat = "{CHAT}"', f'api_base_url = "{self.api.base_url}"',
                 f"admins = [{ADMIN}]", "", "[reports]",
                 f'daily_at = "{DAILY_AT[0]:02d}:{DAILY_AT[1]:02d}"',
                 'partners_weekly = "mon 08:00"', "", "[polling]", f'tick = "{plan.tick}"',
                 'total_timeout = "10s"', 'read_timeout = "5s"', "parse_workers = 1", "",
                 "[delivery]", f'tick = "{plan.tick}"', "per_chat_per_minute = 6000",
                 f'story_window = "{plan.story_window_hours}h"']
        for index, outlet in enumerate(OUTLETS):
            lines += ["", "[[feeds]]", f'name = "{outlet.name}"',
                      f'url = "{self.feeds.url(f"/feed/{index}")}"', f'lang = "{outlet.lang}"']
        path = self.directory / "config.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    # The simulated weeks ---------------------------------------------------------------

    def _timeline(self) -> list[tuple[datetime, str, Any]]:
        """Everything that happens to the bot from outside, in order."""
        plan, start = self.plan, self.clock.now
        at: list[tuple[datetime, str, Any]] = []
        for day in range(1, plan.days + 1):
            at.append((start + day * DAY, "snapshot", day))
        for day in range(plan.days):
            at.append((start + day * DAY + 12 * HOUR, "command", day))
        at += [(start + timedelta(days=d), "restart", None) for d in plan.restarts]
        for outage in plan.outages:
            begin = start + timedelta(days=outage.day)
            at += [(begin, "outage", outage),
                   (begin + timedelta(hours=outage.hours), "recover", outage.outlet)]
        at += [(start + timedelta(days=d), "storm", 429) for d in plan.telegram_storms]
        at += [(start + timedelta(days=d), "storm", 502) for d in plan.telegram_failures]
        at += [(self._edit_at, "edit", "add"), (self._edit_at + 2 * HOUR, "edit", "break"),
               (self._edit_at + 3 * HOUR, "edit", "mend")]
        order = {"restart": 0}
        return sorted(at, key=lambda entry: (entry[0], order.get(entry[1], 1)))

    async def _live(self, config_path: Path) -> None:
        config = load_config(config_path, {})
        timeline = self._timeline()
        position = 0
        while position < len(timeline):
            async with BotApp(config, Token(TOKEN), io.StringIO(), clock=self.clock) as app:
                jobs = SteppedJobs(self.clock)
                app.schedule(jobs)
                jobs.start()
                assert app.application is not None
                await start_updates(app.application, app.commands, self._dead)
                try:
                    position = await self._until_restart(app, jobs, timeline, position)
                finally:
                    await stop_updates(app.application)
                    self.result.fired += jobs.fired

    async def _until_restart(self, app: BotApp, jobs: SteppedJobs,
                             timeline: list[tuple[datetime, str, Any]], position: int) -> int:
        started = time.monotonic()
        while position < len(timeline):
            when, what, detail = timeline[position]
            await jobs.run_until(when)
            position += 1
            if what == "restart":
                return position
            if what == "snapshot":
                self._snapshot(app, detail, time.monotonic() - started)
                started = time.monotonic()
            else:
                await self._happen(what, detail)
        return position

    async def _happen(self, what: str, detail: Any) -> None:
        if what == "outage":
            self._failing[detail.outlet] = detail
        elif what == "recover":
            self._failing.pop(detail, None)
        elif what == "storm":
            self.api.fail_next(15, detail, retry_after=120 if detail == 429 else None,
                               method="sendMessage")
        elif what == "edit":
            self._edit(detail)
        elif what == "command":
            await self._command()

    def _edit(self, step: str) -> None:
        if step == "add":
            (self.watchlists / "kati.toml").write_text(
                'name = "École de drones de Kati"\npriority = "normal"\n'
                'terms = ["école de drones de Kati", "Kati drone school"]\n', encoding="utf-8")
        elif step == "break":
            (self.watchlists / "broken.toml").write_text('name = "Cassé"\nterms = [\n',
                                                         encoding="utf-8")
        else:
            (self.watchlists / "broken.toml").unlink()

    async def _command(self) -> None:
        """An admin asks for the recent hits; the answer must come, whatever the day."""
        before = len(self.api.sent)
        self.api.push_message("/recent", user_id=ADMIN)
        deadline = time.monotonic() + REPLY_SECONDS
        while time.monotonic() < deadline:
            if any(m.chat_id == ADMIN for m in self.api.sent[before:]):
                self.result.commands_answered += 1
                return
            await asyncio.sleep(0.02)
        self.result.problems.append(f"/recent unanswered at {self.clock.now:%Y-%m-%d %H:%M}")

    def _dead(self, exc: BaseException) -> None:
        self.result.problems.append(f"the command loop died: {exc!r}")

    # Checks and measures ---------------------------------------------------------------

    def _snapshot(self, app: BotApp, day: int, seconds: float) -> None:
        self.feeds.clear_requests()  # the harness's own log is not the bot's memory
        with closing(sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)) as db:
            self._check_outbox(db)
            self._check_events(db)
            counts = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                      for table in ("items", "stories", "alerts")}
            pending = db.execute(
                "SELECT count(*) FROM alerts WHERE status = 'pending'").fetchone()[0]
        size = sum(path.stat().st_size for path in self.db_path.parent.glob("bot.db*"))
        channel = [m for m in self.api.sent if m.chat_id != ADMIN]
        record = DayRecord(day=day, seconds=seconds, rss_mb=rss_mb(),
                           objects=len(gc.get_objects()), blocks=sys.getallocatedblocks(),
                           index_entries=len(app.poller.stories), db_mb=size / 2**20,
                           items=counts["items"], stories=counts["stories"],
                           alerts=counts["alerts"], pending=pending, messages=len(channel),
                           edits=len(self.api.edits))
        self.result.days.append(record)
        if self.progress is not None:
            self.progress(record)

    def _check_outbox(self, db: sqlite3.Connection) -> None:
        """Remember which channel messages the outbox says it sent (rows go with pruning)."""
        rows = db.execute("SELECT message_id FROM alerts WHERE status = 'sent' AND chat = ? "
                          "AND message_id IS NOT NULL", [CHAT])
        self._message_alerts.update(row[0] for row in rows)

    def _check_events(self, db: sqlite3.Connection) -> None:
        """Each settled event: alerted once if owed, never if not, all copies one story, and
        no other event's story."""
        now = self.clock.now
        for event in self.world.events:
            if event.serial in self._checked or now - self._readable_at(event) < SETTLED:
                continue
            self._checked.add(event.serial)
            self.result.checked_events += 1
            stories = {row[0] for link in event.links for row in db.execute(
                "SELECT story_id FROM items WHERE link = ?", [link])}
            if len(stories) != 1:
                self.result.problems.append(
                    f"event {event.serial} ({event.kind}, {len(event.links)} reports) is in "
                    f"{len(stories)} stories")
                continue
            [story] = stories
            other = self._story_events.setdefault(story, event.serial)
            if other != event.serial:
                self.result.problems.append(
                    f"events {other} and {event.serial} were joined into one story")
            alerts = db.execute(
                "SELECT status FROM alerts WHERE story_id = ? AND chat = ? AND kind = 'hits'",
                [story, CHAT]).fetchall()
            owed = event.kind == "watched" or (event.kind == "late"
                                               and event.first_at > self._edit_at)
            self.result.owed_events += owed
            if owed and [row[0] for row in alerts] != ["sent"]:
                self.result.problems.append(
                    f"event {event.serial} owed an alert; its story has {alerts!r}")
            if not owed and alerts and event.kind == "quiet":
                self.result.problems.append(f"quiet event {event.serial} was alerted")
            if not owed and alerts and event.kind == "late" and event.first_at < \
                    self._edit_at - HOUR:
                self.result.problems.append(
                    f"event {event.serial} alerted before its term was added")

    def _readable_at(self, event: Event) -> datetime:
        """When the last report of ``event`` could first be read: its publication, or the
        end of its outlet's outage."""
        latest = event.first_at
        for outlet, published in event.carried:
            readable = published
            for outage in self.plan.outages:
                begin = START + timedelta(days=outage.day)
                end = begin + timedelta(hours=outage.hours)
                if outage.outlet == outlet and begin <= published < end:
                    readable = end
            latest = max(latest, readable)
        return latest

    def _final_checks(self) -> None:
        """Exactly once on the wire; drained outbox; reports on time."""
        result, api = self.result, self.api
        channel = [m for m in api.sent if m.chat_id != ADMIN]
        # The weekly digest's picture goes through the outbox too.
        ids = [m.message_id for m in channel] + [p.message_id for p in api.photos]
        if len(ids) != len(set(ids)):
            result.problems.append("the channel received two messages with one id")
        unaccounted = set(ids) - self._message_alerts
        if unaccounted:
            result.problems.append(f"{len(unaccounted)} channel messages no alert row holds "
                                   "(sent twice, or never recorded)")
        missing = self._message_alerts - set(ids)
        if missing:
            result.problems.append(f"{len(missing)} alert rows name messages never received")
        last = result.days[-1] if result.days else None
        if last is None or last.pending:
            result.problems.append(f"outbox not drained at the end: {last}")
        self._check_reports()

    def _check_reports(self) -> None:
        result = self.result
        start, days = START, self.plan.days
        daily = [when for name, when in result.fired if name == "daily_report"]
        weekly = [when for name, when in result.fired if name == "partner_digest"]
        offset = timedelta(hours=1)  # Niamey is UTC+1
        expected_daily = [start + timedelta(days=d, hours=DAILY_AT[0]) - offset
                          for d in range(days)]
        mondays = [start + timedelta(days=d, hours=WEEKLY_AT[1]) - offset for d in range(days)
                   if (start + timedelta(days=d)).weekday() == WEEKLY_AT[0]]
        if daily != expected_daily:
            result.problems.append(f"daily reports at {daily}, expected {expected_daily}")
        if weekly != mondays:
            result.problems.append(f"weekly digests at {weekly}, expected {mondays}")
        titles = tuple(t(lang, "report.title") for lang in ("fr", "en"))
        result.admin_reports = sum(1 for m in self.api.sent if m.chat_id == ADMIN
                                   and m.plain_text.startswith(titles))
        if result.admin_reports != days:
            result.problems.append(f"{result.admin_reports} daily reports reached the admin "
                                   f"in {days} days")
        result.photos = len(self.api.photos)
        if result.photos != len(mondays):
            result.problems.append(f"{result.photos} digest photos for {len(mondays)} Mondays")


def run_soak(plan: SoakPlan, directory: Path,
             progress: Callable[[DayRecord], None] | None = None) -> SoakResult:
    """Run ``plan`` in ``directory`` and return what was measured and found."""
    return Soak(plan, directory, progress).run()

