"""The responder stages: MATCHED -> ROUTED (tickets and outbox rows), then PENDING deliveries -> SENT/FAILED."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from responders.alerts import Alerter, CaseView
from responders.routing import TicketRouter
from store.errors import DeliveryError, DeliveryRejected
from store.model import CaseEvent, Delivery, MatchStatus, Mention, MentionStatus, Ticket, TicketStatus
from store.repository import UnitOfWork, drain

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def delivery_key(alerter: Alerter, ticket_id: int) -> str:
    """One alert per ticket per channel and target, however often routing runs."""
    return f"{alerter.name}:{alerter.target}:ticket:{ticket_id}"


def route_pending(
    uow: UnitOfWork,
    router: TicketRouter,
    alerters: Sequence[Alerter],
    *,
    window_hours: int = 72,
    now: datetime | None = None,
) -> Counter[str]:
    """Give every MATCHED mention its case and mark it ROUTED.

    A mention joins an open case when it repeats a mention already in one (near-duplicate, any source), or when
    its customer (else its author on the same source) has a case active within ``window_hours``. Otherwise the
    router decides whether it opens a new case, whose alerts are queued. One alert per case, not per post.
    """

    def route_one(uow: UnitOfWork, mention: Mention, counts: Counter[str]) -> None:
        analysis = uow.analyses.get(mention.id)
        if analysis is None:
            uow.mentions.set_status(mention.id, MentionStatus.FAILED, "routing: no analysis stored")
            counts["failed"] += 1
            return
        match = uow.matches.get(mention.id)
        customer_id = match.customer_id if match else None
        since = (now or datetime.now(UTC)) - timedelta(hours=window_hours)
        joined = open_case_for(uow, mention, customer_id, since)
        if joined is not None:
            open_case, reason = joined
            assert open_case.id is not None
            if uow.tickets.attach(open_case.id, mention.id, reason):
                counts[f"joined_by_{reason}"] += 1
            if customer_id is not None and open_case.customer_id is None:
                uow.tickets.set_customer(open_case.id, customer_id)
            uow.mentions.set_status(mention.id, MentionStatus.ROUTED)
            return
        wanted = router.decide(mention, analysis, customer_id)
        if wanted is None:
            counts["no_ticket"] += 1
        else:
            ticket, created = uow.tickets.open(wanted)
            counts["tickets_opened" if created else "tickets_existing"] += 1
            assert ticket.id is not None
            candidates = uow.matches.candidates(mention.id)
            for candidate in candidates:
                uow.tickets.add_event(
                    CaseEvent(
                        ticket.id,
                        "match",
                        {
                            "customer_id": candidate.customer_id,
                            "status": candidate.status.value,
                            "confidence": candidate.confidence,
                        },
                    )
                )
            customer = uow.customers.get(match.customer_id) if match else None
            suggested = tuple(
                (found, c.confidence)
                for c in candidates
                if c.status is MatchStatus.SUGGESTED and (found := uow.customers.get(c.customer_id)) is not None
            )
            case = CaseView(ticket=ticket, mention=mention, analysis=analysis, customer=customer, suggested=suggested)
            for alerter in alerters:
                delivery = Delivery(
                    key=delivery_key(alerter, ticket.id),
                    channel=alerter.name,
                    target=alerter.target,
                    payload=alerter.render(case),
                    ticket_id=ticket.id,
                )
                counts["alerts_queued"] += int(uow.deliveries.enqueue(delivery))
        uow.mentions.set_status(mention.id, MentionStatus.ROUTED)

    return drain(uow, MentionStatus.MATCHED, route_one)


def open_case_for(
    uow: UnitOfWork, mention: Mention, customer_id: int | None, since: datetime
) -> tuple[Ticket, str] | None:
    """The open case this mention belongs to, with why: "duplicate", "customer" or "author"."""
    repeated = uow.fingerprints.duplicate_of(mention.id)
    if repeated is not None:
        case = uow.tickets.case_of(repeated)
        # Template letters (a standard fee, a petition) read alike from different people: a repeat joins only a
        # case of no one yet, or of the same customer.
        same_person = case is not None and case.customer_id in (None, customer_id)
        if case is not None and case.status is TicketStatus.OPEN and same_person:
            return case, "duplicate"
    raw = mention.raw
    return uow.tickets.open_case_of(
        customer_id=customer_id, source=raw.source, author_handle=raw.author_handle, since=since
    )


def deliver_pending(uow: UnitOfWork, alerters: Mapping[str, Alerter]) -> Counter[str]:
    """Send queued deliveries; a rejected one fails for good, a transient failure is retried on a later run."""
    counts: Counter[str] = Counter()
    with uow:
        queue = uow.deliveries.pending(limit=10_000, max_attempts=MAX_ATTEMPTS)
    for delivery in queue:
        assert delivery.id is not None
        alerter = alerters.get(delivery.channel)
        if alerter is None:
            counts["waiting_for_channel"] += 1  # its channel is switched off now; kept for when it is back
            continue
        try:
            ref = alerter.send(delivery.payload, delivery.target)
        except DeliveryRejected as exc:
            _record_failure(uow, delivery.id, str(exc), final=True)
            counts["rejected"] += 1
            log.error("delivery %s rejected: %s", delivery.key, exc, extra={"delivery": delivery.key})
            continue
        except DeliveryError as exc:
            _record_failure(uow, delivery.id, str(exc), final=False)
            counts["retry_later"] += 1
            log.warning("delivery %s failed, will retry: %s", delivery.key, exc, extra={"delivery": delivery.key})
            continue
        with uow:
            uow.deliveries.mark_sent(delivery.id, ref)
            uow.audit.record("responder", "delivered", delivery.key, channel=delivery.channel, ref=ref)
            if delivery.ticket_id is not None:
                detail = {"channel": delivery.channel, "target": delivery.target, "ref": ref}
                uow.tickets.add_event(CaseEvent(delivery.ticket_id, "alert", detail))
            uow.commit()
        counts["sent"] += 1
    return counts


def _record_failure(uow: UnitOfWork, delivery_id: int, error: str, *, final: bool) -> None:
    with uow:
        uow.deliveries.mark_failed(delivery_id, error, final=final)
        uow.commit()
