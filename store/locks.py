"""Named locks across processes and machines: a file lock beside a SQLite file, an advisory lock on PostgreSQL.

``RunLock`` keeps two cron runs apart; ``NamedLock("crawl:x:Brand")`` gives one source+brand crawl (or one stage)
to one process at a time. Both are released by the operating system or the server when the holder dies, so a
killed run leaves no stale lock behind: ``flock`` goes with the process's file descriptor, an advisory lock with
its connection (whose server-side keepalive is shortened, so even a machine that vanished lets go in about a
minute).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from store.errors import LockHeld, StoreError

log = logging.getLogger(__name__)
RUN = "run"
# The run lock's advisory key predates named locks: "kulak run" in ASCII, unlikely to meet another app's key.
ADVISORY_KEY = 0x6B756C616B72756E
# Server-side keepalive on a lock's connection: the lock of a machine that dropped off the network is let go.
KEEPALIVE = ("SET tcp_keepalives_idle = 20", "SET tcp_keepalives_interval = 5", "SET tcp_keepalives_count = 4")


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (Python's hash() differs between processes)."""
    if name == RUN:
        return ADVISORY_KEY
    digest = hashlib.sha256(f"kulak:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_path(database: str, name: str) -> Path:
    """The lock file of ``name`` beside a SQLite file: ``kulak.db.lock`` for runs, ``kulak.db.locks/<name>``."""
    if name == RUN:
        return Path(f"{database}.lock")
    slug = re.sub(r"[^0-9A-Za-z._-]+", "-", name).strip("-")[:80]
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]  # names differing only in punctuation stay apart
    return Path(f"{database}.locks") / f"{slug}-{digest}.lock"


class NamedLock:
    """``with NamedLock(engine, name):`` holds the lock or raises :class:`LockHeld` (after ``wait`` seconds)."""

    def __init__(self, engine: Engine, name: str, *, wait: float = 0.0) -> None:
        self.engine = engine
        self.name = name
        self.wait = wait
        self._file: IO[str] | None = None
        self._conn: Connection | None = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    @property
    def held(self) -> bool:
        return self._file is not None or self._conn is not None

    def acquire(self) -> None:
        deadline = time.monotonic() + self.wait
        while True:
            try:
                self._try()
                return
            except LockHeld:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    def _try(self) -> None:
        backend = self.engine.url.get_backend_name()
        if backend == "sqlite":
            self._lock_file()
        elif backend == "postgresql":
            self._lock_advisory()
        # other databases: no lock (Kulak supports SQLite and PostgreSQL)

    def release(self) -> None:
        if self._file is not None:
            self._file.truncate(0)  # a holder that lets go leaves no name behind: one that is named was killed
            self._file.flush()
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):  # closing the connection releases it all the same
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": advisory_key(self.name)})
            self._conn.close()
            self._conn = None

    def _lock_file(self) -> None:
        database = self.engine.url.database
        if not database or database == ":memory:":
            return  # an in-memory database belongs to this process alone
        path = lock_path(database, self.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise LockHeld(f"another run holds {path.name} ({holder})") from None
        handle.seek(0)
        _note_stale(self.name, handle.read().strip())
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
        handle.flush()
        self._file = handle

    def _lock_advisory(self) -> None:
        try:
            conn = self.engine.connect()
            for statement in KEEPALIVE:
                conn.execute(text(statement))
            got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": advisory_key(self.name)}).scalar()
            conn.commit()
        except SQLAlchemyError as exc:
            raise StoreError(f"could not ask for the lock {self.name!r}: {exc}") from exc
        if not got:
            conn.close()
            raise LockHeld(f"another run holds the database's advisory lock {self.name!r}")
        self._conn = conn


class RunLock(NamedLock):
    """One `kulak run --once` at a time per database."""

    def __init__(self, engine: Engine, *, wait: float = 0.0) -> None:
        super().__init__(engine, RUN, wait=wait)


def worker_id() -> str:
    """This process as "host:pid": what a lease or a lock file names as its holder."""
    return f"{socket.gethostname()}:{os.getpid()}"


def gone(holder: str) -> bool:
    """Whether ``holder`` ("host:pid") is a process of this machine that no longer runs (other machines' processes
    cannot be looked at from here: their leases run out instead)."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _note_stale(name: str, previous: str) -> None:
    """Say so when the last holder of a lock on this machine died holding it (a killed run): it is taken over."""
    found = re.match(r"pid (\d+) on (\S+)", previous)
    if found is None or found.group(2) != socket.gethostname() or int(found.group(1)) == os.getpid():
        return
    try:
        os.kill(int(found.group(1)), 0)
    except ProcessLookupError:
        log.warning("lock %s: its last holder (%s) is gone without letting go; taken over", name, previous)
    except PermissionError:  # alive, but another user's; it let go of the lock all the same
        pass
