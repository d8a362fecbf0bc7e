"""The Block Kit of a care alert: the case, what the analysis says and why, and the buttons agents act with."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from responders.alerts import CaseView, facts, headline
from responders.slack_text import (
    CONTEXT_TEXT,
    FALLBACK_EXCERPT,
    FALLBACK_TEXT,
    FIELD_TEXT,
    HEADER_TEXT,
    MAX_BLOCKS,
    MAX_FIELDS,
    SECTION_TEXT,
    clip,
    escape,
    escaped_clip,
    link,
    mrkdwn,
    slack_len,
)
from store.model import CaseChange

BUTTON_TEXT = 75
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,20}$")
SENTIMENTS = ("negative", "neutral", "positive")
#: Topic labels offered in the "fix topic" select (Slack allows 100 options; the built-in taxonomy has 16).
TOPICS = (
    "billing", "pricing", "refund", "customer_service", "cancellation", "account_access", "fraud_security",
    "mobile_app", "product_defect", "campaign", "network", "line", "delivery", "order", "card", "card_dispute",
    "loan", "transfer", "atm", "bank_account",
)  # fmt: skip
CASE_BUTTONS = (
    ("claim", "Üstlen / Claim", "primary"),
    ("contacted", "Ulaşıldı / Contacted", None),
    ("resolve", "Çözüldü / Resolve", "primary"),
    ("escalate", "Yükselt / Escalate", "danger"),
    ("not_relevant", "İlgisiz / Not relevant", None),
)
#: Actions a Slack button or select may carry; the interactivity endpoint refuses anything else.
ACTION_IDS = frozenset(
    {f"kulak_{a}" for a, _, _ in CASE_BUTTONS}
    | {"kulak_reopen", "kulak_confirm_customer", "kulak_wrong_customer", "kulak_fix_sentiment", "kulak_fix_topic"}
)


def person(user: str) -> str:
    """An agent as mrkdwn: a Slack user id becomes a mention Slack renders as the name; anything else escaped."""
    return f"<@{user}>" if SLACK_USER.match(user) else escape(user)


def when(moment: datetime | None) -> str:
    """A time every reader sees in their own time zone (Slack date formatting), with a UTC fallback."""
    if moment is None:
        return "—"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def button(action: str, text: str, value: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": f"kulak_{action}",
        "text": {"type": "plain_text", "text": clip(text, BUTTON_TEXT), "emoji": True},
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def select(action: str, placeholder: str, ticket_id: int, labels: tuple[str, ...]) -> dict[str, Any]:
    options = [{"text": {"type": "plain_text", "text": label}, "value": f"{ticket_id}:{label}"} for label in labels]
    return {
        "type": "static_select",
        "action_id": f"kulak_{action}",
        "placeholder": {"type": "plain_text", "text": placeholder},
        "options": options[:100],
    }


def case_fields(case: CaseView) -> list[dict[str, Any]]:
    ticket = case.ticket
    status = ticket.status.value + (f" · {person(ticket.assignee)}" if ticket.assignee else "")
    due = when(ticket.respond_by)
    if ticket.reply_by is not None:
        due += f"\nSite: {when(ticket.reply_by)}"
    rows = [(label, escaped_clip(value, FIELD_TEXT - 40)) for label, value in facts(case)[:8]]
    rows += [("Durum / Status", status), ("Yanıt / Respond by", due)]
    return [mrkdwn(f"*{label}*\n{value}") for label, value in rows[:MAX_FIELDS]]


def origin(case: CaseView) -> str:
    raw = case.mention.raw
    moment = raw.published_at or raw.fetched_at
    extra = f" · {case.mentions} bahsetme / mentions" if case.mentions > 1 else ""
    if case.similar:
        extra += f" · +{case.similar} benzer / similar"
    tail = f" · {escape(raw.source)} #{case.mention.id} · {moment:%Y-%m-%d %H:%M}{extra}"
    room = CONTEXT_TEXT - slack_len(tail)
    linked = link(raw.url, "Orijinali aç / open original")
    if linked is not None and slack_len(linked) <= room:
        return linked + tail
    if not raw.url.strip():
        return "bağlantı yok / no link" + tail
    return escaped_clip(f"Bağlantı / Link: {raw.url.strip()}", room) + tail


def action_blocks(case: CaseView) -> list[dict[str, Any]]:
    ticket = case.ticket
    tid = ticket.id or 0
    value = str(tid)
    if ticket.status.active:
        elements = [button(a, text, value, style) for a, text, style in CASE_BUTTONS]
    else:
        elements = [button("reopen", "Yeniden aç / Reopen", value)]
    elements += [
        select("fix_sentiment", "Duyguyu düzelt / Fix sentiment", tid, SENTIMENTS),
        select("fix_topic", "Konuyu düzelt / Fix topic", tid, TOPICS),
    ]
    blocks: list[dict[str, Any]] = [{"type": "actions", "block_id": f"case:{tid}", "elements": elements}]
    people: list[dict[str, Any]] = []
    for customer, _ in case.suggested[:3]:
        name = customer.name or f"#{customer.id}"
        people.append(button("confirm_customer", f"✔ {name}", f"{tid}:{customer.id}", "primary"))
        people.append(button("wrong_customer", f"✘ {name}", f"{tid}:{customer.id}"))
    if case.customer is not None and case.customer.id is not None:
        people.append(button("wrong_customer", "Yanlış müşteri / Wrong customer", f"{tid}:{case.customer.id}"))
    if people:
        blocks.append({"type": "actions", "block_id": f"customer:{tid}", "elements": people})
    return blocks


def alert_payload(case: CaseView) -> dict[str, Any]:
    """The whole alert message: header, masked text, facts, origin, suggested reply, buttons."""
    title = " ".join(f"{headline(case)} · #{case.ticket.id}".split())
    text = case.analysis.masked_text.strip() or "(boş metin / empty text)"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title, HEADER_TEXT), "emoji": True}},
        {"type": "section", "text": mrkdwn(escaped_clip(text, SECTION_TEXT))},
        {"type": "section", "fields": case_fields(case)},
        {"type": "context", "elements": [mrkdwn(origin(case))]},
    ]
    if case.draft.strip():
        label = "*Önerilen yanıt / Suggested reply* (düzenleyip siz gönderin / edit and send it yourself)\n"
        draft = escaped_clip(case.draft.strip(), SECTION_TEXT - slack_len(label))
        blocks.append({"type": "section", "text": mrkdwn(label + draft)})
    blocks += action_blocks(case)
    excerpt = escaped_clip(" ".join(text.split()), FALLBACK_EXCERPT)
    fallback = clip(f"{escape(title)} — {escape(case.mention.raw.source)}: {excerpt}", FALLBACK_TEXT)
    return {"text": fallback, "blocks": blocks[:MAX_BLOCKS]}


def change_payloads(case: CaseView, change: CaseChange) -> list[dict[str, Any]]:
    """A note in the alert's thread (broadcast to the channel when the case got worse) and the refreshed alert."""
    line = f"{person(change.actor)}: {escape(change.summary)}" if change.actor != "kulak" else escape(change.summary)
    quoted = str(change.detail.get("text") or "").strip()
    body = line + ("\n>" + escaped_clip(" ".join(quoted.split()), SECTION_TEXT - slack_len(line) - 8) if quoted else "")
    note = {
        "op": "thread",
        "text": clip(f"#{change.ticket_id}: {escape(change.summary)}", FALLBACK_TEXT),
        "blocks": [{"type": "section", "text": mrkdwn(clip(body, SECTION_TEXT))}],
        "broadcast": change.kind in ("breach", "escalated", "reopened"),
    }
    return [note, {"op": "update", **alert_payload(case)}]
