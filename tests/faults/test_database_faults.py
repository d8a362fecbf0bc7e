"""The store under database faults: SQLite writers colliding across processes, PostgreSQL restarted mid-run."""

from __future__ import annotations

import glob
import logging
import multiprocessing
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from classifiers.base import MentionContext
from classifiers.job import analyze_pending, match_pending
from classifiers.matching import CustomerMatcher
from config.loader import load_settings
from config.settings import Settings
from loopback.slack import SlackServer
from responders.job import LEASE, deliver_pending, route_pending
from responders.routing import TicketRouter
from responders.sla import Sla
from responders.slack import SlackAlerter, slack_client
from scheduler.bootstrap import bootstrap
from scheduler.pipeline import run_once
from store import db
from store.errors import LockHeld, StoreError
from store.locks import NamedLock
from store.model import Analysis, MentionStatus, RawMention
from store.repository import BATCH
from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.support.care import BRANDS, CHANNELS, KEY, Desk, Scripted, post

HOLD = 2.0  # seconds a rogue process keeps SQLite's write lock while the workers run


def complaints(n: int) -> list[RawMention]:
    return [post(i, f"Kuzey Telekom kesinti {i} [network] [critical]", handle=f"kisi{i}") for i in range(1, n + 1)]


def on_wire(slack: SlackServer) -> Counter[str]:
    return Counter(m.args["metadata"]["event_payload"]["key"] for m in slack.posted() if m.args.get("metadata"))


# -- SQLite: several processes writing at once -------------------------------------------------------------------


