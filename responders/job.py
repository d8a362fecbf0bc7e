"""The responder stages: MATCHED -> ROUTED (cases, alerts, helpdesk tickets), and the outbox PENDING -> SENT/FAILED."""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from responders.alerts import Alerter, CaseView, Channel
from responders.batch_cases import BatchCases
from responders.budget import DEFER, FOLD, AlertPolicy, RecentAlerts, group_key
from responders.cases import BatchReads, CaseAlerts, Drafter, case_view, new_case_view, notify, queue_change, redrafted
from responders.ops import queue_delivery_problem
from responders.routing import TicketRouter
from store.errors import CredentialsRejected, DeliveryError, DeliveryRejected
from store.model import CaseChange, CaseEvent, Customer, Delivery, DeliveryStatus, Mention, MentionStatus, Ticket
from store.repository import BATCH, UnitOfWork, drain_batches

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10  # with the backoff below: retried for about two and a half hours
BACKOFF = 30.0  # seconds before the first retry, doubled each time
MAX_BACKOFF = 1800.0
PARENT_WAIT = 15.0  # a change waits this long for its alert to be sent before it is looked at again
NO_ALERT = "-"  # a ticket's channel when its route says alert = false
CHANNEL_OFF_WAIT = 300.0  # a delivery for a channel that is switched off is looked at again this much later
CLAIM_BATCH = 5  # deliveries a worker claims at a time
LEASE = 600.0  # seconds a claimed delivery is this worker's; one that died is taken over after this
CREDENTIALS_WAIT = 300.0  # a channel that refused Kulak's token is tried again (one delivery) this much later
OUTAGE_RUN = 3  # transient failures in a row on one channel before its other deliveries wait the outage out
# In one process the scheduler's jobs and the Slack action worker both empty the outbox: one at a time, so the
# action worker's refreshed alert waits for a running pass rather than being skipped by it.
_SENDING = threading.Lock()


def delivery_key(alerter: Alerter, target: str, ticket_id: int) -> str:
    """One alert per case per channel and target, however often routing runs."""
    return f"{alerter.name}:{target}:ticket:{ticket_id}"


