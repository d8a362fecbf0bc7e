"""Repository and unit-of-work interfaces the stages program against; tests subclass these for fakes."""

from __future__ import annotations

import abc
from collections import Counter
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from store.model import (
    Analysis,
    Brand,
    CaseEvent,
    CrawlState,
    Crisis,
    Customer,
    CustomerMatch,
    Delivery,
    Erasure,
    Feedback,
    MatchStatus,
    Mention,
    MentionStatus,
    RawMention,
    SourceRun,
    Ticket,
)
from store.reports import ReportRepository


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
    def with_status(
        self, status: MentionStatus, limit: int = 500, after_id: int = 0, *, claim: bool = False
    ) -> list[Mention]:
        """Mentions in ``status`` with an id above ``after_id``, oldest first.

        With ``claim`` the rows stay locked to this transaction and rows another worker holds are skipped
        (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so workers sharing a database each take their own batch."""

    @abc.abstractmethod
    def set_status(self, mention_id: int, status: MentionStatus, error: str | None = None) -> None: ...

    @abc.abstractmethod
    def count_by_status(self) -> dict[str, int]: ...

    @abc.abstractmethod
    def oldest_fetched(self) -> dict[str, datetime]:
        """Per status, when the longest-waiting mention in it was fetched: how far behind each stage is."""

    @abc.abstractmethod
    def earlier_by_author(self, mention: Mention, since: datetime) -> int:
        """How many mentions the same author made on the same source before ``mention``, from ``since`` on."""

    def earlier_by_authors(self, mentions: Sequence[Mention], days: int) -> dict[int, int]:
        """``earlier_by_author`` for each mention, from ``days`` before its moment; a store may answer in one go."""
        found = {}
        for mention in mentions:
            since = (mention.raw.published_at or mention.raw.fetched_at) - timedelta(days=days)
            found[mention.id] = self.earlier_by_author(mention, since)
        return found

    def set_statuses(self, mention_ids: Sequence[int], status: MentionStatus) -> None:
        """Move the mentions on together (a store may do it in one statement)."""
        for mention_id in mention_ids:
            self.set_status(mention_id, status)


class AnalysisRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, mention_id: int, analysis: Analysis) -> bool:
        """Store the analysis of a mention unless it has one; True when stored."""

    def add_many(self, analyses: Sequence[tuple[int, Analysis]]) -> set[int]:
        """Store each (mention id, analysis) unless the mention has one; returns the mention ids stored."""
        return {mention_id for mention_id, analysis in analyses if self.add(mention_id, analysis)}

    @abc.abstractmethod
    def get(self, mention_id: int) -> Analysis | None: ...

    def get_many(self, mention_ids: Sequence[int]) -> dict[int, Analysis]:
        """The analyses of these mentions by mention id (those that have one)."""
        found = {m: self.get(m) for m in mention_ids}
        return {m: a for m, a in found.items() if a is not None}

    @abc.abstractmethod
    def correct(self, mention_id: int, analysis: Analysis) -> None:
        """Replace the stored analysis with one a person corrected (sentiment, topics)."""


class CustomerRepository(abc.ABC):
    @abc.abstractmethod
    def upsert(self, customer: Customer) -> Customer:
        """Insert or update by external id, replacing its identifiers; returns the stored record with its id."""

    @abc.abstractmethod
    def get(self, customer_id: int) -> Customer | None: ...

    def get_many(self, customer_ids: Sequence[int]) -> dict[int, Customer]:
        """The customers with these ids, by id (those that exist)."""
        found = {c: self.get(c) for c in dict.fromkeys(customer_ids)}
        return {c: customer for c, customer in found.items() if customer is not None}

    @abc.abstractmethod
    def by_external_id(self, external_id: str) -> Customer | None: ...

    @abc.abstractmethod
    def with_identifier(self, kind: str, hash_: str) -> list[Customer]:
        """Every customer holding this identifier (a phone shared by a family gives several)."""

    def with_identifiers(self, wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], list[Customer]]:
        """``with_identifier`` for many (kind, hash) pairs at once: pair -> its customers (every pair asked)."""
        return {pair: self.with_identifier(*pair) for pair in dict.fromkeys(wanted)}

    @abc.abstractmethod
    def with_name_key(self, name_key: str, limit: int = 50) -> list[Customer]: ...

    def with_name_keys(self, keys: Sequence[str], limit: int = 50) -> dict[str, list[Customer]]:
        """``with_name_key`` for many keys at once: key -> up to ``limit`` customers, lowest ids first."""
        return {key: self.with_name_key(key, limit) for key in dict.fromkeys(keys)}

    @abc.abstractmethod
    def identifier_kinds(self) -> list[str]:
        """The identifier kinds stored (``handle:x``, ``order``, ...)."""

    @abc.abstractmethod
    def count(self) -> int: ...


class MatchRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, match: CustomerMatch) -> bool:
        """Store a candidate unless the mention already has this customer as one; True when stored."""

    @abc.abstractmethod
    def get(self, mention_id: int) -> CustomerMatch | None:
        """The customer the mention is linked to (auto-linked or confirmed), if any."""

    @abc.abstractmethod
    def candidates(self, mention_id: int) -> list[CustomerMatch]:
        """Every candidate of the mention, most confident first."""

    def candidates_of(self, mention_ids: Sequence[int]) -> dict[int, list[CustomerMatch]]:
        """``candidates`` for many mentions, by mention id (an empty list for a mention with none)."""
        return {m: self.candidates(m) for m in mention_ids}

    @abc.abstractmethod
    def decide(self, mention_id: int, customer_id: int, status: MatchStatus) -> CustomerMatch:
        """An agent's answer; confirming one candidate rejects the mention's other suggestions."""

    @abc.abstractmethod
    def confirmed_for_author(self, source: str, author_handle: str) -> dict[int, int]:
        """Customer id -> how many of this author's mentions agents confirmed as that customer."""

    def confirmed_for_authors(self, authors: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict[int, int]]:
        """``confirmed_for_author`` for many (source, handle) pairs: pair -> customer id -> times (every pair)."""
        return {pair: self.confirmed_for_author(*pair) for pair in dict.fromkeys(authors)}

    def add_many(self, matches: Sequence[CustomerMatch]) -> int:
        """``add`` for many candidates at once; how many were stored."""
        return sum(self.add(match) for match in matches)


#: What is stored of a mention's fingerprint: mention id, data, bands, the earlier mention it repeats, how alike.
FingerprintEntry = tuple[int, Mapping[str, Any], Sequence[int], int | None, float | None]


class FingerprintRepository(abc.ABC):
    @abc.abstractmethod
    def add(
        self,
        mention_id: int,
        data: Mapping[str, Any],
        bands: Sequence[int],
        duplicate_of: int | None = None,
        similarity: float | None = None,
    ) -> None: ...

    def add_many(self, entries: Sequence[FingerprintEntry]) -> None:
        """``add`` for many mentions at once: (mention id, data, bands, duplicate of, similarity) each."""
        for mention_id, data, bands, duplicate_of, similarity in entries:
            self.add(mention_id, data, bands, duplicate_of, similarity)

    @abc.abstractmethod
    def sharing_bands(self, bands: Sequence[int], since: datetime, limit: int = 50) -> list[tuple[int, dict[str, Any]]]:
        """(mention id, fingerprint data) of up to ``limit`` mentions fingerprinted since ``since`` sharing any of
        ``bands``, those sharing the most first; the look-up may consider only the latest mentions of each band."""

    def sharing_known(
        self, bands: Sequence[int], since: datetime, known: Container[int], limit: int = 50
    ) -> list[tuple[int, dict[str, Any] | None]]:
        """``sharing_bands`` with None for the data of the mentions in ``known``: the caller holds their
        fingerprints already, and a store may then leave them unread."""
        return [(m, None if m in known else data) for m, data in self.sharing_bands(bands, since, limit)]

    def sharing_known_many(
        self, bands_of: Mapping[int, Sequence[int]], since: datetime, known: Container[int], limit: int = 50
    ) -> dict[int, list[tuple[int, dict[str, Any] | None]]]:
        """``sharing_known`` for many look-ups at once, by a key of the caller's (a mention id): what the store
        holds now, so a batch asks before it writes its own fingerprints."""
        return {key: self.sharing_known(bands, since, known, limit) for key, bands in bands_of.items()}

    @abc.abstractmethod
    def duplicate_of(self, mention_id: int) -> int | None: ...

    def duplicates_of(self, mention_ids: Sequence[int]) -> dict[int, int]:
        """``duplicate_of`` for many mentions: mention id -> the earlier mention it repeats (repeats only)."""
        found = {m: self.duplicate_of(m) for m in mention_ids}
        return {m: d for m, d in found.items() if d is not None}


