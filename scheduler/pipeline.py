"""One pass of the whole job: sync config, crawl, analyse, match, route, deliver; each stage re-runnable."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from classifiers.customers import load_customers
from classifiers.job import analyze_pending, match_pending
from config.loader import resolve_path
from crawlers.base import SOURCES
from crawlers.job import CrawlReport, crawl_all
from responders.job import deliver_pending, route_pending
from scheduler.bootstrap import App
from store.errors import InputError, StoreError

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    crawl: CrawlReport
    customers: Counter[str] = field(default_factory=Counter)
    analyzed: Counter[str] = field(default_factory=Counter)
    matched: Counter[str] = field(default_factory=Counter)
    routed: Counter[str] = field(default_factory=Counter)
    delivered: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def summary(self) -> dict[str, int]:
        return {
            "mentions_new": self.crawl.total_added,
            "mentions_known": sum(self.crawl.duplicates.values()),
            "crawl_failures": len(self.crawl.failed),
            "analyzed": self.analyzed["analyzed"],
            "analysis_failures": self.analyzed["failed"],
            "matched": sum(v for k, v in self.matched.items() if k.startswith("matched_by_")),
            "tickets_opened": self.routed["tickets_opened"],
            "alerts_sent": self.delivered["sent"],
            "alerts_failed": self.delivered["rejected"] + self.delivered["retry_later"],
        }


def sync_reference_data(app: App) -> Counter[str]:
    """Brands from the config and customers from their file; a bad customer file is reported, the run goes on."""
    counts: Counter[str] = Counter()
    with app.uow:
        app.uow.brands.sync(app.settings.brand_models())
        enabled = {s.name for s in app.sources}
        app.uow.sources.sync({name: name in enabled for name in SOURCES})
        app.uow.commit()
    if not app.settings.customers.file:
        return counts
    try:
        customers = load_customers(resolve_path(app.settings, app.settings.customers.file))
        with app.uow:
            for customer in customers:
                app.uow.customers.upsert(customer)
            app.uow.commit()
        counts["customers_loaded"] = len(customers)
    except (InputError, StoreError) as exc:
        log.error("customers not loaded, matching uses the records already stored: %s", exc)
        counts["customer_file_errors"] += 1
    return counts


def run_once(app: App) -> RunReport:
    started = time.monotonic()
    customers = sync_reference_data(app)
    crawl = crawl_all(app.uow, app.sources, app.settings.brand_models())
    report = RunReport(crawl=crawl, customers=customers)
    report.analyzed = analyze_pending(app.uow, app.analyzer)
    report.matched = match_pending(app.uow, app.matcher)
    report.routed = route_pending(app.uow, app.router, app.alerters)
    report.delivered = deliver_pending(app.uow, {a.name: a for a in app.alerters})
    report.seconds = time.monotonic() - started
    log.info("run finished in %.1fs: %s", report.seconds, report.summary())
    return report