def route_pending(
    uow: UnitOfWork,
    router: TicketRouter,
    alerters: Sequence[Alerter],
    *,
    helpdesks: Sequence[Alerter] = (),
    policy: AlertPolicy | None = None,
    drafter: Drafter | None = None,
    window_hours: int = 72,
    now: datetime | None = None,
    stop: Callable[[], bool] = lambda: False,
    batch_size: int = BATCH,
) -> Counter[str]:
    """Give every MATCHED mention its case and mark it ROUTED, ``batch_size`` mentions a transaction.

    A mention joins an active case when it repeats a mention already in one (near-duplicate, any source), or when
    its customer (else its author on the same source) has a case active within ``window_hours``; the channels
    carrying that case hear about it. Otherwise the router decides whether it opens a case, and where it goes:
    an alert per care channel (sent, folded into a similar recent alert, or held for the digest) and a ticket in
    the route's helpdesk.
    """
    policy = policy or AlertPolicy()
    by_name = {a.name: a for a in (*alerters, *helpdesks)}

    def route_batch(uow: UnitOfWork, mentions: list[Mention], counts: Counter[str]) -> None:
        reads = BatchReads.load(uow, [m.id for m in mentions])
        customers = [c.id for m in mentions if (c := _customer_of(reads, m.id)) is not None and c.id is not None]
        authors = [(m.raw.source, m.raw.author_handle) for m in mentions]
        cases = BatchCases(uow, reads.duplicates.values(), customers, authors)
        batch = Batch(reads, cases)
        routed = [m.id for m in mentions if route_one(uow, m, counts, batch)]
        uow.mentions.set_statuses(routed, MentionStatus.ROUTED)

    def route_one(uow: UnitOfWork, mention: Mention, counts: Counter[str], batch: Batch) -> bool:
        """Give the mention its case; False when it cannot be routed (marked FAILED)."""
        reads, cases = batch.reads, batch.cases
        moment = now or datetime.now(UTC)
        analysis = reads.analyses.get(mention.id)
        if analysis is None:
            uow.mentions.set_status(mention.id, MentionStatus.FAILED, "routing: no analysis stored")
            counts["failed"] += 1
            return False
        candidates = reads.candidates.get(mention.id, [])
        customer = _customer_of(reads, mention.id)
        since = moment - timedelta(hours=window_hours)
        author = (mention.raw.source, mention.raw.author_handle)
        joined = open_case_for(
            uow, mention, customer.id if customer else None, since, repeated=reads.duplicates.get(mention.id),
            cases=cases,
        )  # fmt: skip
        if joined is not None:
            case, reason = joined
            assert case.id is not None
            touched = datetime.now(UTC)
            if not uow.tickets.attach(case.id, mention.id, reason, at=touched):
                cases.unknown(mention.id)  # it was in a case already
                batch.views.pop(case.id, None)  # its view is read afresh
            else:
                cases.joined(mention.id, case, author, touched)
                batch.seen(case.id, drafter, mentions=1)
                counts[f"joined_by_{reason}"] += 1
                summary = f"yeni bahsetme / new mention #{mention.id} ({mention.raw.source}, {reason})"
                detail = {"mention_id": mention.id, "text": analysis.masked_text, "url": mention.raw.url}
                change = CaseChange(case.id, "mention", summary, "kulak", detail, moment)
                # attach put the mention on the timeline: the tag keeps the outbox keys apart
                notify(
                    uow, by_name, change, drafter=drafter, tag=f"m{mention.id}", later=True, alerts=batch.alerts,
                    views=batch.views,
                )  # fmt: skip
            if customer is not None and case.customer_id is None:
                touched = datetime.now(UTC)
                uow.tickets.set_customer(case.id, customer.id or 0, at=touched)
                cases.named(case.id, customer.id or 0, touched)
                batch.seen(case.id, drafter, customer=customer)
            return True
        wanted = router.decide(mention, analysis, customer, now=moment)
        if wanted is None:
            counts["no_ticket"] += 1
        else:
            ticket, created = uow.tickets.open(wanted)
            counts["tickets_opened" if created else "tickets_existing"] += 1
            assert ticket.id is not None
            cases.joined(mention.id, ticket, author)
            if created:
                batch.alerts.opened(ticket.id)
            for candidate in candidates:
                detail = {"customer_id": candidate.customer_id, "status": candidate.status.value}
                uow.tickets.record_event(CaseEvent(ticket.id, "match", {**detail, "confidence": candidate.confidence}))
            if created and (ticket.customer_id is None or ticket.customer_id in reads.customers):
                # what case_view would read back, routing holds already
                view = new_case_view(ticket, mention, analysis, candidates, reads.customers, drafter)
            else:
                view = case_view(uow, ticket.id, drafter)
            batch.views[ticket.id] = view
            group = group_key(ticket, analysis)
            for alerter in alerters:
                counts.update(_alert(uow, alerter, view, group, policy, by_name, moment, batch, drafter))
            for helpdesk in helpdesks:
                if helpdesk.name == ticket.helpdesk:
                    delivery = Delivery(
                        f"{helpdesk.name}:ticket:{ticket.id}", helpdesk.name, helpdesk.target, helpdesk.render(view),
                        ticket.id,
                    )  # fmt: skip
                    if uow.deliveries.enqueue(delivery):
                        counts["helpdesk_queued"] += 1
                        batch.alerts.queued(delivery)
            if ticket.helpdesk and ticket.helpdesk not in by_name:
                counts["helpdesk_off"] += 1
                log.warning("case #%s: helpdesk %s is off; the case is kept in Kulak only", ticket.id, ticket.helpdesk)
        return True

    return drain_batches(uow, MentionStatus.MATCHED, route_batch, batch=batch_size, stop=stop)


