"""The SQLAlchemy unit of work (SQLite and PostgreSQL) and the repositories for reference data and audit."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from store import repository as repo
from store.errors import StoreError
from store.model import Brand, SourceRun
from store.sql_base import short_error
from store.sql_cases import SqlAlchemyTicketRepository
from store.sql_crisis import SqlAlchemyCrisisRepository
from store.sql_customers import SqlAlchemyCustomerRepository, SqlAlchemyMatchRepository
from store.sql_fingerprints import SqlAlchemyFingerprintRepository
from store.sql_mentions import SqlAlchemyAnalysisRepository, SqlAlchemyCrawlStateRepository, SqlAlchemyMentionRepository
from store.sql_outbox import SqlAlchemyDeliveryRepository, SqlAlchemyFeedbackRepository
from store.sql_privacy import SqlAlchemyPrivacyRepository
from store.sql_reports import SqlAlchemyReportRepository
from store.sql_retention import SqlAlchemyRetentionRepository
from store.tables import (
    AuditRow,
    BrandRow,
    SourceRow,
    SourceRunRow,
    utcnow,
)


class SqlAlchemyBrandRepository(repo.BrandRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def sync(self, brands: Sequence[Brand]) -> None:
        for brand in brands:
            row = self.session.scalar(select(BrandRow).where(BrandRow.name == brand.name))
            if row is None:
                row = BrandRow(name=brand.name)
                self.session.add(row)
            config = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(brand).items()}
            if row.config != config or row.competitor != brand.competitor:
                row.competitor, row.config, row.updated_at = brand.competitor, config, utcnow()


class SqlAlchemySourceRepository(repo.SourceRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def sync(self, enabled: Mapping[str, bool]) -> None:
        rows = {r.name: r for r in self.session.scalars(select(SourceRow))}
        for name, on in enabled.items():
            row = rows.get(name)
            if row is None:
                self.session.add(SourceRow(name=name, enabled=on, updated_at=utcnow()))
            elif row.enabled != on:
                row.enabled, row.updated_at = on, utcnow()


class SqlAlchemySourceRunRepository(repo.SourceRunRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, run: SourceRun) -> None:
        values = {k: v for k, v in asdict(run).items() if k != "id"}
        self.session.add(SourceRunRow(**values))

    def recent(self, source: str, limit: int = 20, brand: str | None = None) -> list[SourceRun]:
        wanted = [SourceRunRow.source == source] + ([SourceRunRow.brand == brand] if brand is not None else [])
        rows = self.session.scalars(
            select(SourceRunRow)
            .where(*wanted)
            .order_by(SourceRunRow.started_at.desc(), SourceRunRow.id.desc())
            .limit(limit)
        )
        return [
            SourceRun(**{k: getattr(row, k) for k in SourceRun.__dataclass_fields__ if k != "id"}, id=row.id)
            for row in rows
        ]

    def last_success(self) -> dict[str, datetime]:
        rows = self.session.execute(
            select(SourceRunRow.source, func.max(SourceRunRow.finished_at))
            .where(SourceRunRow.ok.is_(True))
            .group_by(SourceRunRow.source)
        )
        return {source: when for source, when in rows if when is not None}

    def last_new_at(self, source: str) -> datetime | None:
        return self.session.scalar(
            select(func.max(SourceRunRow.started_at)).where(SourceRunRow.source == source, SourceRunRow.new > 0)
        )

    def first_started(self, source: str) -> datetime | None:
        return self.session.scalar(select(func.min(SourceRunRow.started_at)).where(SourceRunRow.source == source))


class SqlAlchemyAuditLog(repo.AuditLog):
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, actor: str, action: str, subject: str = "", **detail: Any) -> None:
        self.session.add(AuditRow(actor=actor, action=action, subject=subject, detail=detail, at=utcnow()))

    def last(self, action: str, subject: str | None = None) -> dict[str, Any] | None:
        wanted = [AuditRow.action == action] + ([AuditRow.subject == subject] if subject is not None else [])
        stmt = select(AuditRow.detail).where(*wanted).order_by(AuditRow.id.desc()).limit(1)
        found = self.session.scalar(stmt)
        return dict(found) if found is not None else None


class SqlAlchemyUnitOfWork(repo.UnitOfWork):
    """A session per ``with`` block; database errors surface as StoreError."""

    def __init__(self, engine_or_factory: Engine | Callable[[], Session]) -> None:
        if isinstance(engine_or_factory, Engine):
            self._factory: Callable[[], Session] = sessionmaker(engine_or_factory, expire_on_commit=False)
        else:
            self._factory = engine_or_factory
        self.session: Session | None = None

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        s = self.session = self._factory()
        self.mentions = SqlAlchemyMentionRepository(s)
        self.analyses = SqlAlchemyAnalysisRepository(s)
        self.customers = SqlAlchemyCustomerRepository(s)
        self.matches = SqlAlchemyMatchRepository(s)
        self.fingerprints = SqlAlchemyFingerprintRepository(s)
        self.tickets = SqlAlchemyTicketRepository(s)
        self.deliveries = SqlAlchemyDeliveryRepository(s)
        self.feedback = SqlAlchemyFeedbackRepository(s)
        self.crawl_state = SqlAlchemyCrawlStateRepository(s)
        self.source_runs = SqlAlchemySourceRunRepository(s)
        self.brands = SqlAlchemyBrandRepository(s)
        self.sources = SqlAlchemySourceRepository(s)
        self.privacy = SqlAlchemyPrivacyRepository(s)
        self.retention = SqlAlchemyRetentionRepository(s)
        self.reports = SqlAlchemyReportRepository(s)
        self.crises = SqlAlchemyCrisisRepository(s)
        self.audit = SqlAlchemyAuditLog(s)
        return self

    def __exit__(self, *args: Any) -> None:
        try:
            super().__exit__(*args)
        except SQLAlchemyError:
            if not isinstance(args[1], SQLAlchemyError):
                raise
            # rolling back on a connection the database already dropped fails too: the first error is the story
        finally:
            if self.session is not None:
                self.session.close()
                self.session = None
        failed = args[1]
        if isinstance(failed, OperationalError | InterfaceError) or (
            isinstance(failed, DBAPIError) and failed.connection_invalidated
        ):
            # The database went away, restarted or stayed locked: the job fails with one line and the next run
            # (a fresh pooled connection, pre-pinged) redoes the unit of work that was rolled back.
            raise StoreError(f"database unavailable: {short_error(failed)}") from failed

    def commit(self) -> None:
        assert self.session is not None, "commit outside `with uow:`"
        try:
            self.tickets.write_events()
            self.deliveries.write_later()
            self.session.commit()
        except SQLAlchemyError as exc:
            self.session.rollback()
            raise StoreError(f"could not save: {short_error(exc)}") from exc

    def rollback(self) -> None:
        if self.session is not None:
            self.session.rollback()
            self.tickets.drop_events()
            self.deliveries.drop_later()
