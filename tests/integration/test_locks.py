"""The run lock: one pipeline run at a time per database, and a killed holder leaves nothing stale behind."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import Engine

from store.errors import LockHeld
from store.locks import NamedLock, RunLock

HOLD = """
import sys, time
from store import db
from store.locks import RunLock
lock = RunLock(db.make_engine(sys.argv[1]))
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_holder_is_refused_until_the_first_lets_go(engine: Engine) -> None:
    first, second = RunLock(engine), RunLock(engine)
    with first, pytest.raises(LockHeld, match="another run holds"):
        second.acquire()
    with second:  # released on the way out of the first block
        pass


def test_a_killed_holder_leaves_no_stale_lock(engine: Engine, database_url: str) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, database_url], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld) as caught:
            RunLock(engine).acquire()
        if engine.url.get_backend_name() == "sqlite":
            assert f"pid {holder.pid}" in str(caught.value)  # the lock file says who holds it
    finally:
        holder.kill()  # SIGKILL: no clean-up code runs in the holder
        holder.wait()
    deadline = time.monotonic() + 10  # the server notices the dropped connection within moments
    while True:
        try:
            with RunLock(engine):
                break
        except LockHeld:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_taking_over_the_lock_of_a_killed_holder_is_logged(
    engine: Engine, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, database_url], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    with caplog.at_level("WARNING", logger="store.locks"), RunLock(engine):
        pass
    assert f"pid {holder.pid}" in caplog.text and "taken over" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="store.locks"), RunLock(engine):  # let go properly last time: no news
        pass
    assert not caplog.text


def test_named_locks_are_apart_from_each_other_and_from_threads_of_one_process(engine: Engine) -> None:
    crawl_a, crawl_b = NamedLock(engine, "crawl:x:Mavi Kargo"), NamedLock(engine, "crawl:x:Kuzey Telekom")
    with crawl_a, crawl_b:  # different names do not block each other
        with pytest.raises(LockHeld):
            NamedLock(engine, "crawl:x:Mavi Kargo").acquire()  # the same name does, even in this very process
        with RunLock(engine):
            pass


def test_a_waiting_lock_gets_it_once_the_holder_lets_go(engine: Engine) -> None:
    first = NamedLock(engine, "stage:deliver")
    first.acquire()
    timer = threading.Timer(0.3, first.release)
    timer.start()
    started = time.monotonic()
    with NamedLock(engine, "stage:deliver", wait=10):
        assert time.monotonic() - started >= 0.25
    timer.join()
    with pytest.raises(LockHeld), NamedLock(engine, "stage:deliver", wait=0.1), NamedLock(engine, "stage:deliver"):
        pass
