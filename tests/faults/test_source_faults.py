"""API sources under source faults: a Mastodon source behind the hostile server, crawled by the real crawl stage.

Each fault must end with a SourceError-family error or a counted failure recorded in the run, stored mentions
untouched, the cursor where it was, no hang, and a clean second crawl that stores what was missed exactly once.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from crawlers.base import FAILED, PAGE_LIMIT, SourceConfig
from crawlers.bounds import Inflater
from crawlers.http import DEADLINE_FACTOR, MAX_REDIRECTS, PoliteClient
from crawlers.job import CrawlReport, crawl_all
from crawlers.mastodon import PAGE_SIZE, MastodonSource
from loopback.hostile import (
    Fault,
    GzipBomb,
    Hang,
    HostileServer,
    Oversized,
    RedirectLoop,
    Reset,
    Status,
    Trickle,
    gzip_bomb_body,
)
from loopback.mastodon import MastodonInstance, status
from loopback.server import Recorded, Reply
from scheduler.pipeline import RunReport
from store import db
from store.errors import SourceParseError
from store.model import Brand, Mention, MentionStatus, SourceRun
from store.sqlalchemy import SqlAlchemyUnitOfWork

KUZEY = Brand("Kuzey Telekom", hashtags=("#KuzeyTelekom",))
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FIRST_ID = 113_600_000_000_000_000
TIMEOUT, RETRIES, MAX_BYTES = 0.2, 1, 200_000
# Every try may take the whole deadline; backoffs are 0.01 s; the rest is the crawl stage and the store.
BOUND = (RETRIES + 1) * DEADLINE_FACTOR * TIMEOUT + 3.0
PAIR = "fediverse:Kuzey Telekom"


def toots(count: int, start: int = 0) -> list[dict[str, Any]]:
    text = "#KuzeyTelekom {}. gün: fatura itirazım hâlâ yanıtsız"
    return [status(FIRST_ID + n, text.format(n), T0 + timedelta(minutes=n)) for n in range(start, start + count)]


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only where the database does not matter: the later-page faults, which store part of a crawl and
    record the rest as failed, run on both."""
    eng = db.make_engine(f"sqlite:///{tmp_path / 'kulak.db'}")
    db.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sites() -> Iterator[tuple[MastodonInstance, HostileServer]]:
    with MastodonInstance() as instance, HostileServer(instance) as hostile:
        yield instance, hostile


def source_at(url: str, max_pages: int = 3) -> MastodonSource:
    config = SourceConfig(
        name="fediverse",
        base_url=url,
        timeout=TIMEOUT,
        retries=RETRIES,
        backoff=0.01,
        max_wait=1.0,
        max_pages=max_pages,
        max_bytes=MAX_BYTES,
    )
    return MastodonSource(config, now=lambda: T0)


def crawl(uow: SqlAlchemyUnitOfWork, source: MastodonSource) -> tuple[CrawlReport, SourceRun, float]:
    started = time.monotonic()
    report = crawl_all(uow, [source], [KUZEY])
    (run,) = report.runs
    return report, run, time.monotonic() - started


def stored(uow: SqlAlchemyUnitOfWork) -> list[Mention]:
    with uow:
        return uow.mentions.with_status(MentionStatus.NEW, limit=10_000)


def cursor(uow: SqlAlchemyUnitOfWork) -> str | None:
    with uow:
        state = uow.crawl_state.get("fediverse", KUZEY.name)
    return state.cursor if state else None


def baseline(engine: Engine, sites: tuple[MastodonInstance, HostileServer]) -> tuple[SqlAlchemyUnitOfWork, Any]:
    """Five statuses crawled and stored, then 45 more published (two pages): the crawl the faults hit."""
    instance, hostile = sites
    uow = SqlAlchemyUnitOfWork(engine)
    instance.post("kuzeytelekom", *toots(5))
    report, run, _ = crawl(uow, source_at(hostile.url))
    assert (run.ok, report.total_added) == (True, 5)
    instance.post("kuzeytelekom", *toots(PAGE_SIZE + 5, start=5))
    return uow, (stored(uow), cursor(uow))


