"""SQL behind crisis checks: a brand's counts per window grouped in the database, and the incidents themselves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from store.errors import StoreError
from store.model import Crisis
from store.repository import CrisisExample, CrisisRepository
from store.sql_reports import moment
from store.tables import AnalysisRow, CrisisRow, FingerprintRow, MentionBrandRow, MentionRow, MentionTopicRow

NEGATIVE = AnalysisRow.sentiment == "negative"
URGENCY_RANK = {"critical": 0, "high": 1, "normal": 2, "low": 3}
masked_text = AnalysisRow.data["masked_text"].as_string()
REPEAT_HOPS = 5  # how far back a chain of near-duplicates is followed


def _within(windows: Sequence[tuple[datetime, datetime]]) -> list[ColumnElement[bool]]:
    return [and_(moment >= start, moment < end) for start, end in windows]


def _to_crisis(row: CrisisRow) -> Crisis:
    return Crisis(
        brand=row.brand,
        scope=row.scope,
        metric=row.metric,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        status=row.status,
        peak=row.peak,
        expected=row.expected,
        detail=dict(row.detail),
        closed_at=row.closed_at,
        calm_since=row.calm_since,
        alert_key=row.alert_key,
        id=row.id,
    )


class SqlAlchemyCrisisRepository(CrisisRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def _analysed(self, brand: str, *columns: Any) -> Any:
        return (
            select(*columns)
            .select_from(MentionBrandRow)
            .join(MentionRow, MentionRow.id == MentionBrandRow.mention_id)
            .join(AnalysisRow, AnalysisRow.mention_id == MentionRow.id)
            .where(MentionBrandRow.brand == brand)
        )

    def counts(self, brand: str, windows: Sequence[tuple[datetime, datetime]]) -> dict[str, list[tuple[int, int]]]:
        if not windows:
            return {}
        inside = _within(windows)
        # Two sums per window in one pass over the brand's rows: a few queries a check, however many mentions.
        sums: list[Any] = []
        for condition in inside:
            sums += [func.sum(case((condition, 1), else_=0)), func.sum(case((and_(condition, NEGATIVE), 1), else_=0))]
        by_source = self._analysed(brand, MentionRow.source, *sums).where(or_(*inside)).group_by(MentionRow.source)
        by_topic = (
            self._analysed(brand, MentionTopicRow.topic, *sums)
            .join(MentionTopicRow, MentionTopicRow.mention_id == MentionRow.id)
            .where(or_(*inside))
            .group_by(MentionTopicRow.topic)
        )
        found: dict[str, list[tuple[int, int]]] = {}
        whole = [[0, 0] for _ in windows]
        for source, *values in self.session.execute(by_source):
            pairs = [(int(values[2 * i] or 0), int(values[2 * i + 1] or 0)) for i in range(len(windows))]
            found[f"source:{source}"] = pairs
            for total, (mentions, negatives) in zip(whole, pairs, strict=True):
                total[0] += mentions
                total[1] += negatives
        for topic, *values in self.session.execute(by_topic):
            found[f"topic:{topic}"] = [
                (int(values[2 * i] or 0), int(values[2 * i + 1] or 0)) for i in range(len(windows))
            ]
        if found:
            found["brand"] = [(mentions, negatives) for mentions, negatives in whole]  # every mention has one source
        return found

    def texts(self, brand: str, windows: Sequence[tuple[datetime, datetime]], limit: int) -> list[str]:
        if not windows:
            return []
        stmt = (
            self._analysed(brand, masked_text)
            .where(or_(*_within(windows)))
            .order_by(moment.desc(), MentionRow.id.desc())
            .limit(limit)
        )
        return [text for text in self.session.scalars(stmt) if text]

    def repeats(self, brand: str, start: datetime, end: datetime, limit: int) -> list[tuple[int, int]]:
        stmt = (
            self._analysed(brand, FingerprintRow.mention_id, FingerprintRow.duplicate_of)
            .join(FingerprintRow, FingerprintRow.mention_id == MentionRow.id)
            .where(*_within([(start, end)]), FingerprintRow.duplicate_of.is_not(None))
            .order_by(MentionRow.id)
            .limit(limit)
        )
        pairs = [(int(mention), int(earlier)) for mention, earlier in self.session.execute(stmt)]
        # Each copy names the most similar earlier one, not the first: climb to the posts those repeat, so copies
        # of one text that point at different earlier copies still meet in one group.
        seen = {mention for mention, _ in pairs}
        for _ in range(REPEAT_HOPS):
            frontier = list({earlier for _, earlier in pairs} - seen)
            if not frontier or len(pairs) >= limit:
                break
            seen.update(frontier)
            stmt = select(FingerprintRow.mention_id, FingerprintRow.duplicate_of).where(
                FingerprintRow.mention_id.in_(frontier[:limit]), FingerprintRow.duplicate_of.is_not(None)
            )
            pairs += [(mention, earlier) for mention, earlier in self.session.execute(stmt) if earlier is not None]
        return pairs

    def examples(self, brand: str, start: datetime, end: datetime, scope: str, limit: int) -> list[CrisisExample]:
        rank = case(URGENCY_RANK, value=AnalysisRow.urgency, else_=len(URGENCY_RANK))
        stmt = self._analysed(brand, *self._shown_columns()).where(*_within([(start, end)]))
        kind, _, value = scope.partition(":")
        if kind == "source":
            stmt = stmt.where(MentionRow.source == value)
        elif kind == "topic":
            stmt = stmt.join(MentionTopicRow, MentionTopicRow.mention_id == MentionRow.id).where(
                MentionTopicRow.topic == value
            )
        stmt = stmt.order_by(
            rank, case((NEGATIVE, 0), else_=1), AnalysisRow.sentiment_score.desc(), moment.desc(), MentionRow.id.desc()
        ).limit(limit)
        return [CrisisExample(*row) for row in self.session.execute(stmt)]

    def shown(self, mention_ids: Sequence[int]) -> dict[int, CrisisExample]:
        if not mention_ids:
            return {}
        stmt = (
            select(*self._shown_columns())
            .select_from(MentionRow)
            .join(AnalysisRow, AnalysisRow.mention_id == MentionRow.id)
            .where(MentionRow.id.in_(list(mention_ids)))
        )
        return {int(row[0]): CrisisExample(*row) for row in self.session.execute(stmt)}

    @staticmethod
    def _shown_columns() -> tuple[Any, ...]:
        text = func.coalesce(masked_text, "")
        return MentionRow.id, MentionRow.source, MentionRow.url, text, AnalysisRow.sentiment, AnalysisRow.urgency

    def open_for(self, brand: str) -> Crisis | None:
        stmt = (
            select(CrisisRow)
            .where(CrisisRow.brand == brand, CrisisRow.status == "open")
            .order_by(CrisisRow.id.desc())
            .limit(1)
        )
        row = self.session.scalar(stmt)
        return _to_crisis(row) if row is not None else None

    def add(self, crisis: Crisis) -> Crisis:
        row = CrisisRow(**self._values(crisis))
        self.session.add(row)
        self.session.flush()
        return _to_crisis(row)

    def save(self, crisis: Crisis) -> None:
        row = self.session.get(CrisisRow, crisis.id) if crisis.id is not None else None
        if row is None:
            raise StoreError(f"no crisis #{crisis.id} to save")
        for name, value in self._values(crisis).items():
            setattr(row, name, value)

    @staticmethod
    def _values(crisis: Crisis) -> dict[str, Any]:
        return {
            "brand": crisis.brand,
            "scope": crisis.scope[:300],
            "metric": crisis.metric,
            "status": crisis.status,
            "opened_at": crisis.opened_at,
            "updated_at": crisis.updated_at,
            "closed_at": crisis.closed_at,
            "calm_since": crisis.calm_since,
            "peak": crisis.peak,
            "expected": crisis.expected,
            "detail": dict(crisis.detail),
            "alert_key": crisis.alert_key,
        }

    def listed(self, brand: str | None = None, limit: int = 100) -> list[Crisis]:
        wanted = [CrisisRow.brand == brand] if brand is not None else []
        stmt = select(CrisisRow).where(*wanted).order_by(CrisisRow.opened_at.desc(), CrisisRow.id.desc()).limit(limit)
        return [_to_crisis(row) for row in self.session.scalars(stmt)]
