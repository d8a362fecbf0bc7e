"""The run lock: one pipeline run at a time per database, and a killed holder leaves nothing stale behind."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from sqlalchemy import Engine

from store.errors import LockHeld
from store.locks import RunLock

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
