"""SQLAlchemy implementations of the repositories and the unit of work (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from store import repository as repo
from store.errors import StoreError
from store.model import (
    Analysis,
    Brand,
    CrawlState,
    Customer,
    CustomerMatch,
    Delivery,
    DeliveryStatus,
    Mention,
    MentionStatus,
    RawMention,
    Ticket,
    TicketStatus,
)
from store.tables import (
    AnalysisRow,
    AuditRow,
    BrandRow,
    CrawlStateRow,
    CustomerHandleRow,
    CustomerMatchRow,
    CustomerRow,
    DeliveryRow,
    MentionBrandRow,
    MentionRow,
    TicketRow,
    utcnow,
)


def _insert_ignoring(session: Session, row_type: type[Any], values: dict[str, Any], keys: list[str]) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING; returns the new id, or None when the row already existed."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(row_type).values(**values).on_conflict_do_nothing(index_elements=keys).returning(row_type.id)
    try:
        new_id = session.execute(stmt).scalar_one_or_none()
    except SQLAlchemyError as exc:
        raise StoreError(f"could not write to {row_type.__tablename__}: {exc}") from exc
    return int(new_id) if new_id is not None else None


def _insert_many_ignoring(
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
        raise StoreError(f"could not write to {row_type.__tablename__}: {exc}") from exc


def _mention_values(raw: RawMention) -> dict[str, Any]:
    return {
        "source": raw.source,
        "external_id": raw.external_id,
        "brand": raw.brand,
        "url": raw.url,
        "title": raw.title,
        "author": raw.author,
        "author_handle": raw.author_handle,
        "text": raw.text,
        "language": raw.language,
        "published_at": raw.published_at,
        "fetched_at": raw.fetched_at,
        "payload": dict(raw.payload),
        "content_hash": raw.content_hash,
        "status": MentionStatus.NEW.value,
        "updated_at": utcnow(),
    }


def _to_mention(row: MentionRow) -> Mention:
    raw = RawMention(
        source=row.source,
        external_id=row.external_id,
        url=row.url,
        text=row.text,
        fetched_at=row.fetched_at,
        title=row.title,
        brand=row.brand,
        author=row.author,
        author_handle=row.author_handle,
        language=row.language,
        published_at=row.published_at,
        payload=row.payload,
    )
    return Mention(id=row.id, status=MentionStatus(row.status), raw=raw, error=row.error)


class SqlAlchemyMentionRepository(repo.MentionRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_many(self, raws: Iterable[RawMention]) -> repo.AddResult:
        rows = [_mention_values(raw) for raw in raws]
        added = len(_insert_many_ignoring(self.session, MentionRow, rows, ["source", "external_id"]))
        return repo.AddResult(added, len(rows) - added)

    def get(self, mention_id: int) -> Mention:
        row = self.session.get(MentionRow, mention_id)
        if row is None:
            raise StoreError(f"no mention with id {mention_id}")
        return _to_mention(row)

    def with_status(self, status: MentionStatus, limit: int = 500) -> list[Mention]:
        stmt = select(MentionRow).where(MentionRow.status == status.value).order_by(MentionRow.id).limit(limit)
        return [_to_mention(r) for r in self.session.scalars(stmt)]

    def set_status(self, mention_id: int, status: MentionStatus, error: str | None = None) -> None:
        self.session.execute(
            update(MentionRow)
            .where(MentionRow.id == mention_id)
            .values(status=status.value, error=error, updated_at=utcnow())
        )

    def count_by_status(self) -> dict[str, int]:
        rows = self.session.execute(select(MentionRow.status, func.count()).group_by(MentionRow.status))
        return {status: int(n) for status, n in rows}


class SqlAlchemyAnalysisRepository(repo.AnalysisRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, mention_id: int, analysis: Analysis) -> bool:
        values = {
            "mention_id": mention_id,
            "analyzer": analysis.analyzer,
            "lang": analysis.lang,
            "sentiment": analysis.sentiment.label,
            "sentiment_score": analysis.sentiment.score,
            "intent": analysis.intent.label,
            "urgency": analysis.urgency.level,
            "data": analysis.to_json(),
            "created_at": utcnow(),
        }
        if _insert_ignoring(self.session, AnalysisRow, values, ["mention_id"]) is None:
            return False
        for brand in analysis.brands:
            _insert_ignoring(self.session, MentionBrandRow, {"mention_id": mention_id, "brand": brand},
                             ["mention_id", "brand"])
        return True

    def get(self, mention_id: int) -> Analysis | None:
        row = self.session.scalar(select(AnalysisRow).where(AnalysisRow.mention_id == mention_id))
        return Analysis.from_json(row.data) if row else None


class SqlAlchemyCustomerRepository(repo.CustomerRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def _to_customer(self, row: CustomerRow) -> Customer:
        handles = self.session.scalars(
            select(CustomerHandleRow.handle).where(CustomerHandleRow.customer_id == row.id).order_by(
                CustomerHandleRow.id)
        )
        return Customer(external_id=row.external_id, name=row.name, email=row.email, phone=row.phone,
                        handles=tuple(handles), segment=row.segment, id=row.id)

    def upsert(self, customer: Customer) -> Customer:
        row = self.session.scalar(select(CustomerRow).where(CustomerRow.external_id == customer.external_id))
        if row is None:
            row = CustomerRow(external_id=customer.external_id)
            self.session.add(row)
        row.name, row.email, row.phone, row.segment = customer.name, customer.email, customer.phone, customer.segment
        row.updated_at = utcnow()
        self.session.flush()
        wanted = {h.casefold() for h in customer.handles}
        for existing in self.session.scalars(select(CustomerHandleRow).where(CustomerHandleRow.customer_id == row.id)):
            if existing.handle in wanted:
                wanted.discard(existing.handle)
            else:
                self.session.delete(existing)
        self.session.flush()
        for handle in sorted(wanted):
            owner = self.session.scalar(select(CustomerHandleRow).where(CustomerHandleRow.handle == handle))
            if owner is not None:
                raise StoreError(f"handle {handle} already belongs to another customer (id {owner.customer_id})")
            self.session.add(CustomerHandleRow(customer_id=row.id, handle=handle))
        self.session.flush()
        return self._to_customer(row)

    def get(self, customer_id: int) -> Customer | None:
        row = self.session.get(CustomerRow, customer_id)
        return self._to_customer(row) if row else None

    def by_handle(self, handle: str) -> Customer | None:
        link = self.session.scalar(select(CustomerHandleRow).where(CustomerHandleRow.handle == handle.casefold()))
        return self.get(link.customer_id) if link else None

    def by_contact(self, *, email: str | None = None, phone: str | None = None) -> Customer | None:
        if email:
            row = self.session.scalar(select(CustomerRow).where(func.lower(CustomerRow.email) == email.lower()))
            if row:
                return self._to_customer(row)
        if phone:
            row = self.session.scalar(select(CustomerRow).where(CustomerRow.phone == phone))
            if row:
                return self._to_customer(row)
        return None


class SqlAlchemyMatchRepository(repo.MatchRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, match: CustomerMatch) -> bool:
        values = {**asdict(match), "created_at": utcnow()}
        return _insert_ignoring(self.session, CustomerMatchRow, values, ["mention_id"]) is not None

    def get(self, mention_id: int) -> CustomerMatch | None:
        row = self.session.scalar(select(CustomerMatchRow).where(CustomerMatchRow.mention_id == mention_id))
        if row is None:
            return None
        return CustomerMatch(row.mention_id, row.customer_id, row.method, row.confidence)


def _to_ticket(row: TicketRow) -> Ticket:
    return Ticket(mention_id=row.mention_id, brand=row.brand, priority=row.priority, unit=row.unit,
                  summary=row.summary, customer_id=row.customer_id, status=TicketStatus(row.status), id=row.id,
                  created_at=row.created_at)


class SqlAlchemyTicketRepository(repo.TicketRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def open(self, ticket: Ticket) -> tuple[Ticket, bool]:
        now = utcnow()
        values = {"mention_id": ticket.mention_id, "brand": ticket.brand, "customer_id": ticket.customer_id,
                  "priority": ticket.priority, "unit": ticket.unit, "status": ticket.status.value,
                  "summary": ticket.summary, "created_at": now, "updated_at": now}
        new_id = _insert_ignoring(self.session, TicketRow, values, ["mention_id"])
        row = self.session.scalar(select(TicketRow).where(TicketRow.mention_id == ticket.mention_id))
        assert row is not None  # just inserted or already there
        return _to_ticket(row), new_id is not None

    def get(self, ticket_id: int) -> Ticket:
        row = self.session.get(TicketRow, ticket_id)
        if row is None:
            raise StoreError(f"no ticket with id {ticket_id}")
        return _to_ticket(row)

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(TicketRow)) or 0)

    def listed(self, limit: int = 100) -> list[Ticket]:
        return [_to_ticket(r) for r in self.session.scalars(select(TicketRow).order_by(TicketRow.id).limit(limit))]


def _to_delivery(row: DeliveryRow) -> Delivery:
    return Delivery(key=row.key, channel=row.channel, target=row.target, payload=row.payload, ticket_id=row.ticket_id,
                    status=DeliveryStatus(row.status), attempts=row.attempts, last_error=row.last_error,
                    external_ref=row.external_ref, id=row.id, created_at=row.created_at, sent_at=row.sent_at)


class SqlAlchemyDeliveryRepository(repo.DeliveryRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(self, delivery: Delivery) -> bool:
        values = {"key": delivery.key, "channel": delivery.channel, "target": delivery.target,
                  "ticket_id": delivery.ticket_id, "payload": dict(delivery.payload),
                  "status": DeliveryStatus.PENDING.value, "attempts": 0, "created_at": utcnow()}
        return _insert_ignoring(self.session, DeliveryRow, values, ["key"]) is not None

    def pending(self, limit: int = 100, max_attempts: int = 5) -> list[Delivery]:
        stmt = (select(DeliveryRow).where(DeliveryRow.status == DeliveryStatus.PENDING.value,
                                          DeliveryRow.attempts < max_attempts)
                .order_by(DeliveryRow.id).limit(limit))
        return [_to_delivery(r) for r in self.session.scalars(stmt)]

    def mark_sent(self, delivery_id: int, external_ref: str) -> None:
        self.session.execute(update(DeliveryRow).where(DeliveryRow.id == delivery_id).values(
            status=DeliveryStatus.SENT.value, external_ref=external_ref, sent_at=utcnow(), last_error=None,
            attempts=DeliveryRow.attempts + 1))

    def mark_failed(self, delivery_id: int, error: str, *, final: bool, max_attempts: int = 5) -> None:
        row = self.session.get(DeliveryRow, delivery_id)
        if row is None:
            raise StoreError(f"no delivery with id {delivery_id}")
        row.attempts += 1
        row.last_error = error[:2000]
        if final or row.attempts >= max_attempts:
            row.status = DeliveryStatus.FAILED.value

    def count_by_status(self) -> dict[str, int]:
        rows = self.session.execute(select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status))
        return {status: int(n) for status, n in rows}


class SqlAlchemyCrawlStateRepository(repo.CrawlStateRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, source: str, brand: str) -> CrawlState | None:
        row = self.session.scalar(select(CrawlStateRow).where(CrawlStateRow.source == source,
                                                              CrawlStateRow.brand == brand))
        if row is None:
            return None
        return CrawlState(source=row.source, brand=row.brand, cursor=row.cursor, last_seen_id=row.last_seen_id,
                          last_seen_at=row.last_seen_at, etag=row.etag, last_modified=row.last_modified,
                          updated_at=row.updated_at)

    def save(self, state: CrawlState) -> None:
        row = self.session.scalar(select(CrawlStateRow).where(CrawlStateRow.source == state.source,
                                                              CrawlStateRow.brand == state.brand))
        if row is None:
            row = CrawlStateRow(source=state.source, brand=state.brand)
            self.session.add(row)
        row.cursor, row.last_seen_id, row.last_seen_at = state.cursor, state.last_seen_id, state.last_seen_at
        row.etag, row.last_modified, row.updated_at = state.etag, state.last_modified, utcnow()


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


class SqlAlchemyAuditLog(repo.AuditLog):
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, actor: str, action: str, subject: str = "", **detail: Any) -> None:
        self.session.add(AuditRow(actor=actor, action=action, subject=subject, detail=detail, at=utcnow()))


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
        self.tickets = SqlAlchemyTicketRepository(s)
        self.deliveries = SqlAlchemyDeliveryRepository(s)
        self.crawl_state = SqlAlchemyCrawlStateRepository(s)
        self.brands = SqlAlchemyBrandRepository(s)
        self.audit = SqlAlchemyAuditLog(s)
        return self

    def __exit__(self, *args: Any) -> None:
        try:
            super().__exit__(*args)
        finally:
            if self.session is not None:
                self.session.close()
                self.session = None

    def commit(self) -> None:
        assert self.session is not None, "commit outside `with uow:`"
        try:
            self.session.commit()
        except SQLAlchemyError as exc:
            self.session.rollback()
            raise StoreError(f"could not save: {exc}") from exc

    def rollback(self) -> None:
        if self.session is not None:
            self.session.rollback()
