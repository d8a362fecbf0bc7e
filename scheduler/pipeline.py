"""`kulak run --once`: every job that is due, once, in stage order; what each did, and whether anything failed."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from crawlers.base import PAGE_LIMIT
from crawlers.job import CrawlReport
from scheduler.bootstrap import App
from scheduler.jobs import STAGES, Outcome, Runner, plan

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
    purged: Counter[str] = field(default_factory=Counter)
    crisis: Counter[str] = field(default_factory=Counter)
    digests: Counter[str] = field(default_factory=Counter)
    failed_jobs: list[str] = field(default_factory=list)
    skipped_jobs: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Nothing failed: no crawl, no job, no delivery the far side refused, no channel refusing Kulak's token."""
        refused = self.delivered["waiting_for_credentials"] + self.delivered["updates_waiting_for_credentials"]
        return not (self.crawl.failed or self.failed_jobs or self.delivered["rejected"] or refused)

    def summary(self) -> dict[str, int]:
        return {
            "mentions_new": self.crawl.total_added,
            "mentions_known": sum(self.crawl.duplicates.values()),
            "crawl_failures": len(self.crawl.failed),
            "crawls": len(self.crawl.runs),
            "crawls_not_due": len(self.crawl.not_due),
            "parse_failures": sum(r.parse_failures for r in self.crawl.runs),
            "page_limits": sum(n for k, n in self.crawl.stats.items() if k.endswith(f".{PAGE_LIMIT}")),
            "source_problems": self.cases["source_problems"],
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
            "alerts_waiting": sum(v for k, v in self.delivered.items() if k.startswith("waiting_")),
            "crises_opened": self.crisis["opened"],
            "crises_closed": self.crisis["closed"],
            "digests_made": sum(v for k, v in self.digests.items() if k.startswith("digests_")),
            "rows_purged": sum(self.purged.values()),
            "jobs_failed": len(self.failed_jobs),
            "jobs_skipped": len(self.skipped_jobs),
        }


def run_once(app: App, *, force: bool = False) -> RunReport:
    """One pass of every job that is due, in stage order: the crawls whose interval is up (all with ``force``),
    every stage, and the purge when a day has passed since the last. A job another process holds is skipped."""
    started = time.monotonic()
    report = RunReport(crawl=CrawlReport())
    runner = Runner(app, crawl_report=report.crawl)
    by_stage = {
        "sync": report.customers,
        "analyze": report.analyzed,
        "match": report.matched,
        "route": report.routed,
        "cases": report.cases,
        "crisis": report.crisis,
        "digests": report.digests,
        "deliver": report.delivered,
        "purge": report.purged,
    }
    crawls = [spec.id for spec in plan(app) if spec.id.startswith("crawl:")]
    for stage in STAGES:
        for job in crawls if stage == "analyze" else []:  # after sync, before analysis
            _note(report, runner.run(job, only_due=not force), job)
        outcome = runner.run(f"stage:{stage}")
        by_stage[stage].update(outcome.counts)
        _note(report, outcome, f"stage:{stage}")
    report.seconds = time.monotonic() - started
    log.info("run finished in %.1fs: %s", report.seconds, report.summary())
    return report


def _note(report: RunReport, outcome: Outcome, job: str) -> None:
    if outcome.counts["not_due"]:
        report.crawl.not_due.append(job.removeprefix("crawl:"))
    elif outcome.status == "failed" and not job.startswith("crawl:"):  # a failed crawl is in report.crawl.failed
        report.failed_jobs.append(job)
    elif outcome.status == "skipped":
        report.skipped_jobs.append(job)