def _alert(
    uow: UnitOfWork,
    alerter: Alerter,
    view: CaseView,
    group: str | None,
    policy: AlertPolicy,
    by_name: Mapping[str, Alerter],
    now: datetime,
    batch: Batch,
    drafter: Drafter | None = None,
) -> Counter[str]:
    """Queue the alert of a new case on one care channel: sent, folded into a similar alert, or held back.

    ``batch`` is what routing keeps from one case of its batch to the next; ``drafter`` suggests replies."""
    ticket = view.ticket
    assert ticket.id is not None
    if ticket.channel == NO_ALERT:
        return Counter(alerts_off=1)
    target = ticket.channel if alerter.name == "slack" and ticket.channel else alerter.target
    vip = view.customer is not None and view.customer.vip
    group = None if vip else group  # a VIP's case gets an alert of its own
    decision = policy.decide(uow, alerter.name, target, ticket, group, now, batch.recent)
    if decision.action == FOLD and decision.parent is not None:
        parent = decision.parent
        assert parent.ticket_id is not None
        views = batch.views
        # the alert is shown again with its count: with its suggested reply, as it was sent
        parent_view = views.get(parent.ticket_id) or case_view(uow, parent.ticket_id, drafter)
        parent_view = views[parent.ticket_id] = replace(parent_view, similar=parent_view.similar + 1)
        who = f" ({view.customer.name})" if view.customer is not None and view.customer.name else ""
        summary = f"benzer vaka / similar case #{ticket.id}{who}: {ticket.summary}"
        change = CaseChange(parent.ticket_id, "similar", summary, "kulak", {"ticket_id": ticket.id}, now)
        queue_change(uow, by_name, parent, parent_view, change, f"t{ticket.id}", kind="fold", later=True)
        uow.tickets.record_event(CaseEvent(ticket.id, "alert", {"folded_into": parent.ticket_id, "channel": target}))
        return Counter(alerts_folded=1)
    status = DeliveryStatus.DEFERRED if decision.action == DEFER else DeliveryStatus.PENDING
    delivery = Delivery(
        key=delivery_key(alerter, target, ticket.id),
        channel=alerter.name,
        target=target,
        payload=alerter.render(view),
        ticket_id=ticket.id,
        status=status,
        last_error=decision.reason or None,
        created_at=now,
        group_key=None if status is DeliveryStatus.DEFERRED else group,
    )
    if not uow.deliveries.enqueue(delivery):
        return Counter()
    batch.recent.queued(delivery)
    batch.alerts.queued(delivery)
    if status is DeliveryStatus.DEFERRED:
        uow.tickets.record_event(CaseEvent(ticket.id, "alert", {"deferred": decision.reason, "channel": target}))
        return Counter(alerts_deferred=1)
    return Counter(alerts_queued=1)


@dataclass
class Batch:
    """What routing keeps while it routes one batch: what it read of the batch's mentions, the cases they can join,
    the latest alert of each burst group, the alerts of each case touched, and the view of each case read or
    opened (a bad day folds hundreds of cases into a few alerts: reading the same case again for each was a third
    of routing)."""

    reads: BatchReads
    cases: BatchCases
    recent: RecentAlerts = field(default_factory=RecentAlerts)
    alerts: CaseAlerts = field(default_factory=CaseAlerts)
    views: dict[int, CaseView] = field(default_factory=dict)  # by case id

    def seen(
        self, ticket_id: int, drafter: Drafter | None, *, mentions: int = 0, customer: Customer | None = None
    ) -> None:
        """Case ``ticket_id`` changed (``mentions`` more, now ``customer``'s): the view kept of it follows."""
        view, ticket = self.views.get(ticket_id), self.cases.ticket(ticket_id)
        if view is None or ticket is None:
            self.views.pop(ticket_id, None)
            return
        view = replace(view, ticket=ticket, mentions=view.mentions + mentions)
        self.views[ticket_id] = redrafted(replace(view, customer=customer) if customer is not None else view, drafter)


def _customer_of(reads: BatchReads, mention_id: int) -> Customer | None:
    """The customer a mention was linked to, if any."""
    match = next((m for m in reads.candidates.get(mention_id, []) if m.status.linked), None)
    return reads.customers.get(match.customer_id) if match else None


