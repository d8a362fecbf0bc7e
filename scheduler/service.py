"""`kulak serve`: the built-in scheduler runs the pipeline on an interval until it is told to stop."""

from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler

from scheduler.bootstrap import App
from scheduler.pipeline import run_once
from scheduler.web import KulakWeb
from store.errors import LockHeld
from store.locks import RunLock

log = logging.getLogger(__name__)


def _run_safely(app: App) -> None:
    try:
        with RunLock(app.engine):
            run_once(app)
    except LockHeld as exc:  # a cron run (or another service) is at work: this tick has nothing to do
        log.info("skipping this run: %s", exc)
    except Exception:  # a failed pass is logged and the next one still comes; the service keeps running
        log.exception("pipeline run failed; the next run is still scheduled")


def build_scheduler(app: App) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(
        _run_safely,
        "interval",
        args=[app],
        minutes=app.settings.schedule.every_minutes,
        next_run_time=datetime.now(UTC),
        id="pipeline",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=60,
    )
    return scheduler


def serve_forever(app: App) -> None:
    scheduler = build_scheduler(app)
    web = KulakWeb(app, app.settings.web.host, app.settings.web.port).start() if app.settings.web.port else None

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the current run", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("serving: the pipeline runs every %d minutes", app.settings.schedule.every_minutes)
    try:
        scheduler.start()
    finally:
        if web is not None:
            web.stop()
        app.engine.dispose()
