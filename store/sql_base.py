"""Dialect-aware INSERT ... ON CONFLICT DO NOTHING, the heart of idempotent writes, and database errors fit for logs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from store.errors import StoreError


def insert_ignoring(session: Session, row_type: type[Any], values: dict[str, Any], keys: list[str]) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING; returns the new id, or None when the row already existed."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(row_type).values(**values).on_conflict_do_nothing(index_elements=keys).returning(row_type.id)
    try:
        new_id = session.execute(stmt).scalar_one_or_none()
    except SQLAlchemyError as exc:
        raise StoreError(f"could not write to {row_type.__tablename__}: {short_error(exc)}") from exc
    return int(new_id) if new_id is not None else None


def insert_many_ignoring(
    session: Session, row_type: type[Any], rows: list[dict[str, Any]], keys: list[str]
) -> list[int]:
    """One multi-row INSERT ... ON CONFLICT DO NOTHING; returns the ids of the rows that were new."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # executemany with RETURNING: SQLAlchemy batches it into multi-row INSERTs from one cached compilation
    stmt = insert(row_type.__table__).on_conflict_do_nothing(index_elements=keys).returning(row_type.__table__.c.id)
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
