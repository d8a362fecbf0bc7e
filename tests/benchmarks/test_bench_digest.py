"""Digests and the crisis check over a year of mentions (about 110,000, three brands) on SQLite.

    make bench        (or: .venv/bin/pytest -q -s tests/benchmarks/test_bench_digest.py)

Each figure is also given as a ratio against a baseline run beside it on the same database: one COUNT of the
brand's analysed mentions in the same period (the least any report must read).
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from responders.crisis import CrisisWatch
from responders.digest import DigestScope, build_digest
from responders.periods import period_containing
from store import db, sql_counts
from store.model import Brand
from store.sqlalchemy import SqlAlchemyUnitOfWork
from store.tables import AnalysisRow, MentionBrandRow, MentionRow, MentionTopicRow

BRANDS = ("Kuzey Telekom", "Mavi Kargo", "Deniz GSM")
PER_DAY = 300
START = datetime(2025, 12, 1, tzinfo=UTC)
DAYS = 365
ZONE = "Europe/Istanbul"


def _fill(engine: object) -> int:
    rnd = random.Random(3)
    mention_id = 0
    with engine.begin() as conn:  # type: ignore[attr-defined]
        for day in range(DAYS):
            mentions, analyses, brands, topics = [], [], [], []
            for _ in range(PER_DAY):
                mention_id += 1
                at = START + timedelta(days=day, seconds=rnd.randrange(86_400))
                brand = rnd.choice(BRANDS)
                mentions.append(
                    {"id": mention_id, "source": rnd.choice(("sikayetvar", "x", "eksisozluk")),
                     "external_id": str(mention_id), "brand": brand, "url": "https://b.test", "title": "",
                     "author": "", "author_handle": "", "text": "metin", "published_at": at, "fetched_at": at,
                     "payload": {}, "site_resolved": rnd.random() < 0.3, "content_hash": "h", "status": "routed",
                     "updated_at": at}
                )  # fmt: skip
                analyses.append(
                    {"mention_id": mention_id, "analyzer": "bench", "lang": "tr",
                     "sentiment": rnd.choice(("positive", "neutral", "negative")), "sentiment_score": 0.9,
                     "intent": rnd.choice(("complaint", "question", "praise")), "urgency": "normal",
                     "data": {"masked_text": "fatura yine yanlış geldi"}, "created_at": at}
                )  # fmt: skip
                brands.append({"mention_id": mention_id, "brand": brand, "at": at})
                topics.append({"mention_id": mention_id, "topic": rnd.choice(("fatura", "internet", "kargo"))})
            for table, rows in ((MentionRow, mentions), (AnalysisRow, analyses), (MentionBrandRow, brands),
                                (MentionTopicRow, topics)):  # fmt: skip
                conn.execute(insert(table), rows)
    with Session(engine) as session:  # the hourly counts the analysis stage would have kept
        sql_counts.rebuild(session)
        session.commit()
    return mention_id


def _timed(work: object, runs: int = 3) -> float:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def test_digests_and_crisis_checks_over_a_year(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'bench.db'}")
    db.upgrade(engine)
    total = _fill(engine)
    uow = SqlAlchemyUnitOfWork(engine)
    scope = DigestScope(brands=BRANDS[:2], competitors=BRANDS[2:], complaint_sources=("sikayetvar",))
    month = period_containing("month", date(2026, 10, 10), ZONE)
    year = period_containing("year", date(2026, 6, 1), ZONE)

    def count(start: datetime, end: datetime) -> None:
        moment = func.coalesce(MentionRow.published_at, MentionRow.fetched_at)
        with uow:
            for brand in scope.brands:
                assert uow.session is not None
                uow.session.scalar(
                    select(func.count()).select_from(MentionBrandRow)
                    .join(MentionRow, MentionRow.id == MentionBrandRow.mention_id)
                    .join(AnalysisRow, AnalysisRow.mention_id == MentionRow.id)
                    .where(MentionBrandRow.brand == brand, moment >= start, moment < end)
                )  # fmt: skip

    def digest(period: object) -> None:
        with uow:
            build_digest(uow, scope, period, now=datetime(2026, 12, 1, tzinfo=UTC))  # type: ignore[arg-type]

    watch = CrisisWatch("console", "stdout", [Brand(b) for b in BRANDS[:2]])
    rows = []
    for name, period in (("month", month), ("year", year)):
        spent = _timed(lambda p=period: digest(p))
        base = _timed(lambda p=period: count(p.start, p.end))
        rows.append((f"digest of a {name}, 2 brands", spent, base))
    check = _timed(lambda: watch.check(uow, datetime(2026, 11, 20, 15, 0, tzinfo=UTC)))
    hour = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    rows.append(("crisis check, 2 brands, 4 weeks", check, _timed(lambda: count(hour, hour + timedelta(hours=1)))))
    print(f"\n{total} mentions over {DAYS} days")
    print(f"{'what':<36} {'seconds':>9} {'baseline':>9} {'ratio':>7}")
    for what, spent, base in rows:
        print(f"{what:<36} {spent:>9.3f} {base:>9.3f} {spent / base:>7.1f}")
    assert rows[0][1] < 60 * rows[0][2] + 1.0, "a month's digest reads the month many times over"
