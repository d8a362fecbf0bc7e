"""SQLAlchemy 2 typed tables; these rows never leave the store package."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which forgets zones) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}  # noqa: RUF012 - SQLAlchemy's hook


class BrandRow(Base):
    __tablename__ = "brands"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    competitor: Mapped[bool] = mapped_column(default=False)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SourceRow(Base):
    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrawlStateRow(Base):
    __tablename__ = "crawl_state"
    __table_args__ = (UniqueConstraint("source", "brand", name="uq_crawl_state_source_brand"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    brand: Mapped[str] = mapped_column(String(200))
    cursor: Mapped[str | None] = mapped_column(Text)
    last_seen_id: Mapped[str | None] = mapped_column(String(200))
    last_seen_at: Mapped[datetime | None]
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MentionRow(Base):
    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_mentions_source_external_id"),
        Index("ix_mentions_status", "status"),
        Index("ix_mentions_content_hash", "content_hash"),
        Index("ix_mentions_brand_published", "brand", "published_at"),
        Index("ix_mentions_source_author", "source", "author_handle"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(300), default="")
    author_handle: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(10))
    published_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    site_resolved: Mapped[bool | None]  # the site marked it resolved (Şikayetvar's "Çözüldü"); None: no such mark
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="new")
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnalysisRow(Base):
    __tablename__ = "analyses"
    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), unique=True)
    analyzer: Mapped[str] = mapped_column(String(100))
    lang: Mapped[str] = mapped_column(String(10))
    sentiment: Mapped[str] = mapped_column(String(20))
    sentiment_score: Mapped[float] = mapped_column(Float)
    intent: Mapped[str] = mapped_column(String(40))
    urgency: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MentionBrandRow(Base):
    """Which brands an analysed mention is about; digests count from here."""

    __tablename__ = "mention_brands"
    # (brand, at): a digest or crisis check reads one brand's period straight off the index, however long the history
    __table_args__ = (
        UniqueConstraint("mention_id", "brand", name="uq_mention_brands"),
        Index("ix_mention_brands_brand_at", "brand", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), index=True)
    brand: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]  # the mention's moment in reports, copied: coalesce(published_at, fetched_at)


class MentionTopicRow(Base):
    """Which topics an analysed mention is about; digests and crisis checks count topics from here."""

    __tablename__ = "mention_topics"
    __table_args__ = (UniqueConstraint("mention_id", "topic", name="uq_mention_topics"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(100), index=True)


class MentionCountRow(Base):
    """Mentions of a brand in one UTC hour per value of one dimension (``total`` has the value ""; ``resolved`` counts
    per source the mentions the site marked resolved). Kept in step with every analysis, correction and erasure, so
    a digest over a year sums thousands of these rows instead of counting millions of mentions."""

    __tablename__ = "mention_counts"
    brand: Mapped[str] = mapped_column(String(200), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class CustomerRow(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300), default="", index=True)
    city: Mapped[str] = mapped_column(String(100), default="")
    vip: Mapped[bool] = mapped_column(default=False)
    segment: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerIdentifierRow(Base):
    """One identifier of a customer as a keyed hash, with the masked form people may read."""

    __tablename__ = "customer_identifiers"
    __table_args__ = (
        UniqueConstraint("customer_id", "kind", "hash", name="uq_customer_identifiers"),
        Index("ix_customer_identifiers_kind_hash", "kind", "hash"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    hash: Mapped[str] = mapped_column(String(64))
    display: Mapped[str] = mapped_column(String(200), default="")


class CustomerMatchRow(Base):
    """A candidate customer of a mention: auto-linked, suggested to agents, confirmed or rejected."""

    __tablename__ = "customer_matches"
    __table_args__ = (
        UniqueConstraint("mention_id", "customer_id", name="uq_customer_matches"),
        Index("ix_customer_matches_customer", "customer_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    confidence: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="auto")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FingerprintRow(Base):
    """A mention's near-duplicate fingerprint, and the earlier mention it repeats, if any."""

    __tablename__ = "fingerprints"
    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), unique=True)
    data: Mapped[dict[str, Any]]
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("mentions.id", ondelete="SET NULL"))
    similarity: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FingerprintBandRow(Base):
    """Locality-sensitive hash keys (signed 64-bit): mentions sharing one are near-duplicate candidates."""

    __tablename__ = "fingerprint_bands"
    # The primary key (band, mention_id) is the look-up's index: the latest mentions of a key come straight off
    # it (sharing_bands). On SQLite the table is that index (WITHOUT ROWID): no second tree to write per key.
    __table_args__ = (
        Index("ix_fingerprint_bands_mention_id", "mention_id"),
        {"sqlite_with_rowid": False},
    )
    band: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    mention_id: Mapped[int] = mapped_column(
        ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )


