"""One pass of the whole job: sync config, crawl, analyse, match, route, deliver; each stage re-runnable."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from classifiers.job import analyze_pending, match_pending
from config.settings import parse_duration
from crawlers.health import check_source
from crawlers.job import CrawlReport, crawl_all
from responders.clock import check_cases
from responders.job import deliver_pending, route_pending
from responders.ops import queue_ops_alerts
from scheduler.bootstrap import App
from scheduler.people import import_if_changed
from store.errors import ConfigError, InputError, StoreError
from store.model import SourceProblem

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    crawl: CrawlReport
    customers: Counter[str] = field(default_factory=Counter)
    analyzed: Counter[str] = field(default_factory=Counter)
    matched: Counter[str] = field(default_factory=Counter)
    routed: Counter[str] = field(default_factory=Counter)
    delivered: Counter[str] = field(default_factory=Counter)
    cases: Counter[str] = field(default_factory=Counter)
    problems: list[SourceProblem] = field(default_factory=list)
    ops: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def summary(self) -> dict[str, int]:
        return {
            "mentions_new": self.crawl.total_added,
            "mentions_known": sum(self.crawl.duplicates.values()),
            "crawl_failures": len(self.crawl.failed),
            "sources_crawled": len(self.crawl.runs),
            "sources_not_due": len(self.crawl.not_due),
            "parse_failures": sum(r.parse_failures for r in self.crawl.runs),
            "source_problems": len(self.problems),
            "analyzed": self.analyzed["analyzed"],
            "analysis_failures": self.analyzed["failed"],
            "matched": self.matched["matched"],
            "matches_to_confirm": self.matched["suggested"],
            "near_duplicates": self.matched["near_duplicates"],
            "joined_cases": sum(v for k, v in self.routed.items() if k.startswith("joined_by_")),
            "tickets_opened": self.routed["tickets_opened"],
            "alerts_folded": self.routed["alerts_folded"],
            "alerts_deferred": self.routed["alerts_deferred"],
            "sla_breaches": self.cases["breaches"],
            "cases_closed": self.cases["closed"],
            "alerts_sent": self.delivered["sent"] + self.delivered["recovered"],
            "alerts_failed": self.delivered["rejected"] + self.delivered["retry_later"],
        }


def sync_reference_data(app: App) -> Counter[str]:
    """Brands from the config, and customers from ``customers.file`` when it changed since its last import.

    A bad customer file, or bad records in it, are reported; the run goes on with the records already stored.
    """
    counts: Counter[str] = Counter()
    with app.uow:
        app.uow.brands.sync(app.settings.brand_models())
        enabled = {s.name for s in app.sources}
        app.uow.sources.sync({conf.name: conf.name in enabled for conf in app.settings.sources})
        app.uow.commit()
    if not app.settings.customers.file:
        return counts
    try:
        report = import_if_changed(app.settings, app.uow)
    except (InputError, StoreError, ConfigError) as exc:
        log.error("customers not imported, matching uses the records already stored: %s", exc)
        counts["customer_file_errors"] += 1
        return counts
    if report is not None:
        counts["customers_loaded"] = report.imported
        counts["customer_record_errors"] = len(report.errors)
        for error in report.errors[:20]:
            log.error("customer record skipped: %s", error)
    return counts


def check_sources(app: App, now: datetime | None = None) -> list[SourceProblem]:
    """Every enabled source's health problem (failing N runs in a row, or silent past its window)."""
    now = now or datetime.now(UTC)
    found = (check_source(app.uow, source.config, now) for source in app.sources)
    return [problem for problem in found if problem is not None]


def run_once(app: App, *, force: bool = False) -> RunReport:
    """One pass. Sources are crawled when their interval is up (every source with ``force``)."""
    started = time.monotonic()
    customers = sync_reference_data(app)
    crawl = crawl_all(app.uow, app.sources, app.settings.brand_models(), only_due=not force)
    report = RunReport(crawl=crawl, customers=customers)
    report.analyzed = analyze_pending(app.uow, app.analyzer, repeat_days=app.settings.analysis.repeat_days)
    report.matched = match_pending(app.uow, app.matcher, duplicate_days=app.settings.cases.duplicate_days)
    report.routed = route_pending(
        app.uow,
        app.router,
        app.alerters,
        helpdesks=app.helpdesks,
        policy=app.policy,
        drafter=app.drafter,
        window_hours=app.settings.cases.window_hours,
    )
    close_after = timedelta(seconds=parse_duration(app.settings.sla.close_after))
    report.cases = check_cases(app.uow, app.channels, close_after=close_after, drafter=app.drafter)
    report.problems = check_sources(app)
    report.ops = queue_ops_alerts(app.uow, report.problems, app.ops_alerters)
    report.delivered = deliver_pending(app.uow, app.channels, ops=app.ops_alerters)
    report.seconds = time.monotonic() - started
    log.info("run finished in %.1fs: %s", report.seconds, report.summary())
    return report
