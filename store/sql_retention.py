"""SQLAlchemy repository for KVKK retention: empty or delete, a batch at a time, what is past its keeping time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, cast, delete, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from store import repository as repo
from store.model import DeliveryStatus, TicketStatus
from store.tables import (
    AnalysisRow,
    CaseEventRow,
    CaseMentionRow,
    DeliveryRow,
    FeedbackRow,
    FingerprintBandRow,
    FingerprintRow,
    MentionRow,
    TicketRow,
)

EMPTY_JSON = "{}"  # how an empty payload is stored (json.dumps of {}) on SQLite and PostgreSQL alike
CLOSED = TicketStatus.CLOSED.value
FINISHED = (DeliveryStatus.SENT.value, DeliveryStatus.FAILED.value)
WAITING = (DeliveryStatus.PENDING.value, DeliveryStatus.DEFERRED.value)
NO_SYNC = {"synchronize_session": False}  # no purged row is loaded in the session: nothing to keep in step


def _closed_before(cutoff: datetime) -> ColumnElement[bool]:
    return (TicketRow.status == CLOSED) & (TicketRow.closed_at < cutoff)


def _has_payload() -> ColumnElement[bool]:
    return cast(MentionRow.payload, Text) != EMPTY_JSON


def _has_text() -> ColumnElement[bool]:
    """Something a text purge empties or deletes is still there: what makes a second purge find nothing."""
    return or_(
        MentionRow.text != "",
        MentionRow.title != "",
        MentionRow.author != "",
        MentionRow.author_handle != "",
        MentionRow.url != "",
        _has_payload(),
        exists().where(FingerprintRow.mention_id == MentionRow.id),
        exists().where(FingerprintBandRow.mention_id == MentionRow.id),
    )


def _in_kept_case(cutoff: datetime) -> ColumnElement[bool]:
    """The mention opened or joined a case that is not closed, or was closed after ``cutoff``."""
    kept = or_(TicketRow.status != CLOSED, TicketRow.closed_at.is_(None), TicketRow.closed_at >= cutoff)
    joined = (
        select(CaseMentionRow.id)
        .join(TicketRow, TicketRow.id == CaseMentionRow.ticket_id)
        .where(CaseMentionRow.mention_id == MentionRow.id, kept)
    )
    opened = select(TicketRow.id).where(TicketRow.mention_id == MentionRow.id, kept)
    return exists(joined) | exists(opened)


class SqlAlchemyRetentionRepository(repo.RetentionRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def raw_payloads(self, cutoff: datetime, batch: int, after_id: int = 0) -> repo.Purged:
        ids = self._take(
            select(MentionRow.id).where(MentionRow.fetched_at < cutoff, _has_payload()), MentionRow.id, batch, after_id
        )
        if ids:
            self.session.execute(
                update(MentionRow).where(MentionRow.id.in_(ids)).values(payload={}).execution_options(**NO_SYNC)
            )
        return _purged(ids)

    def mention_texts(self, cutoff: datetime, batch: int, after_id: int = 0) -> repo.Purged:
        stmt = select(MentionRow.id).where(MentionRow.fetched_at < cutoff, _has_text(), ~_in_kept_case(cutoff))
        ids = self._take(stmt, MentionRow.id, batch, after_id)
        if not ids:
            return _purged(ids)
        blank = {"text": "", "title": "", "author": "", "author_handle": "", "url": "", "payload": {}}
        self.session.execute(
            update(MentionRow).where(MentionRow.id.in_(ids)).values(**blank).execution_options(**NO_SYNC)
        )
        for analysis in self.session.scalars(select(AnalysisRow).where(AnalysisRow.mention_id.in_(ids))):
            if analysis.data.get("masked_text"):
                analysis.data = {**analysis.data, "masked_text": ""}
        self._delete(delete(FingerprintBandRow).where(FingerprintBandRow.mention_id.in_(ids)))
        self._delete(delete(FingerprintRow).where(FingerprintRow.mention_id.in_(ids)))
        # A closed case's summary is the masked text of the mention that opened it: it goes with that text.
        self.session.execute(
            update(TicketRow)
            .where(TicketRow.mention_id.in_(ids), TicketRow.summary != "")
            .values(summary="")
            .execution_options(**NO_SYNC)
        )
        self.session.flush()
        return _purged(ids)

    def closed_cases(self, cutoff: datetime, batch: int, after_id: int = 0) -> repo.Purged:
        ids = self._take(select(TicketRow.id).where(_closed_before(cutoff)), TicketRow.id, batch, after_id)
        if not ids:
            return _purged(ids)
        self._delete(delete(DeliveryRow).where(DeliveryRow.ticket_id.in_(ids)))
        self._delete(delete(CaseEventRow).where(CaseEventRow.ticket_id.in_(ids)))
        self._delete(delete(CaseMentionRow).where(CaseMentionRow.ticket_id.in_(ids)))
        # Agents' corrections stay for retraining; they only stop pointing at the case.
        self.session.execute(
            update(FeedbackRow)
            .where(FeedbackRow.ticket_id.in_(ids))
            .values(ticket_id=None)
            .execution_options(**NO_SYNC)
        )
        self._delete(delete(TicketRow).where(TicketRow.id.in_(ids)))
        return _purged(ids)

    def deliveries(self, cutoff: datetime, batch: int, after_id: int = 0) -> repo.Purged:
        child = aliased(DeliveryRow)
        # A change still waiting to go out is sent against its parent's message: the parent must stay.
        parent_of_waiting = exists().where(child.parent_key == DeliveryRow.key, child.status.in_(WAITING))
        done_with = select(TicketRow.id).where(_closed_before(cutoff))
        stmt = select(DeliveryRow.id).where(
            DeliveryRow.status.in_(FINISHED),
            DeliveryRow.created_at < cutoff,
            or_(DeliveryRow.ticket_id.is_(None), DeliveryRow.ticket_id.in_(done_with)),
            ~parent_of_waiting,
        )
        ids = self._take(stmt, DeliveryRow.id, batch, after_id)
        if ids:
            self._delete(delete(DeliveryRow).where(DeliveryRow.id.in_(ids)))
        return _purged(ids)

    def _take(self, stmt: Select[Any], id_column: Any, batch: int, after_id: int) -> list[int]:
        """The next ``batch`` ids, locked; rows another purger holds are skipped (PostgreSQL; SQLite has one
        writer at a time and leaves the clause out)."""
        stmt = stmt.where(id_column > after_id).order_by(id_column).limit(batch).with_for_update(skip_locked=True)
        return [int(i) for i in self.session.scalars(stmt)]

    def _delete(self, stmt: Any) -> None:
        self.session.execute(stmt.execution_options(**NO_SYNC))


def _purged(ids: Sequence[int]) -> repo.Purged:
    return repo.Purged(len(ids), ids[0], ids[-1]) if ids else repo.Purged()
