"""A case as the channels see it (CaseView from the store), and telling every channel that carries it what changed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from responders.alerts import Alerter, CaseView
from store.errors import StoreError
from store.model import (
    Analysis,
    CaseChange,
    CaseEvent,
    Customer,
    CustomerMatch,
    Delivery,
    DeliveryStatus,
    MatchStatus,
    Mention,
    Ticket,
)
from store.repository import UnitOfWork

#: Alert deliveries a change is sent against: held-back (deferred) and failed alerts have nothing to update.
LIVE = (DeliveryStatus.PENDING, DeliveryStatus.SENT)


class Drafter(Protocol):
    """Suggests a reply for a case (responders.replies.ReplyDrafter)."""

    def draft(self, case: CaseView) -> str: ...


def case_view(uow: UnitOfWork, ticket_id: int, drafter: Drafter | None = None) -> CaseView:
    """Everything an alert shows about a case, read from the store now."""
    ticket = uow.tickets.get(ticket_id)
    mention = uow.mentions.get(ticket.mention_id)
    analysis = uow.analyses.get(ticket.mention_id)
    if analysis is None:
        raise StoreError(f"case #{ticket_id}: its mention {ticket.mention_id} has no analysis")
    customer = uow.customers.get(ticket.customer_id) if ticket.customer_id is not None else None
    suggested = tuple(
        (found, c.confidence)
        for c in uow.matches.candidates(ticket.mention_id)
        if c.status is MatchStatus.SUGGESTED and (found := uow.customers.get(c.customer_id)) is not None
    )
    similar = sum(uow.deliveries.count_children(d.key, "fold") for d in uow.deliveries.alerts_of(ticket_id))
    view = CaseView(
        ticket=ticket,
        mention=mention,
        analysis=analysis,
        customer=customer,
        suggested=suggested,
        mentions=len(uow.tickets.mentions_of(ticket_id)),
        similar=similar,
    )
    return replace(view, draft=drafter.draft(view)) if drafter is not None else view


@dataclass(frozen=True)
class BatchReads:
    """What routing reads of a batch of mentions, read in a few statements rather than several per mention: their
    analyses, customer candidates (with the customers) and the earlier mentions they repeat. None of it changes
    while the batch is routed."""

    analyses: Mapping[int, Analysis]
    candidates: Mapping[int, list[CustomerMatch]]
    customers: Mapping[int, Customer]
    duplicates: Mapping[int, int]

    @classmethod
    def load(cls, uow: UnitOfWork, mention_ids: Sequence[int]) -> BatchReads:
        candidates = uow.matches.candidates_of(mention_ids)
        customers = uow.customers.get_many([c.customer_id for found in candidates.values() for c in found])
        return cls(
            uow.analyses.get_many(mention_ids), candidates, customers, uow.fingerprints.duplicates_of(mention_ids)
        )


class CaseAlerts:
    """The alerts of the cases a batch of routing touches (what a change is sent against): read once a case and
    kept current with the alerts the batch queues. A case the batch opened has none until it queues them."""

    def __init__(self) -> None:
        self._of: dict[int, list[Delivery]] = {}

    def of(self, uow: UnitOfWork, ticket_id: int) -> list[Delivery]:
        if ticket_id not in self._of:
            self._of[ticket_id] = uow.deliveries.alerts_of(ticket_id)
        return self._of[ticket_id]

    def opened(self, ticket_id: int) -> None:
        """Case ``ticket_id`` was just opened: nothing was ever sent about it."""
        self._of[ticket_id] = []

    def queued(self, alert: Delivery) -> None:
        """``alert`` (kind "alert") was just queued."""
        if alert.ticket_id in self._of:
            self._of[alert.ticket_id].append(alert)


def redrafted(view: CaseView, drafter: Drafter | None) -> CaseView:
    """``view`` with its suggested reply drafted again (after its case or customer changed)."""
    return replace(view, draft=drafter.draft(replace(view, draft=""))) if drafter is not None else view


def new_case_view(
    ticket: Ticket,
    mention: Mention,
    analysis: Analysis,
    candidates: Sequence[CustomerMatch],
    customers: Mapping[int, Customer],
    drafter: Drafter | None = None,
) -> CaseView:
    """The view of a case routing has just opened for ``mention``: what ``case_view`` would read back (one mention,
    no alert yet, so nothing folded into it), from what routing holds."""
    suggested = tuple(
        (found, c.confidence)
        for c in candidates
        if c.status is MatchStatus.SUGGESTED and (found := customers.get(c.customer_id)) is not None
    )
    customer = customers.get(ticket.customer_id) if ticket.customer_id is not None else None
    view = CaseView(ticket=ticket, mention=mention, analysis=analysis, customer=customer, suggested=suggested)
    return replace(view, draft=drafter.draft(view)) if drafter is not None else view


def notify(
    uow: UnitOfWork,
    alerters: Mapping[str, Alerter],
    change: CaseChange,
    *,
    drafter: Drafter | None = None,
    kind: str = "change",
    tag: str | None = None,
    later: bool = False,
    alerts: CaseAlerts | None = None,
    views: dict[int, CaseView] | None = None,
) -> int:
    """Record ``change`` on the case's timeline and queue it for every channel that carries the case.

    Each payload goes out against the alert that opened the case there (a Slack thread, a helpdesk ticket); the
    outbox sends it once that alert is sent. ``tag`` makes the outbox keys unique when the store already has the
    event (a mention joining records its own); otherwise the new event's id does. Returns payloads queued; with
    ``later`` (routing) they may be written with others and are counted as queued without asking the store.
    ``alerts``, when given, says which alerts the case has, and ``views`` holds the case's view, read once and
    kept there (routing keeps both for its batch).
    """
    if tag is None:
        detail = {"summary": change.summary, "by": change.actor, **change.detail}
        tag = str(uow.tickets.add_event(CaseEvent(change.ticket_id, change.kind, detail)))
    found = alerts.of(uow, change.ticket_id) if alerts is not None else uow.deliveries.alerts_of(change.ticket_id)
    parents = [d for d in found if d.status in LIVE]
    if not parents:
        return 0
    view = views.get(change.ticket_id) if views is not None else None
    if view is None:
        view = case_view(uow, change.ticket_id, drafter)
        if views is not None:
            views[change.ticket_id] = view
    return sum(queue_change(uow, alerters, parent, view, change, tag, kind=kind, later=later) for parent in parents)


def queue_change(
    uow: UnitOfWork,
    alerters: Mapping[str, Alerter],
    parent: Delivery,
    view: CaseView,
    change: CaseChange,
    tag: str,
    *,
    kind: str = "change",
    later: bool = False,
) -> int:
    """Queue ``change`` against one alert delivery; the first payload carries ``kind`` (a burst counts "fold").
    ``later``: see ``notify``."""
    alerter = alerters.get(parent.channel)
    if alerter is None:
        return 0
    queued = 0
    for i, payload in enumerate(alerter.render_change(view, change)):
        delivery = Delivery(
            key=f"{parent.key}:{change.kind}:{tag}:{i}",
            channel=parent.channel,
            target=parent.target,
            payload=payload,
            ticket_id=parent.ticket_id,
            kind=kind if i == 0 else "change",
            parent_key=parent.key,
        )
        if later:
            uow.deliveries.enqueue_later(delivery)
            queued += 1
        else:
            queued += int(uow.deliveries.enqueue(delivery))
    return queued