def assert_recovers(uow: SqlAlchemyUnitOfWork, hostile: HostileServer, before: list[Mention], new: int) -> None:
    """The fault gone, one crawl stores every status it missed; none is stored twice."""
    hostile.behave()
    report, run, _ = crawl(uow, source_at(hostile.url))
    assert run.ok and report.total_added == new
    after = stored(uow)
    assert len(after) == 50 and len({m.raw.external_id for m in after}) == 50
    assert [m for m in after if m.id in {b.id for b in before}] == before  # the old rows, as they were
    report, run, _ = crawl(uow, source_at(hostile.url))
    assert (run.ok, report.total_added) == (True, 0)  # and the cursor moved on: nothing is read as new again


CRAWL_ENDING = [
    pytest.param(Hang(), "SourceError: GET", id="timeout"),
    pytest.param(Reset(), "SourceError: GET", id="reset"),
    pytest.param(Reset(after=2_000), "SourceError: GET", id="reset-mid-body"),
    pytest.param(Status(503), "SourceError: ", id="5xx-burst"),
    pytest.param(Status(429, {"Retry-After": "0"}), "SourceRateLimited: ", id="429-storm"),
    pytest.param(Trickle(), "within", id="slow-loris-body"),
    pytest.param(Trickle(in_headers=True), "within", id="slow-loris-headers"),
    pytest.param(RedirectLoop(), f"redirected more than {MAX_REDIRECTS} times", id="redirect-loop"),
]


@pytest.mark.parametrize(("fault", "error"), CRAWL_ENDING)
def test_a_fault_on_the_first_page_fails_the_run_and_loses_nothing(
    sqlite_engine: Engine, sites: tuple[MastodonInstance, HostileServer], fault: Fault, error: str
) -> None:
    _, hostile = sites
    uow, (before, mark) = baseline(sqlite_engine, sites)
    hostile.misbehave(fault)  # every request, retries included, until behave()

    report, run, seconds = crawl(uow, source_at(hostile.url))

    assert not run.ok and run.error is not None and error in run.error
    assert report.failed == {PAIR: run.error} and "?" not in run.error  # no query string (tokens) in the error
    summary = RunReport(crawl=report).summary()
    assert summary["crawl_failures"] == 1 and not RunReport(crawl=report).ok
    with uow:
        assert uow.source_runs.recent("fediverse")[0].error == run.error  # where `kulak doctor` reads it
    assert stored(uow) == before and cursor(uow) == mark
    assert seconds < BOUND
    assert_recovers(uow, hostile, before, new=PAGE_SIZE + 5)


LATER_PAGE = [
    pytest.param(Hang(), id="timeout"),
    pytest.param(Reset(after=2_000), id="reset-mid-body"),
    pytest.param(Status(502), id="5xx-burst"),
    pytest.param(Trickle(), id="slow-loris-body"),
]


def later_page(request: Recorded) -> bool:
    return "max_id" in request.query


@pytest.mark.parametrize("fault", LATER_PAGE)
def test_a_fault_on_a_later_page_keeps_what_was_read_and_holds_the_cursor(
    engine: Engine, sites: tuple[MastodonInstance, HostileServer], fault: Fault
) -> None:
    _, hostile = sites
    uow, (before, mark) = baseline(engine, sites)
    hostile.misbehave(fault, when=later_page)

    report, run, seconds = crawl(uow, source_at(hostile.url))

    assert run.ok and run.failed == 1 and report.stats[f"fediverse.{FAILED}"] == 1  # counted in the run's row
    assert report.total_added == PAGE_SIZE and cursor(uow) == mark  # page 1 kept; the gap is read next time
    assert seconds < BOUND
    assert_recovers(uow, hostile, before, new=5)


SIZE = [
    pytest.param(GzipBomb(expanded=20_000_000), id="gzip-bomb"),
    pytest.param(Oversized(), id="oversized-no-length"),
    pytest.param(Oversized(chunked=True), id="oversized-chunked"),
]


