"""The read-only questions digests and `kulak stats` ask the store, answered by SQL aggregates."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

#: What mentions can be counted by (``kulak stats mentions --by``).
MENTION_DIMENSIONS = ("source", "sentiment", "intent", "topic", "language", "urgency")
#: Open cases by age at a moment: upper bounds in hours (None = older).
AGE_BUCKETS: tuple[tuple[str, float | None], ...] = (("<1d", 24), ("1-3d", 72), ("3-7d", 168), (">7d", None))


@dataclass(frozen=True)
class CaseFigures:
    """Cases of one brand in a period: opened, resolved, and those whose first-response target fell in it and was
    missed (answered late, or not answered by the end of the period)."""

    opened: int
    resolved: int
    breached: int


@dataclass(frozen=True)
class OpenCase:
    ticket_id: int
    priority: str
    status: str
    summary: str
    url: str
    source: str
    opened_at: datetime
    respond_by: datetime | None
    assignee: str


@dataclass(frozen=True)
class HeldDelivery:
    ticket_id: int
    priority: str
    summary: str
    held_at: datetime


class ReportRepository(abc.ABC):
    """Periods are ``[start, end)`` in aware datetimes; a mention's time is when it was published (else fetched).

    Mentions count once they are analysed; a mention about two brands counts for each.
    """

    @abc.abstractmethod
    def listening_since(self) -> datetime | None:
        """When the first mention still stored was fetched: Kulak has not heard anything before then."""

    @abc.abstractmethod
    def mentions_by(self, brand: str, start: datetime, end: datetime, by: str) -> dict[str, int]:
        """Mentions of ``brand`` per value of ``by`` (one of MENTION_DIMENSIONS); a mention counts in each topic."""

    @abc.abstractmethod
    def mention_total(self, brand: str, start: datetime, end: datetime) -> int: ...

    @abc.abstractmethod
    def volumes(self, brands: Sequence[str], start: datetime, end: datetime) -> dict[str, int]:
        """Mentions of each brand (share of voice)."""

    @abc.abstractmethod
    def timeline(self, brand: str, edges: Sequence[datetime]) -> list[int]:
        """Mentions of ``brand`` between each pair of consecutive ``edges`` (one count fewer than edges)."""

    @abc.abstractmethod
    def cases(self, brand: str, start: datetime, end: datetime, now: datetime) -> CaseFigures:
        """A first-response target still ahead of ``now`` is not counted as missed."""

    @abc.abstractmethod
    def response_seconds(self, brand: str, start: datetime, end: datetime) -> list[float]:
        """Seconds from opening to first response of the cases first answered in the period, smallest first."""

    @abc.abstractmethod
    def resolution_seconds(self, brand: str, start: datetime, end: datetime) -> list[float]:
        """Seconds from opening to resolution of the cases resolved in the period, smallest first."""

    @abc.abstractmethod
    def open_by_age(self, brand: str, at: datetime) -> dict[str, int]:
        """Cases open at ``at`` (opened before, not resolved or closed by then) per AGE_BUCKETS label."""

    @abc.abstractmethod
    def resolved_complaints(
        self, brand: str, start: datetime, end: datetime, sources: Sequence[str]
    ) -> tuple[int, int]:
        """(marked resolved by the site, all) of the brand's mentions from ``sources`` (Şikayetvar's "Çözüldü")."""

    @abc.abstractmethod
    def urgent_open(self, brand: str, limit: int) -> list[OpenCase]:
        """Active cases, most urgent first: priority, then the nearest first-response target, then the oldest."""

    @abc.abstractmethod
    def handled_by_agent(self, brand: str, start: datetime, end: datetime) -> dict[str, int]:
        """Cases per assignee that were first answered or resolved in the period."""

    @abc.abstractmethod
    def held_alerts(self, brand: str, start: datetime, end: datetime) -> list[HeldDelivery]:
        """Alerts of the brand's cases held back (quiet hours, alert budget) during the period, oldest first."""
