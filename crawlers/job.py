"""The crawl stage: ask each due source about each brand it watches, store what is new, record its health."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from crawlers import robots
from crawlers.base import FAILED, FETCHED, PAGE_LIMIT, PARSE_FAILURES, REQUESTS, CrawlResult, Source
from store.errors import NotConfigured, SourceError, StoreError
from store.model import Brand, RawMention, SourceRun
from store.repository import UnitOfWork

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


@dataclass
class CrawlReport:
    """What one crawl pass did, by source and brand ("source:brand" keys) and by source."""

    added: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    failed: dict[str, str] = field(default_factory=dict)
    stats: Counter[str] = field(default_factory=Counter)
    collected: list[RawMention] = field(default_factory=list)
    runs: list[SourceRun] = field(default_factory=list)
    not_due: list[str] = field(default_factory=list)

    @property
    def total_added(self) -> int:
        return sum(self.added.values())

    def merge(self, other: CrawlReport) -> None:
        """Add what another crawl (of other pairs) did to this report."""
        self.added.update(other.added)
        self.duplicates.update(other.duplicates)
        self.failed.update(other.failed)
        self.stats.update(other.stats)
        self.collected.extend(other.collected)
        self.runs.extend(other.runs)
        self.not_due.extend(other.not_due)


def is_due(uow: UnitOfWork, source: Source, brand: Brand, now: datetime) -> bool:
    """Whether the source's interval has passed since its last crawl for the brand began (a tenth of it, up to
    60 s, early: a run that starts a moment before the interval is up should not wait a whole interval more)."""
    with uow:
        last = uow.source_runs.recent(source.name, 1, brand=brand.name)
    if not last:
        return True
    interval = source.config.interval
    slack = min(60.0, interval / 10)
    return now - last[0].started_at >= timedelta(seconds=interval - slack)


def crawl_all(
    uow: UnitOfWork,
    sources: Sequence[Source],
    brands: Sequence[Brand],
    *,
    dry_run: bool = False,
    only_due: bool = False,
    on_result: Callable[[CrawlResult], None] | None = None,
    clock: Clock = lambda: datetime.now(UTC),
) -> CrawlReport:
    """Crawl every source for every brand it watches (only the pairs that are due, with ``only_due``); one source
    or brand failing stops nothing else."""
    report = CrawlReport()
    with uow:
        robots.CACHE.load(uow.crawl_state.for_source(robots.STATE_SOURCE))
    for source in sources:
        for brand in brands:
            if not source.watches(brand):
                continue
            if only_due and not is_due(uow, source, brand, clock()):
                report.not_due.append(f"{source.name}:{brand.name}")
                continue
            crawl_pair(uow, source, brand, report, dry_run=dry_run, on_result=on_result, clock=clock)
    keep_robots(uow)
    return report


def keep_robots(uow: UnitOfWork) -> None:
    """Store the robots.txt read in this run, so the next cron run (a new process) need not read it again."""
    fresh = robots.CACHE.export()
    if not fresh:
        return
    try:
        with uow:
            for state in fresh:
                uow.crawl_state.save(state)
            uow.commit()
    except StoreError as exc:  # only costs a robots.txt request next run
        log.warning("could not keep robots.txt for the next run: %s", exc)


def crawl_pair(
    uow: UnitOfWork,
    source: Source,
    brand: Brand,
    report: CrawlReport,
    *,
    dry_run: bool = False,
    on_result: Callable[[CrawlResult], None] | None = None,
    clock: Clock = lambda: datetime.now(UTC),
) -> SourceRun:
    """Crawl one source for one brand and record the run (unless ``dry_run``); a failure is recorded, not raised."""
    started = clock()
    pair = f"{source.name}:{brand.name}"
    ids = {"source": source.name, "brand": brand.name}
    counts: Counter[str] = Counter()  # the source's own counts; what the store kept is counted apart
    error = None
    try:
        result = crawl_one(uow, source, brand, report, dry_run=dry_run, on_result=on_result)
        counts.update(result.stats)
    except (SourceError, NotConfigured) as exc:
        log.warning("crawl of %s failed: %s", pair, exc, extra=ids)
        report.failed[pair] = error = f"{type(exc).__name__}: {exc}"
        counts.update(getattr(exc, "counts", None) or {})  # a failed crawl's requests were sent all the same
    run = SourceRun(
        source=source.name,
        brand=brand.name,
        started_at=started,
        finished_at=clock(),
        ok=error is None,
        error=error[:2000] if error else None,
        requests=counts[REQUESTS],
        fetched=counts[FETCHED],
        new=report.added[pair],
        duplicates=report.duplicates[pair],
        failed=counts[FAILED],
        parse_failures=counts[PARSE_FAILURES],
    )
    report.runs.append(run)
    if counts[PARSE_FAILURES]:
        log.warning("%s: %d page(s) or item(s) could not be read", pair, counts[PARSE_FAILURES], extra=ids)
    if counts[PAGE_LIMIT]:
        log.warning("%s: stopped at max_pages with more pages offered; older items were not read", pair, extra=ids)
    if not dry_run:
        try:
            with uow:
                uow.source_runs.record(run)
                uow.commit()
        except StoreError as exc:  # the mentions are stored already; losing one health row is not worth a crash
            log.error("could not record the run of %s: %s", pair, exc, extra=ids)
    return run


def crawl_one(
    uow: UnitOfWork,
    source: Source,
    brand: Brand,
    report: CrawlReport,
    *,
    dry_run: bool = False,
    on_result: Callable[[CrawlResult], None] | None = None,
) -> CrawlResult:
    pair = f"{source.name}:{brand.name}"
    with uow:
        state = uow.crawl_state.get(source.name, brand.name)
    result = source.collect(brand, state)
    report.stats.update({f"{source.name}.{k}": v for k, v in result.stats.items()})
    if on_result is not None:
        on_result(result)
    if dry_run:
        report.collected.extend(result.mentions)
        return result
    with uow:
        outcome = uow.mentions.add_many(result.mentions)
        uow.crawl_state.save(result.state)
        uow.audit.record("crawler", "crawl", pair, added=outcome.added, duplicates=outcome.duplicates)
        uow.commit()
    report.added[pair] += outcome.added
    report.duplicates[pair] += outcome.duplicates
    log.info(
        "crawled %s: %d new, %d already stored",
        pair,
        outcome.added,
        outcome.duplicates,
        extra={"source": source.name, "brand": brand.name},
    )
    return result
