"""The domain model every stage speaks: frozen dataclasses, no database types."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class MentionStatus(StrEnum):
    """Where a mention is on its way through the stages."""

    NEW = "new"  # stored by a crawler
    ANALYZED = "analyzed"  # the NLP chain tagged it
    MATCHED = "matched"  # customer matching ran (a match is optional)
    ROUTED = "routed"  # responders decided: ticket opened, or nothing to do
    FAILED = "failed"  # a stage failed on it; ``error`` says why


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    DEFERRED = "deferred"  # held back (quiet hours, alert budget): the next digest lists it instead


class TicketStatus(StrEnum):
    """A case's state: new -> assigned -> waiting (on the customer) -> resolved -> closed."""

    NEW = "new"
    ASSIGNED = "assigned"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def active(self) -> bool:
        """Still being worked on: later mentions join it and its SLA clock runs."""
        return self in (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING)


PRIORITIES = ("low", "normal", "high", "urgent")


@dataclass(frozen=True)
class Brand:
    """A brand the care team listens for, and the words that mean it."""

    name: str
    aliases: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    ambiguous: bool = False
    context: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    competitor: bool = False
    query: str = ""  # optional Boolean query (AND, OR, NOT, parentheses, "phrases") a mention must satisfy


def content_hash(title: str, text: str) -> str:
    """Hash of the normalised title and text, to spot the same words posted twice."""
    folded = unicodedata.normalize("NFKC", f"{title}\n{text}").casefold()
    return hashlib.sha256(" ".join(folded.split()).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RawMention:
    """What a source hands to the store: one post, review, complaint or entry about a brand."""

    source: str
    external_id: str
    url: str
    text: str
    fetched_at: datetime
    title: str = ""
    brand: str | None = None  # the brand the crawl was about, when the source knows it
    author: str = ""
    author_handle: str = ""
    language: str | None = None
    published_at: datetime | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.text)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "external_id": self.external_id,
            "brand": self.brand,
            "url": self.url,
            "title": self.title,
            "text": self.text,
            "author": self.author,
            "author_handle": self.author_handle,
            "language": self.language,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "fetched_at": self.fetched_at.isoformat(),
            "content_hash": self.content_hash,
            "payload": dict(self.payload),
        }


@dataclass(frozen=True)
class Mention:
    """A stored mention: the raw record plus where it is in the pipeline."""

    id: int
    status: MentionStatus
    raw: RawMention
    error: str | None = None


@dataclass(frozen=True)
class Label:
    label: str
    score: float


@dataclass(frozen=True)
class Urgency:
    level: str  # low | normal | high | critical
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class PiiSpan:
    type: str  # tckn | iban | card | card_last4 | phone | email
    start: int
    end: int


