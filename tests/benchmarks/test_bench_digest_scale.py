"""Digests of the biggest brand over 10,000,000 mentions on PostgreSQL: a day, a week, a month and a year.

    KULAK_TEST_POSTGRES_URL=postgresql+psycopg://... .venv/bin/pytest -q -s tests/benchmarks/test_bench_digest_scale.py
    KULAK_BENCH_MENTIONS=1000000 ...   (a quicker try on fewer mentions)

Two years of made-up mentions are written with set-based SQL (INSERT ... SELECT FROM generate_series, in chunks):
five brands, the biggest with 40% of them, analyses, topics, tickets for a share of complaints, alerts, and the
hourly counts the analysis stage would have kept. Each digest
is timed (median of 3) beside a baseline on the same database, one indexed COUNT of the brand's mentions in the
period; the EXPLAIN ANALYZE of the slowest statement of the year's digest is printed.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from responders.digest import DigestScope, build_digest
from responders.periods import Period, period_containing
from store import db
from store.sqlalchemy import SqlAlchemyUnitOfWork

POSTGRES_URL = os.environ.get("KULAK_TEST_POSTGRES_URL")
MENTIONS = int(os.environ.get("KULAK_BENCH_MENTIONS", "10000000"))
CHUNK = 500_000
START = datetime(2024, 12, 1, tzinfo=UTC)
DAYS = 730
NOW = datetime(2026, 12, 1, tzinfo=UTC)
ZONE = "Europe/Istanbul"
BIG = "Kuzey Telekom"
SCOPE = DigestScope(brands=(BIG,), competitors=("Mavi Kargo", "Deniz GSM"), complaint_sources=("sikayetvar",))

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="PostgreSQL only: set KULAK_TEST_POSTGRES_URL to a server this benchmark may fill"
)

# The moment of mention i: evenly over two years, so ids grow with time as they do in a real store.
MOMENT = "(CAST(:start AS timestamptz) + make_interval(secs => (i - 1) * :step))"
# A 40/25/15/12/8 split of the five brands; each choice below uses its own modulus, so they do not move together.
BRAND = """CASE WHEN (i * 7919) % 100 < 40 THEN 'Kuzey Telekom' WHEN (i * 7919) % 100 < 65 THEN 'Mavi Kargo'
    WHEN (i * 7919) % 100 < 80 THEN 'Deniz GSM' WHEN (i * 7919) % 100 < 92 THEN 'Yıldız Bank' ELSE 'Pazaryeri' END"""
SOURCE = "(ARRAY['sikayetvar', 'x', 'eksisozluk', 'reddit', 'mastodon', 'appstore', 'trustpilot'])[1 + (i * 31) % 7]"
TOPICS = "ARRAY['fatura', 'internet', 'kargo', 'iade', 'musteri_hizmetleri', 'kampanya', 'uygulama', 'cekim']"

MENTIONS_SQL = f"""
INSERT INTO mentions (id, source, external_id, brand, url, title, author, author_handle, text, language,
    published_at, fetched_at, payload, site_resolved, content_hash, status, updated_at)
SELECT i, {SOURCE}, 'b' || i, {BRAND}, 'https://ornek.test/' || i, '', '', 'kisi' || (i % 50021),
    'Fatura yine yanlış geldi, destek yanıt vermiyor #' || i, 'tr',
    CASE WHEN i % 37 = 0 THEN NULL ELSE {MOMENT} END, {MOMENT} + interval '7 minutes', '{{}}',
    CASE WHEN (i * 31) % 7 = 0 THEN i % 3 = 0 END, md5(i::text), 'routed', {MOMENT}
FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g(i)
"""
ANALYSES_SQL = f"""
INSERT INTO analyses (mention_id, analyzer, lang, sentiment, sentiment_score, intent, urgency, data, created_at)
SELECT i, 'bench', CASE WHEN i % 19 = 0 THEN 'en' ELSE 'tr' END,
    (ARRAY['negative', 'negative', 'negative', 'neutral', 'neutral', 'positive', 'neutral', 'negative',
           'positive', 'neutral', 'negative'])[1 + (i * 7) % 11], 0.5 + (i % 50) / 100.0,
    (ARRAY['complaint', 'complaint', 'question', 'praise', 'other', 'complaint', 'question', 'request',
           'complaint', 'other', 'praise', 'complaint', 'question'])[1 + (i * 5) % 13],
    (ARRAY['normal', 'normal', 'low', 'normal', 'high', 'normal', 'low', 'normal', 'critical', 'normal',
           'normal'])[1 + (i * 3) % 11],
    CAST(json_build_object('masked_text', 'Fatura yine yanlış geldi #' || i) AS json), {MOMENT}
FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g(i)
"""
BRANDS_SQL = """
INSERT INTO mention_brands (mention_id, brand, at)
SELECT id, brand, coalesce(published_at, fetched_at) FROM mentions WHERE id BETWEEN :lo AND :hi
UNION ALL  -- one mention in 31 names a second brand
SELECT id, 'Deniz GSM', coalesce(published_at, fetched_at) FROM mentions
WHERE id BETWEEN :lo AND :hi AND id % 31 = 0 AND brand <> 'Deniz GSM'
"""
TOPICS_SQL = f"""
INSERT INTO mention_topics (mention_id, topic)
SELECT i, ({TOPICS})[1 + (i * 11) % 8] FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g(i)
UNION ALL  -- one in five has a second topic
SELECT i, ({TOPICS})[1 + (i * 11 + 3) % 8] FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g(i)
WHERE i % 5 = 0
"""
# A ticket for one complaint in ten: answered within four hours (one in twenty never), resolved within four days;
# those of the last fortnight are partly still open.
TICKETS_SQL = """
INSERT INTO tickets (mention_id, brand, priority, unit, status, summary, created_at, updated_at, route, channel,
    helpdesk, queue, assignee, respond_by, reply_by, responded_at, resolved_at, closed_at)
SELECT id, brand, (ARRAY['low', 'normal', 'normal', 'high', 'critical'])[1 + id % 5], 'care', status,
    'Fatura itirazı #' || id, created, created, 'care', '#care', '', '', 'temsilci' || (id % 12),
    created + interval '1 hour', created + interval '1 day',
    CASE WHEN id % 20 = 0 THEN NULL ELSE created + make_interval(mins => ((id * 13) % 240)::int) END,
    CASE WHEN status = 'resolved' THEN created + make_interval(hours => ((id * 17) % 96)::int) END, NULL
FROM (
    SELECT m.id, m.brand, coalesce(m.published_at, m.fetched_at) + interval '10 minutes' AS created,
        CASE WHEN coalesce(m.published_at, m.fetched_at) > CAST(:now AS timestamptz) - interval '14 days'
            AND m.id % 3 = 0 THEN 'assigned' ELSE 'resolved' END AS status
    FROM mentions m JOIN analyses a ON a.mention_id = m.id
    WHERE m.id BETWEEN :lo AND :hi AND a.intent = 'complaint' AND m.id % 10 = 0
) AS c
"""
# An alert for one ticket in five; one alert in fifty was held back for the digest.
DELIVERIES_SQL = """
INSERT INTO deliveries (key, channel, target, ticket_id, payload, status, attempts, created_at, sent_at, kind)
SELECT 'alert:' || t.id, 'slack', '#care', t.id, '{}', CASE WHEN t.id % 50 = 0 THEN 'deferred' ELSE 'sent' END, 1,
    t.created_at, CASE WHEN t.id % 50 = 0 THEN NULL ELSE t.created_at END, 'alert'
FROM tickets t WHERE t.mention_id BETWEEN :lo AND :hi AND t.id % 5 = 0
"""
# The hourly counts the analysis stage keeps (store/sql_counts.py), for the chunk's mentions; an hour cut by two
# chunks is added to, as the store adds to it.
HOUR = "date_trunc('hour', b.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
ADD_UP = "ON CONFLICT (brand, dimension, hour, value) DO UPDATE SET n = mention_counts.n + excluded.n"
COUNTS_SQL = f"""
INSERT INTO mention_counts (brand, dimension, hour, value, n)
SELECT b.brand, d.dimension, {HOUR}, d.value, count(*)
FROM mention_brands b JOIN mentions m ON m.id = b.mention_id JOIN analyses a ON a.mention_id = b.mention_id
CROSS JOIN LATERAL (VALUES ('total', ''), ('source', m.source), ('sentiment', a.sentiment), ('intent', a.intent),
    ('language', a.lang), ('urgency', a.urgency), ('resolved', CASE WHEN m.site_resolved THEN m.source END))
    AS d(dimension, value)
