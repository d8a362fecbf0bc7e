"""Cases as Freshdesk tickets: found by their kulak-case tag before one is opened, then private notes and status."""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from config.settings import doc
from responders.alerts import CaseView
from responders.helpdesk import Helpdesk, is_web_url, register
from responders.ticket_text import case_facts, case_of, case_tags, change_text, external_id, marker, subject
from store.errors import ConfigError, DeliveryRejected
from store.model import CaseChange, TicketStatus

log = logging.getLogger(__name__)

# Freshdesk's numbers: status 2 open, 3 pending, 4 resolved, 5 closed; priority 1 low to 4 urgent.
STATUSES = {
    TicketStatus.NEW: 2,
    TicketStatus.ASSIGNED: 2,
    TicketStatus.WAITING: 3,
    TicketStatus.RESOLVED: 4,
    TicketStatus.CLOSED: 5,
}
PRIORITIES = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
NOTES_PAGE = 100  # conversations asked for per page when looking for a note delivered before a crash
NOTES_PAGES = 5


@dataclass(frozen=True)
class FreshdeskOptions:
    api_key_env: str = doc("Environment variable holding the API key.", default="KULAK_FRESHDESK_API_KEY")
    requester_email: str = doc(
        "Requester of the tickets Kulak opens (Freshdesk needs one), e.g. your social-care inbox (required).",
        default="",
    )
    group: str = doc("Group id cases go to when their route names no queue; empty: Freshdesk's own rules.", default="")


@register
class FreshdeskTickets(Helpdesk):
    """Freshdesk: one ticket per case (tag kulak-case-{id}), private notes for what happens next."""

    kind = "freshdesk"
    title = "Freshdesk"
    Options = FreshdeskOptions
    required = ("requester_email",)
    secret_option = "api_key_env"

    def __init__(self, name: str, client: httpx.Client, base_url: str, options: FreshdeskOptions, secret: str) -> None:
        super().__init__(name, client, base_url, options, secret)
        self.options: FreshdeskOptions = options
        self.target = options.group

    @classmethod
    def check(cls, options: Any, where: str, prefix: str) -> None:
        if options.group and not options.group.isdigit():
            message = f"expected a numeric Freshdesk group id, got {options.group!r}"
            raise ConfigError(message, source=where, key=f"{prefix}.group")
        if "@" not in options.requester_email:
            raise ConfigError("expected an e-mail address", source=where, key=f"{prefix}.requester_email")

    def auth(self) -> httpx.Auth:
        return httpx.BasicAuth(self.secret, "X")  # Freshdesk's convention: the key as user, any password

    def render(self, case: CaseView) -> dict[str, Any]:
        ticket = {
            "subject": subject(case),
            "description": html_body(case),
            "email": self.options.requester_email,
            "priority": PRIORITIES.get(case.ticket.priority, 2),
            "status": STATUSES[TicketStatus.NEW],
            "tags": case_tags(case),
        }
        return {
            "op": "open",
            "tag": external_id(case),
            "group": case.ticket.queue or self.options.group,
            "ticket": ticket,
        }

    def render_change(self, case: CaseView, change: CaseChange) -> list[dict[str, Any]]:
        return [
            {
                "op": "update",
                "kind": change.kind,
                "note": html.escape(change_text(change)),
                "status": STATUSES[case.ticket.status],
                "priority": PRIORITIES.get(case.ticket.priority, 2),
            }
        ]

    def open(self, payload: Mapping[str, Any], target: str, key: str) -> str:
        tag = str(payload["tag"])
        # Freshdesk has no idempotency key: look the case up by its tag first (the filter API answers from a search
        # index, so a ticket made seconds ago may be missing; a resend comes after a restart, later than that).
        found = self.answer(self.call("GET", "/api/v2/search/tickets", params={"query": f"\"tag:'{tag}'\""}))
        results = found.get("results") or [] if isinstance(found, dict) else []
        if results:
            ids = {"case_id": case_of(tag), "delivery": key or None}
            log.info("Freshdesk %s already has %s as ticket %s", self.name, tag, results[0]["id"], extra=ids)
            return str(results[0]["id"])
        ids = {"case_id": case_of(tag), "delivery": key or None}
        ticket = dict(payload["ticket"])
        group = str(payload.get("group") or target or "")
        if group:
            if not group.isdigit():
                raise DeliveryRejected(f"Freshdesk {self.name!r}: group {group!r} is not a numeric group id")
            ticket["group_id"] = int(group)
        created = self.answer(self.call("POST", "/api/v2/tickets", json=ticket))
        ref = str(created["id"])
        log.info("Freshdesk %s opened ticket %s for %s", self.name, ref, tag, extra={"ref": ref, **ids})
        return ref

    def update(self, payload: Mapping[str, Any], ref: str, key: str) -> None:
        if not ref.isdigit():
            raise DeliveryRejected(f"Freshdesk {self.name!r}: {ref!r} is not a ticket id")
        if not (key and self._has_note(ref, marker(key))):
            body = f"<p>{payload['note']}</p>" + (f"<p>{html.escape(marker(key))}</p>" if key else "")
            self.call("POST", f"/api/v2/tickets/{ref}/notes", json={"body": body, "private": True})
        self.call("PUT", f"/api/v2/tickets/{ref}", json={"status": payload["status"], "priority": payload["priority"]})

    def _has_note(self, ref: str, mark: str) -> bool:
        """Whether a note carries ``mark``: the change was delivered before a crash lost the answer."""
        for page in range(1, NOTES_PAGES + 1):
            params = {"per_page": NOTES_PAGE, "page": page}
            notes = self.answer(self.call("GET", f"/api/v2/tickets/{ref}/conversations", params=params))
            if not isinstance(notes, list):
                return False
            texts = (f"{n.get('body', '')} {n.get('body_text', '')}" for n in notes if isinstance(n, dict))
            if any(mark in html.unescape(text) for text in texts):
                return True
            if len(notes) < NOTES_PAGE:
                return False
        return False


def html_body(case: CaseView) -> str:
    """The ticket's description as Freshdesk's HTML: everything from outside escaped, only http(s) links live."""
    text = case.analysis.masked_text.strip() or "(boş metin / empty text)"
    parts = [f"<p>{_lines(text)}</p>", "<p>"]
    for label, value in case_facts(case):
        shown = _link(value) if label.startswith("Bağlantı") else html.escape(value)
        parts.append(f"<strong>{html.escape(label)}:</strong> {shown}<br>")
    parts.append("</p>")
    if case.draft.strip():
        parts.append(f"<p><strong>Önerilen yanıt / Suggested reply:</strong><br>{_lines(case.draft.strip())}</p>")
    return "".join(parts)


def _lines(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.splitlines())


def _link(url: str) -> str:
    if not is_web_url(url):
        return html.escape(url)
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>'
