"""The responder stages: MATCHED -> ROUTED (tickets and outbox rows), then PENDING deliveries -> SENT/FAILED."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence

from responders.alerts import Alerter, CaseView
from responders.routing import TicketRouter
from store.errors import DeliveryError, DeliveryRejected
from store.model import Delivery, Mention, MentionStatus
from store.repository import UnitOfWork, drain

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def delivery_key(alerter: Alerter, ticket_id: int) -> str:
    """One alert per ticket per channel and target, however often routing runs."""
    return f"{alerter.name}:{alerter.target}:ticket:{ticket_id}"


def route_pending(uow: UnitOfWork, router: TicketRouter, alerters: Sequence[Alerter]) -> Counter[str]:
    """Open tickets for MATCHED mentions that need one and queue their alerts; mark them ROUTED."""

    def route_one(uow: UnitOfWork, mention: Mention, counts: Counter[str]) -> None:
        analysis = uow.analyses.get(mention.id)
        if analysis is None:
            uow.mentions.set_status(mention.id, MentionStatus.FAILED, "routing: no analysis stored")
            counts["failed"] += 1
            return
        match = uow.matches.get(mention.id)
        wanted = router.decide(mention, analysis, match.customer_id if match else None)
        if wanted is None:
            counts["no_ticket"] += 1
        else:
            ticket, created = uow.tickets.open(wanted)
            counts["tickets_opened" if created else "tickets_existing"] += 1
            assert ticket.id is not None
            customer = uow.customers.get(match.customer_id) if match else None
            case = CaseView(ticket=ticket, mention=mention, analysis=analysis, customer=customer)
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
            uow.commit()
        counts["sent"] += 1
    return counts


def _record_failure(uow: UnitOfWork, delivery_id: int, error: str, *, final: bool) -> None:
    with uow:
        uow.deliveries.mark_failed(delivery_id, error, final=final)
        uow.commit()
