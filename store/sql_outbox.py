"""SQLAlchemy repositories for the outbox (one row per message to send, sent at most once) and for feedback."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from store import repository as repo
from store.errors import StoreError
from store.locks import gone, worker_id
from store.model import Delivery, DeliveryStatus, Feedback
from store.sql_base import dialect_insert, insert_ignoring, read
from store.tables import DeliveryRow, FeedbackRow, utcnow

NOT_HELD = (DeliveryStatus.PENDING.value, DeliveryStatus.SENT.value, DeliveryStatus.FAILED.value)
# Look-ups routing makes for every new case, built once (SQLAlchemy memoises a statement object's cache key) and
# run as Core: plain rows, no ORM objects.
_DELIVERIES = cast(Table, DeliveryRow.__table__)
_ALERTS_OF = (
    select(_DELIVERIES)
    .where(_DELIVERIES.c.ticket_id == bindparam("ticket_id"), _DELIVERIES.c.kind == "alert")
    .order_by(_DELIVERIES.c.id)
)
_LAST_IN_GROUP = (
    select(_DELIVERIES)
    .where(
        _DELIVERIES.c.channel == bindparam("channel"),
        _DELIVERIES.c.target == bindparam("target"),
        _DELIVERIES.c.group_key == bindparam("group_key"),
        _DELIVERIES.c.created_at >= bindparam("since"),
        _DELIVERIES.c.kind == "alert",
        _DELIVERIES.c.status.in_(NOT_HELD),
    )
    .order_by(_DELIVERIES.c.created_at.desc(), _DELIVERIES.c.id.desc())
    .limit(1)
)
_ALERTS_SINCE = select(func.count()).where(
    _DELIVERIES.c.channel == bindparam("channel"),
    _DELIVERIES.c.target == bindparam("target"),
    _DELIVERIES.c.kind == "alert",
    _DELIVERIES.c.created_at >= bindparam("since"),
    _DELIVERIES.c.status.in_(NOT_HELD),
)
_COUNT_CHILDREN = select(func.count()).where(
    _DELIVERIES.c.parent_key == bindparam("parent_key"), _DELIVERIES.c.kind == bindparam("kind")
)


def _to_delivery(row: Any) -> Delivery:
    """A delivery from a ``DeliveryRow`` or a Core row of its table."""
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
        kind=row.kind,
        parent_key=row.parent_key,
        group_key=row.group_key,
    )


def _values(delivery: Delivery) -> dict[str, Any]:
    """A new outbox row's columns."""
    return {
        "key": delivery.key,
        "channel": delivery.channel,
        "target": delivery.target,
        "ticket_id": delivery.ticket_id,
        "payload": dict(delivery.payload),
        "status": delivery.status.value,
        "attempts": 0,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at or utcnow(),
        "kind": delivery.kind,
        "parent_key": delivery.parent_key,
        "group_key": delivery.group_key,
    }


_HELD: dict[str, Any] = {}  # by dialect: the INSERT of held-back rows, built once


