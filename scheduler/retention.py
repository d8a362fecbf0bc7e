"""The daily KVKK purge: what is past its keeping time goes, and each kind is audited with ids and counts only."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TextIO

from config.settings import RETENTION_KINDS, RetentionSettings
from store.repository import Purged, UnitOfWork

log = logging.getLogger(__name__)
ACTOR, ACTION = "retention", "purge"
BATCH = 1000  # rows per transaction: a million old mentions never make one giant transaction
# A day less an hour: a daily cron whose run reaches the purge a few minutes earlier than yesterday's still purges.
EVERY = timedelta(hours=23)


def purge(
    uow: UnitOfWork, settings: RetentionSettings, now: datetime, *, batch: int = BATCH, dry_run: bool = False
) -> Counter[str]:
    """Purge every kind of data kept past its time, a transaction a batch; rows purged by kind ("off" kinds left
    out). Each kind gets one audit row: count, cutoff, first and last id. With ``dry_run`` every batch is rolled
    back: the counts say what would go, and nothing is deleted or audited."""
    counts: Counter[str] = Counter()
    for kind in RETENTION_KINDS:
        seconds = settings.keep(kind)
        if seconds is None:
            continue
        cutoff = now - timedelta(seconds=seconds)
        counts[kind] = _purge_kind(uow, kind, getattr(settings, kind), cutoff, now, batch, dry_run=dry_run)
    return counts


def purge_due(uow: UnitOfWork, now: datetime) -> bool:
    """Whether a day has passed since the last purge, so runs from cron every few minutes purge at most daily."""
    with uow:
        last = uow.audit.last(ACTION)
    if last is None or last.get("finished") is not True:
        return True
    try:
        elapsed = now - datetime.fromisoformat(str(last["purged_at"]))
    except (KeyError, ValueError):
        return True
    # A last purge "in the future" means the clock was wrong then; waiting for it would stop purging altogether.
    return elapsed >= EVERY or elapsed < timedelta(0)


def print_purge(
    counts: Counter[str], settings: RetentionSettings, stream: TextIO, *, as_json: bool, dry_run: bool
) -> None:
    """`kulak purge` output: rows by kind, "off" for kinds kept forever."""
    if as_json:
        by_kind = {kind: counts.get(kind) for kind in RETENTION_KINDS}
        stream.write(json.dumps({"dry_run": dry_run, **by_kind}) + "\n")
        return
    verb = "would be purged (dry run, nothing deleted)" if dry_run else "purged"
    for kind in RETENTION_KINDS:
        if kind in counts:
            stream.write(f"{kind}: {counts[kind]} {verb} (kept {getattr(settings, kind)})\n")
        else:
            stream.write(f"{kind}: kept forever (retention.{kind} is off)\n")


def _purge_kind(
    uow: UnitOfWork, kind: str, keep: str, cutoff: datetime, now: datetime, batch: int, *, dry_run: bool
) -> int:
    total, after, finished = 0, 0, False
    first: int | None = None
    try:
        while True:
            with uow:
                step = _step(uow, kind)(cutoff, batch, after)
                if not dry_run:
                    uow.commit()
            if not step.count or step.last_id is None:
                break
            total, after = total + step.count, step.last_id
            first = step.first_id if first is None else first
        finished = True
    finally:
        # Also when a batch fails: what earlier batches committed is on record before the error goes on, and
        # the next run knows to try again.
        if not dry_run:
            with uow:
                uow.audit.record(
                    ACTOR,
                    ACTION,
                    kind,
                    count=total,
                    cutoff=cutoff.isoformat(),
                    first_id=first,
                    last_id=after or None,
                    keep=keep,
                    purged_at=now.isoformat(),
                    finished=finished,
                )
                uow.commit()
    verb = "found" if dry_run else "purged"
    log.info("retention: %s %s row(s) of %s kept past %s", verb, total, kind, keep, extra={"job": "retention"})
    return total


def _step(uow: UnitOfWork, kind: str) -> Callable[[datetime, int, int], Purged]:
    steps: dict[str, Callable[[datetime, int, int], Purged]] = {
        "raw_payloads": uow.retention.raw_payloads,
        "mention_texts": uow.retention.mention_texts,
        "closed_cases": uow.retention.closed_cases,
        "deliveries": uow.retention.deliveries,
    }
    return steps[kind]