class TicketRepository(abc.ABC):
    """Tickets are cases: one per problem, with the mentions that joined them and a timeline."""

    @abc.abstractmethod
    def open(self, ticket: Ticket) -> tuple[Ticket, bool]:
        """Open a case for a mention unless one exists (stamped with ``ticket.created_at`` when given, else now);
        returns (ticket, created)."""

    @abc.abstractmethod
    def get(self, ticket_id: int) -> Ticket: ...

    @abc.abstractmethod
    def count(self) -> int: ...

    @abc.abstractmethod
    def listed(self, limit: int = 100) -> list[Ticket]:
        """Tickets in the order they were opened."""

    @abc.abstractmethod
    def case_of(self, mention_id: int) -> Ticket | None:
        """The case a mention opened or joined."""

    def cases_of(self, mention_ids: Sequence[int]) -> dict[int, Ticket]:
        """``case_of`` for many mentions: mention id -> case, for the ones in a case."""
        return {m: case for m in dict.fromkeys(mention_ids) if (case := self.case_of(m)) is not None}

    @abc.abstractmethod
    def open_case_of(
        self, *, customer_id: int | None, source: str, author_handle: str, since: datetime
    ) -> tuple[Ticket, str] | None:
        """The open case of this customer (else of this author on this source) active since ``since``, with
        "customer" or "author" saying which; the most recently active one when there are several."""

    @abc.abstractmethod
    def active_cases_of(
        self, customer_ids: Iterable[int], authors: Iterable[tuple[str, str]]
    ) -> list[tuple[Ticket, set[tuple[str, str]]]]:
        """Every active case of these customers or holding a mention by one of these (source, handle) authors,
        however long ago it was last active, each with the ones of ``authors`` it holds a mention of."""

    @abc.abstractmethod
    def attach(self, ticket_id: int, mention_id: int, reason: str, at: datetime | None = None) -> bool:
        """Add a mention to a case; it then counts as activity at ``at`` (default: now). False when the mention is
        already in one."""

    @abc.abstractmethod
    def mentions_of(self, ticket_id: int) -> list[tuple[int, str]]:
        """(mention id, reason it joined) of the case, in the order they joined."""

    @abc.abstractmethod
    def add_event(self, event: CaseEvent) -> int:
        """Add a line to the case's timeline; returns its id."""

    def record_event(self, event: CaseEvent) -> None:
        """``add_event`` when the caller needs no id: a store may hold the line back and write it with others,
        at the latest when the unit of work commits (lines keep the order they were recorded in)."""
        self.add_event(event)

    def write_events(self) -> None:
        """Write the lines ``record_event`` holds back (none here: it writes each at once)."""
        return

    def drop_events(self) -> None:
        """Forget the lines ``record_event`` holds back: the unit of work rolled back."""
        return

    @abc.abstractmethod
    def timeline(self, ticket_id: int) -> list[CaseEvent]: ...

    @abc.abstractmethod
    def set_customer(self, ticket_id: int, customer_id: int | None, at: datetime | None = None) -> None:
        """The case is this customer's (activity at ``at``, default now)."""

    @abc.abstractmethod
    def update(self, ticket_id: int, **values: Any) -> Ticket:
        """Change a case's state, priority, unit, assignee, customer or clocks (and its last activity)."""

    @abc.abstractmethod
    def overdue(self, now: datetime, limit: int = 500) -> list[Ticket]:
        """Active cases nobody has answered whose first-response or reply deadline has passed."""

    @abc.abstractmethod
    def resolved_before(self, cutoff: datetime, limit: int = 500) -> list[Ticket]:
        """Resolved cases resolved before ``cutoff``: due to close."""

    @abc.abstractmethod
    def numbers(self, since: datetime) -> dict[str, int]:
        """Cases opened and resolved since ``since``, active ones by state, and overdue ones."""


