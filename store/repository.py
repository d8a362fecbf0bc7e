"""Repository and unit-of-work interfaces the stages program against; tests subclass these for fakes."""

from __future__ import annotations

import abc
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from store.model import (
    Analysis,
    Brand,
    CrawlState,
    Customer,
    CustomerMatch,
    Delivery,
    Mention,
    MentionStatus,
    RawMention,
    SourceRun,
    Ticket,
)


@dataclass(frozen=True)
class AddResult:
    added: int
    duplicates: int


class MentionRepository(abc.ABC):
    @abc.abstractmethod
    def add_many(self, raws: Iterable[RawMention]) -> AddResult:
        """Store mentions not seen before (by source + external id); count the rest as duplicates."""

    @abc.abstractmethod
    def get(self, mention_id: int) -> Mention: ...

    @abc.abstractmethod
    def with_status(self, status: MentionStatus, limit: int = 500, after_id: int = 0) -> list[Mention]:
        """Mentions in ``status`` with an id above ``after_id``, oldest first."""

    @abc.abstractmethod
    def set_status(self, mention_id: int, status: MentionStatus, error: str | None = None) -> None: ...

    @abc.abstractmethod
    def count_by_status(self) -> dict[str, int]: ...

    @abc.abstractmethod
    def earlier_by_author(self, mention: Mention, since: datetime) -> int:
        """How many mentions the same author made on the same source before ``mention``, from ``since`` on."""


class AnalysisRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, mention_id: int, analysis: Analysis) -> bool:
        """Store the analysis of a mention unless it has one; True when stored."""

    @abc.abstractmethod
    def get(self, mention_id: int) -> Analysis | None: ...


class CustomerRepository(abc.ABC):
    @abc.abstractmethod
    def upsert(self, customer: Customer) -> Customer:
        """Insert or update by external id; returns the stored record with its id."""

    @abc.abstractmethod
    def get(self, customer_id: int) -> Customer | None: ...

    @abc.abstractmethod
    def by_handle(self, handle: str) -> Customer | None:
        """``handle`` is ``source:handle``, compared case-insensitively."""

    @abc.abstractmethod
    def by_contact(self, *, email: str | None = None, phone: str | None = None) -> Customer | None: ...


class MatchRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, match: CustomerMatch) -> bool: ...

    @abc.abstractmethod
    def get(self, mention_id: int) -> CustomerMatch | None: ...


class TicketRepository(abc.ABC):
    @abc.abstractmethod
    def open(self, ticket: Ticket) -> tuple[Ticket, bool]:
        """Open a ticket for a mention unless one exists; returns (ticket, created)."""

    @abc.abstractmethod
    def get(self, ticket_id: int) -> Ticket: ...

    @abc.abstractmethod
    def count(self) -> int: ...

    @abc.abstractmethod
    def listed(self, limit: int = 100) -> list[Ticket]:
        """Tickets in the order they were opened."""


class DeliveryRepository(abc.ABC):
    @abc.abstractmethod
    def enqueue(self, delivery: Delivery) -> bool:
        """Add to the outbox unless a delivery with the same key exists; True when added."""

    @abc.abstractmethod
    def pending(self, limit: int = 100, max_attempts: int = 5) -> list[Delivery]: ...

    @abc.abstractmethod
    def mark_sent(self, delivery_id: int, external_ref: str) -> None: ...

    @abc.abstractmethod
    def mark_failed(self, delivery_id: int, error: str, *, final: bool) -> None:
        """Count a failed attempt; ``final`` (or too many attempts) moves it to FAILED."""

    @abc.abstractmethod
    def count_by_status(self) -> dict[str, int]: ...


class CrawlStateRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, source: str, brand: str) -> CrawlState | None: ...

    @abc.abstractmethod
    def for_source(self, source: str) -> list[CrawlState]:
        """Every brand's state kept under ``source``."""

    @abc.abstractmethod
    def save(self, state: CrawlState) -> None: ...


class SourceRunRepository(abc.ABC):
    """Source health: one row per crawl of a configured source."""

    @abc.abstractmethod
    def record(self, run: SourceRun) -> None: ...

    @abc.abstractmethod
    def recent(self, source: str, limit: int = 20) -> list[SourceRun]:
        """The source's last ``limit`` runs, newest first."""

    @abc.abstractmethod
    def last_new_at(self, source: str) -> datetime | None:
        """When the last run that stored something new started; None if none ever did."""

    @abc.abstractmethod
    def first_started(self, source: str) -> datetime | None:
        """When the source was first crawled; None if never."""


class BrandRepository(abc.ABC):
    @abc.abstractmethod
    def sync(self, brands: Sequence[Brand]) -> None:
        """Make the brands table match the configuration (brands are never deleted: history refers to them)."""


class SourceRepository(abc.ABC):
    @abc.abstractmethod
    def sync(self, enabled: Mapping[str, bool]) -> None:
        """Record every known source and whether the configuration switches it on."""


class AuditLog(abc.ABC):
    @abc.abstractmethod
    def record(self, actor: str, action: str, subject: str = "", **detail: Any) -> None: ...


class UnitOfWork(abc.ABC):
    """One transaction over all repositories: ``with uow: ...; uow.commit()``; leaving without commit rolls back."""

    mentions: MentionRepository
    analyses: AnalysisRepository
    customers: CustomerRepository
    matches: MatchRepository
    tickets: TicketRepository
    deliveries: DeliveryRepository
    crawl_state: CrawlStateRepository
    source_runs: SourceRunRepository
    brands: BrandRepository
    sources: SourceRepository
    audit: AuditLog

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...


MentionHandler = Callable[[UnitOfWork, Mention, Counter[str]], None]


def drain(
    uow: UnitOfWork, status: MentionStatus, handle: MentionHandler, *, batch: int = 200, limit: int | None = None
) -> Counter[str]:
    """Hand every mention waiting in ``status`` to ``handle``, one transaction a batch, until none is left.

    ``handle`` moves each mention on (to the next status or FAILED) and counts what it did. The pass walks ids
    upwards, so a mention a faulty handler leaves where it was is not handed over again in the same pass.
    """
    counts: Counter[str] = Counter()
    last_id, handed = 0, 0
    while limit is None or handed < limit:
        size = batch if limit is None else min(batch, limit - handed)
        with uow:
            mentions = uow.mentions.with_status(status, limit=size, after_id=last_id)
            if not mentions:
                break
            for mention in mentions:
                handle(uow, mention, counts)
            uow.commit()
        last_id, handed = mentions[-1].id, handed + len(mentions)
    return counts
