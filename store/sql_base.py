"""Dialect-aware INSERT ... ON CONFLICT DO NOTHING, the heart of idempotent writes, and database errors fit for logs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import CursorResult
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from store.errors import StoreError

T = TypeVar("T")
CHUNK = 500  # ids in one IN (...) list, rows in one multi-row INSERT


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``, in order: an IN list or a multi-row INSERT a database takes."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


_IGNORING: dict[tuple[str, type[Any], tuple[str, ...], bool], Any] = {}


def dialect_insert(dialect: str, row_type: type[Any]) -> Any:
    """An INSERT into ``row_type``'s table that knows ON CONFLICT on this dialect (PostgreSQL or SQLite)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(row_type.__table__)


def _ignoring(dialect: str, row_type: type[Any], keys: tuple[str, ...], whole: bool) -> Any:
    # One statement object per shape, values bound at execution: SQLAlchemy memoises its cache key on the object,
    # where building ``.values(...)`` anew for every row cost more than the database's work (route, match stages).
    stmt = _IGNORING.get((dialect, row_type, keys, whole))
    if stmt is None:
        table = row_type.__table__
        stmt = dialect_insert(dialect, row_type).on_conflict_do_nothing(index_elements=list(keys))
        stmt = stmt.returning(*table.c) if whole else stmt.returning(table.c.id)
        _IGNORING[(dialect, row_type, keys, whole)] = stmt
    return stmt


def read(session: Session, stmt: Any, params: dict[str, Any]) -> CursorResult[Any]:
    """Run a SELECT of a table's columns (built once) on the session's connection, after flushing what the session
    holds back. Routing's look-ups ran in half the time as plain rows rather than ORM objects."""
    session.flush()
    return session.connection().execute(stmt, params)


def expire(session: Session, row_type: type[Any], row_id: int) -> None:
    """After a Core UPDATE of one row: the session's object for it, if it holds one, is read afresh when next used."""
    held = session.identity_map.get(session.identity_key(row_type, row_id))
    if held is not None:
        session.expire(held)


def _insert_ignoring(
    session: Session, row_type: type[Any], values: dict[str, Any], keys: list[str], whole: bool
) -> Any:
    stmt = _ignoring(session.get_bind().dialect.name, row_type, tuple(keys), whole)
    try:
        session.flush()  # a Core statement (the ORM's bulk path cost more than the insert): pending rows go first
        return session.connection().execute(stmt, values).first()
    except SQLAlchemyError as exc:
        raise StoreError(f"could not write to {row_type.__tablename__}: {short_error(exc)}") from exc


def insert_ignoring(session: Session, row_type: type[Any], values: dict[str, Any], keys: list[str]) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING; returns the new id, or None when the row already existed."""
    row = _insert_ignoring(session, row_type, values, keys, whole=False)
    return int(row[0]) if row is not None else None


def insert_ignoring_row(session: Session, row_type: type[Any], values: dict[str, Any], keys: list[str]) -> Any:
    """``insert_ignoring`` that returns the new row whole (every column, as the database filled them in), or None
    when the row already existed: what the caller would otherwise read back in a second statement."""
    return _insert_ignoring(session, row_type, values, keys, whole=True)


def insert_many_ignoring(
    session: Session, row_type: type[Any], rows: list[dict[str, Any]], keys: list[str]
) -> list[int]:
    """One multi-row INSERT ... ON CONFLICT DO NOTHING; returns the ids of the rows that were new."""
    if not rows:
        return []
    # executemany with RETURNING: SQLAlchemy batches it into multi-row INSERTs from one cached compilation
    stmt = dialect_insert(session.get_bind().dialect.name, row_type).on_conflict_do_nothing(index_elements=keys)
    stmt = stmt.returning(row_type.__table__.c.id)
    try:
        return [int(i) for i in session.connection().execute(stmt, rows).scalars()]
    except SQLAlchemyError as exc:
        raise StoreError(f"could not write to {row_type.__tablename__}: {short_error(exc)}") from exc


def short_error(exc: SQLAlchemyError) -> str:
    """The driver's first line about ``exc``, without SQLAlchemy's statement and parameters (which may hold a
    mention's text or a customer's name, and must not reach a log)."""
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines() or [""]
    return f"{type(orig if orig is not None else exc).__name__}: {lines[0].split(' [SQL: ')[0]}"