class DeliveryRepository(abc.ABC):
    @abc.abstractmethod
    def enqueue(self, delivery: Delivery) -> bool:
        """Queue a delivery (status PENDING, or DEFERRED when held back); False if its key is already queued."""

    def enqueue_later(self, delivery: Delivery) -> None:
        """``enqueue`` when the caller needs no answer: a store may hold an update back and write it with others,
        before anything else it is asked of deliveries needs it and at the latest when the unit of work commits.
        An alert is written at once (routing reads alerts back as it goes)."""
        self.enqueue(delivery)

    def write_later(self) -> None:
        """Write what ``enqueue_later`` holds back (none here: it writes each at once)."""
        return

    def drop_later(self) -> None:
        """Forget what ``enqueue_later`` holds back: the unit of work rolled back."""
        return

    @abc.abstractmethod
    def pending(self, limit: int = 100, max_attempts: int = 5, now: datetime | None = None) -> list[Delivery]:
        """PENDING deliveries whose retry time has come, oldest first."""

    @abc.abstractmethod
    def get(self, key: str) -> Delivery | None: ...

    @abc.abstractmethod
    def claim_due(
        self, limit: int, max_attempts: int, now: datetime, lease_until: datetime
    ) -> list[tuple[Delivery, datetime | None]]:
        """Take up to ``limit`` due PENDING deliveries for this worker until ``lease_until`` (no other worker takes
        them before then: rows another worker is claiming are skipped). Each comes with when an earlier attempt
        that may have reached the far side began (a crash mid-send, a timeout), so the sender can look for that
        message before sending again."""

    @abc.abstractmethod
    def release(self, delivery_ids: Sequence[int]) -> None:
        """Give claimed deliveries back at once (a worker stopping before it got to them)."""

    @abc.abstractmethod
    def mark_sent(self, delivery_id: int, external_ref: str) -> None: ...

    @abc.abstractmethod
    def mark_failed(
        self, delivery_id: int, error: str, *, final: bool, retry_at: datetime | None = None, max_attempts: int = 5
    ) -> Delivery:
        """Record a failed attempt; it is retried at ``retry_at`` unless ``final`` or out of attempts."""

    @abc.abstractmethod
    def put_back(self, delivery_id: int, until: datetime, earlier: datetime | None, error: str | None = None) -> None:
        """Give a claimed delivery back untried, due at ``until``, without counting an attempt: it never reached the
        far side, so it keeps ``earlier`` (what ``claim_due`` gave with it) and no lookup is wasted on it later.
        ``error`` says why it waits."""

    @abc.abstractmethod
    def alerts_of(self, ticket_id: int) -> list[Delivery]:
        """The deliveries that opened the case somewhere (kind "alert"), sent or not."""

    @abc.abstractmethod
    def last_in_group(self, channel: str, target: str, group_key: str, since: datetime) -> Delivery | None:
        """The latest alert of a burst group to this channel and target since ``since`` that was not held back."""

    @abc.abstractmethod
    def count_children(self, parent_key: str, kind: str) -> int: ...

    @abc.abstractmethod
    def by_channel(self) -> dict[tuple[str, str], int]:
        """Deliveries by (channel, status)."""

    @abc.abstractmethod
    def oldest_pending(self) -> datetime | None:
        """When the longest-waiting pending delivery was queued."""

    @abc.abstractmethod
    def alerts_since(self, channel: str, target: str, since: datetime) -> int:
        """Alerts queued for this channel and target since ``since`` (not those held back): the budget used."""

    @abc.abstractmethod
    def count_by_status(self) -> dict[str, int]: ...


class FeedbackRepository(abc.ABC):
    """Agents' actions and corrections, for retraining and for measuring the classifiers."""

    @abc.abstractmethod
    def add(self, feedback: Feedback, ticket_id: int | None = None) -> None: ...

    @abc.abstractmethod
    def listed(self, field: str | None = None, limit: int = 100_000) -> list[Feedback]: ...


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
    def recent(self, source: str, limit: int = 20, brand: str | None = None) -> list[SourceRun]:
        """The source's last ``limit`` runs (of one brand, with ``brand``), newest first."""

    @abc.abstractmethod
    def last_success(self) -> dict[str, datetime]:
        """Per source, when its last run that ended well finished."""

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


