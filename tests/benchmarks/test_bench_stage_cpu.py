"""Where a backfill's CPU goes, stage by stage: this process's and the PostgreSQL server's, per mention.

    KULAK_TEST_POSTGRES_URL=... KULAK_BENCH_MENTIONS=5000 .venv/bin/pytest -q -s -p no:randomly \\
        tests/benchmarks/test_bench_stage_cpu.py

The mentions of the backfill benchmark are stored first; then one process runs analyse, match and route one
after the other. For each stage: wall time, this process's CPU time, and the CPU time every ``postgres`` process
of the machine used meanwhile (read from /proc; run it on a machine with no other PostgreSQL work). Both cores
must carry all of it for the backfill goal: under 2.4 ms a mention together.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.loader import load_settings
from scheduler.bootstrap import bootstrap
from scheduler.jobs import Runner
from tests.conftest import throwaway_database
from tests.support import backfill

MENTIONS = int(os.environ.get("KULAK_BENCH_MENTIONS", "5000"))
CUSTOMERS = 20_000


def server_cpu_seconds() -> float:
    """CPU seconds (user + system) of every process named ``postgres`` so far."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads the server's CPU time from /proc (Linux)")
    yield from throwaway_database("postgres", tmp_path, "kulak_stage_cpu")


def test_stage_cpu_per_mention(tmp_path: Path, url: str) -> None:
    config = backfill.write_setup(tmp_path, url, CUSTOMERS)
    backfill.store_mentions(config, url, MENTIONS, CUSTOMERS, hours=1.0)
    app = bootstrap(load_settings(config, env=backfill.env(url)), migrate=False)
    runner = Runner(app)
    lines, total = [], 0.0
    for stage in backfill.STAGES:
        wall, cpu, server = time.perf_counter(), time.process_time(), server_cpu_seconds()
        assert runner.run(f"stage:{stage}").status == "ok"
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        server = server_cpu_seconds() - server
        total += cpu + server
        lines.append(
            f"{stage:8s} wall {wall / MENTIONS * 1e3:.2f} ms, Python {cpu / MENTIONS * 1e3:.2f} ms, "
            f"PostgreSQL {server / MENTIONS * 1e3:.2f} ms a mention"
        )
    print(f"\nstage CPU over {MENTIONS:,} mentions:\n" + "\n".join(lines))
    print(f"all three: {total / MENTIONS * 1e3:.2f} ms of CPU a mention (the goal needs under 2.4 ms)")
    with app.uow:
        assert app.uow.mentions.count_by_status() == {"routed": MENTIONS}
    app.engine.dispose()
