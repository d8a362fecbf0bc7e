"""What an alert says about a case, and the face every channel (Slack, console, helpdesks) shows the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from store.model import Analysis, CaseChange, Customer, Mention, Ticket

NOT_MATCHED = "eşleşmedi / not matched"
PRIORITY_MARKS = {"urgent": "🔴", "high": "🟠", "normal": "🟡", "low": "⚪"}


@dataclass(frozen=True)
class CaseView:
    """Everything an alert shows about one ticket: the ticket, its mention, the analysis, the customer if matched."""

    ticket: Ticket
    mention: Mention
    analysis: Analysis
    customer: Customer | None = None
    suggested: tuple[tuple[Customer, float], ...] = ()  # candidates waiting for an agent, with confidence
    draft: str = ""  # the suggested reply (responders.replies); never holds masked data
    mentions: int = 1  # mentions in the case
    similar: int = 0  # other cases folded into this one's alert (a burst)


class Channel(Protocol):
    """Anything the outbox sends through: ``send`` delivers one payload to ``target`` (the outbox row's, so a queued
    message goes where it was meant to even if the config changed since). ``key`` is the outbox key, unique per
    payload: helpdesks send it as their idempotency key. A follow-up is sent with ``parent_ref``, what ``send``
    returned for the payload it follows (the Slack ``ts``, the helpdesk ticket id).

    ``send`` returns that external reference; it raises ``DeliveryRejected`` when retrying cannot help and
    ``DeliveryError`` when it may. ``from_settings`` raises ``NotConfigured`` when the channel is off.
    """

    @property
    def name(self) -> str: ...

    target: str

    def send(
        self, payload: Mapping[str, Any], target: str | None = None, *, key: str = "", parent_ref: str | None = None
    ) -> str: ...


class Alerter(Channel, Protocol):
    """A channel that carries cases: Slack, the console, a helpdesk, a webhook.

    ``render`` builds the JSON-able outbox payload that opens the case there; ``render_change`` the payloads
    that tell it what happened since (a Slack thread reply and a refreshed message; a helpdesk comment).
    """

    def render(self, case: CaseView) -> dict[str, Any]: ...

    def render_change(self, case: CaseView, change: CaseChange) -> list[dict[str, Any]]: ...


def headline(case: CaseView) -> str:
    """``🔴 Kuzey Telekom · urgent``: what the alert is about, at a glance."""
    mark = PRIORITY_MARKS.get(case.ticket.priority, "🔔")
    return f"{mark} {case.ticket.brand} · {case.ticket.priority}"


def author_of(case: CaseView) -> str:
    """The public handle the mention was posted under (or its display name when the source has no handle)."""
    raw = case.mention.raw
    return raw.author_handle or raw.author or "—"


def customer_of(case: CaseView) -> str:
    """The matched customer's name (the care standard says address people by name), else the candidates waiting
    for an agent's confirmation, else 'not matched'."""
    if case.customer is not None and case.customer.name:
        return case.customer.name + (" (VIP)" if case.customer.vip else "")
    if case.suggested:
        names = ", ".join(f"{c.name} ({confidence:.2f})" for c, confidence in case.suggested[:3])
        return f"onay bekliyor / to confirm: {names}"
    return NOT_MATCHED


def facts(case: CaseView) -> list[tuple[str, str]]:
    """The labelled facts every alert shows, in order; values are raw (unescaped) strings."""
    analysis, ticket = case.analysis, case.ticket
    topics = ", ".join(t.label for t in analysis.topics) or "—"
    urgency = analysis.urgency.level
    if analysis.urgency.reasons:
        urgency = f"{urgency} — {', '.join(analysis.urgency.reasons)}"
    return [
        ("Kaynak / Source", case.mention.raw.source),
        ("Yazar / Author", author_of(case)),
        ("Müşteri / Customer", customer_of(case)),
        ("Duygu / Sentiment", f"{analysis.sentiment.label} ({analysis.sentiment.score:.2f})"),
        ("Niyet / Intent", f"{analysis.intent.label} ({analysis.intent.score:.2f})"),
        ("Konular / Topics", topics),
        ("Aciliyet / Urgency", urgency),
        ("Birim / Unit", f"{ticket.unit} ({ticket.route})" if ticket.route else ticket.unit),
        ("Talep / Ticket", f"#{ticket.id} · {ticket.status.value}" if ticket.id is not None else "—"),
    ]
