"""The ops alert: a source that keeps failing or has gone quiet, posted once per episode to the ops channel."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from responders.alerts import Alerter
from responders.slack_text import escape, mrkdwn, plain
from store.model import Delivery, SourceProblem
from store.repository import UnitOfWork

log = logging.getLogger(__name__)
TITLES = {
    "failing": "Kaynak hata veriyor / Source failing",
    "silent": "Kaynak sessiz / Source silent",
    "delivery": "Teslim edilemedi / Delivery failed",
}


def render_problem(problem: SourceProblem) -> dict[str, Any]:
    title = TITLES.get(problem.kind, problem.kind)
    text = f"{title}: {problem.source} — {problem.message}"
    hint = "kulak doctor" if problem.kind != "delivery" else "kulak outbox"
    return {
        "text": escape(text),
        "blocks": [
            {
                "type": "section",
                "text": mrkdwn(f"*{escape(title)}*: `{escape(problem.source)}`\n{escape(problem.message)}"),
            },
            {"type": "context", "elements": [mrkdwn(f"since {problem.since:%Y-%m-%d %H:%M} UTC · {hint}")]},
        ],
        "plain": plain(text),
    }


def queue_delivery_problem(
    uow: UnitOfWork, alerters: Sequence[Alerter], delivery: Delivery, error: str, now: datetime
) -> int:
    """Tell the operators that deliveries to a channel fail for good (a revoked token, a channel the bot left):
    one ops alert per channel, target and error a day, in the caller's transaction."""
    where = f"{delivery.channel} {delivery.target}"
    digest = hashlib.sha256(f"{where}|{error[:120]}".encode()).hexdigest()[:16]
    payload = render_problem(SourceProblem(where, "delivery", f"{error} (delivery {delivery.key})", now))
    queued = 0
    for alerter in alerters:
        key = f"{alerter.name}:{alerter.target}:ops:delivery:{digest}:{now:%Y%m%d}"
        row = Delivery(key=key, channel=alerter.name, target=alerter.target, payload=payload, kind="ops")
        queued += int(uow.deliveries.enqueue(row))
    return queued


def queue_ops_alerts(uow: UnitOfWork, problems: Sequence[SourceProblem], alerters: Sequence[Alerter]) -> Counter[str]:
    """Queue one outbox row per problem episode and alerter; ``deliver_pending`` sends them like care alerts."""
    counts: Counter[str] = Counter()
    if not problems:
        return counts
    with uow:
        for problem in problems:
            for alerter in alerters:
                key = (
                    f"{alerter.name}:{alerter.target}:ops:{problem.source}:{problem.kind}:{problem.since:%Y%m%dT%H%M%S}"
                )
                payload = render_problem(problem)
                delivery = Delivery(key=key, channel=alerter.name, target=alerter.target, payload=payload, kind="ops")
                queued = uow.deliveries.enqueue(delivery)
                counts["ops_alerts_queued" if queued else "ops_alerts_known"] += 1
                if queued:
                    ids = {"source": problem.source, "delivery": key}
                    log.warning("ops alert: %s %s: %s", problem.source, problem.kind, problem.message, extra=ids)
        uow.commit()
    return counts
