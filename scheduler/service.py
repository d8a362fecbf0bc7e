"""`kulak serve`: APScheduler runs every job on its own schedule, kept in the database, until told to stop.

The schedule lives in the table ``kulak_jobs_<schedule.worker>``: a restart carries on where the last run left
off, and a job missed while the service was down runs once when it comes back (within ``misfire_grace``).
SIGTERM and SIGINT stop new work at once, give the jobs in flight ``stop_timeout`` to finish (stages end after
the batch in hand) and exit 0; work a job had not committed by then is rolled back and done by a later run.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import random
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config.settings import parse_duration
from scheduler.bootstrap import App
from scheduler.jobs import JobSpec, Runner, plan
from scheduler.web import KulakWeb

log = logging.getLogger(__name__)
_RUNNER: Runner | None = None  # the service's runner; jobs kept in the database name only run_job and an id


def run_job(job_id: str) -> None:
    """What every scheduled job calls (a plain function and a string, so the job store can keep it)."""
    if _RUNNER is None:
        raise RuntimeError("run_job called outside `kulak serve`")
    _RUNNER.run(job_id)


def trigger_of(spec: JobSpec, zone: str) -> IntervalTrigger | CronTrigger:
    if spec.daily_at is not None:
        hour, minute = spec.daily_at.split(":")
        return CronTrigger(hour=int(hour), minute=int(minute), timezone=ZoneInfo(zone))
    assert spec.every is not None
    return IntervalTrigger(seconds=spec.every, jitter=spec.jitter or None, timezone=UTC)


def same_trigger(kept: Any, wanted: IntervalTrigger | CronTrigger) -> bool:
    """Whether a job kept from the last run has the schedule asked for now (then it keeps its next run time)."""
    if type(kept) is not type(wanted):
        return False
    if isinstance(wanted, IntervalTrigger):
        return bool(kept.interval == wanted.interval and kept.jitter == wanted.jitter)
    return str(kept) == str(wanted) and str(kept.timezone) == str(wanted.timezone)


class KulakScheduler(BackgroundScheduler):  # type: ignore[misc]  # APScheduler has no type hints
    """APScheduler's background scheduler that starts nothing unless it is running: on shutdown its thread looks at
    the jobs once more, and would hand the due ones to an executor already shut down (and lose their run)."""

    def _process_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        wait: float | None = super()._process_jobs()
        return wait


def build_scheduler(app: App) -> BackgroundScheduler:
    schedule = app.settings.schedule
    store = SQLAlchemyJobStore(engine=app.engine, tablename=f"kulak_jobs_{schedule.worker}")
    return KulakScheduler(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(max_workers=schedule.threads)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(parse_duration(schedule.misfire_grace)),
        },
        timezone=UTC,
    )


def sync_jobs(scheduler: BackgroundScheduler, specs: list[JobSpec], zone: str) -> dict[str, int]:
    """Make the kept schedule match the configuration: new jobs start now (crawls spread over their jitter),
    unchanged ones keep their next run, changed ones start over, and jobs no longer configured go."""
    kept = {job.id: job for job in scheduler.get_jobs()}
    counts = {"kept": 0, "added": 0, "removed": 0}
    now = datetime.now(UTC)
    for spec in specs:
        trigger = trigger_of(spec, zone)
        job = kept.pop(spec.id, None)
        if job is not None and same_trigger(job.trigger, trigger):
            counts["kept"] += 1
            continue
        first: datetime | None = now + timedelta(seconds=random.uniform(0, spec.jitter)) if spec.every else None
        extra = {"next_run_time": first} if first is not None else {}
        scheduler.add_job(run_job, trigger, args=[spec.id], id=spec.id, name=spec.id, replace_existing=True, **extra)
        counts["added"] += 1
    for job_id in kept:
        scheduler.remove_job(job_id)
        counts["removed"] += 1
    return counts


def serve_forever(app: App) -> int:
    """Run until SIGTERM or SIGINT; returns the exit status (0 after a clean stop)."""
    global _RUNNER
    stop = threading.Event()
    scheduler = build_scheduler(app)

    def handoff(stage: str) -> None:
        """Wake a stage's job now that work waits for it (unless it is running: it will find the work itself)."""
        job_id = f"stage:{stage}"
        if stop.is_set() or runner.running(job_id):
            return
        with contextlib.suppress(JobLookupError):  # stopping: the scheduler has let go of its jobs
            scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))

    runner = _RUNNER = Runner(app, stop=stop, handoff=handoff)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: taking no new work; finishing what is in flight", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    scheduler.start(paused=True)
    counts = sync_jobs(scheduler, plan(app), app.settings.sla.timezone)
    web = KulakWeb(app, app.settings.web.host, app.settings.web.port).start() if app.settings.web.port else None
    scheduler.resume()
    log.info(
        "serving as worker %s: %d jobs (%d kept from the last run, %d new, %d removed)",
        app.settings.schedule.worker,
        counts["kept"] + counts["added"],
        counts["kept"],
        counts["added"],
        counts["removed"],
    )
    while not stop.wait(1.0):  # a timeout keeps the main thread where signal handlers can run
        pass
    return _stop(app, scheduler, runner, web)


def _stop(app: App, scheduler: BackgroundScheduler, runner: Runner, web: KulakWeb | None) -> int:
    timeout = parse_duration(app.settings.schedule.stop_timeout)
    scheduler.shutdown(wait=False)  # no job starts from here on
    if web is not None:
        web.stop(timeout=min(10.0, timeout))
    if runner.wait_idle(timeout):
        app.engine.dispose()
        log.info("stopped cleanly")
        return 0
    busy = runner.in_flight()
    log.warning(
        "still running after %.0fs: %s; exiting anyway, their uncommitted work is rolled back", timeout, ", ".join(busy)
    )
    for child in multiprocessing.active_children():  # spiders crawling in child processes
        child.terminate()
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
    os._exit(0)  # the job threads cannot be interrupted; the database rolls back what they had not committed