def open_case_for(
    uow: UnitOfWork,
    mention: Mention,
    customer_id: int | None,
    since: datetime,
    *,
    repeated: int | None = None,
    cases: BatchCases | None = None,
) -> tuple[Ticket, str] | None:
    """The active case this mention belongs to, with why: "duplicate", "customer" or "author".

    ``repeated`` is the earlier mention this one repeats, as its fingerprint says (the caller read it); ``cases``
    answers for the store when the caller keeps its batch's cases."""
    if repeated is not None:
        case = cases.case_of(repeated) if cases is not None else uow.tickets.case_of(repeated)
        # Template letters (a standard fee, a petition) read alike from different people: a repeat joins only a
        # case of no one yet, or of the same customer.
        same_person = case is not None and case.customer_id in (None, customer_id)
        if case is not None and case.status.active and same_person:
            return case, "duplicate"
    raw = mention.raw
    return (cases or uow.tickets).open_case_of(
        customer_id=customer_id, source=raw.source, author_handle=raw.author_handle, since=since
    )


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next try: doubling from BACKOFF with jitter, never less than the far side asked."""
    backoff = min(MAX_BACKOFF, BACKOFF * 2.0 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2)
    return float(max(backoff, retry_after or 0.0))


def deliver_pending(
    uow: UnitOfWork,
    alerters: Mapping[str, Channel],
    *,
    ops: Sequence[Alerter] = (),
    now: datetime | None = None,
    limit: int = 10_000,
    stop: Callable[[], bool] = lambda: False,
) -> Counter[str]:
    """Send what the outbox holds, oldest first, each at most once.

    Deliveries are claimed a few at a time with a lease, so workers sharing a database never send the same row
    (the lease of a worker that died runs out and another takes the row over). A change waits for the alert it
    updates. A delivery a crash (or a timeout) may have left half-sent is looked for on the far side first, where
    the channel can look (``find_sent``). A rejected delivery fails for good and tells the operators; a transient
    failure is retried later with backoff (or after the far side's Retry-After). A channel is not hammered: once
    it refused Kulak's token, rate limited, or failed ``OUTAGE_RUN`` times in a row, its other deliveries of the
    pass are given back untried ("waiting_for_credentials", "waiting_out_rate_limit", "waiting_out_outage") until
    it is worth another try; a refused token keeps them pending, not failed, and tells the operators. ``stop``
    is asked between deliveries: what is claimed and not yet sent is given back. Counts are by outcome; those of
    updates (thread notes, refreshed alerts, helpdesk comments) say "updates_".
    """
    counts: Counter[str] = Counter()
    handled = 0
    held: dict[str, tuple[datetime, str, str]] = {}  # channel -> until when, why (the count), the error
    failing: Counter[str] = Counter()  # transient failures in a row, by channel
    with _SENDING:
        while handled < limit and not stop():
            moment = now or datetime.now(UTC)
            with uow:
                batch = uow.deliveries.claim_due(
                    min(CLAIM_BATCH, limit - handled), MAX_ATTEMPTS, moment, moment + timedelta(seconds=LEASE)
                )
                uow.commit()
            if not batch:
                break
            for index, (delivery, earlier) in enumerate(batch):
                if stop():
                    with uow:
                        uow.deliveries.release([d.id or 0 for d, _ in batch[index:]])
                        uow.commit()
                    break
                if delivery.channel in held:  # given back untried: it keeps its attempts and its ``earlier``
                    due, outcome, why = held[delivery.channel]
                    with uow:
                        uow.deliveries.put_back(delivery.id or 0, due, earlier, why)
                        uow.commit()
                else:
                    outcome, retry_at, error = _deliver_one(uow, alerters, ops, delivery, earlier, now)
                    _hold(held, failing, delivery.channel, outcome, retry_at, error)
                    outcome = "retry_later" if outcome == "rate_limited" else outcome
                counts[outcome if delivery.kind in ("alert", "ops", "digest", "crisis") else f"updates_{outcome}"] += 1
            handled += len(batch)
    return +counts


def _hold(
    held: dict[str, tuple[datetime, str, str]],
    failing: Counter[str],
    channel: str,
    outcome: str,
    until: datetime | None,
    error: str,
) -> None:
    """Whether the rest of the pass leaves ``channel`` alone after this outcome, until when, and why."""
    failing[channel] = failing[channel] + 1 if outcome in ("retry_later", "rate_limited") else 0
    if until is None:
        return
    if outcome == "waiting_for_credentials":
        held[channel] = (until, outcome, error)
    elif outcome == "rate_limited":
        held[channel] = (until, "waiting_out_rate_limit", error)
    elif failing[channel] >= OUTAGE_RUN:
        held[channel] = (until, "waiting_out_outage", error)
        log.warning("%s failed %d times in a row; its deliveries wait until %s", channel, OUTAGE_RUN, until)


def _deliver_one(
    uow: UnitOfWork,
    alerters: Mapping[str, Channel],
    ops: Sequence[Alerter],
    d: Delivery,
    earlier: datetime | None,
    now: datetime | None,
) -> tuple[str, datetime | None, str]:
    """Send one claimed delivery; what came of it, and when a failed one is due again (with the error)."""
    assert d.id is not None
    moment = now or datetime.now(UTC)
    alerter = alerters.get(d.channel)
    if alerter is None:  # its channel is switched off now; kept for when it is back
        with uow:
            uow.deliveries.put_back(d.id, moment + timedelta(seconds=CHANNEL_OFF_WAIT), earlier)
            uow.commit()
        return "waiting_for_channel", None, ""
    parent_ref = None
    if d.parent_key is not None:
        with uow:
            parent = uow.deliveries.get(d.parent_key)
            if parent is None or parent.status in (DeliveryStatus.FAILED, DeliveryStatus.DEFERRED):
                uow.deliveries.mark_failed(d.id, "the alert it updates was never sent", final=True)
                uow.commit()
                return "orphaned", None, ""
            if parent.status is DeliveryStatus.PENDING or not parent.external_ref:
                uow.deliveries.put_back(d.id, moment + timedelta(seconds=PARENT_WAIT), earlier)
                uow.commit()
                return "waiting_for_alert", None, ""
            parent_ref = parent.external_ref
    try:
        ref = None
        finder = getattr(alerter, "find_sent", None)
        if earlier is not None and finder is not None:
            ref = finder(d.payload, d.target, key=d.key, since=earlier, parent_ref=parent_ref)
        outcome = "recovered" if ref else "sent"
        if ref is None:
            ref = alerter.send(d.payload, d.target, key=d.key, parent_ref=parent_ref)
    except CredentialsRejected as exc:
        # Not the delivery's fault and the same for every other one: it stays pending, its attempts untouched.
        until = moment + timedelta(seconds=CREDENTIALS_WAIT)
        log.error(
            "%s refused Kulak's credentials; its deliveries wait (next try %s): %s",
            d.channel,
            f"{until:%H:%M:%S}",
            exc,
            extra={"delivery": d.key, "case_id": d.ticket_id},
        )
        with uow:
            uow.deliveries.put_back(d.id, until, earlier, str(exc))
            if d.kind != "ops":
                queue_delivery_problem(uow, ops, d, str(exc), moment)
            uow.commit()
        return "waiting_for_credentials", until, str(exc)
    except DeliveryRejected as exc:
        log.error("delivery %s rejected: %s", d.key, exc, extra={"delivery": d.key, "case_id": d.ticket_id})
        with uow:
            uow.deliveries.mark_failed(d.id, str(exc), final=True)
            if d.kind != "ops":
                queue_delivery_problem(uow, ops, d, str(exc), moment)
            uow.commit()
        return "rejected", None, str(exc)
    except DeliveryError as exc:
        wait = retry_delay(d.attempts + 1, exc.retry_after)
        log.warning(
            "delivery %s failed, retry in %.0fs: %s",
            d.key,
            wait,
            exc,
            extra={"delivery": d.key, "case_id": d.ticket_id},
        )
        with uow:
            retry_at = moment + timedelta(seconds=wait)
            failed = uow.deliveries.mark_failed(
                d.id, str(exc), final=False, retry_at=retry_at, max_attempts=MAX_ATTEMPTS
            )
            if failed.status is DeliveryStatus.FAILED and d.kind != "ops":
                queue_delivery_problem(uow, ops, d, f"gave up after {failed.attempts} attempts: {exc}", moment)
            uow.commit()
        return ("rate_limited" if exc.retry_after is not None else "retry_later"), retry_at, str(exc)
    with uow:
        uow.deliveries.mark_sent(d.id, ref)
        uow.audit.record("responder", "delivered", d.key, channel=d.channel, ref=ref)
        if d.ticket_id is not None and d.kind == "alert":
            detail = {"channel": d.channel, "target": d.target, "ref": ref}
            uow.tickets.add_event(CaseEvent(d.ticket_id, "alert", detail))
        uow.commit()
    return outcome, None, ""
