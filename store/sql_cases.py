"""SQLAlchemy repository for cases: tickets, the mentions that joined them and their timelines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, insert, literal, or_, select, union_all, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from store import repository as repo
from store.errors import StoreError
from store.model import CaseEvent, Ticket, TicketStatus
from store.sql_base import chunked, expire, insert_ignoring, insert_ignoring_row, read, short_error
from store.tables import CaseEventRow, CaseMentionRow, MentionRow, TicketRow, utcnow


def _to_ticket(row: Any) -> Ticket:
    """A case from a ``TicketRow`` or a Core row of its table."""
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
        updated_at=row.updated_at,
        route=row.route,
        channel=row.channel,
        helpdesk=row.helpdesk,
        queue=row.queue,
        assignee=row.assignee,
        respond_by=row.respond_by,
        reply_by=row.reply_by,
        responded_at=row.responded_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
    )


ACTIVE = tuple(s.value for s in TicketStatus if s.active)
#: What ``update`` may change; the rest of a case is fixed when it opens.
CHANGEABLE = frozenset(
    {"status", "priority", "unit", "assignee", "customer_id", "responded_at", "resolved_at", "closed_at", "reply_by"}
)


# What routing asks for every mention, built once (SQLAlchemy memoises a statement object's cache key, and building
# these anew for each call cost more than running them) and run as Core: plain rows, no ORM objects.
_TICKETS = cast(Table, TicketRow.__table__)
_JOINED = cast(Table, CaseMentionRow.__table__)
_MENTION_ROWS = cast(Table, MentionRow.__table__)
_BY_MENTION = select(_TICKETS).where(_TICKETS.c.mention_id == bindparam("mention_id"))
_CASE_OF = (
    select(_TICKETS)
    .join(_JOINED, _JOINED.c.ticket_id == _TICKETS.c.id)
    .where(_JOINED.c.mention_id == bindparam("mention_id"))
)
_CASES_OF = (
    select(_TICKETS, _JOINED.c.mention_id.label("joined_mention_id"))
    .join(_JOINED, _JOINED.c.ticket_id == _TICKETS.c.id)
    .where(_JOINED.c.mention_id.in_(bindparam("ids", expanding=True)))
)
_ACTIVE_OF_CUSTOMERS = select(_TICKETS).where(
    _TICKETS.c.status.in_(ACTIVE), _TICKETS.c.customer_id.in_(bindparam("ids", expanding=True))
)
_ACTIVE_OF_AUTHORS = (
    select(_TICKETS, _MENTION_ROWS.c.source.label("by_source"), _MENTION_ROWS.c.author_handle.label("by_handle"))
    .join(_JOINED, _JOINED.c.ticket_id == _TICKETS.c.id)
    .join(_MENTION_ROWS, _MENTION_ROWS.c.id == _JOINED.c.mention_id)
    .where(
        _TICKETS.c.status.in_(ACTIVE),
        _MENTION_ROWS.c.source.in_(bindparam("sources", expanding=True)),
        _MENTION_ROWS.c.author_handle.in_(bindparam("handles", expanding=True)),
    )
)
_ACTIVE_SINCE = (_TICKETS.c.status.in_(ACTIVE), _TICKETS.c.updated_at >= bindparam("since"))
_LATEST = (_TICKETS.c.updated_at.desc(), _TICKETS.c.id.desc())
_OPEN_OF_CUSTOMER = (
    select(_TICKETS)
    .where(_TICKETS.c.customer_id == bindparam("customer_id"), *_ACTIVE_SINCE)
    .order_by(*_LATEST)
    .limit(1)
)
_OPEN_OF_AUTHOR = (
    select(_TICKETS)
    .join(_JOINED, _JOINED.c.ticket_id == _TICKETS.c.id)
    .join(_MENTION_ROWS, _MENTION_ROWS.c.id == _JOINED.c.mention_id)
    .where(
        _MENTION_ROWS.c.source == bindparam("source"), _MENTION_ROWS.c.author_handle == bindparam("handle"),
        *_ACTIVE_SINCE,
    )
    .order_by(*_LATEST)
    .limit(1)
)  # fmt: skip
# a case of the same author tied to someone else is not this customer's
_OPEN_OF_AUTHOR_FOR = _OPEN_OF_AUTHOR.where(
    or_(_TICKETS.c.customer_id.is_(None), _TICKETS.c.customer_id == bindparam("customer_id"))
)


def _first_of(customer: Any, author: Any) -> Any:
    """The customer's case, else the author's, in one statement (two one after the other cost routing a round
    trip for most mentions of a known customer): each query keeps its own order and limit."""
    parts = [q.add_columns(literal(rank).label("rank")).subquery() for rank, q in enumerate((customer, author))]
    both = union_all(*(select(part) for part in parts)).subquery()
    return select(*(both.c[c.name] for c in _TICKETS.c), both.c.rank).order_by(both.c.rank).limit(1)


_OPEN_OF_CUSTOMER_OR_AUTHOR = _first_of(_OPEN_OF_CUSTOMER, _OPEN_OF_AUTHOR_FOR)
_TOUCH = update(_TICKETS).where(_TICKETS.c.id == bindparam("b_id")).values(updated_at=bindparam("b_at"))
_SET_CUSTOMER = _TOUCH.values(customer_id=bindparam("b_customer"))
_MENTIONS_OF = (
    select(CaseMentionRow.mention_id, CaseMentionRow.reason)
    .where(CaseMentionRow.ticket_id == bindparam("ticket_id"))
    .order_by(CaseMentionRow.id)
)
_ADD_CASE_MENTION = insert(_JOINED)
_OPENED_COLUMNS = (
    "mention_id", "brand", "customer_id", "priority", "unit", "status", "summary", "created_at", "updated_at", "route",
    "channel", "helpdesk", "queue", "assignee", "respond_by", "reply_by",
)  # fmt: skip


def _open_and_join_pg() -> Any:
    """PostgreSQL: the case and its first mention in one statement (a data-modifying WITH). No row back when the
    mention has its case already: neither is written then."""
    opened = (
        postgresql.insert(_TICKETS)
        .values({name: bindparam(f"b_{name}", type_=_TICKETS.c[name].type) for name in _OPENED_COLUMNS})
        .on_conflict_do_nothing(index_elements=["mention_id"])
        .returning(*_TICKETS.c)
        .cte("opened")
    )
    first = select(opened.c.id, opened.c.mention_id, literal("opened"), opened.c.created_at)
    joined = insert(_JOINED).from_select(["ticket_id", "mention_id", "reason", "added_at"], first).cte("joined")
    return select(opened).add_cte(joined)


def _attach_and_touch_pg() -> Any:
    """PostgreSQL: a mention added to a case and the case's activity time in one statement; no row back when the
    mention is in a case already."""
    columns = ("ticket_id", "mention_id", "reason", "added_at")
    attached = (
        postgresql.insert(_JOINED)
        .values({name: bindparam(f"b_{name}", type_=_JOINED.c[name].type) for name in columns})
        .on_conflict_do_nothing(index_elements=["mention_id"])
        .returning(_JOINED.c.ticket_id)
        .cte("attached")
    )
    return (
        update(_TICKETS)
        .where(_TICKETS.c.id.in_(select(attached.c.ticket_id)))
        .values(updated_at=bindparam("b_added_at", type_=_TICKETS.c.updated_at.type))
        .returning(_TICKETS.c.id)
    )


_OPEN_AND_JOIN_PG = _open_and_join_pg()
_ATTACH_AND_TOUCH_PG = _attach_and_touch_pg()
_EVENTS = cast(Table, CaseEventRow.__table__)
_ADD_EVENT = insert(_EVENTS).returning(_EVENTS.c.id)
_RECORD_EVENTS = insert(_EVENTS)


def _event_values(event: CaseEvent) -> dict[str, Any]:
    return {"ticket_id": event.ticket_id, "kind": event.kind, "detail": dict(event.detail), "at": event.at or utcnow()}


class SqlAlchemyTicketRepository(repo.TicketRepository):
    def __init__(self, session: Session) -> None:
        self.session = session
        self._events: list[dict[str, Any]] = []  # recorded, not yet written: one INSERT for many at commit

    def open(self, ticket: Ticket) -> tuple[Ticket, bool]:
        now = ticket.created_at or utcnow()  # the moment routing decided, which its SLA targets count from
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
            "route": ticket.route,
            "channel": ticket.channel,
            "helpdesk": ticket.helpdesk,
            "queue": ticket.queue,
            "assignee": ticket.assignee,
            "respond_by": ticket.respond_by,
            "reply_by": ticket.reply_by,
        }
        if self._postgresql:
            row = self._write(TicketRow, _OPEN_AND_JOIN_PG, values).first()
        else:
            row = insert_ignoring_row(self.session, TicketRow, values, ["mention_id"])
        if row is None:  # the mention has its case already
            row = read(self.session, _BY_MENTION, {"mention_id": ticket.mention_id}).first()
            assert row is not None
            return _to_ticket(row), False
        if not self._postgresql:
            joined = {"ticket_id": row.id, "mention_id": ticket.mention_id, "reason": "opened", "added_at": now}
            self.session.connection().execute(_ADD_CASE_MENTION, joined)
        self.record_event(CaseEvent(row.id, "opened", {"mention_id": ticket.mention_id, "priority": ticket.priority}))
        return _to_ticket(row), True

    def get(self, ticket_id: int) -> Ticket:
        row = self.session.get(TicketRow, ticket_id)
        if row is None:
            raise StoreError(f"no ticket with id {ticket_id}")
        return _to_ticket(row)

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(TicketRow)) or 0)

    def listed(self, limit: int = 100) -> list[Ticket]:
        return [_to_ticket(r) for r in self.session.scalars(select(TicketRow).order_by(TicketRow.id).limit(limit))]

    def case_of(self, mention_id: int) -> Ticket | None:
        row = read(self.session, _CASE_OF, {"mention_id": mention_id}).first()
        return _to_ticket(row) if row else None

    def cases_of(self, mention_ids: Sequence[int]) -> dict[int, Ticket]:
        found: dict[int, Ticket] = {}
        for chunk in chunked(list(dict.fromkeys(mention_ids))):
            rows = read(self.session, _CASES_OF, {"ids": chunk})
            found.update((int(row.joined_mention_id), _to_ticket(row)) for row in rows)
        return found

    def open_case_of(
        self, *, customer_id: int | None, source: str, author_handle: str, since: datetime
    ) -> tuple[Ticket, str] | None:
        if customer_id is not None and author_handle:
            params = {"source": source, "handle": author_handle, "since": since, "customer_id": customer_id}
            row = read(self.session, _OPEN_OF_CUSTOMER_OR_AUTHOR, params).first()
            return (_to_ticket(row), "author" if row.rank else "customer") if row is not None else None
        if customer_id is not None:
            row = read(self.session, _OPEN_OF_CUSTOMER, {"customer_id": customer_id, "since": since}).first()
            return (_to_ticket(row), "customer") if row is not None else None
        if not author_handle:
            return None
        params = {"source": source, "handle": author_handle, "since": since}
        row = read(self.session, _OPEN_OF_AUTHOR, params).first()
        return (_to_ticket(row), "author") if row is not None else None

    def active_cases_of(
        self, customer_ids: Iterable[int], authors: Iterable[tuple[str, str]]
    ) -> list[tuple[Ticket, set[tuple[str, str]]]]:
        cases: dict[int, Ticket] = {}
        held: dict[int, set[tuple[str, str]]] = {}
        for ids in chunked(list(dict.fromkeys(customer_ids))):
            for row in read(self.session, _ACTIVE_OF_CUSTOMERS, {"ids": ids}):
                cases[row.id] = _to_ticket(row)
        wanted = set(authors)
        sources = sorted({source for source, _ in wanted})
        for handles in chunked(sorted({handle for _, handle in wanted})):
            for row in read(self.session, _ACTIVE_OF_AUTHORS, {"sources": sources, "handles": handles}):
                author = (row.by_source, row.by_handle)
                if author in wanted:  # the look-up pairs every source with every handle
                    cases.setdefault(row.id, _to_ticket(row))
                    held.setdefault(row.id, set()).add(author)
        return [(case, held.get(case_id, set())) for case_id, case in cases.items()]

    def attach(self, ticket_id: int, mention_id: int, reason: str, at: datetime | None = None) -> bool:
        now = at or utcnow()
        values = {"ticket_id": ticket_id, "mention_id": mention_id, "reason": reason, "added_at": now}
        if self._postgresql:
            if self._write(CaseMentionRow, _ATTACH_AND_TOUCH_PG, values).first() is None:
                return False
            expire(self.session, TicketRow, ticket_id)
        elif insert_ignoring(self.session, CaseMentionRow, values, ["mention_id"]) is None:
            return False
        else:
            self._touch(_TOUCH, {"b_id": ticket_id, "b_at": now})
        self.record_event(CaseEvent(ticket_id, "mention", {"mention_id": mention_id, "reason": reason}))
        return True

    @property
    def _postgresql(self) -> bool:
        return bool(self.session.get_bind().dialect.name == "postgresql")

    def _write(self, row_type: type[Any], stmt: Any, values: dict[str, Any]) -> Any:
        """Run a statement built once that writes ``row_type``'s table (its values bound as ``b_`` + column name),
        after what the session holds back."""
        try:
            self.session.flush()
            return self.session.connection().execute(stmt, {f"b_{name}": value for name, value in values.items()})
        except SQLAlchemyError as exc:
            raise StoreError(f"could not write to {row_type.__tablename__}: {short_error(exc)}") from exc

    def _touch(self, stmt: Any, params: dict[str, Any]) -> None:
        """UPDATE one case's row as Core (the ORM's bulk UPDATE cost routing several times the statement)."""
        self.session.flush()
        self.session.connection().execute(stmt, params)
        expire(self.session, TicketRow, params["b_id"])

    def mentions_of(self, ticket_id: int) -> list[tuple[int, str]]:
        return [(int(m), str(r)) for m, r in self.session.execute(_MENTIONS_OF, {"ticket_id": ticket_id})]

    def add_event(self, event: CaseEvent) -> int:
        self.write_events()  # the lines recorded before this one come before it
        self.session.flush()  # the insert below bypasses the ORM: what it holds back goes first, as before
        new_id = self.session.connection().execute(_ADD_EVENT, _event_values(event)).scalar_one()
        return int(new_id)

    def record_event(self, event: CaseEvent) -> None:
        # Routing records two or three lines a mention; written one INSERT each they were a fifth of its statements.
        self._events.append(_event_values(event))

    def write_events(self) -> None:
        """Write the lines ``record_event`` holds (the unit of work does before it commits)."""
        if self._events:
            rows, self._events = self._events, []
            self.session.flush()
            self.session.connection().execute(_RECORD_EVENTS, rows)

    def drop_events(self) -> None:
        self._events = []

    def update(self, ticket_id: int, **values: Any) -> Ticket:
        unknown = set(values) - CHANGEABLE
        if unknown:
            raise StoreError(f"a case's {', '.join(sorted(unknown))} cannot be changed")
        if isinstance(values.get("status"), TicketStatus):
            values["status"] = values["status"].value
        row = self.session.get(TicketRow, ticket_id, with_for_update=True)
        if row is None:
            raise StoreError(f"no ticket with id {ticket_id}")
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        self.session.flush()
        return _to_ticket(row)

    def overdue(self, now: datetime, limit: int = 500) -> list[Ticket]:
        unanswered = (TicketRow.status.in_(ACTIVE), TicketRow.responded_at.is_(None))
        late = or_(TicketRow.respond_by < now, TicketRow.reply_by < now)
        stmt = select(TicketRow).where(and_(*unanswered), late).order_by(TicketRow.id).limit(limit)
        return [_to_ticket(r) for r in self.session.scalars(stmt)]

    def resolved_before(self, cutoff: datetime, limit: int = 500) -> list[Ticket]:
        stmt = (
            select(TicketRow)
            .where(TicketRow.status == TicketStatus.RESOLVED.value, TicketRow.resolved_at < cutoff)
            .order_by(TicketRow.id)
            .limit(limit)
        )
        return [_to_ticket(r) for r in self.session.scalars(stmt)]

    def numbers(self, since: datetime) -> dict[str, int]:
        opened = select(func.count()).select_from(TicketRow).where(TicketRow.created_at >= since)
        resolved = select(func.count()).select_from(TicketRow).where(TicketRow.resolved_at >= since)
        by_status = self.session.execute(
            select(TicketRow.status, func.count()).where(TicketRow.status.in_(ACTIVE)).group_by(TicketRow.status)
        )
        counts = {f"active_{status}": int(n) for status, n in by_status}
        counts["opened"] = int(self.session.scalar(opened) or 0)
        counts["resolved"] = int(self.session.scalar(resolved) or 0)
        counts["overdue"] = len(self.overdue(utcnow(), limit=10_000))
        return counts

    def timeline(self, ticket_id: int) -> list[CaseEvent]:
        self.write_events()
        stmt = (
            select(CaseEventRow).where(CaseEventRow.ticket_id == ticket_id).order_by(CaseEventRow.at, CaseEventRow.id)
        )
        return [CaseEvent(r.ticket_id, r.kind, dict(r.detail), r.at) for r in self.session.scalars(stmt)]

    def set_customer(self, ticket_id: int, customer_id: int | None, at: datetime | None = None) -> None:
        self._touch(_SET_CUSTOMER, {"b_id": ticket_id, "b_at": at or utcnow(), "b_customer": customer_id})
        self.record_event(CaseEvent(ticket_id, "customer", {"customer_id": customer_id}))
