"""A backfill for the load benchmarks: generated mentions stored at once, then analysed, matched and routed."""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text

from config.loader import load_settings
from scheduler.bootstrap import bootstrap
from scheduler.jobs import Runner
from store import db
from store.model import MentionStatus, RawMention
from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.support.mentions import labelled_mentions
from tests.support.synthetic_customers import generate, write_csv
from tests.support.turkish_people import BRANDS

CONFIG = """
{brands}
[store]
{store}

[customers]
file = "customers.csv"
columns = {{ id = "customer_no", name = "ad_soyad", email = "eposta", phone = "gsm", city = "il", vip = "vip" }}
handle_columns = {{ x = "x_kullanici", sikayetvar = "sikayetvar_kullanici" }}
number_columns = {{ order = "siparis_no", subscription = "abone_no" }}

[slack]
channel = "#care-alerts"
base_url = "http://127.0.0.1:9/api/"
"""
STAGES = ("analyze", "match", "route")
WAITING = (MentionStatus.NEW.value, MentionStatus.ANALYZED.value, MentionStatus.MATCHED.value)
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CHUNK = 10_000
IDENTITY_SECRET = "backfill-benchmark-identity-key"


@dataclass
class Backfill:
    """What a backfill took: seconds, mentions, the workers' peak resident memory and the database's size."""

    mentions: int
    seconds: float
    peak_rss_mb: float
    database_mb: float
    by_status: dict[str, int]

    @property
    def per_second(self) -> float:
        return self.mentions / self.seconds


def env(database_url: str) -> dict[str, str]:
    return {
        "KULAK_DATABASE_URL": database_url,
        "KULAK_IDENTITY_KEY": IDENTITY_SECRET,
        "KULAK_SLACK_TOKEN": "xoxb-bench",
    }


def write_setup(workdir: Path, database_url: str, customers: int) -> Path:
    """kulak.toml (the brands of the generated texts, Slack on so routing queues alerts) and a customer file."""
    write_csv(workdir / "customers.csv", customers)
    brands = "\n".join(f'[[brands]]\nname = "{name}"\naliases = ["{name}"]\n' for name in BRANDS)
    store = f'sqlite_path = "{database_url.removeprefix("sqlite:///")}"' if database_url.startswith("sqlite") else ""
    config = workdir / "kulak.toml"
    config.write_text(CONFIG.format(brands=brands, store=store), encoding="utf-8")
    return config


def mentions(n: int, customers: int, hours: float, seed: int = 0) -> Iterator[list[RawMention]]:
    """``n`` made-up mentions in chunks, published evenly over ``hours`` from START; sources X and Şikayetvar."""
    rows = list(generate(customers))
    step = timedelta(hours=hours) / max(1, n)
    for first in range(0, n, CHUNK):
        chunk = labelled_mentions(rows, min(CHUNK, n - first), seed=seed * 1_000_003 + first)
        yield [
            RawMention(
                source=item.source,
                external_id=f"bf{first + i}",
                url=f"https://example.test/{item.source}/{first + i}",
                text=item.text,
                fetched_at=START + step * (first + i),
                author_handle=item.author_handle,
                author=item.author_name,
                published_at=START + step * (first + i),
            )
            for i, item in enumerate(chunk)
        ]


def store_mentions(config: Path, database_url: str, n: int, customers: int, hours: float) -> None:
    """Migrate, import the customers (the sync stage) and store the mentions, all before the clock starts."""
    app = bootstrap(load_settings(config, env=env(database_url)))
    Runner(app).run("stage:sync")
    for batch in mentions(n, customers, hours):
        with app.uow:
            app.uow.mentions.add_many(batch)
            app.uow.commit()
    app.engine.dispose()


def work(config: str, database_url: str, results: multiprocessing.Queue[float]) -> None:
    """One worker: the three stages over and over (the serial ones are skipped while another worker has them)
    until no mention waits for any of them; puts its peak RSS in MB."""
    os.environ.update(env(database_url))
    app = bootstrap(load_settings(Path(config)), migrate=False)
    runner = Runner(app)
    while True:
        busy = sum(runner.run(f"stage:{stage}").status != "skipped" for stage in STAGES)
        with app.uow:
            left = sum(n for status, n in app.uow.mentions.count_by_status().items() if status in WAITING)
        if not left:
            break
        if not busy:
            time.sleep(0.05)
    app.engine.dispose()
    results.put(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def run(config: Path, database_url: str, n: int, workers: int) -> Backfill:
    """Time ``workers`` worker processes taking every stored mention through analyse, match and route."""
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[float] = context.Queue()
    procs = [context.Process(target=work, args=(str(config), database_url, results)) for _ in range(workers)]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    peaks = [results.get(timeout=7200) for _ in procs]
    seconds = time.perf_counter() - started
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0, f"a worker ended with {proc.exitcode}"
    engine = db.make_engine(database_url)
    with SqlAlchemyUnitOfWork(engine) as uow:
        by_status = uow.mentions.count_by_status()
    size = _size(engine, database_url)
    engine.dispose()
    return Backfill(n, seconds, max(peaks), size / 1e6, by_status)


def _size(engine: Engine, database_url: str) -> float:
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        return float(sum(p.stat().st_size for p in path.parent.glob(path.name + "*")))
    with engine.connect() as conn:
        return float(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
