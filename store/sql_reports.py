"""SQL aggregates behind digests and `kulak stats`: counts grouped in the database, never mentions loaded one by one.

Mention counts over whole hours come from the stored hourly counts (store/sql_counts.py); only the part-hours at
the ends of a period are counted from the mentions, so a year costs about as much as a day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from store.errors import InputError
from store.model import PRIORITIES, DeliveryStatus, TicketStatus
from store.reports import AGE_BUCKETS, MENTION_DIMENSIONS, CaseFigures, HeldDelivery, OpenCase, ReportRepository
from store.sql_counts import hour_of, whole_hours
from store.tables import (
    AnalysisRow,
    DeliveryRow,
    MentionBrandRow,
    MentionCountRow,
    MentionRow,
    MentionTopicRow,
    TicketRow,
)

#: A mention's moment in reports: when it was published, else when it was fetched; copied onto each of its brand
#: rows, so that one brand's period is a range of the (brand, at) index.
moment = MentionBrandRow.at
ACTIVE = tuple(s.value for s in TicketStatus if s.active)
_DIMENSIONS: dict[str, Any] = {
    "source": MentionRow.source,
    "sentiment": AnalysisRow.sentiment,
    "intent": AnalysisRow.intent,
    "language": AnalysisRow.lang,
    "urgency": AnalysisRow.urgency,
    "topic": MentionTopicRow.topic,
}


def _brand_mentions(brand: str, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return [MentionBrandRow.brand == brand, moment >= start, moment < end]


def _pieces(start: datetime, end: datetime) -> list[tuple[datetime, datetime, bool]]:
    """``[start, end)`` cut into its whole UTC hours, read from the stored counts (True), and the part-hours at
    either end, counted from the mentions themselves (False)."""
    hours = whole_hours(start, end)
    if hours is None:
        return [(start, end, False)] if start < end else []
    first, last = hours
    pieces = [(start, first, False)] if start < first else []
    pieces.append((first, last, True))
    return pieces + ([(last, end, False)] if last < end else [])


def _elapsed(session: Session, earlier: Any, later: Any) -> Any:
    """Seconds from ``earlier`` to ``later``, worked out by the database: a year of cases is a hundred thousand
    pairs, and turning each into two aware datetimes in Python cost more than the query."""
    seconds: ColumnElement[Any]
    if session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", later - earlier)
    else:  # SQLite keeps times as ISO text in UTC
        seconds = (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return cast(seconds, Float)


class SqlAlchemyReportRepository(ReportRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _counted(*columns: Any) -> Any:
        # Brand rows are written with their analysis and erased with it: a count needs no join, and reads the
        # (brand, at) index alone.
        return select(*columns).select_from(MentionBrandRow)

    def listening_since(self) -> datetime | None:
        found: datetime | None = self.session.scalar(select(func.min(MentionRow.fetched_at)))
        return found

    def mentions_by(self, brand: str, start: datetime, end: datetime, by: str) -> dict[str, int]:
        if by not in _DIMENSIONS:
            raise InputError(f"cannot count mentions by {by!r}; expected one of {', '.join(MENTION_DIMENSIONS)}")
        found: Counter[str] = Counter()
        for lo, hi, counted in _pieces(start, end):
            found.update(self._summed(by, [brand], lo, hi) if counted else self._rows_by(brand, lo, hi, by))
        return {value: n for value, n in found.items() if n}

    def _rows_by(self, brand: str, start: datetime, end: datetime, by: str) -> dict[str, int]:
        # One join, to the table holding the dimension: each extra join costs a look-up per mention of the period.
        column = _DIMENSIONS[by]
        table = column.class_
        key = MentionRow.id if table is MentionRow else table.mention_id
        stmt = self._counted(column, func.count()).join(table, key == MentionBrandRow.mention_id)
        stmt = stmt.where(*_brand_mentions(brand, start, end)).group_by(column)
        return {str(value): int(n) for value, n in self.session.execute(stmt)}

    def _summed(
        self, dimension: str, brands: Sequence[str], start: datetime, end: datetime, *, by_brand: bool = False
    ) -> dict[str, int]:
        """Stored hourly counts of ``dimension`` over whole hours, per value (or per brand)."""
        group = MentionCountRow.brand if by_brand else MentionCountRow.value
        stmt = (
            select(group, func.sum(MentionCountRow.n))
            .where(
                MentionCountRow.brand.in_(list(brands)),
                MentionCountRow.dimension == dimension,
                MentionCountRow.hour >= start,
                MentionCountRow.hour < end,
            )
            .group_by(group)
        )
        return {str(value): int(n or 0) for value, n in self.session.execute(stmt)}

    def mention_total(self, brand: str, start: datetime, end: datetime) -> int:
        return self.volumes([brand], start, end)[brand]

    def volumes(self, brands: Sequence[str], start: datetime, end: datetime) -> dict[str, int]:
        found: Counter[str] = Counter()
        for lo, hi, counted in _pieces(start, end):
            if counted:
                found.update(self._summed("total", brands, lo, hi, by_brand=True))
                continue
            stmt = (
                self._counted(MentionBrandRow.brand, func.count())
                .where(MentionBrandRow.brand.in_(list(brands)), moment >= lo, moment < hi)
                .group_by(MentionBrandRow.brand)
            )
            found.update({str(b): int(n) for b, n in self.session.execute(stmt)})
        return {b: found.get(b, 0) for b in brands}

    def timeline(self, brand: str, edges: Sequence[datetime]) -> list[int]:
        if len(edges) < 2:
            return []
        if all(hour_of(edge) == edge for edge in edges):  # whole hours (every zone a whole number of hours off UTC)
            at, stmt = MentionCountRow.hour, select().select_from(MentionCountRow)
            where = [MentionCountRow.brand == brand, MentionCountRow.dimension == "total"]
            count: Any = MentionCountRow.n
        else:
            at, stmt = moment, self._counted()
            where, count = [MentionBrandRow.brand == brand], 1
        buckets = [func.sum(case((and_(at >= lo, at < hi), count), else_=0)) for lo, hi in pairwise(edges)]
        stmt = stmt.add_columns(*buckets).where(*where, at >= edges[0], at < edges[-1])
        row = self.session.execute(stmt).one()
        return [int(n or 0) for n in row]

    def cases(self, brand: str, start: datetime, end: datetime, now: datetime) -> CaseFigures:
        due_by = min(end, now)  # a target still ahead is not missed yet
        late = or_(TicketRow.responded_at.is_(None), TicketRow.responded_at > TicketRow.respond_by)
        # three counts, each a range of its own (brand, time) index, rather than one pass over the brand's cases
        counted = [
            (TicketRow.created_at, end, []),
            (TicketRow.resolved_at, end, []),
            (TicketRow.respond_by, due_by, [late]),
        ]
        opened, resolved, breached = (
            self.session.scalar(
                select(func.count()).where(TicketRow.brand == brand, column >= start, column < until, *more)
            )
            or 0
            for column, until, more in counted
        )
        return CaseFigures(int(opened), int(resolved), int(breached))

    def response_seconds(self, brand: str, start: datetime, end: datetime) -> list[float]:
        return self._seconds(brand, TicketRow.responded_at, start, end)

    def resolution_seconds(self, brand: str, start: datetime, end: datetime) -> list[float]:
        return self._seconds(brand, TicketRow.resolved_at, start, end)

    def _seconds(self, brand: str, until: Any, start: datetime, end: datetime) -> list[float]:
        """Seconds from opening to ``until`` of the brand's cases that reached it in ``[start, end)``, sorted."""
        stmt = select(_elapsed(self.session, TicketRow.created_at, until)).where(
            TicketRow.brand == brand, until >= start, until < end
        )
        return sorted(max(0.0, round(s, 3)) for s in self.session.scalars(stmt))  # SQLite's day fractions

    def open_by_age(self, brand: str, at: datetime) -> dict[str, int]:
        columns, lower = [], None
        for _, hours in AGE_BUCKETS:
            wanted: list[ColumnElement[bool]] = []
            if lower is not None:
                wanted.append(TicketRow.created_at <= at - timedelta(hours=lower))
            if hours is not None:
                wanted.append(TicketRow.created_at > at - timedelta(hours=hours))
            columns.append(func.sum(case((and_(*wanted), 1), else_=0)))
            lower = hours
        stmt = select(*columns).where(
            TicketRow.brand == brand,
            TicketRow.created_at < at,
            or_(TicketRow.resolved_at.is_(None), TicketRow.resolved_at >= at),
            or_(TicketRow.closed_at.is_(None), TicketRow.closed_at >= at),
        )
        row = self.session.execute(stmt).one()
        return {label: int(n or 0) for (label, _), n in zip(AGE_BUCKETS, row, strict=True)}

    def resolved_complaints(
        self, brand: str, start: datetime, end: datetime, sources: Sequence[str]
    ) -> tuple[int, int]:
        resolved = total = 0
        for lo, hi, counted in _pieces(start, end):
            if counted:
                resolved += sum(n for s, n in self._summed("resolved", [brand], lo, hi).items() if s in sources)
                total += sum(n for s, n in self._summed("source", [brand], lo, hi).items() if s in sources)
                continue
            solved = MentionRow.site_resolved.is_(True)
            stmt = (
                self._counted(func.sum(case((solved, 1), else_=0)), func.count())
                .join(MentionRow, MentionRow.id == MentionBrandRow.mention_id)
                .where(*_brand_mentions(brand, lo, hi), MentionRow.source.in_(list(sources)))
            )
            part_resolved, part_total = self.session.execute(stmt).one()
            resolved, total = resolved + int(part_resolved or 0), total + int(part_total or 0)
        return resolved, total

    def urgent_open(self, brand: str, limit: int) -> list[OpenCase]:
        rank = case({p: i for i, p in enumerate(reversed(PRIORITIES))}, value=TicketRow.priority, else_=len(PRIORITIES))
        stmt = (
            select(TicketRow, MentionRow.url, MentionRow.source)
            .join(MentionRow, MentionRow.id == TicketRow.mention_id)
            .where(TicketRow.brand == brand, TicketRow.status.in_(ACTIVE))
            .order_by(rank, TicketRow.respond_by.is_(None), TicketRow.respond_by, TicketRow.created_at, TicketRow.id)
            .limit(limit)
        )
        return [
            OpenCase(t.id, t.priority, t.status, t.summary, url, source, t.created_at, t.respond_by, t.assignee)
            for t, url, source in self.session.execute(stmt)
        ]

    def handled_by_agent(self, brand: str, start: datetime, end: datetime) -> dict[str, int]:
        answered = and_(TicketRow.responded_at >= start, TicketRow.responded_at < end)
        resolved = and_(TicketRow.resolved_at >= start, TicketRow.resolved_at < end)
        stmt = (
            select(TicketRow.assignee, func.count())
            .where(TicketRow.brand == brand, TicketRow.assignee != "", or_(answered, resolved))
            .group_by(TicketRow.assignee)
        )
        return {str(who): int(n) for who, n in self.session.execute(stmt)}

    def held_alerts(self, brand: str, start: datetime, end: datetime) -> list[HeldDelivery]:
        stmt = (
            select(TicketRow.id, TicketRow.priority, TicketRow.summary, DeliveryRow.created_at)
            .join(TicketRow, TicketRow.id == DeliveryRow.ticket_id)
            .where(
                TicketRow.brand == brand,
                DeliveryRow.kind == "alert",
                DeliveryRow.status == DeliveryStatus.DEFERRED.value,
                DeliveryRow.created_at >= start,
                DeliveryRow.created_at < end,
            )
            .order_by(DeliveryRow.created_at, DeliveryRow.id)
        )
        return [HeldDelivery(int(i), p, s, at) for i, p, s, at in self.session.execute(stmt)]
