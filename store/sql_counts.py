"""Hourly mention counts kept beside the mentions: what a long digest sums instead of counting every mention.

Every change to what reports count (an analysis stored, an agent's correction, an erasure) goes through
``recounted``: the affected mentions' share of the counts is read from the rows themselves before and after the
change, and only the difference is written. The counts therefore follow the rows whatever the change was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from store.sql_base import chunked, dialect_insert
from store.tables import AnalysisRow, MentionBrandRow, MentionCountRow, MentionRow, MentionTopicRow

#: The dimensions counted per brand and hour; ``total`` (value "") and ``resolved`` (per source, the mentions the
#: site marked resolved) serve share of voice, timelines and Şikayetvar's resolution rate.
DIMENSIONS = ("total", "source", "sentiment", "intent", "language", "urgency", "topic", "resolved")
HOUR = timedelta(hours=1)
Key = tuple[str, str, datetime, str]  # brand, dimension, hour, value


def hour_of(at: datetime) -> datetime:
    """The UTC hour ``at`` falls in."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def whole_hours(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The whole UTC hours inside ``[start, end)``, or None when there are none."""
    first = hour_of(start)
    first = first if first == start else first + HOUR
    last = hour_of(end)
    return (first, last) if first < last else None


def shares(session: Session, mention_ids: Iterable[int]) -> Counter[Key]:
    """What the given mentions add to the counts, read from their brand, mention, analysis and topic rows."""
    found: Counter[Key] = Counter()
    ids = sorted(set(mention_ids))
    for chunk in chunked(ids):
        topics: dict[int, list[str]] = {}
        for mention_id, topic in session.execute(
            select(MentionTopicRow.mention_id, MentionTopicRow.topic).where(MentionTopicRow.mention_id.in_(chunk))
        ):
            topics.setdefault(mention_id, []).append(topic)
        stmt = (
            select(
                MentionBrandRow.mention_id,
                MentionBrandRow.brand,
                MentionBrandRow.at,
                MentionRow.source,
                MentionRow.site_resolved,
                AnalysisRow.sentiment,
                AnalysisRow.intent,
                AnalysisRow.lang,
                AnalysisRow.urgency,
            )
            .join(MentionRow, MentionRow.id == MentionBrandRow.mention_id)
            .outerjoin(AnalysisRow, AnalysisRow.mention_id == MentionBrandRow.mention_id)
            .where(MentionBrandRow.mention_id.in_(chunk))
        )
        for mention_id, brand, at, source, resolved, sentiment, intent, lang, urgency in session.execute(stmt):
            hour = hour_of(at)
            found[(brand, "total", hour, "")] += 1
            found[(brand, "source", hour, source)] += 1
            if resolved:
                found[(brand, "resolved", hour, source)] += 1
            if sentiment is not None:  # brand rows are written with their analysis; this is only a guard
                for dimension, value in (("sentiment", sentiment), ("intent", intent), ("language", lang)):
                    found[(brand, dimension, hour, value)] += 1
                found[(brand, "urgency", hour, urgency)] += 1
            for topic in topics.get(mention_id, ()):
                found[(brand, "topic", hour, topic)] += 1
    return found


def add(session: Session, change: dict[Key, int]) -> None:
    """Add ``change`` to the stored counts (one upsert per chunk); counts that fall to zero are removed.

    Keys go in sorted order: two PostgreSQL workers counting the same hours then lock rows in the same order and
    wait for each other instead of deadlocking.
    """
    rows = [
        {"brand": b, "dimension": d, "hour": h, "value": v, "n": n} for (b, d, h, v), n in sorted(change.items()) if n
    ]
    if not rows:
        return
    stmt = dialect_insert(session.get_bind().dialect.name, MentionCountRow)
    stmt = stmt.on_conflict_do_update(
        index_elements=["brand", "dimension", "hour", "value"], set_={"n": MentionCountRow.n + stmt.excluded.n}
    )
    connection = session.connection()
    for chunk in chunked(rows):
        connection.execute(stmt, chunk)
    fallen = [{"b": b, "d": d, "h": h, "v": v} for (b, d, h, v), n in change.items() if n < 0]
    if fallen:
        gone = delete(MentionCountRow).where(
            MentionCountRow.brand == bindparam("b"),
            MentionCountRow.dimension == bindparam("d"),
            MentionCountRow.hour == bindparam("h"),
            MentionCountRow.value == bindparam("v"),
            MentionCountRow.n <= 0,
        )
        connection.execute(gone, fallen)


@contextmanager
def recounted(session: Session, mention_ids: Sequence[int]) -> Iterator[None]:
    """Keep the counts true across a change to the given mentions made inside the block."""
    session.flush()
    before = shares(session, mention_ids)
    yield
    session.flush()
    after = shares(session, mention_ids)
    add(session, {key: after[key] - before[key] for key in before.keys() | after.keys()})


def rebuild(session: Session, batch: int = 5_000) -> int:
    """Count every analysed mention afresh (after a migration, or to repair); returns how many count rows exist."""
    session.execute(delete(MentionCountRow))
    last = 0
    while True:
        ids = list(
            session.scalars(
                select(MentionBrandRow.mention_id)
                .where(MentionBrandRow.mention_id > last)
                .group_by(MentionBrandRow.mention_id)
                .order_by(MentionBrandRow.mention_id)
                .limit(batch)
            )
        )
        if not ids:
            break
        add(session, dict(shares(session, ids)))
        last = ids[-1]
    return int(session.scalar(select(func.count()).select_from(MentionCountRow)) or 0)