class PrivacyRepository(abc.ABC):
    """KVKK erasure: remove what names a person, and remember (by hash only) not to take it in again."""

    @abc.abstractmethod
    def scan_mentions(self, after_id: int = 0, limit: int = 1000) -> list[Mention]:
        """Every stored mention, whatever its status, by id from ``after_id`` on."""

    @abc.abstractmethod
    def mentions_by_author(self, author_handle: str, source: str | None = None) -> list[int]:
        """Ids of mentions written by this handle (case-insensitive, with or without "@")."""

    @abc.abstractmethod
    def matched_mentions(self, customer_id: int) -> list[int]:
        """Ids of mentions with this customer as a candidate in any status."""

    @abc.abstractmethod
    def erase(
        self, *, mention_ids: Sequence[int], customer_id: int | None = None, identifier_hashes: Sequence[str] = ()
    ) -> Erasure:
        """Delete the mentions (with everything derived from them: analyses, matches, fingerprints, cases they
        opened, the outbox rows of those cases), the customer with its identifiers and cases, and any other
        customer identifier with one of ``identifier_hashes``; tombstone the mentions so no crawl brings them
        back."""

    @abc.abstractmethod
    def tombstone(self, kind: str, hash_: str) -> None: ...

    @abc.abstractmethod
    def is_tombstoned(self, kind: str, hash_: str) -> bool: ...


@dataclass(frozen=True)
class Purged:
    """One batch of a retention purge: how many rows went, and the lowest and highest id among them."""

    count: int = 0
    first_id: int | None = None
    last_id: int | None = None


class RetentionRepository(abc.ABC):
    """KVKK retention: each method purges one batch of one kind of data older than ``cutoff``, ids above
    ``after_id`` first, and returns what it purged; a second call over purged rows finds nothing."""

    @abc.abstractmethod
    def raw_payloads(self, cutoff: datetime, batch: int, after_id: int = 0) -> Purged:
        """Empty the raw payload of mentions fetched before ``cutoff`` (ids of mentions)."""

    @abc.abstractmethod
    def mention_texts(self, cutoff: datetime, batch: int, after_id: int = 0) -> Purged:
        """Empty the text, title, author, handle, URL, payload and masked text of mentions fetched before
        ``cutoff`` and drop their fingerprints; mentions of a case not closed before ``cutoff`` keep theirs, and
        status, labels and brands always stay (ids of mentions)."""

    @abc.abstractmethod
    def closed_cases(self, cutoff: datetime, batch: int, after_id: int = 0) -> Purged:
        """Delete cases closed before ``cutoff`` with their timeline, case mentions and outbox rows; the
        mentions stay (ids of cases)."""

    @abc.abstractmethod
    def deliveries(self, cutoff: datetime, batch: int, after_id: int = 0) -> Purged:
        """Delete sent or failed outbox rows queued before ``cutoff`` that have no case, or a case closed before
        ``cutoff``, and that no waiting row is sent against (ids of outbox rows)."""


@dataclass(frozen=True)
class CrisisExample:
    """A mention as a crisis alert shows it: its masked text, never what the author wrote."""

    mention_id: int
    source: str
    url: str
    text: str  # the masked text
    sentiment: str
    urgency: str


