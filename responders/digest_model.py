"""What a digest says: one period's figures per brand next to the period before, ready to render anywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Period:
    """A stretch of local calendar time: ``start`` included, ``end`` excluded (both aware, in the digest's zone)."""

    kind: str  # day | week | month | year
    start: datetime
    end: datetime
    label: str  # "2026-11-23", "2026-W47", "2026-11", "2026"


@dataclass(frozen=True)
class Count:
    """One labelled figure now and in the previous period."""

    label: str
    now: int
    before: int

    @property
    def delta(self) -> int:
        return self.now - self.before

    @property
    def change(self) -> float | None:
        """Relative change (0.25 = +25 %); None when there was nothing before."""
        return None if self.before == 0 else (self.now - self.before) / self.before


@dataclass(frozen=True)
class Share:
    """A part of a whole now and before, as fractions in [0, 1] (None when the whole was empty)."""

    label: str
    now: float | None
    before: float | None
    count_now: int = 0
    count_before: int = 0


@dataclass(frozen=True)
class Durations:
    """Seconds from a case's opening to an event (first response, resolution): how many, median and p90."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class UrgentCase:
    """An open case the managers should see, most urgent first. ``summary`` is masked; ``url`` is the post's."""

    ticket_id: int
    priority: str
    status: str
    summary: str
    url: str
    source: str
    opened_at: datetime
    respond_by: datetime | None
    assignee: str
    overdue: bool


@dataclass(frozen=True)
class HeldAlert:
    """An alert held back by quiet hours or the alert budget (a DEFERRED delivery): the digest lists it instead."""

    ticket_id: int
    priority: str
    summary: str
    held_at: datetime


@dataclass(frozen=True)
class BrandDigest:
    """Everything a digest says about one brand in one period, each figure against the previous period."""

    brand: str
    volume: Count  # mentions about the brand
    by_source: tuple[Count, ...]  # mentions per source, biggest first
    sentiment: tuple[Count, ...]  # positive, neutral, negative (always all three, in that order)
    net_sentiment: Share  # (positive - negative) / all, in [-1, 1]
    topics: tuple[Count, ...]  # the top topics now
    rising: tuple[Count, ...]  # topics that grew fastest against the previous period
    intents: tuple[Count, ...]  # complaint, question, suggestion, praise, sales, other (those seen)
    share_of_voice: tuple[Share, ...]  # this brand first, then its competitors
    first_response: Durations
    first_response_before: Durations
    resolution: Durations
    resolution_before: Durations
    cases_opened: Count
    cases_resolved: Count
    sla_breaches: Count  # cases whose first-response target fell in the period and was missed
    open_by_age: tuple[Count, ...]  # open cases at the end of the period by age: <1d, 1-3d, 3-7d, >7d
    sikayetvar_resolved: Share | None  # Şikayetvar complaints marked "Çözüldü"; None without such a source
    urgent: tuple[UrgentCase, ...]
    agents: tuple[Count, ...]  # cases each agent (Slack user id) handled: responded to or resolved
    held: tuple[HeldAlert, ...]
    timeline: tuple[tuple[str, int], ...]  # mentions per hour (day), per day (week, month) or per month (year)


@dataclass(frozen=True)
class Digest:
    period: Period
    previous: Period
    language: str  # tr | en
    timezone: str
    generated_at: datetime
    brands: tuple[BrandDigest, ...]
