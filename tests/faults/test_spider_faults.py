"""Scrapy sources under source faults: Şikayetvar behind the hostile server, crawled by the real crawl stage.

A spider run costs a child process, so one test walks a row of faults against one store: each fault must fail
the run or count a parse failure, leave stored mentions and the crawl state as they were, and end in bounded
time; one clean crawl after them must store what they hid, exactly once. 5xx bursts and 429 storms on Scrapy
sources are covered by tests/integration/test_sikayetvar_crawl.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from crawlers.base import PAGE_LIMIT, SourceConfig
from crawlers.job import CrawlReport, crawl_all
from crawlers.sikayetvar import SikayetvarSource
from crawlers.turkish_dates import ISTANBUL
from loopback.hostile import Fault, GzipBomb, Hang, HostileServer, Oversized, RedirectLoop, Reset, Trickle
from loopback.server import Recorded
from loopback.sikayetvar import SampleComplaint, SikayetvarSite, slugify
from scheduler.pipeline import RunReport
from store import db
from store.model import Brand, Mention, MentionStatus, SourceRun
from store.sqlalchemy import SqlAlchemyUnitOfWork

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=ISTANBUL)
BRAND = Brand("Kuzey Telekom")
TIMEOUT, RETRIES, MAX_BYTES = 0.5, 1, 300_000
# DOWNLOAD_TIMEOUT is a whole-request deadline in Scrapy; each try may use it; the child process takes seconds.
BOUND = (RETRIES + 1) * TIMEOUT + 15.0
BRAND_LIST = "/kuzey-telekom"


def complaint(cid: int, title: str, minutes_ago: int) -> SampleComplaint:
    body = f"{title}. Üç haftadır çözüm bekliyorum, müşteri hizmetleri geri dönmedi."
    return SampleComplaint(
        cid, "kuzey-telekom", title, slugify(title), body, "selin_k", published_at=NOW - timedelta(minutes=minutes_ago)
    )


OLD = [complaint(30300000 + n, f"Kuzey Telekom Fatura Sorunu {n}", 600 - n) for n in range(3)]
NEW = [complaint(30300100 + n, f"Kuzey Telekom Hat Kesintisi {n}", 60 - n) for n in range(2)]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only: a spider run costs seconds, and what is checked here does not depend on the database."""
    eng = db.make_engine(f"sqlite:///{tmp_path / 'kulak.db'}")
    db.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sites() -> Iterator[tuple[SikayetvarSite, HostileServer]]:
    site = SikayetvarSite(list(OLD), brands={"kuzey-telekom": "Kuzey Telekom"}, page_size=2, now=NOW).start()
    try:
        with HostileServer(site) as hostile:
            yield site, hostile
    finally:
        site.stop()


def source_at(url: str, max_pages: int = 3) -> SikayetvarSource:
    config = SourceConfig(
        name="sikayetvar",
        base_url=url,
        timeout=TIMEOUT,
        retries=RETRIES,
        backoff=0.01,
        max_wait=1.0,
        max_pages=max_pages,
        max_bytes=MAX_BYTES,
        robots=False,
    )
    options = SikayetvarSource.Options(list_delay=(0, 0), page_delay=(0, 0), backoff=(0.01, 0.02))
    return SikayetvarSource(config, options, now=lambda: NOW, crawl_timeout=60)


def crawl(uow: SqlAlchemyUnitOfWork, source: SikayetvarSource) -> tuple[CrawlReport, SourceRun, float]:
    started = time.monotonic()
    report = crawl_all(uow, [source], [BRAND])
    (run,) = report.runs
    return report, run, time.monotonic() - started


def snapshot(uow: SqlAlchemyUnitOfWork) -> tuple[list[Mention], Any]:
    """The stored mentions and the crawl state's marker (not its updated_at, which every finished crawl sets)."""
    with uow:
        state = uow.crawl_state.get("sikayetvar", BRAND.name)
        marker = (state.last_seen_id, state.last_seen_at, state.cursor) if state else None
        return uow.mentions.with_status(MentionStatus.NEW, limit=10_000), marker


def first_list_page(request: Recorded) -> bool:
    return request.path == BRAND_LIST and not request.query


@dataclass(frozen=True)
class Step:
    name: str
    fault: Fault | None
    error: str | None  # what the run's error says; None: the run ends, with a parse failure counted
    loops: bool = False  # the fault's own redirects must meet it too
    tries: int | None = None  # requests for the page before giving up, where it is fixed


