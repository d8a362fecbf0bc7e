"""What agents do to a case (from Slack buttons or the CLI): the state machine, corrections and their feedback."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from responders.alerts import Alerter
from responders.cases import Drafter, notify
from store.errors import InputError
from store.model import PRIORITIES, CaseChange, Feedback, Label, MatchStatus, Ticket, TicketStatus
from store.repository import UnitOfWork

SENTIMENTS = ("negative", "neutral", "positive")
TOPIC_LABEL = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Action:
    """One agent action on one case: ``value`` is a customer id for match actions, a label for corrections."""

    kind: str
    ticket_id: int
    user: str  # who did it: a Slack user id, or a name from the CLI
    value: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    ticket: Ticket
    message: str  # what the agent is told
    queued: int = 0  # channel updates queued


@dataclass
class _Step:
    """What one action does: fields to change on the case, the change to announce, feedback to keep."""

    updates: dict[str, Any] = field(default_factory=dict)
    kind: str = ""
    summary: str = ""
    feedback: list[Feedback] = field(default_factory=list)


Handler = Callable[[UnitOfWork, Ticket, Action, datetime], _Step]
HANDLERS: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def _active(ticket: Ticket) -> None:
    if not ticket.status.active:
        raise InputError(f"case #{ticket.id} is {ticket.status.value}; reopen it first")


def _mark(ticket: Ticket, action: Action, name: str, value: str | None = None) -> Feedback:
    return Feedback(ticket.mention_id, "action", name if value is None else f"{name}:{value}", action.user)


@handles("claim")
def _claim(uow: UnitOfWork, ticket: Ticket, action: Action, now: datetime) -> _Step:
    _active(ticket)
    status = ticket.status if ticket.status is TicketStatus.WAITING else TicketStatus.ASSIGNED
    taken = f" (from {ticket.assignee})" if ticket.assignee and ticket.assignee != action.user else ""
    return _Step(
        {"assignee": action.user, "status": status},
        "assigned",
        f"üstlendi / claimed{taken}",
        [_mark(ticket, action, "claim")],
    )


@handles("contacted")
def _contacted(uow: UnitOfWork, ticket: Ticket, action: Action, now: datetime) -> _Step:
    _active(ticket)
    updates: dict[str, Any] = {"status": TicketStatus.WAITING, "assignee": ticket.assignee or action.user}
    if ticket.responded_at is None:
        updates["responded_at"] = now
    return _Step(updates, "waiting", "müşteriye ulaştı, yanıt bekleniyor / contacted, waiting on customer",
                 [_mark(ticket, action, "contacted")])  # fmt: skip


@handles("resolve")
def _resolve(uow: UnitOfWork, ticket: Ticket, action: Action, now: datetime) -> _Step:
    _active(ticket)
    updates: dict[str, Any] = {"status": TicketStatus.RESOLVED, "resolved_at": now}
    updates["assignee"] = ticket.assignee or action.user
    if ticket.responded_at is None:
        updates["responded_at"] = now
    return _Step(updates, "resolved", "çözüldü / resolved", [_mark(ticket, action, "resolve")])


@handles("reopen")
def _reopen(uow: UnitOfWork, ticket: Ticket, action: Action, now: datetime) -> _Step:
    if ticket.status.active:
        raise InputError(f"case #{ticket.id} is still open ({ticket.status.value})")
    status = TicketStatus.ASSIGNED if ticket.assignee else TicketStatus.NEW
    updates = {"status": status, "resolved_at": None, "closed_at": None}
    return _Step(updates, "reopened", "yeniden açıldı / reopened", [_mark(ticket, action, "reopen")])


@handles("escalate")
def _escalate(uow: UnitOfWork, ticket: Ticket, action: Action, now: datetime) -> _Step:
    _active(ticket)
    index = PRIORITIES.index(ticket.priority) if ticket.priority in PRIORITIES else 1
    priority = PRIORITIES[min(index + 1, len(PRIORITIES) - 1)]
    summary = f"yükseltildi / escalated: {ticket.priority} → {priority}"
    return _Step({"priority": priority}, "escalated", summary, [_mark(ticket, action, "escalate", priority)])


@handles("not_relevant")
def _not_relevant(uow: UnitOfWork, ticket: Ticket, action: Action, now: datetime) -> _Step:
    if ticket.status is TicketStatus.CLOSED:
        raise InputError(f"case #{ticket.id} is already closed")
    feedback = [Feedback(ticket.mention_id, "relevant", "no", action.user, "yes")]
    return _Step(
        {"status": TicketStatus.CLOSED, "closed_at": now},
        "closed",
        "ilgisiz, kapatıldı / not relevant, closed",
        feedback,
    )


def _customer_id(action: Action) -> int:
    try:
        return int(action.value)
    except ValueError:
        raise InputError(f"expected a customer id, got {action.value!r}") from None


@handles("confirm_customer")
def _confirm(uow: UnitOfWork, ticket: Ticket, action: Action, now: datetime) -> _Step:
    customer_id = _customer_id(action)
    uow.matches.decide(ticket.mention_id, customer_id, MatchStatus.CONFIRMED)
    customer = uow.customers.get(customer_id)
    name = customer.name if customer is not None else f"#{customer_id}"
    feedback = [Feedback(ticket.mention_id, "customer", f"confirmed:{customer_id}", action.user)]
    return _Step({"customer_id": customer_id}, "customer", f"müşteri onaylandı / customer confirmed: {name}", feedback)


@handles("wrong_customer")
def _wrong(uow: UnitOfWork, ticket: Ticket, action: Action, now: datetime) -> _Step:
    customer_id = _customer_id(action)
    uow.matches.decide(ticket.mention_id, customer_id, MatchStatus.REJECTED)
    updates: dict[str, Any] = {"customer_id": None} if ticket.customer_id == customer_id else {}
    feedback = [Feedback(ticket.mention_id, "customer", f"rejected:{customer_id}", action.user)]
    return _Step(updates, "customer", "yanlış müşteri, eşleşme kaldırıldı / wrong customer, unlinked", feedback)


@handles("fix_sentiment")
def _fix_sentiment(uow: UnitOfWork, ticket: Ticket, action: Action, now: datetime) -> _Step:
    if action.value not in SENTIMENTS:
        raise InputError(f"expected a sentiment of {', '.join(SENTIMENTS)}, got {action.value!r}")
    analysis = uow.analyses.get(ticket.mention_id)
    assert analysis is not None  # a case is opened only for analysed mentions
    old = analysis.sentiment.label
    uow.analyses.correct(ticket.mention_id, replace(analysis, sentiment=Label(action.value, 1.0)))
    feedback = [Feedback(ticket.mention_id, "sentiment", action.value, action.user, old)]
    return _Step({}, "label", f"duygu düzeltildi / sentiment fixed: {old} → {action.value}", feedback)


@handles("fix_topic")
def _fix_topic(uow: UnitOfWork, ticket: Ticket, action: Action, now: datetime) -> _Step:
    if not TOPIC_LABEL.match(action.value):
        raise InputError(f"expected a topic label like billing, got {action.value!r}")
    analysis = uow.analyses.get(ticket.mention_id)
    assert analysis is not None
    old = analysis.topics[0].label if analysis.topics else "-"
    topics = (Label(action.value, 1.0), *(t for t in analysis.topics if t.label != action.value))
    uow.analyses.correct(ticket.mention_id, replace(analysis, topics=topics))
    feedback = [Feedback(ticket.mention_id, "topic", action.value, action.user, old)]
    return _Step({}, "label", f"konu düzeltildi / topic fixed: {old} → {action.value}", feedback)


def apply_action(
    uow: UnitOfWork,
    action: Action,
    alerters: Mapping[str, Alerter],
    *,
    drafter: Drafter | None = None,
) -> Outcome:
    """Apply ``action`` in the caller's transaction: change the case, keep the feedback, audit it, and queue the
    change for every channel carrying the case. InputError (nothing changed) when the action makes no sense."""
    handler = HANDLERS.get(action.kind)
    if handler is None:
        raise InputError(f"unknown action {action.kind!r}; expected one of {', '.join(sorted(HANDLERS))}")
    now = action.at or datetime.now(UTC)
    ticket = uow.tickets.get(action.ticket_id)
    step = handler(uow, ticket, action, now)
    if step.updates:
        ticket = uow.tickets.update(ticket.id or action.ticket_id, **step.updates)
    for item in step.feedback:
        uow.feedback.add(replace(item, created_at=now), ticket_id=ticket.id)
    uow.audit.record(action.user, f"case.{action.kind}", f"ticket:{ticket.id}")
    change = CaseChange(ticket.id or 0, step.kind, step.summary, action.user, {"action": action.kind}, now)
    queued = notify(uow, alerters, change, drafter=drafter)
    return Outcome(ticket, f"#{ticket.id}: {step.summary}", queued)
