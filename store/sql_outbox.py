"""SQLAlchemy repositories for the care side: customers, matches, tickets and the outbox."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from store import repository as repo
from store.errors import StoreError
from store.model import (
    Customer,
    CustomerMatch,
    Delivery,
    DeliveryStatus,
    Ticket,
    TicketStatus,
)
from store.sql_base import insert_ignoring
from store.tables import (
    CustomerHandleRow,
    CustomerMatchRow,
    CustomerRow,
    DeliveryRow,
    TicketRow,
    utcnow,
)


class SqlAlchemyCustomerRepository(repo.CustomerRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def _to_customer(self, row: CustomerRow) -> Customer:
        handles = self.session.scalars(
            select(CustomerHandleRow.handle)
            .where(CustomerHandleRow.customer_id == row.id)
            .order_by(CustomerHandleRow.id)
        )
        return Customer(
            external_id=row.external_id,
            name=row.name,
            email=row.email,
            phone=row.phone,
            handles=tuple(handles),
            segment=row.segment,
            id=row.id,
        )

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
        return insert_ignoring(self.session, CustomerMatchRow, values, ["mention_id"]) is not None

    def get(self, mention_id: int) -> CustomerMatch | None:
        row = self.session.scalar(select(CustomerMatchRow).where(CustomerMatchRow.mention_id == mention_id))
        if row is None:
            return None
        return CustomerMatch(row.mention_id, row.customer_id, row.method, row.confidence)


def _to_ticket(row: TicketRow) -> Ticket:
    return Ticket(
        mention_id=row.mention_id,
        brand=row.brand,
        priority=row.priority,
        unit=row.unit,
        summary=row.summary,
        customer_id=row.customer_id,
        status=TicketStatus(row.status),
        id=row.id,
        created_at=row.created_at,
    )


class SqlAlchemyTicketRepository(repo.TicketRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def open(self, ticket: Ticket) -> tuple[Ticket, bool]:
        now = utcnow()
        values = {
            "mention_id": ticket.mention_id,
            "brand": ticket.brand,
            "customer_id": ticket.customer_id,
            "priority": ticket.priority,
            "unit": ticket.unit,
            "status": ticket.status.value,
            "summary": ticket.summary,
            "created_at": now,
            "updated_at": now,
        }
        new_id = insert_ignoring(self.session, TicketRow, values, ["mention_id"])
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
    return Delivery(
        key=row.key,
        channel=row.channel,
        target=row.target,
        payload=row.payload,
        ticket_id=row.ticket_id,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        last_error=row.last_error,
        external_ref=row.external_ref,
        id=row.id,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


class SqlAlchemyDeliveryRepository(repo.DeliveryRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(self, delivery: Delivery) -> bool:
        values = {
            "key": delivery.key,
            "channel": delivery.channel,
            "target": delivery.target,
            "ticket_id": delivery.ticket_id,
            "payload": dict(delivery.payload),
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "created_at": utcnow(),
        }
        return insert_ignoring(self.session, DeliveryRow, values, ["key"]) is not None

    def pending(self, limit: int = 100, max_attempts: int = 5) -> list[Delivery]:
        stmt = (
            select(DeliveryRow)
            .where(DeliveryRow.status == DeliveryStatus.PENDING.value, DeliveryRow.attempts < max_attempts)
            .order_by(DeliveryRow.id)
            .limit(limit)
        )
        return [_to_delivery(r) for r in self.session.scalars(stmt)]

    def mark_sent(self, delivery_id: int, external_ref: str) -> None:
        self.session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id == delivery_id)
            .values(
                status=DeliveryStatus.SENT.value,
                external_ref=external_ref,
                sent_at=utcnow(),
                last_error=None,
                attempts=DeliveryRow.attempts + 1,
            )
        )

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
