"""Build a digest from the store: each brand's figures for a period next to the period before."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from responders.digest_model import (
    BrandDigest,
    Count,
    Digest,
    Durations,
    HeldAlert,
    Period,
    Share,
    UrgentCase,
)
from responders.periods import buckets, previous
from store.reports import AGE_BUCKETS, OpenCase
from store.repository import UnitOfWork

SENTIMENTS = ("positive", "neutral", "negative")
INTENTS = ("complaint", "question", "suggestion", "praise", "sales", "other")
RISING_MIN = 3  # a topic needs this many mentions now to count as rising: 0 -> 1 is noise, not a trend
AGENTS_SHOWN = 25


@dataclass(frozen=True)
class DigestScope:
    """What a digest covers: its brands, their competitors, the Şikayetvar source names, how long the lists are."""

    brands: tuple[str, ...]
    competitors: tuple[str, ...] = ()
    complaint_sources: tuple[str, ...] = ()  # sources of type sikayetvar: their resolution rate is shown
    top: int = 5
    language: str = "tr"
    timezone: str = "Europe/Istanbul"


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile of sorted ``values`` (the value at rank ceil(fraction * n)); None when empty."""
    if not values:
        return None
    rank = max(1, math.ceil(fraction * len(values)))
    return values[rank - 1]


def durations(values: Sequence[float]) -> Durations:
    return Durations(len(values), percentile(values, 0.5), percentile(values, 0.9))


def counts(now: Mapping[str, int], before: Mapping[str, int], order: Sequence[str] = ()) -> tuple[Count, ...]:
    """Labels in ``order`` first (zeros kept), then the rest biggest first."""
    rest = sorted((set(now) | set(before)) - set(order), key=lambda k: (-now.get(k, 0), -before.get(k, 0), k))
    return tuple(Count(k, now.get(k, 0), before.get(k, 0)) for k in (*order, *rest))


def rising(now: Mapping[str, int], before: Mapping[str, int], top: int) -> tuple[Count, ...]:
    """Topics that grew fastest: smoothed ratio (now + 1) / (before + 1), with at least RISING_MIN mentions now."""
    grown = [Count(k, n, before.get(k, 0)) for k, n in now.items() if n >= RISING_MIN and n > before.get(k, 0)]
    grown.sort(key=lambda c: (-(c.now + 1) / (c.before + 1), -c.delta, c.label))
    return tuple(grown[:top])


def share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def build_digest(uow: UnitOfWork, scope: DigestScope, period: Period, *, now: datetime | None = None) -> Digest:
    """Every brand's figures for ``period`` and the period before; call inside ``with uow``."""
    now = now or datetime.now(UTC)
    before = previous(period, scope.timezone)
    brands = tuple(_brand(uow, scope, name, period, before, now) for name in scope.brands)
    return Digest(period, before, scope.language, scope.timezone, now, brands)


def _brand(
    uow: UnitOfWork, scope: DigestScope, brand: str, period: Period, before: Period, now: datetime
) -> BrandDigest:
    r = uow.reports
    span_now, span_before = (period.start, period.end), (before.start, before.end)
    total_now, total_before = r.mention_total(brand, *span_now), r.mention_total(brand, *span_before)

    def by(dimension: str) -> tuple[dict[str, int], dict[str, int]]:
        return r.mentions_by(brand, *span_now, dimension), r.mentions_by(brand, *span_before, dimension)

    sources, feelings, topics, intents = by("source"), by("sentiment"), by("topic"), by("intent")
    net = Share(
        "net",
        share(feelings[0].get("positive", 0) - feelings[0].get("negative", 0), total_now),
        share(feelings[1].get("positive", 0) - feelings[1].get("negative", 0), total_before),
        total_now,
        total_before,
    )
    field = (brand, *scope.competitors)
    voice_now, voice_before = r.volumes(field, *span_now), r.volumes(field, *span_before)
    whole_now, whole_before = sum(voice_now.values()), sum(voice_before.values())
    voices = tuple(
        Share(b, share(voice_now[b], whole_now), share(voice_before[b], whole_before), voice_now[b], voice_before[b])
        for b in field
    )
    cases_now, cases_before = r.cases(brand, *span_now, now), r.cases(brand, *span_before, now)
    end = min(period.end, now)
    ages_now, ages_before = r.open_by_age(brand, end), r.open_by_age(brand, min(before.end, now))
    complaints = None
    if scope.complaint_sources:
        solved_now, all_now = r.resolved_complaints(brand, *span_now, scope.complaint_sources)
        solved_before, all_before = r.resolved_complaints(brand, *span_before, scope.complaint_sources)
        complaints = Share(
            "resolved", share(solved_now, all_now), share(solved_before, all_before), all_now, all_before
        )
    agents_now, agents_before = r.handled_by_agent(brand, *span_now), r.handled_by_agent(brand, *span_before)
    edges = [start for _, start in buckets(period)] + [period.end]
    timeline = tuple(zip((label for label, _ in buckets(period)), r.timeline(brand, edges), strict=True))
    return BrandDigest(
        brand=brand,
        volume=Count("mentions", total_now, total_before),
        by_source=counts(*sources),
        sentiment=counts(*feelings, order=SENTIMENTS)[: len(SENTIMENTS)],  # labels beyond the three are not shown
        net_sentiment=net,
        topics=tuple(c for c in counts(*topics) if c.now)[: scope.top],
        rising=rising(*topics, top=scope.top),
        intents=tuple(c for c in counts(*intents, order=INTENTS) if c.now or c.before),
        share_of_voice=voices,
        first_response=durations(r.response_seconds(brand, *span_now)),
        first_response_before=durations(r.response_seconds(brand, *span_before)),
        resolution=durations(r.resolution_seconds(brand, *span_now)),
        resolution_before=durations(r.resolution_seconds(brand, *span_before)),
        cases_opened=Count("opened", cases_now.opened, cases_before.opened),
        cases_resolved=Count("resolved", cases_now.resolved, cases_before.resolved),
        sla_breaches=Count("breached", cases_now.breached, cases_before.breached),
        open_by_age=tuple(Count(label, ages_now[label], ages_before[label]) for label, _ in AGE_BUCKETS),
        sikayetvar_resolved=complaints,
        urgent=tuple(_urgent(c, now) for c in r.urgent_open(brand, scope.top)),
        agents=counts(agents_now, agents_before)[:AGENTS_SHOWN],
        held=tuple(HeldAlert(h.ticket_id, h.priority, h.summary, h.held_at) for h in r.held_alerts(brand, *span_now)),
        timeline=timeline,
    )


def _urgent(case: OpenCase, now: datetime) -> UrgentCase:
    late = case.respond_by is not None and case.respond_by < now and case.status in ("new", "assigned")
    return UrgentCase(
        case.ticket_id,
        case.priority,
        case.status,
        case.summary,
        case.url,
        case.source,
        case.opened_at,
        case.respond_by,
        case.assignee,
        late,
    )


def digest_json(digest: Digest) -> dict[str, Any]:
    """The digest as JSON-able data (times in ISO 8601), as `kulak digest --json` prints it."""

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return dict(plain(asdict(digest)))
