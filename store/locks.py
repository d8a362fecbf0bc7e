"""One pipeline run at a time per database: a file lock beside a SQLite file, an advisory lock on PostgreSQL.

Both are released by the operating system or the server when the holder dies (a killed cron run leaves no
stale lock behind): ``flock`` goes with the process's file descriptor, an advisory lock with its connection.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from store.errors import LockHeld, StoreError

# pg_try_advisory_lock takes one bigint; this one is "kulak run" in ASCII, unlikely to meet another app's key.
ADVISORY_KEY = 0x6B756C616B72756E


class RunLock:
    """``with RunLock(engine):`` holds the database's run lock or raises :class:`LockHeld` at once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._file: IO[str] | None = None
        self._conn: Connection | None = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def acquire(self) -> None:
        backend = self.engine.url.get_backend_name()
        if backend == "sqlite":
            self._lock_file()
        elif backend == "postgresql":
            self._lock_advisory()
        # other databases: no lock (Kulak supports SQLite and PostgreSQL)

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):  # closing the connection releases it all the same
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            self._conn.close()
            self._conn = None

    def _lock_file(self) -> None:
        database = self.engine.url.database
        if not database or database == ":memory:":
            return  # an in-memory database belongs to this process alone
        path = Path(f"{database}.lock")
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise LockHeld(f"another run holds {path.name} ({holder})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
        handle.flush()
        self._file = handle

    def _lock_advisory(self) -> None:
        try:
            conn = self.engine.connect()
            got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar()
            conn.commit()
        except SQLAlchemyError as exc:
            raise StoreError(f"could not ask for the run lock: {exc}") from exc
        if not got:
            conn.close()
            raise LockHeld("another run holds the database's advisory run lock")
        self._conn = conn
