"""Throughput of the store and the first analyser, each as a ratio against a plain baseline run beside it."""

from __future__ import annotations

import sqlite3
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import spacy

from classifiers.simple import SimpleAnalyzer
from loopback.sikayetvar import load_sample
from store import db
from store.model import Brand, RawMention
from store.sqlalchemy import SqlAlchemyUnitOfWork

ROUNDS = 5
NOW = datetime(2026, 11, 23, tzinfo=UTC)
TEXTS = [f"{c.title}\n\n{c.body}" for c in load_sample()] * 40  # ~1,080 complaint-length texts


def best_of(fn: Callable[[], object]) -> float:
    """The median of ROUNDS timings: robust to one noisy neighbour on a shared machine."""
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def raws(n: int, offset: int) -> list[RawMention]:
    return [
        RawMention(
            source="bench",
            external_id=str(offset + i),
            url=f"https://example.test/{offset + i}",
            text=TEXTS[i % len(TEXTS)],
            fetched_at=NOW,
            title="t",
            brand="Kuzey Telekom",
            published_at=NOW,
        )
        for i in range(n)
    ]


def test_store_ingest_against_plain_sqlite(tmp_path: Path) -> None:
    n = 1000
    engine = db.make_engine(f"sqlite:///{tmp_path / 'kulak.db'}")
    db.upgrade(engine)
    uow = SqlAlchemyUnitOfWork(engine)
    base = sqlite3.connect(tmp_path / "plain.db")
    base.execute("PRAGMA journal_mode=WAL")
    base.execute(
        "CREATE TABLE m (source TEXT, external_id TEXT, url TEXT, text TEXT, fetched_at TEXT, "
        "UNIQUE (source, external_id))"
    )
    rounds = iter(range(1_000_000))

    def ours() -> None:
        batch = raws(n, next(rounds) * n)
        with uow:
            uow.mentions.add_many(batch)
            uow.commit()

    def plain() -> None:
        offset = next(rounds) * n
        rows = [("bench", str(offset + i), "u", TEXTS[i % len(TEXTS)], NOW.isoformat()) for i in range(n)]
        base.executemany("INSERT OR IGNORE INTO m VALUES (?, ?, ?, ?, ?)", rows)
        base.commit()

    ours_s, plain_s = best_of(ours), best_of(plain)
    ratio = ours_s / plain_s
    print(
        f"\nstore ingest: {n / ours_s:,.0f} mentions/s through the repository, "
        f"{n / plain_s:,.0f}/s plain sqlite3 executemany; ratio {ratio:.1f}x"
    )
    # Measured 6x (one executemany of INSERT ... ON CONFLICT DO NOTHING RETURNING, batched by SQLAlchemy);
    # 15x leaves room for noise and still catches a fall back to one statement per row (44x-66x).
    assert ratio < 15


def test_simple_analyser_against_the_bare_tokeniser() -> None:
    analyzer = SimpleAnalyzer([Brand("Kuzey Telekom", aliases=("Kuzey Telekom",)), Brand("Mavi Kargo")])
    nlp = spacy.blank("tr")
    analyzer.analyze("ısınma")  # load the pipeline outside the timing

    def ours() -> None:
        for text in TEXTS:
            analyzer.analyze(text, brand_hint="Kuzey Telekom")

    def tokenise() -> None:
        for text in TEXTS:
            nlp.make_doc(text)

    ours_s, base_s = best_of(ours), best_of(tokenise)
    tracemalloc.start()
    for text in TEXTS[:200]:
        analyzer.analyze(text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ratio = ours_s / base_s
    chars = int(statistics.median(map(len, TEXTS)))
    print(
        f"\nsimple analyser: {len(TEXTS) / ours_s:,.0f} texts/s (median text {chars} chars); spaCy tokeniser "
        f"alone {len(TEXTS) / base_s:,.0f}/s; ratio {ratio:.1f}x; peak traced memory, 200 texts: {peak / 1e6:.1f} MB"
    )
    # Measured 22x-37x: the rules read every token several times (lexicon, cues, brands, PII). 60x catches a
    # quadratic slip or a per-call pipeline load while leaving room for a noisy neighbour.
    assert ratio < 60
