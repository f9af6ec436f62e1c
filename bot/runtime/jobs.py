"""The scheduler's jobs: each one guarded, so a failure is logged and the next run comes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.partners.digest import partner_digest_trigger

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]
REPORT_MISFIRE_GRACE = 3600  # seconds a report may run late (after a restart) and still go


class Jobs:
    """Jobs on an APScheduler scheduler in our event loop, and the runs still going."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.clock = clock
        self._running: set[asyncio.Task[object]] = set()
        self._stopping = False

    def every(self, job: Job, seconds: float) -> None:
        """Run ``job`` now and then every ``seconds``, never two runs at once."""
        self.scheduler.add_job(self.guarded(job), "interval", seconds=seconds,
                               next_run_time=self.clock(), max_instances=1, coalesce=True,
                               misfire_grace_time=None)

    def daily(self, job: Job, at: tuple[int, int], timezone: ZoneInfo, job_id: str) -> None:
        """Run ``job`` every day at (hour, minute), local time."""
        hour, minute = at
        self.scheduler.add_job(self.guarded(job), CronTrigger(
            hour=hour, minute=minute, timezone=timezone), id=job_id, max_instances=1,
            coalesce=True, misfire_grace_time=REPORT_MISFIRE_GRACE)

    def weekly(self, job: Job, at: tuple[int, int, int], timezone: ZoneInfo,
               job_id: str) -> None:
        """Run ``job`` every week on (day, hour, minute), local time."""
        day, hour, minute = at
        self.scheduler.add_job(self.guarded(job), partner_digest_trigger(
            day, hour, minute, timezone), id=job_id, max_instances=1, coalesce=True,
            misfire_grace_time=REPORT_MISFIRE_GRACE)

    def start(self) -> None:
        """Start firing the jobs."""
        self.scheduler.start()

    async def stop(self) -> None:
        """No new runs; the runs still going are cancelled and awaited."""
        self._stopping = True
        self.scheduler.shutdown(wait=False)
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    def guarded(self, job: Job) -> Callable[[], Awaitable[None]]:
        """``job`` with its failures logged (never raised into the scheduler), and tracked
        while it runs so that a stop can cancel it."""
        name = getattr(job, "__name__", "job")

        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await job()
            except asyncio.CancelledError:
                if not self._stopping:
                    raise
                # Cancelled by stop(): the end of the run, not an error of the job (the
                # scheduler would log it with a traceback).
                log.debug("job cancelled at stop job=%s", name)
            except Exception:
                log.exception("job failed job=%s", name)
            finally:
                self._running.discard(task)

        run.__name__ = run.__qualname__ = name  # what the scheduler's log lines call it
        return run

