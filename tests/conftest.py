"""Fixtures shared by every test layer: a fresh database on SQLite and, when available, on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from store import db

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
POSTGRES_URL = os.environ.get("KULAK_TEST_POSTGRES_URL")
NO_POSTGRES = (
    "PostgreSQL leg skipped: KULAK_TEST_POSTGRES_URL is not set "
    "(CI starts a server with .ci/postgres.sh; do the same locally to run it)"
)


def throwaway_database(kind: str, tmp: Path, prefix: str = "kulak_test") -> Iterator[str]:
    """A new, empty database's URL: a SQLite file in ``tmp``, or a PostgreSQL database dropped afterwards (the
    caller is skipped when no PostgreSQL is configured)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'kulak.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database: a SQLite file, or a throwaway PostgreSQL database dropped afterwards."""
    yield from throwaway_database(request.param, tmp_path)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a migrated, empty database."""
    eng = db.make_engine(database_url)
    db.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(autouse=True)
def fresh_robots_cache() -> Iterator[None]:
    """Each test starts with no robots.txt remembered: stand-ins come and go on ports that get reused."""
    from crawlers.robots import CACHE

    CACHE.clear()
    yield
    CACHE.clear()
