"""The housekeeping jobs: the configuration and the customer file into the store, and each source's health."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime

from crawlers.health import check_source
from scheduler.bootstrap import App
from scheduler.people import import_if_changed
from store.errors import ConfigError, InputError, StoreError
from store.model import SourceProblem
from store.repository import UnitOfWork

log = logging.getLogger(__name__)


def sync_reference_data(app: App, uow: UnitOfWork) -> Counter[str]:
    """Brands from the config, and customers from ``customers.file`` when it changed since its last import.

    A bad customer file, or bad records in it, are reported; the run goes on with the records already stored.
    """
    counts: Counter[str] = Counter()
    with uow:
        uow.brands.sync(app.settings.brand_models())
        enabled = {s.name for s in app.sources}
        uow.sources.sync({conf.name: conf.name in enabled for conf in app.settings.sources})
        uow.commit()
    if not app.settings.customers.file:
        return counts
    try:
        report = import_if_changed(app.settings, uow)
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


def check_sources(app: App, uow: UnitOfWork, now: datetime | None = None) -> list[SourceProblem]:
    """Every enabled source's health problem (failing N runs in a row, or silent past its window)."""
    now = now or datetime.now(UTC)
    found = (check_source(uow, source.config, now) for source in app.sources)
    return [problem for problem in found if problem is not None]