@dataclass(frozen=True)
class Analysis:
    """What the NLP chain says about one text."""

    lang: str
    brands: tuple[str, ...]
    sentiment: Label
    intent: Label
    topics: tuple[Label, ...]
    urgency: Urgency
    pii: tuple[PiiSpan, ...]
    masked_text: str
    analyzer: str
    needs_reply: bool = False  # a complaint, question or sales lead the care team should answer

    def to_json(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "brands": list(self.brands),
            "sentiment": {"label": self.sentiment.label, "score": self.sentiment.score},
            "intent": {"label": self.intent.label, "score": self.intent.score},
            "topics": [{"label": t.label, "score": t.score} for t in self.topics],
            "urgency": {"level": self.urgency.level, "reasons": list(self.urgency.reasons)},
            "pii": [{"type": p.type, "start": p.start, "end": p.end} for p in self.pii],
            "masked_text": self.masked_text,
            "analyzer": self.analyzer,
            "needs_reply": self.needs_reply,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Analysis:
        return cls(
            lang=data["lang"],
            brands=tuple(data["brands"]),
            sentiment=Label(**data["sentiment"]),
            intent=Label(**data["intent"]),
            topics=tuple(Label(**t) for t in data["topics"]),
            urgency=Urgency(data["urgency"]["level"], tuple(data["urgency"]["reasons"])),
            pii=tuple(PiiSpan(**p) for p in data["pii"]),
            masked_text=data["masked_text"],
            analyzer=data["analyzer"],
            needs_reply=bool(data.get("needs_reply", False)),
        )


@dataclass(frozen=True)
class Identifier:
    """One way to recognise a customer, stored as a keyed hash: nobody reading the store learns the value."""

    kind: str  # email | phone | tckn | handle:<source> | order | subscription | policy
    hash: str  # HMAC of the canonical value (see classifiers.identity)
    display: str  # the masked form people read: "a***@g***.com", "0532 *** ** 67", "@ayse.k"


@dataclass(frozen=True)
class Customer:
    """A customer record of the brand's own. Contact details live only as ``identifiers``."""

    external_id: str
    name: str  # how the customer is addressed (the care standard: address people by name)
    name_key: str = ""  # the name folded for matching ("ayse nur yilmaz")
    city: str = ""
    vip: bool = False
    segment: str = ""
    identifiers: tuple[Identifier, ...] = ()
    id: int | None = None


class MatchStatus(StrEnum):
    AUTO = "auto"  # confident single candidate: linked without asking
    SUGGESTED = "suggested"  # waits for an agent to confirm or reject
    CONFIRMED = "confirmed"  # an agent said yes
    REJECTED = "rejected"  # an agent said no

    @property
    def linked(self) -> bool:
        return self in (MatchStatus.AUTO, MatchStatus.CONFIRMED)


@dataclass(frozen=True)
class CustomerMatch:
    """A candidate customer for a mention, with how sure the matcher is and why."""

    mention_id: int
    customer_id: int
    confidence: float  # in [0, 1]
    reasons: tuple[str, ...] = ()  # "handle @ayse.k on sikayetvar", "order no KT******23 in the text"
    status: MatchStatus = MatchStatus.AUTO


@dataclass(frozen=True)
class CaseEvent:
    """One line of a case's timeline. ``detail`` holds ids and labels, never a person's text."""

    ticket_id: int
    kind: str  # opened | mention | match | alert | action | reply | closed
    detail: Mapping[str, Any] = field(default_factory=dict)
    at: datetime | None = None


@dataclass(frozen=True)
class Erasure:
    """What `kulak forget` removed; the audit log keeps these counts and nothing that names the person."""

    customers: int = 0
    identifiers: int = 0
    mentions: int = 0
    tickets: int = 0
    deliveries: int = 0


@dataclass(frozen=True)
class Ticket:
    """A case: one problem of one customer or author, opened by ``mention_id`` and joined by later mentions."""

    mention_id: int
    brand: str
    priority: str  # low | normal | high | urgent
    unit: str  # the team the case is routed to
    summary: str
    customer_id: int | None = None
    status: TicketStatus = TicketStatus.NEW
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None  # last activity: opened, a mention joined, an agent acted
    route: str = ""  # the routing rule that placed it
    channel: str = ""  # the Slack channel its alert goes to ("" = slack.channel)
    helpdesk: str = ""  # the [[helpdesks]] name it is opened in ("" = none)
    queue: str = ""  # the helpdesk group or queue
    assignee: str = ""  # who claimed it (a Slack user id)
    respond_by: datetime | None = None  # first-response SLA, counted in business hours
    reply_by: datetime | None = None  # the site's own reply window (Şikayetvar), counted from publication
    responded_at: datetime | None = None  # first time an agent reached the customer (waiting or resolved)
    resolved_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Delivery:
    """An outbox row: one message to one channel, sent at most once (``key`` is unique)."""

    key: str
    channel: str  # slack | console | ...
    target: str  # e.g. the Slack channel
    payload: Mapping[str, Any]
    ticket_id: int | None = None
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    external_ref: str | None = None  # e.g. the Slack message ts
    id: int | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    kind: str = "alert"  # alert (opens the case there) | change (an update of the alert) | ops | note
    parent_key: str | None = None  # a change is sent against this delivery's external_ref (thread, ticket id)
    group_key: str | None = None  # alerts of one burst share it: brand, topic and channel


@dataclass(frozen=True)
class CaseChange:
    """Something that happened to a case after its alert went out; the channels that carry the case hear it.

    ``summary`` is one plain line for people ("Ayşe claimed the case"); it never holds a customer's words.
    """

    ticket_id: int
    kind: str  # mention | assigned | waiting | resolved | closed | reopened | escalated | customer | label | breach
    summary: str
    actor: str = "kulak"
    detail: Mapping[str, Any] = field(default_factory=dict)
    at: datetime | None = None


@dataclass(frozen=True)
class Feedback:
    """An agent's action or correction on a mention, kept to retrain and to measure the classifiers."""

    mention_id: int
    field: str  # sentiment | topic | intent | customer | relevant | action
    new_label: str
    author: str
    old_label: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class CrawlState:
    """Where a source left off for one brand, so the next crawl only asks for what is new."""

    source: str
    brand: str
    cursor: str | None = None
    last_seen_id: str | None = None
    last_seen_at: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class SourceRun:
    """One crawl of one configured source for one brand: what it fetched, kept and lost, and how it ended."""

    source: str
    started_at: datetime
    finished_at: datetime
    ok: bool
    error: str | None = None
    requests: int = 0
    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    failed: int = 0
    parse_failures: int = 0
    brand: str | None = None
    id: int | None = None

    @property
    def healthy(self) -> bool:
        """Ended without an error and read something, or at least nothing it could not read."""
        return self.ok and not (self.parse_failures and not self.fetched)


@dataclass(frozen=True)
class SourceProblem:
    """A source that needs an operator: ``failing`` N runs in a row, or ``silent`` past its window."""

    source: str
    kind: str  # failing | silent
    message: str
    since: datetime


@dataclass(frozen=True)
class Crisis:
    """A crisis incident of one brand: opened by a spike, updated while it grows, closed once calm long enough.

    ``scope`` and ``metric`` name the strongest signal at opening (scope ``brand``, ``source:<name>`` or
    ``topic:<label>``; metric ``volume`` or ``negative``); ``detail`` holds the latest figures and what drives them
    (mention ids, counts and labels, never a person's text)."""

    brand: str
    scope: str
    metric: str
    opened_at: datetime
    updated_at: datetime
    status: str = "open"  # open | closed
    peak: int = 0  # most mentions (or negatives) of its scope in one window
    expected: float = 0.0  # what the baseline expected at opening
    detail: Mapping[str, Any] = field(default_factory=dict)
    closed_at: datetime | None = None
    calm_since: datetime | None = None
    alert_key: str | None = None  # the outbox key of its alert; updates go in that message's thread
    id: int | None = None
