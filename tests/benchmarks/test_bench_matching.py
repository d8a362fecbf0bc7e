"""Customer matching against 100,000 synthetic customers: import rate, match latency, auto-link quality.

    make bench        (or: .venv/bin/pytest -q -s tests/benchmarks/test_bench_matching.py)

Latency is reported per mention and as a ratio against a baseline run beside it on the same database: one
primary-key fetch of a customer per mention (the least any matcher must do). Precision and recall are those of
auto-links on labelled mentions written from the same customer base (tests/support/mentions.py).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from store import db
from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.support.matching_eval import load_base, measure

CUSTOMERS = 100_000
MENTIONS = 2_000


def test_matching_against_a_hundred_thousand_customers(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'bench.db'}")
    db.upgrade(engine)
    uow = SqlAlchemyUnitOfWork(engine)
    started = time.perf_counter()
    rows, report = load_base(tmp_path, uow, CUSTOMERS)
    imported = time.perf_counter() - started
    assert report.imported == CUSTOMERS
    quality = measure(uow, rows, MENTIONS)
    with uow:
        ids = list(range(1, MENTIONS + 1))
        started = time.perf_counter()
        for customer_id in ids:
            uow.customers.get(customer_id * 37 % CUSTOMERS + 1)
        baseline = (time.perf_counter() - started) / len(ids)
    per_mention = statistics.median(quality.seconds)
    p95 = statistics.quantiles(quality.seconds, n=20)[-1]
    print(
        f"\nimport: {CUSTOMERS:,} customers in {imported:.1f} s ({CUSTOMERS / imported:,.0f}/s)"
        f"\nmatch: median {per_mention * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms per mention; "
        f"baseline (one customer fetch) {baseline * 1000:.2f} ms; ratio {per_mention / baseline:.1f}x"
        f"\nauto-links {quality.linked} of {MENTIONS} mentions: precision {quality.precision:.3f}, "
        f"recall {quality.recall:.3f} (the true customer among the suggestions for "
        f"{quality.suggested_right} of the {quality.truths - quality.right} not linked); "
        f"wrong {dict(quality.wrong_by_kind)}, missed {dict(quality.missed_by_kind)}"
    )
    engine.dispose()
    assert quality.precision >= 0.98
    # Matching does a handful of indexed look-ups per mention; it must stay within a small multiple of one.
    assert per_mention / baseline < 25