WHERE b.mention_id BETWEEN :lo AND :hi AND d.value IS NOT NULL
GROUP BY 1, 2, 3, 4
{ADD_UP}
"""
TOPIC_COUNTS_SQL = f"""
INSERT INTO mention_counts (brand, dimension, hour, value, n)
SELECT b.brand, 'topic', {HOUR}, t.topic, count(*)
FROM mention_brands b JOIN mention_topics t ON t.mention_id = b.mention_id
WHERE b.mention_id BETWEEN :lo AND :hi
GROUP BY 1, 2, 3, 4
{ADD_UP}
"""
TABLES = ("mentions", "analyses", "mention_brands", "mention_topics", "tickets", "deliveries", "mention_counts")


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    assert POSTGRES_URL is not None
    name = f"kulak_bench_scale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = db.make_engine(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    try:
        db.upgrade(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _seed(engine: Engine) -> float:
    """Fill the store; returns the seconds it took, index builds and ANALYZE included."""
    started = time.perf_counter()
    step = DAYS * 86_400 / MENTIONS
    with engine.connect() as conn:
        # Plain indexes are dropped and built again after the load: one sort beats ten million index inserts.
        found = conn.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:tables) AND indexname NOT IN"
                " (SELECT conname FROM pg_constraint)"
            ),
            {"tables": list(TABLES)},
        ).all()
        for index, _ in found:
            conn.execute(text(f'DROP INDEX "{index}"'))
        conn.commit()
        conn.execute(text("SET synchronous_commit = off"))
        for lo in range(1, MENTIONS + 1, CHUNK):
            span = {"lo": lo, "hi": min(lo + CHUNK - 1, MENTIONS), "start": START, "step": step, "now": NOW}
            for sql in (MENTIONS_SQL, ANALYSES_SQL, BRANDS_SQL, TOPICS_SQL, TICKETS_SQL, DELIVERIES_SQL, COUNTS_SQL,
                        TOPIC_COUNTS_SQL):  # fmt: skip
                conn.execute(text(sql), span)
            conn.commit()
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
        for _, definition in found:
            conn.execute(text(definition))
        for table in TABLES[:-1]:  # the counts have no id
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"))
        conn.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM (ANALYZE) {', '.join(TABLES)}"))  # as autovacuum would, before the first report
    return time.perf_counter() - started


def _timed(work: Callable[[], object], runs: int = 3) -> float:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def _count(engine: Engine, period: Period) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM mention_brands WHERE brand = :b AND at >= :start AND at < :end"),
            {"b": BIG, "start": period.start, "end": period.end},
        ).scalar_one()
    return int(found)


def _slowest_statement(engine: Engine, work: Callable[[], object]) -> tuple[float, str, Any]:
    """The statement ``work`` spent longest on, with its parameters."""
    spent: list[tuple[float, str, Any]] = []

    def before(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        spent.append((time.perf_counter() - conn.info.pop("bench_started"), statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return max(spent, key=lambda s: s[0])


def test_digests_of_the_biggest_brand_over_ten_million_mentions(engine: Engine) -> None:
    seeding = _seed(engine)
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar_one()
        rows = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
    uow = SqlAlchemyUnitOfWork(engine)

    def digest(period: Period) -> int:
        with uow:
            made = build_digest(uow, SCOPE, period, now=NOW)
        return made.brands[0].volume.now

    print(f"\n{MENTIONS:,} mentions seeded in {seeding:.0f} s; database {size}")
    print("  " + ", ".join(f"{t} {n:,}" for t, n in rows.items()))
    print(f"{'digest of ' + BIG:<30} {'mentions':>10} {'seconds':>9} {'baseline':>9} {'ratio':>7}")
    results, bases = {}, {}
    for kind, day in (("day", date(2026, 11, 20)), ("week", date(2026, 11, 20)), ("month", date(2026, 11, 10)),
                      ("year", date(2026, 6, 1))):  # fmt: skip
        period = period_containing(kind, day, ZONE)
        expected = _count(engine, period)
        assert digest(period) == expected, f"the {kind}'s digest counts other mentions than the brand's in it"
        spent, base = _timed(lambda p=period: digest(p)), _timed(lambda p=period: _count(engine, p))
        results[kind] = spent
        bases[kind] = base
        print(f"{'a ' + kind:<30} {expected:>10,} {spent:>9.3f} {base:>9.3f} {spent / base:>7.1f}")
    year = period_containing("year", date(2026, 6, 1), ZONE)
    seconds, statement, parameters = _slowest_statement(engine, lambda: digest(year))
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters).scalars().all()
    print(f"\nslowest statement of the year's digest ({seconds:.3f} s):\n{statement}\n" + "\n".join(plan))
    # Whole hours come from the hourly counts and cases are read on (brand, moment) indexes: a year's whole digest
    # costs a few plain counts of its mentions (5.5 at ten million; counting the mentions made it 140). Smaller
    # stores are a quicker try only: there the digest's fixed cost outweighs counting.
    if MENTIONS >= 10_000_000:
        assert results["year"] < 10 * bases["year"], "a year's digest still costs what counting its mentions costs"
