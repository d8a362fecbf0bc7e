"""The crawl stage: ask each source about each brand, store what is new, remember where it stopped."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from crawlers.base import CrawlResult, Source
from store.errors import NotConfigured, SourceError
from store.model import Brand, RawMention
from store.repository import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class CrawlReport:
    """What one crawl pass did, by source and brand."""

    added: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    failed: dict[str, str] = field(default_factory=dict)
    stats: Counter[str] = field(default_factory=Counter)
    collected: list[RawMention] = field(default_factory=list)

    @property
    def total_added(self) -> int:
        return sum(self.added.values())


def crawl_all(
    uow: UnitOfWork,
    sources: Sequence[Source],
    brands: Sequence[Brand],
    *,
    dry_run: bool = False,
    on_result: Callable[[CrawlResult], None] | None = None,
) -> CrawlReport:
    """Crawl every (source, brand) pair the brand has a key for; one pair failing does not stop the rest."""
    report = CrawlReport()
    for source in sources:
        for brand in brands:
            if brand.source_key(source.name) is None:
                continue
            pair = f"{source.name}:{brand.name}"
            try:
                crawl_one(uow, source, brand, report, dry_run=dry_run, on_result=on_result)
            except (SourceError, NotConfigured) as exc:
                log.warning("crawl of %s failed: %s", pair, exc, extra={"source": source.name, "brand": brand.name})
                report.failed[pair] = f"{type(exc).__name__}: {exc}"
    return report


def crawl_one(
    uow: UnitOfWork,
    source: Source,
    brand: Brand,
    report: CrawlReport,
    *,
    dry_run: bool = False,
    on_result: Callable[[CrawlResult], None] | None = None,
) -> None:
    pair = f"{source.name}:{brand.name}"
    with uow:
        state = uow.crawl_state.get(source.name, brand.name)
    result = source.collect(brand, state)
    report.stats.update({f"{source.name}.{k}": v for k, v in result.stats.items()})
    if on_result is not None:
        on_result(result)
    if dry_run:
        report.collected.extend(result.mentions)
        return
    with uow:
        outcome = uow.mentions.add_many(result.mentions)
        uow.crawl_state.save(result.state)
        uow.audit.record("crawler", "crawl", pair, added=outcome.added, duplicates=outcome.duplicates)
        uow.commit()
    report.added[pair] += outcome.added
    report.duplicates[pair] += outcome.duplicates
    log.info("crawled %s: %d new, %d already stored", pair, outcome.added, outcome.duplicates)
