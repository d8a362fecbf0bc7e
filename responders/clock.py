"""The case clock: each missed deadline announced once (first response, a site's reply window), and resolved
cases closed after a while."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from responders.alerts import Alerter
from responders.cases import Drafter, notify
from store.model import CaseChange, TicketStatus
from store.repository import UnitOfWork


def check_cases(
    uow: UnitOfWork,
    alerters: Mapping[str, Alerter],
    *,
    close_after: timedelta = timedelta(days=3),
    drafter: Drafter | None = None,
    now: datetime | None = None,
) -> Counter[str]:
    """The case clock: announce each missed deadline once (first response, the site's reply window) and close
    cases resolved longer than ``close_after`` ago."""
    counts: Counter[str] = Counter()
    moment = now or datetime.now(UTC)
    with uow:
        for ticket in uow.tickets.overdue(moment):
            assert ticket.id is not None
            known = {e.detail.get("deadline") for e in uow.tickets.timeline(ticket.id) if e.kind == "breach"}
            for deadline, due in (("respond_by", ticket.respond_by), ("reply_by", ticket.reply_by)):
                if due is None or due >= moment or deadline in known:
                    continue
                if ticket.created_at is not None and due <= ticket.created_at:
                    continue  # already past when Kulak first saw it (a backlog): the alert showed the date
                what = (
                    "ilk yanıt süresi / first response"
                    if deadline == "respond_by"
                    else "site yanıt süresi / reply window"
                )
                summary = f"SLA aşıldı / breached: {what} {due:%Y-%m-%d %H:%M} UTC"
                change = CaseChange(ticket.id, "breach", summary, "kulak", {"deadline": deadline}, moment)
                notify(uow, alerters, change, drafter=drafter)
                counts["breaches"] += 1
        for ticket in uow.tickets.resolved_before(moment - close_after):
            assert ticket.id is not None
            uow.tickets.update(ticket.id, status=TicketStatus.CLOSED, closed_at=moment)
            notify(uow, alerters, CaseChange(ticket.id, "closed", "kapandı / closed", "kulak", {}, moment))
            counts["closed"] += 1
        uow.commit()
    return counts
