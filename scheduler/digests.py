"""Making digests: by hand (`kulak digest`) or when one falls due in `kulak serve` and `kulak run --once`."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from config.settings import Settings
from responders.digest import DigestScope, build_digest
from responders.digest_html import save_report
from responders.digest_model import Digest, Period
from responders.digest_slack import digest_deliveries
from responders.periods import KINDS, due_at, last_complete, period_containing
from scheduler.bootstrap import App
from store.errors import DeliveryError, InputError
from store.model import Delivery
from store.repository import UnitOfWork

log = logging.getLogger(__name__)
AUDIT_ACTION = "digest"


@dataclass(frozen=True)
class Made:
    digest: Digest
    report: Path | None  # the HTML report written, if any
    queued: int  # outbox rows queued (Slack messages, chart uploads, e-mails)


def scope_of(settings: Settings, brand: str | None = None) -> DigestScope:
    """Which brands a digest covers: ``brand``, else digests.brands, else every brand that is not a competitor."""
    own = [b.name for b in settings.brands if not b.competitor]
    every = [b.name for b in settings.brands]
    if brand is not None:
        if brand not in every:
            raise InputError(f"no brand named {brand!r} in [[brands]]; configured: {', '.join(every) or 'none'}")
        chosen: tuple[str, ...] = (brand,)
    else:
        chosen = tuple(settings.digests.brands) or tuple(own)
    return DigestScope(
        brands=chosen,
        competitors=tuple(b.name for b in settings.brands if b.competitor and b.name not in chosen),
        complaint_sources=tuple(s.name for s in settings.sources if s.type == "sikayetvar"),
        top=settings.digests.top,
        language=settings.digests.language,
        timezone=settings.sla.timezone,
    )


def choose_period(settings: Settings, kind: str, at: date | None, now: datetime) -> Period:
    """The period containing ``at``, else the last complete one."""
    if kind not in KINDS:
        raise InputError(f"unknown period {kind!r}; expected one of {', '.join(KINDS)}")
    zone = settings.sla.timezone
    return period_containing(kind, at, zone) if at is not None else last_complete(kind, now, zone)


def report_dir(settings: Settings) -> Path | None:
    """digests.out_dir, relative to the config file's directory."""
    if not settings.digests.out_dir:
        return None
    path = Path(settings.digests.out_dir).expanduser()
    base = Path(settings.path).parent if settings.path else Path.cwd()
    return path if path.is_absolute() else base / path


def make_digest(
    app: App,
    period: Period,
    *,
    brand: str | None = None,
    send: bool = False,
    out: Path | None = None,
    now: datetime | None = None,
) -> Made:
    """Build the digest of ``period``; write its HTML report to ``out``; with ``send``, queue it for the managers'
    Slack channel and the e-mail recipients (the outbox sends it, once: the rows are keyed by period and brand)."""
    now = now or datetime.now(UTC)
    uow = app.uow
    scope = scope_of(app.settings, brand)
    with uow:
        digest = build_digest(uow, scope, period, now=now)
    queued = 0
    if send:  # queued before the report is written: a full disk must not keep the managers' digest back
        rows = outbox_rows(app, digest, brand)
        with uow:
            queued = sum(int(uow.deliveries.enqueue(row)) for row in rows)
            uow.audit.record("kulak", AUDIT_ACTION, subject_of(period, brand), queued=queued, brands=len(scope.brands))
            uow.commit()
    log.info("digest %s %s made: %s brands, %s deliveries queued", period.kind, period.label, len(scope.brands), queued)
    report = save_report(digest, out) if out is not None else None
    return Made(digest, report, queued)


def subject_of(period: Period, brand: str | None) -> str:
    return f"{period.kind}:{period.label}" + (f":{brand}" if brand else "")


def outbox_rows(app: App, digest: Digest, brand: str | None = None) -> list[Delivery]:
    """The digest's outbox rows: Slack (or the console when Slack is off) and e-mail, when each is configured.

    Keyed by period (and the one brand asked for), so a digest is sent once however often it is made."""
    settings = app.settings
    channels = app.outbox
    care = app.alerters[0] if app.alerters else None
    slack_target = settings.digests.channel or None
    email_to = settings.digests.email_to if "email" in channels else ()
    key_prefix = f"{AUDIT_ACTION}:{subject_of(digest.period, brand)}"
    rows = digest_deliveries(digest, slack_channel=slack_target, email_to=email_to, key_prefix=key_prefix)
    if care is None or care.name == "slack":
        return rows if care is not None else [r for r in rows if r.channel != "slack"]
    # Slack is off: the digest is printed where alerts are, without the charts (a terminal cannot show them).
    printed = [r for r in rows if r.channel == "slack" and r.kind == "digest"]
    return [r for r in rows if r.channel != "slack"] + [
        replace(r, channel=care.name, target=care.target, key=r.key.replace(":slack:", f":{care.name}:", 1))
        for r in printed
    ]


def due_digests(app: App, uow: UnitOfWork, now: datetime | None = None) -> Counter[str]:
    """Make each digest whose send time has come for the last complete period and that was not made yet."""
    now = now or datetime.now(UTC)
    settings, zone = app.settings, app.settings.sla.timezone
    counts: Counter[str] = Counter()
    for kind, spec in settings.digests.send_times().items():
        period = last_complete(kind, now, zone)
        when = due_at(period, spec, zone)
        if when is None or when > now:
            continue
        with uow:
            done = uow.audit.last(AUDIT_ACTION, subject_of(period, None)) is not None
            since = uow.reports.listening_since()
        if done or since is None or since >= period.end:
            continue  # made already, or Kulak was not listening yet: a digest of nothing is noise
        try:
            made = make_digest(app, period, send=True, out=report_dir(settings), now=now)
        except DeliveryError as exc:  # the report could not be written; the digest itself was queued
            log.error("digest %s %s: %s", kind, period.label, exc)
            counts["failed"] += 1
            continue
        counts[f"digests_{kind}"] += 1
        counts["digest_deliveries"] += made.queued
    return counts
