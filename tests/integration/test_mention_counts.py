"""The hourly mention counts must follow the mentions through analysis, correction and erasure, and reports built
on them must give exactly what counting the mentions gives, part-hours at the ends of a period included: a count
that drifts would put wrong figures in every digest, silently."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from alembic import command
from sqlalchemy import Engine, select

from store import db
from store.model import Analysis, Label, RawMention, Urgency
from store.sql_counts import shares
from store.sqlalchemy import SqlAlchemyUnitOfWork
from store.tables import AnalysisRow, MentionBrandRow, MentionCountRow, MentionRow, MentionTopicRow

START = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
BRANDS = ("Kuzey Telekom", "Mavi Kargo")
SENTIMENTS = ("negative", "neutral", "positive")


def _analysis(i: int) -> Analysis:
    return Analysis(
        lang="tr" if i % 4 else "en",
        brands=BRANDS if i % 5 == 0 else (BRANDS[i % 2],),
        sentiment=Label(SENTIMENTS[i % 3], 0.8),
        intent=Label("complaint" if i % 2 else "question", 0.7),
        topics=tuple(Label(t, 0.6) for t in (("billing", "delivery") if i % 3 == 0 else ("billing",))[: 1 + i % 2]),
        urgency=Urgency("high" if i % 7 == 0 else "normal"),
        pii=(),
        masked_text="metin",
        analyzer="test",
    )


def _seed(engine: Engine, n: int) -> list[int]:
    """``n`` mentions 17 minutes apart (so hours hold several, and periods cut hours), each analysed; every third
    from Şikayetvar with its own "resolved" mark."""
    uow = SqlAlchemyUnitOfWork(engine)
    raws = [
        RawMention(
            "sikayetvar" if i % 3 == 0 else "x",
            f"m{i}",
            f"https://example.test/{i}",
            "metin",
            START + timedelta(minutes=17 * i) + timedelta(days=1),
            published_at=None if i % 6 == 1 else START + timedelta(minutes=17 * i),
            payload={"resolved": i % 2 == 0} if i % 3 == 0 else {},
        )
        for i in range(n)
    ]
    with uow:
        uow.mentions.add_many(raws)
        uow.commit()
    with uow:
        assert uow.session is not None
        ids = sorted(uow.session.scalars(select(MentionRow.id)))
        # Half one at a time, half as one batch: both ways of storing an analysis must count.
        for i, mention_id in enumerate(ids[: n // 2]):
            assert uow.analyses.add(mention_id, _analysis(i))
        added = uow.analyses.add_many([(mention_id, _analysis(i)) for i, mention_id in enumerate(ids)])
        assert added == set(ids[n // 2 :])
        uow.commit()
    return ids


def _stored(engine: Engine) -> Counter[tuple[str, str, datetime, str]]:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert uow.session is not None
        rows = uow.session.scalars(select(MentionCountRow))
        return Counter({(r.brand, r.dimension, r.hour, r.value): r.n for r in rows})


def _recounted(engine: Engine) -> Counter[tuple[str, str, datetime, str]]:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert uow.session is not None
        return shares(uow.session, uow.session.scalars(select(MentionBrandRow.mention_id)))


def test_counts_follow_analyses_corrections_and_erasures(engine: Engine) -> None:
    ids = _seed(engine, 60)
    stored = _stored(engine)
    assert stored == _recounted(engine)
    assert sum(n for (_, d, _, _), n in stored.items() if d == "total") == 60 + 12  # every fifth names both brands

    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        for mention_id in ids[:10]:
            analysis = uow.analyses.get(mention_id)
            assert analysis is not None
            uow.analyses.correct(mention_id, replace(analysis, sentiment=Label("positive", 1.0), topics=()))
        uow.privacy.erase(mention_ids=ids[20:30])
        uow.commit()
    stored = _stored(engine)
    assert stored == _recounted(engine)
    assert all(n > 0 for n in stored.values()), "a count that fell to zero must go"
    assert sum(n for (_, d, _, _), n in stored.items() if d == "total") == 60 + 12 - 10 - 2


def test_reports_from_counts_equal_counting_the_mentions(engine: Engine) -> None:
    _seed(engine, 90)
    uow = SqlAlchemyUnitOfWork(engine)
    # Periods with part-hours at both ends, whole hours only, and one holding no whole hour.
    periods = [
        (START + timedelta(minutes=23), START + timedelta(hours=9, minutes=41)),
        (START + timedelta(hours=2), START + timedelta(hours=20)),
        (START + timedelta(minutes=5), START + timedelta(minutes=75)),  # no whole hour inside
    ]
    with uow:
        assert uow.session is not None
        for start, end in periods:
            for brand in BRANDS:
                rows = uow.session.execute(
                    select(
                        MentionBrandRow.mention_id, MentionRow.source, AnalysisRow.sentiment, MentionRow.site_resolved
                    )
                    .join(MentionRow, MentionRow.id == MentionBrandRow.mention_id)
                    .join(AnalysisRow, AnalysisRow.mention_id == MentionBrandRow.mention_id)
                    .where(MentionBrandRow.brand == brand, MentionBrandRow.at >= start, MentionBrandRow.at < end)
                ).all()
                topics = Counter(
                    uow.session.scalars(
                        select(MentionTopicRow.topic).where(MentionTopicRow.mention_id.in_([r[0] for r in rows]))
                    )
                )
                assert rows, "each period must hold mentions, or the comparison proves nothing"
                assert uow.reports.mention_total(brand, start, end) == len(rows)
                assert uow.reports.mentions_by(brand, start, end, "sentiment") == Counter(r[2] for r in rows)
                assert uow.reports.mentions_by(brand, start, end, "source") == Counter(r[1] for r in rows)
                assert uow.reports.mentions_by(brand, start, end, "topic") == topics
                complaints = [r for r in rows if r[1] == "sikayetvar"]
                expected = (sum(1 for r in complaints if r[3]), len(complaints))
                assert uow.reports.resolved_complaints(brand, start, end, ["sikayetvar"]) == expected
        hours = [START + timedelta(hours=h) for h in range(0, 30, 6)]
        minutes = [START + timedelta(minutes=m) for m in (7, 200, 611, 1500)]
        for edges in (hours, minutes):
            by_rows = [
                len(
                    uow.session.scalars(
                        select(MentionBrandRow.id).where(
                            MentionBrandRow.brand == BRANDS[0], MentionBrandRow.at >= lo, MentionBrandRow.at < hi
                        )
                    ).all()
                )
                for lo, hi in pairwise(edges)
            ]
            assert sum(by_rows) > 0
            assert uow.reports.timeline(BRANDS[0], edges) == by_rows


def test_migration_counts_the_mentions_already_stored(database_url: str) -> None:
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    _seed(engine, 40)
    before = _stored(engine)
    assert before
    config = db._alembic_config(engine)
    command.downgrade(config, "0009")
    db.upgrade(engine)
    assert _stored(engine) == before
    engine.dispose()
