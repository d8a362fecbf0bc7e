"""What a case says in a helpdesk ticket: subject, tags, the labelled facts, the body, a change's line."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from responders.alerts import CaseView
from store.model import CaseChange

SUBJECT_LENGTH = 250  # Jira refuses summaries of 255 characters and more; the others are laxer
_TURKISH = str.maketrans("ıİşŞğĞüÜöÖçÇ", "iIsSgGuUoOcC")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def case_id(case: CaseView) -> int:
    if case.ticket.id is None:
        raise ValueError("the case has no id yet: store it before opening it in a helpdesk")
    return case.ticket.id


def external_id(case: CaseView) -> str:
    """The id Kulak gives the case at every helpdesk (Zendesk ``external_id``, a tag or label elsewhere)."""
    return f"kulak-case-{case_id(case)}"


def case_of(external: str) -> int | None:
    """The case id in an :func:`external_id` (for log lines that only have the helpdesk's payload)."""
    number = external.removeprefix("kulak-case-")
    return int(number) if number != external and number.isdigit() else None


def subject(case: CaseView) -> str:
    return clip(" ".join(f"[{case.ticket.brand}] {case.ticket.summary}".split()), SUBJECT_LENGTH)


def slug(text: str) -> str:
    """``Kuzey Telekom`` -> ``kuzey-telekom``: tags and labels allow no spaces, and ASCII travels best."""
    folded = unicodedata.normalize("NFKD", text.translate(_TURKISH)).encode("ascii", "ignore").decode().lower()
    return "-".join("".join(ch if ch.isalnum() else " " for ch in folded).split())


def case_tags(case: CaseView) -> list[str]:
    """``kulak``, ``kulak-case-{id}``, the brand's slug and the topics' slugs, each once."""
    tags = ["kulak", external_id(case), slug(case.ticket.brand), *(slug(t.label) for t in case.analysis.topics)]
    return [tag for i, tag in enumerate(tags) if tag and tag not in tags[:i]]


def when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="minutes") if moment is not None else "—"


def case_facts(case: CaseView) -> list[tuple[str, str]]:
    """The labelled lines a ticket shows; the customer's words are never among them (only the masked text is)."""
    ticket, analysis, raw = case.ticket, case.analysis, case.mention.raw
    urgency = analysis.urgency.level + (f" — {', '.join(analysis.urgency.reasons)}" if analysis.urgency.reasons else "")
    rows = [
        ("Kulak vaka / case", f"#{case_id(case)}"),
        ("Marka / Brand", ticket.brand),
        ("Öncelik / Priority", ticket.priority),
        ("Birim / Unit", ticket.unit),
        ("İlk yanıt / Respond by", when(ticket.respond_by)),
    ]
    if ticket.reply_by is not None:
        rows.append(("Site yanıt süresi / Site reply window", when(ticket.reply_by)))
    rows += [
        ("Kaynak / Source", raw.source),
        ("Bağlantı / Link", raw.url.strip() or "—"),
        ("Duygu / Sentiment", f"{analysis.sentiment.label} ({analysis.sentiment.score:.2f})"),
        ("Niyet / Intent", f"{analysis.intent.label} ({analysis.intent.score:.2f})"),
        ("Konular / Topics", ", ".join(t.label for t in analysis.topics) or "—"),
        ("Aciliyet / Urgency", urgency),
        ("Müşteri / Customer", customer_line(case)),
    ]
    if case.mentions > 1:
        rows.append(("Bahsetmeler / Mentions", str(case.mentions)))
    return rows


def customer_line(case: CaseView) -> str:
    """The matched customer's name and record id; unconfirmed candidates stay in Kulak."""
    customer = case.customer
    if customer is None:
        return "eşleşmedi / not matched"
    vip = " · VIP" if customer.vip else ""
    return f"{customer.name} ({customer.external_id}){vip}"


def plain_body(case: CaseView) -> str:
    """The ticket's first comment as plain text: the masked text, the facts, the suggested reply."""
    text = case.analysis.masked_text.strip() or "(boş metin / empty text)"
    lines = [text, "", *(f"{label}: {value}" for label, value in case_facts(case))]
    if case.draft.strip():
        lines += ["", "Önerilen yanıt / Suggested reply:", case.draft.strip()]
    return "\n".join(lines)


def change_text(change: CaseChange) -> str:
    """One line about what happened: the change's summary (never a customer's words) and who did it."""
    by = f" — {change.actor}" if change.actor and change.actor != "kulak" else ""
    return f"Kulak: {' '.join(change.summary.split())}{by}"


def marker(key: str) -> str:
    """The tag a comment carries so that a repeat of the same outbox delivery can be spotted and skipped."""
    return f"[kulak-ref {key}]"
