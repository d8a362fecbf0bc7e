"""Cases as Zendesk Support tickets: opened once (external id, Idempotency-Key), then private comments and status."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from config.settings import doc
from responders.alerts import CaseView
from responders.helpdesk import Helpdesk, register
from responders.ticket_text import case_of, case_tags, change_text, external_id, marker, plain_body, subject
from store.errors import ConfigError, DeliveryRejected
from store.model import CaseChange, TicketStatus

log = logging.getLogger(__name__)

# Zendesk cannot take a ticket back to "new", and its own automations close solved tickets (closed ones refuse
# every update), so Kulak's closed case asks for "solved".
STATUSES = {
    TicketStatus.NEW: "open",
    TicketStatus.ASSIGNED: "open",
    TicketStatus.WAITING: "pending",
    TicketStatus.RESOLVED: "solved",
    TicketStatus.CLOSED: "solved",
}
PRIORITIES = {"low": "low", "normal": "normal", "high": "high", "urgent": "urgent"}


@dataclass(frozen=True)
class ZendeskOptions:
    email: str = doc("E-mail of the agent the API token belongs to (required).", default="")
    token_env: str = doc("Environment variable holding the API token.", default="KULAK_ZENDESK_TOKEN")
    group: str = doc("Group id cases go to when their route names no queue; empty: Zendesk's own rules.", default="")
    requester_email: str = doc("Requester of the tickets Kulak opens; empty: the agent above.", default="")
    requester_name: str = doc("Name Zendesk gives that requester if it has to create the user.", default="Kulak")


@register
class ZendeskTickets(Helpdesk):
    """Zendesk Support: one ticket per case (external_id kulak-case-{id}), private comments for what happens next."""

    kind = "zendesk"
    title = "Zendesk"
    Options = ZendeskOptions
    required = ("email",)

    def __init__(self, name: str, client: httpx.Client, base_url: str, options: ZendeskOptions, secret: str) -> None:
        super().__init__(name, client, base_url, options, secret)
        self.options: ZendeskOptions = options
        self.target = options.group

    @classmethod
    def check(cls, options: Any, where: str, prefix: str) -> None:
        if options.group and not options.group.isdigit():
            message = f"expected a numeric Zendesk group id, got {options.group!r}"
            raise ConfigError(message, source=where, key=f"{prefix}.group")

    def auth(self) -> httpx.Auth:
        return httpx.BasicAuth(f"{self.options.email}/token", self.secret)

    def render(self, case: CaseView) -> dict[str, Any]:
        ticket: dict[str, Any] = {
            "subject": subject(case),
            "comment": {"body": plain_body(case), "public": False},
            "priority": PRIORITIES.get(case.ticket.priority, "normal"),
            "tags": case_tags(case),
            "external_id": external_id(case),
        }
        if self.options.requester_email:
            ticket["requester"] = {"name": self.options.requester_name, "email": self.options.requester_email}
        return {"op": "open", "group": case.ticket.queue or self.options.group, "ticket": ticket}

    def render_change(self, case: CaseView, change: CaseChange) -> list[dict[str, Any]]:
        return [
            {
                "op": "update",
                "kind": change.kind,
                "comment": change_text(change),
                "status": STATUSES[case.ticket.status],
                "priority": PRIORITIES.get(case.ticket.priority, "normal"),
            }
        ]

    def open(self, payload: Mapping[str, Any], target: str, key: str) -> str:
        ticket = dict(payload["ticket"])
        # The Idempotency-Key covers a repeat within Zendesk's window; the external id lookup covers later ones
        # (the outbox may resend after a restart, hours on).
        found = self.answer(self.call("GET", "/api/v2/tickets.json", params={"external_id": ticket["external_id"]}))
        existing = found.get("tickets") or [] if isinstance(found, dict) else []
        if existing:
            ids = {"case_id": case_of(ticket["external_id"]), "delivery": key or None}
            known = existing[0]["id"]
            log.info("Zendesk %s already has %s as ticket %s", self.name, ticket["external_id"], known, extra=ids)
            return str(existing[0]["id"])
        group = str(payload.get("group") or target or "")
        if group:
            if not group.isdigit():
                raise DeliveryRejected(f"Zendesk {self.name!r}: group {group!r} is not a numeric group id")
            ticket["group_id"] = int(group)
        headers = {"Idempotency-Key": key} if key else {}
        created = self.answer(self.call("POST", "/api/v2/tickets.json", json={"ticket": ticket}, headers=headers))
        ref = str(created["ticket"]["id"])
        ids = {"ref": ref, "case_id": case_of(ticket["external_id"]), "delivery": key or None}
        log.info("Zendesk %s opened ticket %s for %s", self.name, ref, ticket["external_id"], extra=ids)
        return ref

    def update(self, payload: Mapping[str, Any], ref: str, key: str) -> None:
        if not ref.isdigit():
            raise DeliveryRejected(f"Zendesk {self.name!r}: {ref!r} is not a ticket id")
        ticket: dict[str, Any] = {"status": payload["status"], "priority": payload["priority"]}
        if not (key and self._has_comment(ref, marker(key))):
            body = f"{payload['comment']}\n\n{marker(key)}" if key else str(payload["comment"])
            ticket["comment"] = {"body": body, "public": False}
        self.call("PUT", f"/api/v2/tickets/{ref}.json", json={"ticket": ticket})

    def _has_comment(self, ref: str, mark: str) -> bool:
        """Whether a recent comment carries ``mark``: the change was delivered before a crash lost the answer."""
        data = self.answer(self.call("GET", f"/api/v2/tickets/{ref}/comments.json", params={"sort_order": "desc"}))
        comments = data.get("comments") or [] if isinstance(data, dict) else []
        return any(isinstance(c, dict) and mark in str(c.get("body", "")) for c in comments)
