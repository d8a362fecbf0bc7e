"""The operator's side of customers and cases: import, KVKK erasure, an agent's match decision, a case's timeline."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any, TextIO

from classifiers.customers import Columns, ImportReport, import_customers
from classifiers.privacy import erase_author, erase_customer
from config.loader import resolve_path
from config.settings import Settings
from scheduler.bootstrap import identity_key
from store.errors import InputError
from store.model import CaseEvent, Erasure, MatchStatus
from store.repository import UnitOfWork

IMPORT_ACTION = "customers.import"


def columns_of(settings: Settings) -> Columns:
    c = settings.customers
    return Columns(fields=c.columns, handles=c.handle_columns, numbers=c.number_columns)


def file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise InputError(f"{path}: cannot read customer file: {exc.strerror or exc}") from None


def import_file(settings: Settings, uow: UnitOfWork, path: Path, *, digest: str | None = None) -> ImportReport:
    """Import a customer file and note it (with its digest, no contents) in the audit log."""
    key = identity_key(settings, required=True)
    assert key is not None
    report = import_customers(path, columns_of(settings), key, uow)
    with uow:
        uow.audit.record(
            "operator",
            IMPORT_ACTION,
            path.name,
            sha256=digest or file_digest(path),
            read=report.read,
            imported=report.imported,
            errors=len(report.errors),
            erased=report.erased,
        )
        uow.commit()
    return report


def import_if_changed(settings: Settings, uow: UnitOfWork) -> ImportReport | None:
    """Import ``customers.file`` unless the last import read exactly these bytes; None when skipped."""
    assert settings.customers.file
    path = resolve_path(settings, settings.customers.file)
    digest = file_digest(path)
    with uow:
        last = uow.audit.last(IMPORT_ACTION)
    if last is not None and last.get("sha256") == digest:
        return None
    return import_file(settings, uow, path, digest=digest)


def print_import(report: ImportReport, stream: TextIO, *, as_json: bool) -> None:
    if as_json:
        summary = {"read": report.read, "imported": report.imported, "erased": report.erased, "errors": report.errors}
        stream.write(json.dumps(summary, ensure_ascii=False) + "\n")
        return
    stream.write(f"{report.imported} of {report.read} record(s) imported")
    stream.write(f"; {report.erased} refused (erased under KVKK)\n" if report.erased else "\n")
    for error in report.errors:
        stream.write(f"skipped {error}\n")


def forget(
    settings: Settings, uow: UnitOfWork, *, customer: str | None, author: str | None, source: str | None
) -> Erasure:
    """`kulak forget`: erase one customer or one author, in one transaction, with an audit entry naming nobody."""
    if (customer is None) == (author is None):
        raise InputError("name exactly one of --customer ID or --author HANDLE")
    key = identity_key(settings, required=True)
    assert key is not None
    with uow:
        if customer is not None:
            erased = erase_customer(uow, key, customer, patterns=settings.customers.number_patterns)
        else:
            assert author is not None
            erased = erase_author(uow, key, author, source=source)
        uow.commit()
    return erased


def decide_match(uow: UnitOfWork, mention_id: int, external_id: str, *, confirm: bool, actor: str) -> None:
    """An agent confirms or rejects a suggested customer; the case (if any) gets the customer and a timeline line."""
    with uow:
        customer = uow.customers.by_external_id(external_id)
        if customer is None or customer.id is None:
            raise InputError(f"no customer with id {external_id!r}")
        status = MatchStatus.CONFIRMED if confirm else MatchStatus.REJECTED
        uow.matches.decide(mention_id, customer.id, status)
        case = uow.tickets.case_of(mention_id)
        if case is not None and case.id is not None:
            if confirm and case.customer_id is None:
                uow.tickets.set_customer(case.id, customer.id)
            uow.tickets.add_event(
                CaseEvent(case.id, "action", {"action": status.value, "customer_id": customer.id, "by": actor})
            )
        uow.audit.record(actor, f"match.{status.value}", f"mention:{mention_id}", customer_id=customer.id)
        uow.commit()


def case_report(uow: UnitOfWork, ticket_id: int) -> dict[str, Any]:
    """A case with its mentions (masked text only) and its timeline, as JSON-able data."""
    with uow:
        ticket = uow.tickets.get(ticket_id)
        mentions = []
        for mention_id, reason in uow.tickets.mentions_of(ticket_id):
            mention, analysis = uow.mentions.get(mention_id), uow.analyses.get(mention_id)
            mentions.append(
                {
                    "mention_id": mention_id,
                    "joined": reason,
                    "source": mention.raw.source,
                    "url": mention.raw.url,
                    "text": analysis.masked_text if analysis else "(not analysed)",
                }
            )
        events = [
            {"at": e.at.isoformat() if e.at else None, "kind": e.kind, **dict(e.detail)}
            for e in uow.tickets.timeline(ticket_id)
        ]
    return {
        "ticket": ticket_id,
        "brand": ticket.brand,
        "status": ticket.status.value,
        "priority": ticket.priority,
        "unit": ticket.unit,
        "route": ticket.route,
        "assignee": ticket.assignee,
        "respond_by": ticket.respond_by.isoformat() if ticket.respond_by else None,
        "reply_by": ticket.reply_by.isoformat() if ticket.reply_by else None,
        "customer_id": ticket.customer_id,
        "mentions": mentions,
        "timeline": events,
    }


def export_feedback(uow: UnitOfWork, task: str, out: Path) -> int:
    """Agents' corrections of ``task`` (sentiment or topic) as a ``text,label`` CSV `kulak train` reads: the
    masked text and the label the agent chose (the latest one when a mention was corrected twice)."""
    if task not in ("sentiment", "topic"):
        raise InputError(f"expected sentiment or topic, got {task!r}")
    with uow:
        latest = {f.mention_id: f.new_label for f in uow.feedback.listed(field=task)}
        rows = [(a.masked_text, label) for mid, label in latest.items() if (a := uow.analyses.get(mid)) is not None]
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return len(rows)