class TombstoneRow(Base):
    """Something erased under KVKK that must not come back (a re-crawled post, a re-imported customer).

    Only a keyed hash is kept, so the tombstone names nobody."""

    __tablename__ = "tombstones"
    __table_args__ = (UniqueConstraint("kind", "hash", name="uq_tombstones"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # mention | customer
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_customer_status", "customer_id", "status"),
        Index("ix_tickets_status_updated", "status", "updated_at"),
        # reports read one brand's cases opened, answered, resolved or due in a period: a range of one index each
        Index("ix_tickets_brand_created", "brand", "created_at"),
        Index("ix_tickets_brand_responded", "brand", "responded_at"),
        Index("ix_tickets_brand_resolved", "brand", "resolved_at"),
        Index("ix_tickets_brand_respond_by", "brand", "respond_by"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), unique=True)
    brand: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    priority: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="new")
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    route: Mapped[str] = mapped_column(String(100), default="")
    channel: Mapped[str] = mapped_column(String(300), default="")
    helpdesk: Mapped[str] = mapped_column(String(100), default="")
    queue: Mapped[str] = mapped_column(String(100), default="")
    assignee: Mapped[str] = mapped_column(String(100), default="")
    respond_by: Mapped[datetime | None]
    reply_by: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class CaseMentionRow(Base):
    """The mentions of a case (a ticket): the one that opened it and every one that joined later."""

    __tablename__ = "case_mentions"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), unique=True)
    reason: Mapped[str] = mapped_column(String(40))  # opened | customer | author | duplicate
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseEventRow(Base):
    """A case's timeline: mentions joining, matches, alerts, agents' actions and replies."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DeliveryRow(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_status", "status"),
        Index("ix_deliveries_ticket_kind", "ticket_id", "kind"),
        Index("ix_deliveries_group", "channel", "target", "group_key", "created_at"),
        Index("ix_deliveries_parent_kind", "parent_key", "kind"),
        Index("ix_deliveries_channel_kind", "channel", "target", "kind", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    channel: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(300))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    external_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    kind: Mapped[str] = mapped_column(String(20), default="alert")
    parent_key: Mapped[str | None] = mapped_column(String(300))
    group_key: Mapped[str | None] = mapped_column(String(300))
    next_attempt_at: Mapped[datetime | None]  # retries wait (backoff, Retry-After) until then
    claimed_at: Mapped[datetime | None]  # being sent since then: a crash leaves it set, so a resend checks first
    # "host:pid" of the worker whose lease (next_attempt_at) it is under; None when no worker holds it
    claimed_by: Mapped[str | None] = mapped_column(String(300))


class FeedbackRow(Base):
    """A person's correction of a label, kept to retrain and to measure the classifiers."""

    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    old_label: Mapped[str | None] = mapped_column(String(100))
    new_label: Mapped[str] = mapped_column(String(100))
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))


class AuditRow(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SourceRunRow(Base):
    __tablename__ = "source_runs"
    __table_args__ = (
        Index("ix_source_runs_source_started", "source", "started_at"),
        Index("ix_source_runs_source_brand_started", "source", "brand", "started_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    brand: Mapped[str | None] = mapped_column(String(200))  # None: a run of every brand at once (before 0006)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    ok: Mapped[bool]
    error: Mapped[str | None] = mapped_column(Text)
    requests: Mapped[int] = mapped_column(default=0)
    fetched: Mapped[int] = mapped_column(default=0)
    new: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    parse_failures: Mapped[int] = mapped_column(default=0)


class CrisisRow(Base):
    """A crisis incident: a spike of one brand (as a whole, on one source or in one topic) from opening to calm."""

    __tablename__ = "crises"
    __table_args__ = (Index("ix_crises_brand_scope_status", "brand", "scope", "metric", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    brand: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(300))  # brand | source:<name> | topic:<label>
    metric: Mapped[str] = mapped_column(String(20))  # volume | negative
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | closed
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    calm_since: Mapped[datetime | None]  # first check back within normal; it closes once calm long enough
    peak: Mapped[int] = mapped_column(Integer, default=0)  # most mentions (or negatives) in one window
    expected: Mapped[float] = mapped_column(Float, default=0.0)  # what the baseline expected at opening
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the latest figures and drivers
    alert_key: Mapped[str | None] = mapped_column(String(300))  # outbox key of its alert (updates thread under it)
