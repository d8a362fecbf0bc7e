"""Backfill: generated mentions through analyse -> match -> route on SQLite and PostgreSQL.

    KULAK_BENCH_MENTIONS=50000 .venv/bin/pytest -q -s -p no:randomly tests/benchmarks/test_bench_backfill.py

Mentions (made up from tests/support/mentions.py over 20,000 synthetic customers, published evenly over an
hour) are stored before the clock starts; then worker processes run the three stages until none is waiting:
one on SQLite (one writer), two on PostgreSQL (analysis is shared by claims; matching and routing are each one
worker's at a time, and run beside each other). Reported: mentions/second, the workers' peak RSS, the
database's size, and the ratio to the analyser alone on the same texts in this process, run beside it (what
the store, matching and routing add).
The goal is an hour of a large brand's traffic, 50,000 mentions, in under a minute on two cores.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.loader import load_settings
from scheduler.bootstrap import build_analyzer
from tests.conftest import throwaway_database
from tests.support import backfill

MENTIONS = int(os.environ.get("KULAK_BENCH_MENTIONS", "5000"))
CUSTOMERS = 20_000
GOAL = 50_000 / 60  # mentions per second


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from throwaway_database(request.param, tmp_path, "kulak_bench")


def test_backfill_through_analyse_match_and_route(tmp_path: Path, url: str) -> None:
    config = backfill.write_setup(tmp_path, url, CUSTOMERS)
    backfill.store_mentions(config, url, MENTIONS, CUSTOMERS, hours=1.0)
    workers = 1 if url.startswith("sqlite") else 2
    result = backfill.run(config, url, MENTIONS, workers)

    analyzer = build_analyzer(load_settings(config, env=backfill.env(url)))
    sample = [m.text for batch in backfill.mentions(min(MENTIONS, 2000), CUSTOMERS, 1.0) for m in batch]
    started = time.perf_counter()
    for body in sample:
        analyzer.analyze(body)
    alone = len(sample) / (time.perf_counter() - started)
    kind = "SQLite, 1 worker" if url.startswith("sqlite") else "PostgreSQL, 2 workers"
    print(
        f"\nbackfill {kind}: {MENTIONS:,} mentions in {result.seconds:.1f} s = {result.per_second:,.0f}/s "
        f"(goal {GOAL:,.0f}/s); analyser alone {alone:,.0f}/s, ratio {alone / result.per_second:.1f}x; "
        f"peak RSS {result.peak_rss_mb:,.0f} MB per worker; database {result.database_mb:,.0f} MB "
        f"({result.database_mb * 1e6 / MENTIONS / 1e3:.1f} KB per mention); {result.by_status}"
    )
    assert result.by_status == {"routed": MENTIONS}
