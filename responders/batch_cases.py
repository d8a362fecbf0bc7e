"""The cases a batch of routing can join, read when the batch starts and kept current as it goes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

from store.model import Ticket
from store.repository import UnitOfWork

Author = tuple[str, str]  # (source, handle)


class BatchCases:
    """The cases of the earlier mentions a batch repeats, and every active case of the batch's customers and
    authors, each read in one statement when the batch starts and kept current as routing opens cases, adds
    mentions to them and names their customers (nothing else changes a case while routing runs). A question about
    a mention, customer or author it was not asked about at the start goes to the store.

    The answers are the store's, as ``TicketRepository.case_of`` and ``open_case_of`` give them: the case of a
    mention; a customer's latest active case, else the latest of their handle on that source that is no one
    else's."""

    def __init__(
        self,
        uow: UnitOfWork,
        repeated: Iterable[int] = (),
        customers: Iterable[int] = (),
        authors: Iterable[Author] = (),
    ) -> None:
        self.uow = uow
        wanted = list(dict.fromkeys(repeated))
        found = uow.tickets.cases_of(wanted) if wanted else {}
        self._case: dict[int, int | None] = {m: (c.id if (c := found.get(m)) is not None else None) for m in wanted}
        self._tickets: dict[int, Ticket] = {c.id: c for c in found.values() if c.id is not None}
        self._customers, self._authors = set(customers), {a for a in authors if a[1]}
        self._of_customer: dict[int, set[int]] = {}
        self._of_author: dict[Author, set[int]] = {}
        if self._customers or self._authors:
            for case, held in uow.tickets.active_cases_of(self._customers, self._authors):
                self._keep(case, held)

    def _keep(self, case: Ticket, authors: Iterable[Author] = ()) -> None:
        assert case.id is not None
        self._tickets[case.id] = case
        if case.customer_id is not None:
            self._of_customer.setdefault(case.customer_id, set()).add(case.id)
        for author in authors:
            self._of_author.setdefault(author, set()).add(case.id)

    def ticket(self, ticket_id: int) -> Ticket | None:
        """Case ``ticket_id`` as it stands, if this batch knows it."""
        return self._tickets.get(ticket_id)

    def case_of(self, mention_id: int) -> Ticket | None:
        if mention_id not in self._case:
            return self.uow.tickets.case_of(mention_id)
        ticket_id = self._case[mention_id]
        return None if ticket_id is None else self._tickets[ticket_id]

    def open_case_of(
        self, *, customer_id: int | None, source: str, author_handle: str, since: datetime
    ) -> tuple[Ticket, str] | None:
        author = (source, author_handle)
        if (customer_id is not None and customer_id not in self._customers) or (
            author_handle and author not in self._authors
        ):
            return self.uow.tickets.open_case_of(
                customer_id=customer_id, source=source, author_handle=author_handle, since=since
            )
        if customer_id is not None:
            case = self._latest(self._of_customer.get(customer_id, ()), since, lambda t: t.customer_id == customer_id)
            if case is not None:
                return case, "customer"
        if not author_handle:
            return None
        # a case of the same author tied to someone else is not this customer's
        case = self._latest(
            self._of_author.get(author, ()),
            since,
            lambda t: customer_id is None or t.customer_id in (None, customer_id),
        )
        return (case, "author") if case is not None else None

    def _latest(self, ticket_ids: Iterable[int], since: datetime, wanted: Callable[[Ticket], bool]) -> Ticket | None:
        found = [
            case
            for i in ticket_ids
            if (case := self._tickets[i]).status.active
            and case.updated_at is not None
            and case.updated_at >= since
            and wanted(case)
        ]
        return max(found, key=lambda case: (case.updated_at, case.id or 0), default=None)

    def joined(self, mention_id: int, case: Ticket, author: Author, at: datetime | None = None) -> None:
        """``mention_id`` by ``author`` opened ``case`` or was added to it (then the case was active ``at``)."""
        self._case[mention_id] = case.id
        self._keep(replace(case, updated_at=at) if at is not None else case, [author] if author[1] else [])

    def unknown(self, mention_id: int) -> None:
        """What routing did with ``mention_id`` does not say which case it is in: the store is asked."""
        self._case.pop(mention_id, None)

    def named(self, ticket_id: int, customer_id: int, at: datetime) -> None:
        """Case ``ticket_id`` now belongs to ``customer_id`` (and was active ``at``)."""
        if (case := self._tickets.get(ticket_id)) is not None:
            self._keep(replace(case, customer_id=customer_id, updated_at=at))