class CrisisRepository(abc.ABC):
    """Crisis incidents, and what spike checks ask of a brand's analysed mentions in windows ``[start, end)``.

    A mention belongs to the brands of its analysis, at the moment it was published (else fetched)."""

    @abc.abstractmethod
    def counts(self, brand: str, windows: Sequence[tuple[datetime, datetime]]) -> dict[str, list[tuple[int, int]]]:
        """Per scope ("brand", "source:<name>", "topic:<label>"): (mentions, negative mentions) in each window, in
        the order given; scopes without a mention in any window are left out."""

    @abc.abstractmethod
    def texts(self, brand: str, windows: Sequence[tuple[datetime, datetime]], limit: int) -> list[str]:
        """Masked texts of the brand's mentions in the windows, at most ``limit``, latest first."""

    @abc.abstractmethod
    def repeats(self, brand: str, start: datetime, end: datetime, limit: int) -> list[tuple[int, int]]:
        """(mention, the earlier mention it nearly repeats) for the brand's near-duplicates in the window, and the
        same for those earlier mentions, a few steps up the chain."""

    @abc.abstractmethod
    def examples(self, brand: str, start: datetime, end: datetime, scope: str, limit: int) -> list[CrisisExample]:
        """The brand's mentions in the window and ``scope``, most urgent first, then most surely negative."""

    @abc.abstractmethod
    def shown(self, mention_ids: Sequence[int]) -> dict[int, CrisisExample]:
        """Those mentions as an alert shows them; mentions erased since are left out."""

    @abc.abstractmethod
    def open_for(self, brand: str) -> Crisis | None:
        """The brand's open incident, if any."""

    @abc.abstractmethod
    def add(self, crisis: Crisis) -> Crisis:
        """Store a new incident; returns it with its id."""

    @abc.abstractmethod
    def save(self, crisis: Crisis) -> None:
        """Write back a stored incident's state, figures and detail."""

    @abc.abstractmethod
    def listed(self, brand: str | None = None, limit: int = 100) -> list[Crisis]:
        """Incidents, the latest opened first."""


class AuditLog(abc.ABC):
    @abc.abstractmethod
    def record(self, actor: str, action: str, subject: str = "", **detail: Any) -> None: ...

    @abc.abstractmethod
    def last(self, action: str, subject: str | None = None) -> dict[str, Any] | None:
        """The detail of the latest entry for ``action`` (about ``subject``, when given), if any."""


class UnitOfWork(abc.ABC):
    """One transaction over all repositories: ``with uow: ...; uow.commit()``; leaving without commit rolls back."""

    mentions: MentionRepository
    analyses: AnalysisRepository
    customers: CustomerRepository
    matches: MatchRepository
    fingerprints: FingerprintRepository
    tickets: TicketRepository
    deliveries: DeliveryRepository
    feedback: FeedbackRepository
    crawl_state: CrawlStateRepository
    source_runs: SourceRunRepository
    brands: BrandRepository
    sources: SourceRepository
    privacy: PrivacyRepository
    retention: RetentionRepository
    reports: ReportRepository
    crises: CrisisRepository
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
# Mentions a stage takes in one transaction. Each batch costs a few statements whatever its size (the claim, the
# batch's reads, the status update, the commit): at 200 rather than 50, matching and routing a backfill took a
# tenth less time, and a batch still commits in about a second on SQLite, where it holds the write lock.
BATCH = 200


def drain(
    uow: UnitOfWork,
    status: MentionStatus,
    handle: MentionHandler,
    *,
    batch: int = BATCH,
    limit: int | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> Counter[str]:
    """Hand every mention waiting in ``status`` to ``handle``, one transaction a batch, until none is left.

    ``handle`` moves each mention on (to the next status or FAILED) and counts what it did. The pass walks ids
    upwards, so a mention a faulty handler leaves where it was is not handed over again in the same pass. Each
    batch is claimed (workers sharing a database take different batches); ``stop`` is asked between batches.
    """

    def each(uow: UnitOfWork, mentions: list[Mention], counts: Counter[str]) -> None:
        for mention in mentions:
            handle(uow, mention, counts)

    return drain_batches(uow, status, each, batch=batch, limit=limit, stop=stop)


MentionBatchHandler = Callable[[UnitOfWork, list[Mention], Counter[str]], None]


def drain_batches(
    uow: UnitOfWork,
    status: MentionStatus,
    handle: MentionBatchHandler,
    *,
    batch: int = BATCH,
    limit: int | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> Counter[str]:
    """``drain`` for a handler that takes a whole batch at once (one round trip for many mentions).

    The handler moves every mention of the batch on, or marks the ones it cannot handle FAILED on their own.
    """
    counts: Counter[str] = Counter()
    last_id, handed = 0, 0
    while (limit is None or handed < limit) and not stop():
        size = batch if limit is None else min(batch, limit - handed)
        with uow:
            mentions = uow.mentions.with_status(status, limit=size, after_id=last_id, claim=True)
            if not mentions:
                break
            handle(uow, mentions, counts)
            uow.commit()
        last_id, handed = mentions[-1].id, handed + len(mentions)
    return counts
