"""Cases as signed JSON to any endpoint (HMAC-SHA256 of timestamp and body), for helpdesks with no adapter here."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from config.settings import doc
from responders.alerts import CaseView
from responders.helpdesk import Helpdesk, register
from responders.ticket_text import case_id, case_tags, external_id, subject
from store.model import CaseChange

log = logging.getLogger(__name__)

VERSION = "v1"
TOLERANCE = 300  # seconds a signed request stays valid: a captured one cannot be replayed later than this


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``v1=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>``, the X-Kulak-Signature header."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance: float = TOLERANCE
) -> bool:
    """Whether ``signature`` (X-Kulak-Signature; several may be comma-separated) signs ``body`` at ``timestamp``
    (X-Kulak-Timestamp, unix seconds) with ``secret``, and ``timestamp`` is within ``tolerance`` of ``now``."""
    if not secret or not timestamp.isascii() or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate.strip()) for candidate in signature.split(","))


@dataclass(frozen=True)
class WebhookOptions:
    secret_env: str = doc(
        "Environment variable holding the shared secret requests are signed with.", default="KULAK_WEBHOOK_SECRET"
    )


@register
class WebhookAlerter(Helpdesk):
    """A signed webhook: POSTs case.opened and case.changed events as JSON to base_url."""

    kind = "webhook"
    title = "Webhook"
    Options = WebhookOptions
    secret_option = "secret_env"

    def __init__(
        self,
        name: str,
        client: httpx.Client,
        base_url: str,
        options: WebhookOptions,
        secret: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name, client, base_url, options, secret)
        self.url = base_url  # as written: a receiver may tell /hook from /hook/
        self.clock = clock

    def render(self, case: CaseView) -> dict[str, Any]:
        return {"op": "open", "event": "case.opened", "case": case_json(case)}

    def render_change(self, case: CaseView, change: CaseChange) -> list[dict[str, Any]]:
        return [{"op": "update", "event": "case.changed", "case": case_json(case), "change": change_json(change)}]

    def open(self, payload: Mapping[str, Any], target: str, key: str) -> str:
        return self._post(payload, key, None)

    def update(self, payload: Mapping[str, Any], ref: str, key: str) -> None:
        self._post(payload, key, ref)

    def _post(self, payload: Mapping[str, Any], key: str, ref: str | None) -> str:
        # Without an outbox key a delivery id from the content still lets the receiver drop repeats.
        delivery = key or "sha256-" + hashlib.sha256(_canonical(payload)).hexdigest()[:32]
        event: dict[str, Any] = {"event": payload["event"], "id": delivery, "case": payload["case"]}
        if "change" in payload:
            event.update(change=payload["change"], ref=ref)
        body = _canonical(event)
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json",
            "X-Kulak-Event": str(payload["event"]),
            "X-Kulak-Delivery": delivery,
            "X-Kulak-Timestamp": timestamp,
            "X-Kulak-Signature": sign(self.secret, timestamp, body),
        }
        response = self.call("POST", self.url, content=body, headers=headers)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        ref_out = str(answer["id"]) if isinstance(answer, dict) and answer.get("id") not in (None, "") else delivery
        ids = {"delivery": delivery, "case_id": payload["case"].get("id")}
        log.info("Webhook %s took %s (%s)", self.name, payload["event"], ref_out, extra=ids)
        return ref_out


def _canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def case_json(case: CaseView) -> dict[str, Any]:
    """The case as the receiver reads it: the masked text only, never the customer's own words."""
    ticket, analysis, mention = case.ticket, case.analysis, case.mention
    customer = case.customer
    return {
        "id": case_id(case),
        "ref": external_id(case),
        "subject": subject(case),
        "brand": ticket.brand,
        "priority": ticket.priority,
        "status": ticket.status.value,
        "unit": ticket.unit,
        "summary": ticket.summary,
        "route": ticket.route,
        "queue": ticket.queue,
        "assignee": ticket.assignee,
        "respond_by": _iso(ticket.respond_by),
        "reply_by": _iso(ticket.reply_by),
        "mention": {
            "id": mention.id,
            "source": mention.raw.source,
            "url": mention.raw.url,
            "published_at": _iso(mention.raw.published_at),
        },
        "text": analysis.masked_text,
        "analysis": {
            "lang": analysis.lang,
            "sentiment": {"label": analysis.sentiment.label, "score": analysis.sentiment.score},
            "intent": {"label": analysis.intent.label, "score": analysis.intent.score},
            "topics": [{"label": t.label, "score": t.score} for t in analysis.topics],
            "urgency": {"level": analysis.urgency.level, "reasons": list(analysis.urgency.reasons)},
            "needs_reply": analysis.needs_reply,
        },
        "customer": None
        if customer is None
        else {
            "name": customer.name,
            "external_id": customer.external_id,
            "vip": customer.vip,
            "segment": customer.segment,
        },
        "draft": case.draft or None,
        "mentions": case.mentions,
        "tags": case_tags(case),
    }


def change_json(change: CaseChange) -> dict[str, Any]:
    """What happened; ``detail`` stays home (it is not promised to be JSON, and the summary says it for people)."""
    return {"kind": change.kind, "summary": change.summary, "actor": change.actor, "at": _iso(change.at)}


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None