STEPS = [
    Step("timeout", Hang(), "DownloadTimeoutError", tries=RETRIES + 1),
    Step("reset", Reset(), "SourceError: list page", tries=RETRIES + 1),
    Step("reset mid-body", Reset(after=3_000), "SourceError: list page", tries=RETRIES + 1),
    Step("slow loris", Trickle(), "DownloadTimeoutError"),
    Step("redirect loop", RedirectLoop(), "max redirections reached", loops=True),
    Step("gzip bomb", GzipBomb(expanded=30_000_000, content_type="text/html; charset=utf-8"), None),
    Step("oversized body", Oversized(), None),
    Step("markup change", None, None),
]


def test_every_fault_loses_nothing_and_a_clean_crawl_stores_the_rest_once(
    engine: Engine, sites: tuple[SikayetvarSite, HostileServer]
) -> None:
    site, hostile = sites
    uow = SqlAlchemyUnitOfWork(engine)
    report, run, _ = crawl(uow, source_at(hostile.url))
    assert run.ok and report.total_added == len(OLD)
    for c in NEW:
        site.add(c)
    before = snapshot(uow)

    for step in STEPS:
        hostile.behave()
        if step.fault is None:
            site.malform_next("unknown", path_prefix=BRAND_LIST)  # a redesign: no card, no empty-list marker
        else:
            hostile.misbehave(step.fault, path=BRAND_LIST, when=None if step.loops else first_list_page)
        sent, asked = hostile.body_bytes_sent, len(hostile.received(BRAND_LIST))

        report, run, seconds = crawl(uow, source_at(hostile.url))

        assert snapshot(uow) == before, step.name  # no mention stored, none changed, the state where it was
        assert seconds < BOUND, step.name
        if step.error is not None:
            assert not run.ok and run.error is not None and step.error in run.error, (step.name, run.error)
            assert RunReport(crawl=report).summary()["crawl_failures"] == 1, step.name
        else:  # read nothing, could not read the list: the run says so, never a silent 0
            assert run.ok and run.parse_failures == 1 and not run.healthy, (step.name, run)
            assert RunReport(crawl=report).summary()["parse_failures"] == 1, step.name
        if step.tries is not None:  # a passing fault is tried again, then given up
            assert len(hostile.received(BRAND_LIST)) - asked == step.tries, step.name
        if isinstance(step.fault, GzipBomb | Oversized):
            assert hostile.body_bytes_sent - sent < 30_000_000, step.name  # refused long before the end
        with uow:
            assert uow.source_runs.recent("sikayetvar")[0].error == run.error  # where `kulak doctor` reads it

    hostile.behave()
    report, run, _ = crawl(uow, source_at(hostile.url))
    assert run.ok and report.total_added == len(NEW)
    mentions, marker = snapshot(uow)
    assert sorted(m.raw.external_id for m in mentions) == sorted(str(c.id) for c in OLD + NEW)  # each once
    assert marker is not None and marker[0] == str(max(c.id for c in NEW))


def test_a_redirect_loop_on_a_complaint_page_keeps_the_preview_instead_of_losing_it(
    engine: Engine, sites: tuple[SikayetvarSite, HostileServer]
) -> None:
    _, hostile = sites
    hostile.misbehave(RedirectLoop(), path=f"{BRAND_LIST}/{OLD[1].slug}")
    uow = SqlAlchemyUnitOfWork(engine)

    report, run, _ = crawl(uow, source_at(hostile.url))

    assert run.ok and report.total_added == len(OLD)  # before: the duplicate filter dropped it without a word
    assert report.stats["sikayetvar.detail_failed"] == 1
    mentions, _ = snapshot(uow)
    kept = next(m for m in mentions if m.raw.external_id == str(OLD[1].id))
    assert kept.raw.payload["full_text"] is False


def test_endless_pagination_stops_at_max_pages_and_the_run_says_so(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    many = [complaint(30400000 + n, f"Kuzey Telekom Şikayet {n}", 5000 - n) for n in range(400)]
    site = SikayetvarSite(many, brands={"kuzey-telekom": "Kuzey Telekom"}, page_size=2, now=NOW).start()
    try:
        with HostileServer(site) as hostile:
            report, run, seconds = crawl(SqlAlchemyUnitOfWork(engine), source_at(hostile.url, max_pages=2))
            pages = [r for r in hostile.received(BRAND_LIST)]
    finally:
        site.stop()

    assert run.ok and report.total_added == 4 and len(pages) == 2 and seconds < BOUND
    assert report.stats[f"sikayetvar.{PAGE_LIMIT}"] == 1
    assert RunReport(crawl=report).summary()["page_limits"] == 1
    assert any("stopped at max_pages" in r.getMessage() for r in caplog.records)