class SqlAlchemyDeliveryRepository(repo.DeliveryRepository):
    def __init__(self, session: Session) -> None:
        self.session = session
        # Updates queued to be written together (not alerts, which routing reads back): every method but the
        # look-ups of alerts writes them first.
        self._later: list[dict[str, Any]] = []

    def enqueue(self, delivery: Delivery) -> bool:
        self.write_later()  # what was held back came first
        return insert_ignoring(self.session, DeliveryRow, _values(delivery), ["key"]) is not None

    def enqueue_later(self, delivery: Delivery) -> None:
        if delivery.kind == "alert":
            self.enqueue(delivery)
        else:
            self._later.append(_values(delivery))

    def write_later(self) -> None:
        if self._later:
            rows, self._later = self._later, []
            self.session.flush()
            dialect = self.session.get_bind().dialect.name
            stmt = _HELD.get(dialect)
            if stmt is None:
                stmt = dialect_insert(dialect, DeliveryRow).on_conflict_do_nothing(index_elements=["key"])
                _HELD[dialect] = stmt
            self.session.connection().execute(stmt, rows)  # one executemany; a row already queued is left as it is

    def drop_later(self) -> None:
        self._later = []

    def pending(self, limit: int = 100, max_attempts: int = 5, now: datetime | None = None) -> list[Delivery]:
        self.write_later()
        stmt = (
            select(DeliveryRow)
            .where(
                DeliveryRow.status == DeliveryStatus.PENDING.value,
                DeliveryRow.attempts < max_attempts,
                or_(DeliveryRow.next_attempt_at.is_(None), DeliveryRow.next_attempt_at <= (now or utcnow())),
            )
            .order_by(DeliveryRow.id)
            .limit(limit)
        )
        return [_to_delivery(r) for r in self.session.scalars(stmt)]

    def get(self, key: str) -> Delivery | None:
        self.write_later()
        row = self.session.scalar(select(DeliveryRow).where(DeliveryRow.key == key))
        return _to_delivery(row) if row is not None else None

    def _row(self, delivery_id: int) -> DeliveryRow:
        row = self.session.get(DeliveryRow, delivery_id)
        if row is None:
            raise StoreError(f"no delivery with id {delivery_id}")
        return row

    def claim_due(
        self, limit: int, max_attempts: int, now: datetime, lease_until: datetime
    ) -> list[tuple[Delivery, datetime | None]]:
        self.write_later()
        stmt = (
            select(DeliveryRow)
            .where(
                DeliveryRow.status == DeliveryStatus.PENDING.value,
                DeliveryRow.attempts < max_attempts,
                or_(DeliveryRow.next_attempt_at.is_(None), DeliveryRow.next_attempt_at <= now),
            )
            .order_by(DeliveryRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite callers take the deliver lock instead
        )
        self._recover_leases(now)
        claimed = []
        for row in self.session.scalars(stmt):
            earlier = row.claimed_at
            claimed.append((_to_delivery(row), earlier))
            # keep the first attempt's time: a check for an earlier send looks from there
            row.claimed_at = earlier or now
            row.next_attempt_at = lease_until
            row.claimed_by = worker_id()
        return claimed

    def _recover_leases(self, now: datetime) -> None:
        """Free the leases of this machine's workers that died holding them (a killed run), without waiting for
        them to run out."""
        me = worker_id()
        host = me.rpartition(":")[0]
        stmt = (
            select(DeliveryRow)
            .where(
                DeliveryRow.status == DeliveryStatus.PENDING.value,
                DeliveryRow.claimed_by.like(f"{host}:%"),
                DeliveryRow.claimed_by != me,
                DeliveryRow.next_attempt_at > now,
            )
            .with_for_update(skip_locked=True)
        )
        for row in self.session.scalars(stmt):
            if row.claimed_by is not None and gone(row.claimed_by):
                row.next_attempt_at, row.claimed_by = None, None

    def release(self, delivery_ids: Sequence[int]) -> None:
        self.write_later()
        if delivery_ids:
            self.session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_(list(delivery_ids)), DeliveryRow.status == DeliveryStatus.PENDING.value)
                .values(next_attempt_at=None, claimed_by=None)
            )

    def mark_sent(self, delivery_id: int, external_ref: str) -> None:
        self.write_later()
        row = self._row(delivery_id)
        row.status = DeliveryStatus.SENT.value
        row.external_ref = external_ref
        row.sent_at = utcnow()
        row.last_error = None
        row.claimed_at = row.claimed_by = None
        row.attempts += 1

    def mark_failed(
        self, delivery_id: int, error: str, *, final: bool, retry_at: datetime | None = None, max_attempts: int = 5
    ) -> Delivery:
        self.write_later()
        row = self._row(delivery_id)
        row.attempts += 1
        row.last_error = error[:2000]
        # claimed_at stays: a timeout or a dropped connection may have come after the far side took the message
        row.next_attempt_at, row.claimed_by = retry_at, None
        if final or row.attempts >= max_attempts:
            row.status = DeliveryStatus.FAILED.value
        return _to_delivery(row)

    def put_back(self, delivery_id: int, until: datetime, earlier: datetime | None, error: str | None = None) -> None:
        self.write_later()
        row = self._row(delivery_id)
        row.next_attempt_at, row.claimed_by, row.claimed_at = until, None, earlier
        if error is not None:
            row.last_error = error[:2000]

    def alerts_of(self, ticket_id: int) -> list[Delivery]:
        return [_to_delivery(r) for r in read(self.session, _ALERTS_OF, {"ticket_id": ticket_id})]

    def last_in_group(self, channel: str, target: str, group_key: str, since: datetime) -> Delivery | None:
        values = {"channel": channel, "target": target, "group_key": group_key, "since": since}
        row = read(self.session, _LAST_IN_GROUP, values).first()
        return _to_delivery(row) if row is not None else None

    def count_children(self, parent_key: str, kind: str) -> int:
        self.write_later()
        return int(read(self.session, _COUNT_CHILDREN, {"parent_key": parent_key, "kind": kind}).scalar() or 0)

    def by_channel(self) -> dict[tuple[str, str], int]:
        self.write_later()
        rows = self.session.execute(
            select(DeliveryRow.channel, DeliveryRow.status, func.count()).group_by(
                DeliveryRow.channel, DeliveryRow.status
            )
        )
        return {(channel, status): int(n) for channel, status, n in rows}

    def oldest_pending(self) -> datetime | None:
        self.write_later()
        stmt = select(func.min(DeliveryRow.created_at)).where(DeliveryRow.status == DeliveryStatus.PENDING.value)
        return self.session.scalar(stmt)

    def alerts_since(self, channel: str, target: str, since: datetime) -> int:
        values = {"channel": channel, "target": target, "since": since}
        return int(read(self.session, _ALERTS_SINCE, values).scalar() or 0)

    def count_by_status(self) -> dict[str, int]:
        self.write_later()
        rows = self.session.execute(select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status))
        return {status: int(n) for status, n in rows}


class SqlAlchemyFeedbackRepository(repo.FeedbackRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, feedback: Feedback, ticket_id: int | None = None) -> None:
        self.session.add(
            FeedbackRow(
                mention_id=feedback.mention_id,
                ticket_id=ticket_id,
                field=feedback.field,
                old_label=feedback.old_label,
                new_label=feedback.new_label[:100],
                author=feedback.author[:200],
                created_at=feedback.created_at or utcnow(),
            )
        )
        self.session.flush()

    def listed(self, field: str | None = None, limit: int = 100_000) -> list[Feedback]:
        stmt = select(FeedbackRow).order_by(FeedbackRow.id).limit(limit)
        if field is not None:
            stmt = stmt.where(FeedbackRow.field == field)
        return [
            Feedback(r.mention_id, r.field, r.new_label, r.author, r.old_label, r.created_at)
            for r in self.session.scalars(stmt)
        ]
