"""The jobs of `kulak serve` and `kulak run --once`: a crawl per source and brand, and one job per stage.

Every job can run in any process at any time: a crawl is owned through a lock named after its source and brand,
analysis and delivery claim their own rows, and the stages that decide across mentions (which case a mention
joins, which earlier mention it repeats) take a lock so that one process at a time runs them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from classifiers.job import analyze_pending, match_pending
from config.settings import parse_duration
from crawlers import robots
from crawlers.job import CrawlReport, crawl_pair, is_due, keep_robots
from responders.clock import check_cases
from responders.job import deliver_pending, route_pending
from responders.ops import queue_ops_alerts
from scheduler import metrics
from scheduler.bootstrap import App
from scheduler.digests import due_digests
from scheduler.logs import log_context
from scheduler.retention import purge, purge_due
from scheduler.upkeep import check_sources, sync_reference_data
from store.errors import KulakError, LockHeld
from store.locks import NamedLock
from store.repository import UnitOfWork
from store.sqlalchemy import SqlAlchemyUnitOfWork

log = logging.getLogger(__name__)
#: The stage jobs, in the order one `run --once` pass runs them.
STAGES = ("sync", "analyze", "match", "route", "cases", "crisis", "digests", "deliver", "purge")
#: Which stage a job wakes when it handed work on.
NEXT = {
    "crawl": "analyze", "analyze": "match", "match": "route", "route": "deliver", "cases": "deliver",
    "crisis": "deliver", "digests": "deliver",
}  # fmt: skip
#: What a stage counts as work handed on (the others: anything they counted).
HANDED: dict[str, Callable[[Counter[str]], int]] = {
    "analyze": lambda c: c["analyzed"],
    "crisis": lambda c: c["opened"] + c["updated"] + c["closed"],
    "digests": lambda c: c["digest_deliveries"],
}
SERIAL = frozenset({"sync", "match", "route", "cases", "crisis", "digests", "purge"})
MAX_JITTER = 300.0


@dataclass(frozen=True)
class JobSpec:
    """A job of the schedule: every ``every`` seconds (starting up to ``jitter`` late), or daily at ``daily_at``."""

    id: str
    every: float | None = None
    jitter: float = 0.0
    daily_at: str | None = None


@dataclass
class Outcome:
    job: str
    status: str  # ok | failed | skipped
    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def crawl_id(source: str, brand: str) -> str:
    return f"crawl:{source}:{brand}"


def plan(app: App) -> list[JobSpec]:
    """Every job the configuration asks for: a crawl per source and each brand it watches, and the stages."""
    schedule = app.settings.schedule
    specs = []
    for source in app.sources:
        for brand in app.settings.brand_models():
            if source.watches(brand):
                interval = source.config.interval
                jitter = min(MAX_JITTER, interval * schedule.jitter)
                specs.append(JobSpec(crawl_id(source.name, brand.name), every=interval, jitter=jitter))
    often, checks = parse_duration(schedule.stage_interval), parse_duration(schedule.check_interval)
    specs += [JobSpec(f"stage:{stage}", every=often) for stage in ("analyze", "match", "route", "deliver")]
    specs += [JobSpec(f"stage:{stage}", every=checks) for stage in ("sync", "cases", "digests")]
    if app.crisis is not None:
        specs.append(JobSpec("stage:crisis", every=parse_duration(app.settings.crisis.interval)))
    specs.append(JobSpec("stage:purge", daily_at=schedule.purge_at))
    return specs


class Runner:
    """Runs jobs by id in this process: each with its own unit of work, its lock, its log ids and its timing.

    ``stop`` is set when the service is asked to stop: stages end after the batch in hand. ``handoff(stage)`` is
    called when a job left work for ``stage`` (the service wakes that stage's job at once).
    """

    def __init__(
        self,
        app: App,
        *,
        stop: threading.Event | None = None,
        handoff: Callable[[str], None] = lambda stage: None,
        crawl_report: CrawlReport | None = None,
    ) -> None:
        self.app = app
        self.stop = stop or threading.Event()
        self.handoff = handoff
        self.crawl_report = crawl_report  # what every crawl did, for one `run --once` pass
        self.sources = {source.name: source for source in app.sources}
        self.brands = {brand.name: brand for brand in app.settings.brand_models()}
        # One source's brands are crawled one after another in a process: the site sees one crawler at a time.
        self._site_locks = {name: threading.Lock() for name in self.sources}
        self._busy: Counter[str] = Counter()
        self._idle = threading.Condition()

    def running(self, job_id: str) -> bool:
        with self._idle:
            return self._busy[job_id] > 0

    def in_flight(self) -> list[str]:
        with self._idle:
            return sorted(job for job, n in self._busy.items() if n)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job runs in this process; False if some still ran after ``timeout`` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: not +self._busy, timeout)

    def run(self, job_id: str, *, only_due: bool = True) -> Outcome:
        """Run one job; its failure is logged and reported, never raised (the next job still runs)."""
        kind, _, rest = job_id.partition(":")
        source, _, brand = rest.partition(":") if kind == "crawl" else (None, "", None)
        name = "crawl" if kind == "crawl" else rest
        started = time.monotonic()
        with self._idle:
            self._busy[job_id] += 1
        try:
            with log_context(job=job_id, source=source, brand=brand):
                outcome = self._run(job_id, kind, rest, only_due, (source or "", brand or ""))
                outcome.seconds = time.monotonic() - started
                self._record(name, outcome)
        finally:
            with self._idle:
                self._busy[job_id] -= 1
                self._idle.notify_all()
        return outcome

    @staticmethod
    def _record(name: str, outcome: Outcome) -> None:
        if outcome.status == "skipped":
            return
        metrics.JOBS.observe(name, outcome.seconds, outcome.status)
        if outcome.counts:
            log.info(
                "job %s %s in %.2fs: %s",
                outcome.job,
                outcome.status,
                outcome.seconds,
                dict(outcome.counts),
                extra={"outcome": outcome.status, "counts": dict(outcome.counts), "seconds": round(outcome.seconds, 3)},
            )

    def _run(self, job_id: str, kind: str, rest: str, only_due: bool, pair: tuple[str, str]) -> Outcome:
        try:
            if kind == "crawl":
                return Outcome(job_id, *self._crawl(*pair, only_due))
            if kind == "stage" and rest in STAGES:
                return Outcome(job_id, *self._stage(rest, only_due))
            log.warning("job %s is not known to this configuration; skipped", job_id)
            return Outcome(job_id, "skipped", Counter(unknown=1))
        except LockHeld:
            return Outcome(job_id, "skipped", Counter(held_elsewhere=1))
        except KulakError as exc:
            log.error("job %s failed: %s: %s", job_id, type(exc).__name__, exc)
            return Outcome(job_id, "failed", Counter(errors=1))
        except Exception:  # a job's bug must not end the service: it is logged whole, the next run still comes
            log.exception("job %s failed", job_id)
            return Outcome(job_id, "failed", Counter(errors=1))

    def _crawl(self, source_name: str, brand_name: str, only_due: bool) -> tuple[str, Counter[str]]:
        source, brand = self.sources.get(source_name), self.brands.get(brand_name)
        if source is None or brand is None or not source.watches(brand):
            log.warning("no source %s watching %s in this configuration; skipped", source_name, brand_name)
            return "skipped", Counter(unknown=1)
        uow = SqlAlchemyUnitOfWork(self.app.engine)
        with NamedLock(self.app.engine, crawl_id(source_name, brand_name)), self._site_locks[source_name]:
            if only_due and not is_due(uow, source, brand, datetime.now(UTC)):
                return "skipped", Counter(not_due=1)  # another worker crawled it lately
            with uow:
                robots.CACHE.load(uow.crawl_state.for_source(robots.STATE_SOURCE))
            report = CrawlReport()
            run = crawl_pair(uow, source, brand, report)
            keep_robots(uow)
        if self.crawl_report is not None:
            self.crawl_report.merge(report)
        if run.new:
            self.handoff(NEXT["crawl"])
        counts = Counter(new=run.new, known=run.duplicates, parse_failures=run.parse_failures)
        if not run.ok:
            metrics.JOBS.source_error(source_name)
        return ("ok" if run.ok else "failed"), +counts

    def _stage(self, stage: str, only_due: bool) -> tuple[str, Counter[str]]:
        uow = SqlAlchemyUnitOfWork(self.app.engine)
        if stage in SERIAL:
            with NamedLock(self.app.engine, f"stage:{stage}"):
                counts = self._stage_work(stage, uow, only_due)
        else:
            counts = self._stage_work(stage, uow, only_due)
        handed = HANDED[stage](counts) if stage in HANDED else sum(counts.values())
        if handed and stage in NEXT:
            self.handoff(NEXT[stage])
        refused = counts["waiting_for_credentials"] + counts["updates_waiting_for_credentials"]
        failed = counts["failed"] + counts["rejected"] + counts["customer_file_errors"] + refused
        return ("failed" if failed else "ok"), +counts

    def _stage_work(self, stage: str, uow: UnitOfWork, only_due: bool) -> Counter[str]:
        app, stop = self.app, self.stop.is_set
        if stage == "sync":
            return sync_reference_data(app, uow)
        if stage == "analyze":
            return analyze_pending(uow, app.analyzer, repeat_days=app.settings.analysis.repeat_days, stop=stop)
        if stage == "match":
            return match_pending(uow, app.matcher, duplicate_days=app.settings.cases.duplicate_days, stop=stop)
        if stage == "route":
            return route_pending(
                uow,
                app.router,
                app.alerters,
                helpdesks=app.helpdesks,
                policy=app.policy,
                drafter=app.drafter,
                window_hours=app.settings.cases.window_hours,
                stop=stop,
            )
        if stage == "cases":
            close_after = timedelta(seconds=parse_duration(app.settings.sla.close_after))
            counts = check_cases(uow, app.channels, close_after=close_after, drafter=app.drafter)
            problems = check_sources(app, uow)
            counts.update(queue_ops_alerts(uow, problems, app.ops_alerters))
            counts["source_problems"] = len(problems)
            return counts
        if stage == "crisis":
            return app.crisis.check(uow) if app.crisis is not None else Counter()
        if stage == "digests":
            return due_digests(app, uow)
        if stage == "deliver":
            return deliver_pending(uow, app.outbox, ops=app.ops_alerters, stop=stop)
        now = datetime.now(UTC)
        if only_due and not purge_due(uow, now):
            return Counter()
        return purge(uow, app.settings.retention, now)