def hold_write_lock(path: str, held: Any, seconds: float) -> None:
    """A process (a backup, a sqlite3 shell) keeping the write lock for a while."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE mentions SET updated_at = updated_at WHERE id = 1")
    held.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


def work_stages(url: str, slack_url: str, held: Any, results: Any) -> None:
    """A worker running every stage as `kulak serve` does (serial stages under their lock) until nothing is left."""
    try:
        held.wait(10)
        started = time.monotonic()
        engine = db.make_engine(url)
        uow = SqlAlchemyUnitOfWork(engine)
        alerter = SlackAlerter(slack_client(SlackServer.DEFAULT_TOKEN, f"{slack_url}/api/"), "#care-alerts")
        router = TicketRouter(BRANDS, sla=Sla.from_settings(Settings()))
        totals: Counter[str] = Counter()
        for _ in range(20):
            done = analyze_pending(uow, Scripted())
            for stage in ("match", "route"):
                try:
                    with NamedLock(engine, f"stage:{stage}"):
                        if stage == "match":
                            done += match_pending(uow, CustomerMatcher(KEY))
                        else:
                            done += route_pending(uow, router, [alerter])
                except LockHeld:
                    done["held_elsewhere"] += 1
            done += deliver_pending(uow, {"slack": alerter})
            totals += done
            if not +done:
                break
            time.sleep(0.05)
        results.put(("ok", dict(totals), time.monotonic() - started))
        engine.dispose()
    except BaseException:  # reported to the test, which fails with it
        results.put(("crashed", traceback.format_exc(), 0.0))


def test_sqlite_writers_in_several_processes_wait_for_each_other_and_do_everything_once(tmp_path: Path) -> None:
    path = tmp_path / "kulak.db"
    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.mentions.add_many(complaints(60))
        uow.commit()
    engine.dispose()
    fork = multiprocessing.get_context("fork")
    held, results = fork.Event(), fork.Queue()
    with SlackServer(channels=CHANNELS) as slack:
        holder = fork.Process(target=hold_write_lock, args=(str(path), held, HOLD))
        workers = [fork.Process(target=work_stages, args=(url, slack.url, held, results)) for _ in range(2)]
        holder.start()
        assert held.wait(10)
        for worker in workers:
            worker.start()
        # the lock is real: a writer that does not wait is refused at once
        impatient = sqlite3.connect(path, timeout=0, isolation_level=None)
        with closing(impatient), pytest.raises(sqlite3.OperationalError, match="database is locked"):
            impatient.execute("BEGIN IMMEDIATE")
        outcomes = [results.get(timeout=60) for _ in workers]
        for process in (holder, *workers):
            process.join(10)
        crashed = [detail for status, detail, _ in outcomes if status != "ok"]
        assert crashed == [], crashed[0] if crashed else ""
        assert all(process.exitcode == 0 for process in (holder, *workers))
        # the busy timeout is what carried them: they sat out most of the hold instead of failing
        assert min(seconds for _, _, seconds in outcomes) >= HOLD * 0.5
        totals = sum((Counter(detail) for _, detail, _ in outcomes), Counter())
        assert totals["analyzed"] == 60 and totals["tickets_opened"] == 60 and totals["sent"] == 60  # each once
        assert sorted(on_wire(slack).values()) == [1] * 60
    engine = db.make_engine(url)
    with SqlAlchemyUnitOfWork(engine) as check:
        assert check.mentions.count_by_status() == {"routed": 60}
        assert check.deliveries.count_by_status() == {"sent": 60}
    engine.dispose()


# -- PostgreSQL: restarted while a pass runs ---------------------------------------------------------------------


class PrivatePostgres:
    """A throwaway PostgreSQL cluster of this test module's own, on a free port, that the tests may restart."""

    def __init__(self, bin_dir: str) -> None:
        self.bin = bin_dir
        self.data = tempfile.mkdtemp(prefix="kulak-pgfault-")
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_pg:
            shutil.chown(self.data, "postgres")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        # The server inherits pg_ctl's output: a pipe here would be held open by it and never reach its end.
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run([*self.as_pg, *args], check=True, timeout=60, **quiet)

    def init(self) -> None:
        self._ctl(f"{self.bin}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self.up()

    def up(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data} -c fsync=off -c synchronous_commit=off"
        self._ctl(f"{self.bin}/pg_ctl", "-D", self.data, "-l", f"{self.data}/server.log", "-w", "-o", options, "start")

    def down(self) -> None:
        """``pg_ctl stop -m fast``: every session is cut off and new ones are refused until ``up``."""
        self._ctl(f"{self.bin}/pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop")

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every session is cut off, the server is back a moment later."""
        self._ctl(f"{self.bin}/pg_ctl", "-D", self.data, "-l", f"{self.data}/server.log", "-w", "-m", "fast", "restart")

    def remove(self) -> None:
        stop = [*self.as_pg, f"{self.bin}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"]
        subprocess.run(stop, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.data, ignore_errors=True)

    def new_database(self) -> str:
        name = f"kulak_fault_{uuid.uuid4().hex[:10]}"
        admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        pytest.skip("PostgreSQL restart test skipped: no /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("PostgreSQL restart test skipped: running as root without runuser to start it as postgres")
    server = PrivatePostgres(str(Path(found[-1]).parent))
    try:
        server.init()
        yield server
    finally:
        server.remove()


@pytest.fixture
def pg_engine(postgres: PrivatePostgres) -> Iterator[Engine]:
    engine = db.make_engine(postgres.new_database())
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_desk(pg_engine: Engine) -> Iterator[Desk]:
    with SlackServer(channels=CHANNELS) as slack:
        yield Desk(SqlAlchemyUnitOfWork(pg_engine), slack)


class RestartingAnalyzer:
    """The scripted analyzer, with PostgreSQL restarted under it at its ``at``-th mention."""

    def __init__(self, postgres: PrivatePostgres, at: int) -> None:
        self.postgres, self.at, self.calls = postgres, at, 0

    def analyze(self, text: str, *, brand_hint: str | None = None, context: MentionContext | None = None) -> Analysis:
        self.calls += 1
        if self.calls == self.at:
            self.postgres.restart()
        return Scripted().analyze(text, brand_hint=brand_hint, context=context)


class SlackThenDatabaseFault:
    """The real Slack alerter, with ``fault`` done to PostgreSQL right after Slack took the ``at``-th message."""

    name = "slack"

    def __init__(self, alerter: SlackAlerter, fault: Callable[[], None], at: int) -> None:
        self.alerter, self.fault, self.at, self.sent = alerter, fault, at, 0
        self.target = alerter.target

    def send(self, payload: Mapping[str, Any], target: str | None = None, **kwargs: Any) -> str:
        ref = self.alerter.send(payload, target, **kwargs)
        self.sent += 1
        if self.sent == self.at:
            self.fault()
        return ref


@pytest.mark.postgres
def test_a_run_cut_by_a_postgresql_restart_reports_it_in_one_line_and_the_next_run_finishes_once(
    postgres: PrivatePostgres, pg_engine: Engine, pg_desk: Desk, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    desk = pg_desk
    (tmp_path / "kulak.toml").write_text('[[brands]]\nname = "Kuzey Telekom"\n', encoding="utf-8")
    app = bootstrap(
        load_settings(tmp_path / "kulak.toml", env={}),
        engine=pg_engine,
        sources=[],
        alerters=[desk.alerter],
        ops_alerters=[],
        helpdesks=[],
        mailers=[],
        analyzer=RestartingAnalyzer(postgres, at=BATCH + 10),  # in the second batch a stage drains
    )
    with desk.uow:
        desk.uow.mentions.add_many(complaints(BATCH + 30))
        desk.uow.commit()
    caplog.set_level(logging.INFO)
    first = run_once(app)
    assert not first.ok and first.failed_jobs == ["stage:analyze"]
    failed = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failed) == 1 and failed[0].getMessage().startswith("job stage:analyze failed: StoreError: ")
    assert all(r.exc_info is None for r in failed)  # one line, no traceback
    assert "terminating connection" in failed[0].getMessage()
    assert "kesinti" not in caplog.text and "[SQL" not in caplog.text  # no statement, no mention text
    # the first batch was kept and went on; the cut one was rolled back whole
    assert first.routed["tickets_opened"] == BATCH and first.delivered["sent"] == BATCH
    second = run_once(app)  # the same engine after the restart: its pool pre-pings
    assert second.ok and second.analyzed["analyzed"] == 30 and second.delivered == {"sent": 30}
    assert sorted(on_wire(desk.slack).values()) == [1] * (BATCH + 30)
    with desk.uow:
        assert desk.uow.mentions.count_by_status() == {"routed": BATCH + 30}


@pytest.mark.postgres
def test_postgresql_restarted_between_sending_and_recording_is_reconnected_and_posts_nothing_twice(
    postgres: PrivatePostgres, pg_desk: Desk
) -> None:
    desk = pg_desk
    desk.take(*complaints(8))
    restarting = SlackThenDatabaseFault(desk.alerter, postgres.restart, at=3)
    # the pooled connections died with the restart; the pool's pre-ping swaps them before they are used
    assert deliver_pending(desk.uow, {"slack": restarting}, ops=[desk.ops]) == {"sent": 8}
    assert sorted(on_wire(desk.slack).values()) == [1] * 8


@pytest.mark.postgres
def test_postgresql_down_after_slack_took_an_alert_fails_the_pass_and_the_next_finds_it_instead_of_reposting(
    postgres: PrivatePostgres, pg_desk: Desk
) -> None:
    desk = pg_desk
    desk.take(*complaints(8))
    start = datetime.now(UTC)
    stopping = SlackThenDatabaseFault(desk.alerter, postgres.down, at=3)
    try:
        with pytest.raises(StoreError, match="database unavailable") as caught:
            deliver_pending(desk.uow, {"slack": stopping}, ops=[desk.ops], now=start)  # recording the third fails
    finally:
        postgres.up()
    assert "[SQL" not in str(caught.value) and len(desk.slack.posted()) == 3
    with desk.uow:
        assert desk.uow.deliveries.count_by_status() == {"sent": 2, "pending": 6}
    # the rest of the cut batch is still this worker's; once its lease is up the next pass looks before posting
    assert desk.deliver(at=start + timedelta(seconds=60)) == {"sent": 3}  # the batch after it was never claimed
    later = start + timedelta(seconds=LEASE + 1)
    assert desk.deliver(at=later) == {"recovered": 1, "sent": 2}
    assert sorted(on_wire(desk.slack).values()) == [1] * 8
    with desk.uow:
        assert desk.uow.deliveries.count_by_status() == {"sent": 8}
        assert desk.uow.mentions.count_by_status() == {MentionStatus.ROUTED.value: 8}
