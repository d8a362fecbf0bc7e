"""SQLAlchemy repository for the outbox: one row per message to send, sent at most once."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from store import repository as repo
from store.errors import StoreError
from store.model import Delivery, DeliveryStatus
from store.sql_base import insert_ignoring
from store.tables import DeliveryRow, utcnow


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
