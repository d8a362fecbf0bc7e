"""Engines for SQLite (WAL, foreign keys on) and PostgreSQL, and the Alembic upgrade that runs on start."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from store.errors import ConfigError, MigrationError, StoreError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL, foreign keys and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            "not a database URL (expected e.g. postgresql+psycopg://user@host/kulak)", key="KULAK_DATABASE_URL"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # The driver's own transaction handling is off so that every transaction starts with BEGIN IMMEDIATE: a
        # transaction that reads and then writes (a stage's batch) would otherwise fail outright, not wait, when
        # another connection (a crawl thread, a cron run) wrote in between.
        engine = create_engine(url, connect_args={"timeout": 30, "isolation_level": None})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except (ImportError, SQLAlchemyError) as exc:
        raise StoreError(f"cannot use database {parsed.render_as_string(hide_password=True)}: {exc}") from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # A 32 MB page cache (the default is 2 MB) keeps more of the near-duplicate band index in memory, and
    # checkpointing the log every 256 MB rather than 4 MB writes a page that many batches changed once (each
    # mention's index keys land on random pages). The matching stage ran about a tenth faster each, on top of
    # a 50,000-mention store (measured with 85 keys a mention, before migration 0013). After a checkpoint the log
    # is cut back to 64 MB.
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.execute("PRAGMA wal_autocheckpoint=65536")
    cursor.execute("PRAGMA journal_size_limit=67108864")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def safe_url(engine: Engine) -> str:
    """The engine's URL with any password hidden, fit for logs."""
    return engine.url.render_as_string(hide_password=True)


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision``; safe to call on every start, by several workers starting at once (one
    migrates, the others wait for it and then find nothing to do)."""
    from alembic import command

    from store.locks import NamedLock

    try:
        with NamedLock(engine, "migrate", wait=300):
            command.upgrade(_alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        raise MigrationError(f"migration failed on {safe_url(engine)}: {exc}") from exc


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            rev = MigrationContext.configure(conn).get_current_revision()
            return str(rev) if rev else None
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the schema version from {safe_url(engine)}: {exc}") from exc


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(create_engine("sqlite://"))
    return str(ScriptDirectory.from_config(cfg).get_current_head())


def pending(engine: Engine) -> bool:
    """True when the database is behind the code's schema."""
    return current_revision(engine) != head_revision()


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