@pytest.mark.parametrize("fault", SIZE)
def test_a_body_over_the_size_cap_is_a_counted_parse_failure(
    sqlite_engine: Engine, sites: tuple[MastodonInstance, HostileServer], fault: Fault
) -> None:
    _, hostile = sites
    uow, (before, mark) = baseline(sqlite_engine, sites)
    hostile.misbehave(fault, times=1)
    sent = hostile.body_bytes_sent

    report, run, seconds = crawl(uow, source_at(hostile.url))

    assert run.ok and run.parse_failures == 1 and not run.healthy  # read nothing, could not read something
    assert RunReport(crawl=report).summary()["parse_failures"] == 1
    assert stored(uow) == before and cursor(uow) == mark and seconds < BOUND
    assert hostile.body_bytes_sent - sent < 20_000_000  # it hung up long before the gigabyte was through
    assert_recovers(uow, hostile, before, new=PAGE_SIZE + 5)


def test_a_gzip_bomb_is_refused_without_inflating_it_in_memory() -> None:
    expanded = 50_000_000
    gzip_bomb_body(expanded)  # built before measuring: the server's copy is not the client's memory
    with HostileServer(lambda _: Reply.json([])) as hostile:
        hostile.misbehave(GzipBomb(expanded=expanded))
        client = PoliteClient(source_at(hostile.url).config)
        tracemalloc.start()
        try:
            with pytest.raises(SourceParseError, match="over the 200000-byte limit"):
                client.get(f"{hostile.url}/api/v1/timelines/tag/kuzeytelekom")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            client.close()
    assert len(gzip_bomb_body(expanded)) < 60_000  # tens of KB on the wire
    assert peak < 10 * MAX_BYTES  # httpx alone inflates one network read whole: 50 MB here


@pytest.mark.parametrize(
    ("encoding", "body", "error"),
    [
        ("br", b"\x1b\x03\x00\xf8\x07", "Content-Encoding 'br', which is not read"),
        ("gzip, gzip", gzip_bomb_body(10), "which is not read"),
        ("gzip", b"<html>not gzip at all</html>", "compressed body is corrupt"),
        ("gzip", gzip_bomb_body(100_000)[:-12], "compressed body ends early"),
    ],
)
def test_encodings_that_cannot_be_inflated_within_bounds_are_refused(encoding: str, body: bytes, error: str) -> None:
    with pytest.raises(SourceParseError, match=error):
        inflater = Inflater(encoding, MAX_BYTES, "feed")
        inflater.feed(body)
        inflater.finish()


def test_endless_pagination_stops_at_max_pages_and_the_run_says_so(
    sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    served = iter(range(10**6))

    def endless(request: Recorded) -> Reply:
        """Forty statuses a page, older and older, and always a next link: a timeline without an end."""
        page = next(served)
        top = FIRST_ID + 10**6 - page * PAGE_SIZE
        body = [status(top - n, f"#KuzeyTelekom sayfa {page}", T0) for n in range(PAGE_SIZE)]
        reply = Reply.json(body)
        reply.headers["Link"] = f'<{hostile.url}{request.path}?max_id={top - PAGE_SIZE + 1}>; rel="next"'
        return reply

    uow = SqlAlchemyUnitOfWork(sqlite_engine)
    hostile = HostileServer(endless)
    with hostile:
        report, run, seconds = crawl(uow, source_at(hostile.url, max_pages=3))
        again, rerun, _ = crawl(uow, source_at(hostile.url, max_pages=3))

    assert run.ok and run.requests == 3 and report.total_added == 3 * PAGE_SIZE and seconds < BOUND
    assert report.stats[f"fediverse.{PAGE_LIMIT}"] == 1
    assert RunReport(crawl=report).summary()["page_limits"] == 1
    assert any("stopped at max_pages" in r.getMessage() for r in caplog.records)
    assert len(stored(uow)) == 3 * PAGE_SIZE  # the second crawl stores none of the pages again
    assert rerun.ok and again.total_added == 0
