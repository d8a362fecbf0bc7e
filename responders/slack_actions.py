"""Slack's side of agents' actions: signed requests checked, button and select payloads read, /kulak answered."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from responders.actions import Action
from responders.slack_blocks import ACTION_IDS, SLACK_USER
from responders.slack_text import escape
from store.errors import InputError, StoreError
from store.model import TicketStatus
from store.repository import UnitOfWork

TOLERANCE = 300  # seconds: Slack's advice, and what stops a captured request being replayed later
MAX_BODY = 1_000_000


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """Raise InputError unless Slack signed ``body`` with ``secret`` within the last five minutes."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    given = headers.get("x-slack-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:  # "²".isdigit() is true
        raise InputError("missing or malformed X-Slack-Request-Timestamp")
    if abs(now - int(timestamp)) > TOLERANCE:
        raise InputError("the request is older than five minutes (or from the future)")
    if not hmac.compare_digest(signature(secret, timestamp, body), given):
        raise InputError("the Slack signature does not match")


@dataclass(frozen=True)
class Interaction:
    """A button or select press: the action on the case, and where to tell the agent if it is refused."""

    action: Action
    channel: str
    user: str


def _form(body: bytes) -> dict[str, str]:
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise InputError("the body is not UTF-8 form data") from None
    return {k: v[-1] for k, v in form.items()}


def read_interactions(body: bytes) -> list[Interaction]:
    """The actions of a ``block_actions`` payload; InputError when it is not one Kulak made."""
    raw = _form(body).get("payload")
    if raw is None:
        raise InputError("no payload field")
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: [[[[... nested deeper than the interpreter goes
        raise InputError("the payload is not JSON") from None
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        raise InputError("only block_actions payloads are handled")
    user = str(_object(payload.get("user")).get("id") or "")
    channel = str(_object(payload.get("channel")).get("id") or "")
    if not user:
        raise InputError("the payload names no user")
    if not SLACK_USER.match(user):  # it becomes the assignee, stored and shown: only a real Slack id will do
        raise InputError(f"the payload's user {user[:40]!r} is not a Slack user id")
    actions = payload.get("actions")
    found = []
    for item in map(_object, actions if isinstance(actions, list) else ()):
        action_id = str(item.get("action_id") or "")
        if action_id not in ACTION_IDS:
            raise InputError(f"unknown action {action_id!r}")
        value = str(item.get("value") or _object(item.get("selected_option")).get("value") or "")
        ticket, _, rest = value.partition(":")
        if not (ticket.isascii() and ticket.isdigit()) or len(ticket) > 18:  # a case id, not "²" or 5,000 digits
            raise InputError(f"the action value {value[:40]!r} names no case")
        found.append(Interaction(Action(action_id.removeprefix("kulak_"), int(ticket), user, rest), channel, user))
    if not found:
        raise InputError("the payload carries no action")
    return found


def _object(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one: a forged payload may put anything anywhere."""
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Command:
    text: str
    user: str
    channel: str


def read_command(body: bytes) -> Command:
    form = _form(body)
    if form.get("command", "").lstrip("/") != "kulak":
        raise InputError(f"unknown command {form.get('command', '')[:40]!r}")
    return Command(form.get("text", "").strip(), form.get("user_id", ""), form.get("channel_id", ""))


HELP = (
    "`/kulak 42` — vaka #42 / case #42\n"
    "`/kulak bugün` (today) — bugünün sayıları / today's numbers\n"
    "`/kulak help` — bu yardım / this help"
)


def answer(uow: UnitOfWork, command: Command, now: datetime | None = None) -> dict[str, Any]:
    """The ephemeral answer to ``/kulak …``: a case, today's numbers, or help."""
    words = command.text.split()
    first = words[0].lower() if words else "help"
    if re.fullmatch(r"#?\d{1,12}", first):
        ticket_id = int(first.lstrip("#"))
        with uow:
            try:
                ticket = uow.tickets.get(ticket_id)
            except StoreError:
                return _ephemeral(f"#{ticket_id} bulunamadı / not found")
            events = uow.tickets.timeline(ticket_id)
            mentions = len(uow.tickets.mentions_of(ticket_id))
        lines = [
            f"*#{ticket_id} · {escape(ticket.brand)} · {ticket.priority} · {ticket.status.value}*",
            escape(ticket.summary),
            f"Birim / Unit: {escape(ticket.unit)} · bahsetme / mentions: {mentions}"
            + (f" · <@{ticket.assignee}>" if ticket.assignee.isalnum() and ticket.assignee else ""),
        ]
        if ticket.respond_by is not None and ticket.responded_at is None and ticket.status.active:
            lines.append(f"Yanıt / Respond by: {ticket.respond_by:%Y-%m-%d %H:%M} UTC")
        lines += [f"• {e.at:%m-%d %H:%M} {e.kind}: {escape(str(e.detail.get('summary', '')))}" for e in events[-8:]]
        return _ephemeral("\n".join(lines))
    if first in ("bugün", "bugun", "today"):
        moment = now or datetime.now(UTC)
        with uow:
            numbers = uow.tickets.numbers(moment - timedelta(hours=24))
        active = {s.value: numbers.get(f"active_{s.value}", 0) for s in TicketStatus if s.active}
        text = (
            f"*Son 24 saat / last 24 hours*: açılan / opened {numbers['opened']} · çözülen / resolved "
            f"{numbers['resolved']} · SLA aşan / overdue {numbers['overdue']}\n"
            f"Açık / active: " + " · ".join(f"{k} {v}" for k, v in active.items())
        )
        return _ephemeral(text)
    return _ephemeral(HELP)


def _ephemeral(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text}
