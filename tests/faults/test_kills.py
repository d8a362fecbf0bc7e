"""SIGKILL a real `kulak run --once` at random points of its cycle: every mention stored, analysed, alerted once."""

from __future__ import annotations

import os
import random
from pathlib import Path

from tests.support.chaos import ChaosRig

KILLS = int(os.environ.get("KULAK_TEST_KILLS", "6"))  # the 50-kill measurement is tests/benchmarks/test_bench_kills.py


def test_runs_killed_at_random_moments_lose_nothing_and_repeat_nothing(tmp_path: Path) -> None:
    rng = random.Random(20261124)  # fixed: a failure can be replayed
    with ChaosRig(tmp_path, rng, in_turn=True) as rig:
        index = 0
        while rig.report.total_kills < KILLS:
            rig.round(index)
            index += 1
            assert index < KILLS * 4, f"runs keep ending before the kill: {rig.report}"
        rig.finish()
        problems = rig.problems()
    assert problems == [], f"after {rig.report.total_kills} kills ({dict(rig.report.kills)}): {problems}"
    assert rig.report.published >= KILLS * rig.per_round
    # the Scrapy child of a killed run stops too, rather than crawl on for nobody
    assert max(rig.report.orphan_seconds) < 5.0, rig.report.orphan_seconds
