"""SQLAlchemy repositories for mentions, their analyses and the crawl state."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from store import repository as repo
from store.errors import StoreError
from store.model import (
    Analysis,
    CrawlState,
    Mention,
    MentionStatus,
    RawMention,
)
from store.sql_base import chunked, dialect_insert, insert_many_ignoring
from store.sql_counts import recounted
from store.tables import (
    AnalysisRow,
    CrawlStateRow,
    MentionBrandRow,
    MentionRow,
    MentionTopicRow,
    TombstoneRow,
    utcnow,
)

AUTHOR_CHARS = 300  # mentions.author and author_handle
LANGUAGE_CHARS = 10  # mentions.language
ID_CHARS = 200  # mentions.external_id and crawl_states.last_seen_id


_ANALYSES_OF = select(AnalysisRow.mention_id, AnalysisRow.data).where(
    AnalysisRow.mention_id.in_(bindparam("ids", expanding=True))
)


def _no_nul(text: str) -> str:
    # PostgreSQL text cannot hold NUL: one such post would fail its whole batch, on every crawl. It carries nothing.
    return text.replace("\x00", "") if "\x00" in text else text


def stored_id(external_id: str) -> str:
    """A source's id as the store keeps it: as it is when it fits the column, else its start and a SHA-256 of the
    whole, the same for the same id. A feed item's id is often its link, and a news link can run past 200
    characters: PostgreSQL refused such a post, and with it its whole page, on every crawl."""
    if len(external_id) <= ID_CHARS:
        return external_id
    digest = hashlib.sha256(external_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{external_id[: ID_CHARS - len(digest) - 1]}#{digest}"


def _mention_values(raw: RawMention) -> dict[str, Any]:
    return {
        "source": raw.source,
        "external_id": stored_id(_no_nul(raw.external_id)),
        "brand": raw.brand,
        "url": _no_nul(raw.url),
        "title": _no_nul(raw.title),
        # Cut to their columns: PostgreSQL refuses a longer value, and with it the batch (SQLite would keep it).
        "author": _no_nul(raw.author)[:AUTHOR_CHARS],
        "author_handle": _no_nul(raw.author_handle)[:AUTHOR_CHARS],
        "text": _no_nul(raw.text),
        "language": raw.language[:LANGUAGE_CHARS] if raw.language else raw.language,
        "published_at": raw.published_at,
        "fetched_at": raw.fetched_at,
        "payload": dict(raw.payload),
        # A site's own "resolved" mark (Şikayetvar's Çözüldü) outlives the payload, which retention empties.
        "site_resolved": raw.payload["resolved"] if isinstance(raw.payload.get("resolved"), bool) else None,
        "content_hash": raw.content_hash,
        "status": MentionStatus.NEW.value,
        "updated_at": utcnow(),
    }


def _analysis_values(mention_id: int, analysis: Analysis, now: datetime) -> dict[str, Any]:
    return {
        "mention_id": mention_id,
        "analyzer": analysis.analyzer,
        "lang": analysis.lang,
        "sentiment": analysis.sentiment.label,
        "sentiment_score": analysis.sentiment.score,
        "intent": analysis.intent.label,
        "urgency": analysis.urgency.level,
        "data": analysis.to_json(),
        "created_at": now,
    }


def _insert(session: Session, row_type: type[Any]) -> Any:
    return dialect_insert(session.get_bind().dialect.name, row_type)


def mention_tombstone(source: str, external_id: str) -> str:
    """What a tombstone keeps of an erased post: a hash of where it came from, enough to refuse it again."""
    return hashlib.sha256(f"{source}\x00{external_id}".encode()).hexdigest()


def to_mention(row: MentionRow) -> Mention:
    raw = RawMention(
        source=row.source,
        external_id=row.external_id,
        url=row.url,
        text=row.text,
        fetched_at=row.fetched_at,
        title=row.title,
        brand=row.brand,
        author=row.author,
        author_handle=row.author_handle,
        language=row.language,
        published_at=row.published_at,
        payload=row.payload,
    )
    return Mention(id=row.id, status=MentionStatus(row.status), raw=raw, error=row.error)


class SqlAlchemyMentionRepository(repo.MentionRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_many(self, raws: Iterable[RawMention]) -> repo.AddResult:
        rows = [_mention_values(raw) for raw in raws]
        erased = self._erased({mention_tombstone(r["source"], r["external_id"]): r for r in rows})
        kept = [r for r in rows if mention_tombstone(r["source"], r["external_id"]) not in erased]
        added = len(insert_many_ignoring(self.session, MentionRow, kept, ["source", "external_id"]))
        return repo.AddResult(added, len(rows) - added)

    def _erased(self, by_hash: dict[str, Any]) -> set[str]:
        """Hashes among ``by_hash`` of posts erased under KVKK (a crawl must not bring them back)."""
        found: set[str] = set()
        hashes = list(by_hash)
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            found.update(
                self.session.scalars(
                    select(TombstoneRow.hash).where(TombstoneRow.kind == "mention", TombstoneRow.hash.in_(chunk))
                )
            )
        return found

    def get(self, mention_id: int) -> Mention:
        row = self.session.get(MentionRow, mention_id)
        if row is None:
            raise StoreError(f"no mention with id {mention_id}")
        return to_mention(row)

    def with_status(
        self, status: MentionStatus, limit: int = 500, after_id: int = 0, *, claim: bool = False
    ) -> list[Mention]:
        stmt = (
            select(MentionRow)
            .where(MentionRow.status == status.value, MentionRow.id > after_id)
            .order_by(MentionRow.id)
            .limit(limit)
        )
        if claim:  # SQLite has no row locks (and one writer at a time): the clause is left out there
            # FOR NO KEY UPDATE: claims still exclude each other, but a row that only refers to a claimed mention
            # (a fingerprint repeating it, written by the matching worker while routing holds it) goes in without
            # waiting. FOR UPDATE made matching wait for each routing batch on PostgreSQL.
            stmt = stmt.with_for_update(skip_locked=True, key_share=True)
        return [to_mention(r) for r in self.session.scalars(stmt)]

    def set_status(self, mention_id: int, status: MentionStatus, error: str | None = None) -> None:
        self.session.execute(
            update(MentionRow)
            .where(MentionRow.id == mention_id)
            .values(status=status.value, error=error, updated_at=utcnow())
        )

    def set_statuses(self, mention_ids: Sequence[int], status: MentionStatus) -> None:
        for chunk in chunked(mention_ids):
            self.session.execute(
                update(MentionRow)
                .where(MentionRow.id.in_(chunk))
                .values(status=status.value, error=None, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )

    def count_by_status(self) -> dict[str, int]:
        rows = self.session.execute(select(MentionRow.status, func.count()).group_by(MentionRow.status))
        return {status: int(n) for status, n in rows}

    def oldest_fetched(self) -> dict[str, datetime]:
        rows = self.session.execute(
            select(MentionRow.status, func.min(MentionRow.fetched_at)).group_by(MentionRow.status)
        )
        return {status: when for status, when in rows if when is not None}

    def earlier_by_author(self, mention: Mention, since: datetime) -> int:
        if not mention.raw.author_handle:
            return 0
        when = func.coalesce(MentionRow.published_at, MentionRow.fetched_at)
        query = select(func.count()).where(
            MentionRow.source == mention.raw.source,
            MentionRow.author_handle == mention.raw.author_handle,
            MentionRow.id < mention.id,
            when >= since,
        )
        return int(self.session.scalar(query) or 0)

    def earlier_by_authors(self, mentions: Sequence[Mention], days: int) -> dict[int, int]:
        found = dict.fromkeys((m.id for m in mentions), 0)
        since = {m.id: (m.raw.published_at or m.raw.fetched_at) - timedelta(days=days) for m in mentions}
        named = [m for m in mentions if m.raw.author_handle]
        if not named:
            return found
        when = func.coalesce(MentionRow.published_at, MentionRow.fetched_at)
        # One look-up for the batch: every post of its authors since the earliest moment any of them needs.
        posts: dict[tuple[str, str], list[tuple[int, datetime]]] = {}
        handles = sorted({m.raw.author_handle for m in named})
        for chunk in chunked(handles):
            stmt = select(MentionRow.source, MentionRow.author_handle, MentionRow.id, when).where(
                MentionRow.source.in_(sorted({m.raw.source for m in named})),
                MentionRow.author_handle.in_(chunk),
                MentionRow.id < max(m.id for m in named),
                when >= min(since[m.id] for m in named),
            )
            for source, handle, mention_id, at in self.session.execute(stmt):
                posts.setdefault((source, handle), []).append((mention_id, at))
        for m in named:
            earlier = posts.get((m.raw.source, m.raw.author_handle), [])
            found[m.id] = sum(1 for other, at in earlier if other < m.id and at >= since[m.id])
        return found


class SqlAlchemyAnalysisRepository(repo.AnalysisRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, mention_id: int, analysis: Analysis) -> bool:
        return bool(self.add_many([(mention_id, analysis)]))

    def add_many(self, analyses: Sequence[tuple[int, Analysis]]) -> set[int]:
        """A batch in a handful of statements: analyses, brand rows, topics, then the hourly counts."""
        now = utcnow()
        rows = [_analysis_values(mention_id, analysis, now) for mention_id, analysis in analyses]
        added: set[int] = set()
        stmt = _insert(self.session, AnalysisRow).on_conflict_do_nothing(index_elements=["mention_id"])
        returning = stmt.returning(AnalysisRow.__table__.c.mention_id)
        for chunk in chunked(rows):
            added.update(self.session.connection().execute(returning, chunk).scalars())
        if not added:
            return added
        fresh = [(mention_id, analysis) for mention_id, analysis in analyses if mention_id in added]
        ids = sorted(added)
        # The mention's moment is copied onto its brand rows, so reports find a brand's period on one index.
        when = func.coalesce(MentionRow.published_at, MentionRow.fetched_at)
        moments = {i: at for i, at in self.session.execute(select(MentionRow.id, when).where(MentionRow.id.in_(ids)))}
        brands = [{"mention_id": i, "brand": b, "at": moments[i]} for i, a in fresh for b in dict.fromkeys(a.brands)]
        topics = [
            {"mention_id": i, "topic": t} for i, a in fresh for t in dict.fromkeys(t.label[:100] for t in a.topics)
        ]
        with recounted(self.session, ids):
            if brands:
                stmt = _insert(self.session, MentionBrandRow).on_conflict_do_nothing(
                    index_elements=["mention_id", "brand"]
                )
                self.session.connection().execute(stmt, brands)
            self.session.execute(delete(MentionTopicRow).where(MentionTopicRow.mention_id.in_(ids)))
            if topics:
                self.session.connection().execute(insert(MentionTopicRow), topics)
        return added

    def _set_topics(self, mention_id: int, analysis: Analysis) -> None:
        self.session.execute(delete(MentionTopicRow).where(MentionTopicRow.mention_id == mention_id))
        for topic in dict.fromkeys(t.label for t in analysis.topics):
            self.session.add(MentionTopicRow(mention_id=mention_id, topic=topic[:100]))

    def get(self, mention_id: int) -> Analysis | None:
        row = self.session.scalar(select(AnalysisRow).where(AnalysisRow.mention_id == mention_id))
        return Analysis.from_json(row.data) if row else None

    def get_many(self, mention_ids: Sequence[int]) -> dict[int, Analysis]:
        wanted = list(dict.fromkeys(mention_ids))
        found: dict[int, Analysis] = {}
        for ids in chunked(wanted):
            rows = self.session.execute(_ANALYSES_OF, {"ids": ids})
            found.update((int(m), Analysis.from_json(data)) for m, data in rows)
        return found

    def correct(self, mention_id: int, analysis: Analysis) -> None:
        row = self.session.scalar(select(AnalysisRow).where(AnalysisRow.mention_id == mention_id))
        if row is None:
            raise StoreError(f"mention {mention_id} has no analysis to correct")
        with recounted(self.session, [mention_id]):
            row.sentiment, row.sentiment_score = analysis.sentiment.label, analysis.sentiment.score
            row.intent, row.urgency, row.data = analysis.intent.label, analysis.urgency.level, analysis.to_json()
            self._set_topics(mention_id, analysis)


class SqlAlchemyCrawlStateRepository(repo.CrawlStateRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, source: str, brand: str) -> CrawlState | None:
        row = self.session.scalar(
            select(CrawlStateRow).where(CrawlStateRow.source == source, CrawlStateRow.brand == brand)
        )
        return None if row is None else self._state(row)

    def for_source(self, source: str) -> list[CrawlState]:
        rows = self.session.scalars(select(CrawlStateRow).where(CrawlStateRow.source == source))
        return [self._state(row) for row in rows]

    @staticmethod
    def _state(row: CrawlStateRow) -> CrawlState:
        return CrawlState(
            source=row.source,
            brand=row.brand,
            cursor=row.cursor,
            last_seen_id=row.last_seen_id,
            last_seen_at=row.last_seen_at,
            etag=row.etag,
            last_modified=row.last_modified,
            updated_at=row.updated_at,
        )

    def save(self, state: CrawlState) -> None:
        row = self.session.scalar(
            select(CrawlStateRow).where(CrawlStateRow.source == state.source, CrawlStateRow.brand == state.brand)
        )
        if row is None:
            row = CrawlStateRow(source=state.source, brand=state.brand)
            self.session.add(row)
        seen = stored_id(state.last_seen_id) if state.last_seen_id is not None else None
        row.cursor, row.last_seen_id, row.last_seen_at = state.cursor, seen, state.last_seen_at
        row.etag, row.last_modified, row.updated_at = state.etag, state.last_modified, utcnow()
