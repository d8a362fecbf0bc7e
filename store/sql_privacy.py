"""SQLAlchemy repository for KVKK erasure: delete what names a person, keep only hashes that stop a comeback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import CursorResult, delete, func, or_, select, update
from sqlalchemy.orm import Session

from store import repository as repo
from store.model import Erasure, Mention
from store.sql_base import chunked, insert_ignoring
from store.sql_counts import add as add_counts
from store.sql_counts import shares
from store.sql_mentions import mention_tombstone, to_mention
from store.tables import (
    AnalysisRow,
    CaseEventRow,
    CaseMentionRow,
    CustomerIdentifierRow,
    CustomerMatchRow,
    CustomerRow,
    DeliveryRow,
    FeedbackRow,
    FingerprintBandRow,
    FingerprintRow,
    MentionBrandRow,
    MentionRow,
    TicketRow,
    TombstoneRow,
    utcnow,
)


class SqlAlchemyPrivacyRepository(repo.PrivacyRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def scan_mentions(self, after_id: int = 0, limit: int = 1000) -> list[Mention]:
        stmt = select(MentionRow).where(MentionRow.id > after_id).order_by(MentionRow.id).limit(limit)
        return [to_mention(r) for r in self.session.scalars(stmt)]

    def mentions_by_author(self, author_handle: str, source: str | None = None) -> list[int]:
        handle = author_handle.strip().lstrip("@").casefold()
        if not handle:
            return []
        column = func.lower(MentionRow.author_handle)
        stmt = select(MentionRow.id).where(or_(column == handle, column == "@" + handle))
        if source is not None:
            stmt = stmt.where(MentionRow.source == source)
        return list(self.session.scalars(stmt.order_by(MentionRow.id)))

    def matched_mentions(self, customer_id: int) -> list[int]:
        stmt = select(CustomerMatchRow.mention_id).where(CustomerMatchRow.customer_id == customer_id).distinct()
        return sorted(self.session.scalars(stmt))

    def erase(
        self, *, mention_ids: Sequence[int], customer_id: int | None = None, identifier_hashes: Sequence[str] = ()
    ) -> Erasure:
        ids = sorted(set(mention_ids))
        tickets: set[int] = set()
        for chunk in chunked(ids):
            tickets.update(self.session.scalars(select(TicketRow.id).where(TicketRow.mention_id.in_(chunk))))
        if customer_id is not None:
            tickets.update(self.session.scalars(select(TicketRow.id).where(TicketRow.customer_id == customer_id)))
        deliveries = 0
        for chunk in chunked(sorted(tickets)):
            deliveries += self._delete(delete(DeliveryRow).where(DeliveryRow.ticket_id.in_(chunk)))
            self._delete(delete(CaseEventRow).where(CaseEventRow.ticket_id.in_(chunk)))
            self._delete(delete(CaseMentionRow).where(CaseMentionRow.ticket_id.in_(chunk)))
            self._delete(delete(TicketRow).where(TicketRow.id.in_(chunk)))
        for chunk in chunked(ids):
            # The mentions' share of the hourly counts goes before they do: the rows say what that share was.
            add_counts(self.session, {key: -n for key, n in shares(self.session, chunk).items()})
            for row in self.session.execute(
                select(MentionRow.source, MentionRow.external_id).where(MentionRow.id.in_(chunk))
            ):
                self.tombstone("mention", mention_tombstone(row.source, row.external_id))
            self.session.execute(
                update(FingerprintRow).where(FingerprintRow.duplicate_of.in_(chunk)).values(duplicate_of=None)
            )
            for table in (
                AnalysisRow,
                MentionBrandRow,
                CustomerMatchRow,
                FingerprintBandRow,
                FingerprintRow,
                CaseMentionRow,
                FeedbackRow,
            ):
                self._delete(delete(table).where(table.mention_id.in_(chunk)))
            self._delete(delete(MentionRow).where(MentionRow.id.in_(chunk)))
        identifiers = customers = 0
        for hashes in chunked(identifier_hashes):
            identifiers += self._delete(delete(CustomerIdentifierRow).where(CustomerIdentifierRow.hash.in_(hashes)))
        if customer_id is not None:
            identifiers += self._delete(
                delete(CustomerIdentifierRow).where(CustomerIdentifierRow.customer_id == customer_id)
            )
            self._delete(delete(CustomerMatchRow).where(CustomerMatchRow.customer_id == customer_id))
            customers = self._delete(delete(CustomerRow).where(CustomerRow.id == customer_id))
        self.session.flush()
        return Erasure(
            customers=customers, identifiers=identifiers, mentions=len(ids), tickets=len(tickets), deliveries=deliveries
        )

    def tombstone(self, kind: str, hash_: str) -> None:
        values = {"kind": kind, "hash": hash_, "at": utcnow()}
        insert_ignoring(self.session, TombstoneRow, values, ["kind", "hash"])

    def is_tombstoned(self, kind: str, hash_: str) -> bool:
        stmt = select(TombstoneRow.id).where(TombstoneRow.kind == kind, TombstoneRow.hash == hash_)
        return self.session.scalar(stmt) is not None

    def _delete(self, stmt: Any) -> int:
        result: CursorResult[Any] = self.session.execute(stmt)  # type: ignore[assignment]
        return int(result.rowcount or 0)
