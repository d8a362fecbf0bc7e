"""At least 50 SIGKILLs of `kulak run --once` at random points of its cycle, each followed by a restart.

Every round publishes six new complaints on a local Mastodon (the Şikayetvar stand-in holds its sample as well),
starts a run and kills it at a random moment of the length runs have been taking, unless it ends first. Then
clean runs finish the work and the database and the Slack stand-in are checked: every mention stored once,
analysed once, routed; every delivery sent and on the wire once. Prints where the kills landed (the job each
run's log was in) and how long Scrapy children outlived their killed parent.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from pathlib import Path

from tests.support.chaos import ChaosRig

KILLS = int(os.environ.get("KULAK_BENCH_KILLS", "50"))


def test_fifty_kills_lose_nothing_and_repeat_nothing(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("KULAK_BENCH_SEED", "9")))
    began = time.monotonic()
    with ChaosRig(tmp_path, rng) as rig:
        index = 0
        while rig.report.total_kills < KILLS:
            rig.round(index)
            index += 1
        rig.finish()
        problems = rig.problems()
    report = rig.report
    orphans = report.orphan_seconds
    print(
        f"\n{report.total_kills} kills over {index} runs ({report.finished} ended before their kill) in "
        f"{time.monotonic() - began:.0f} s; {report.published} posts published"
        f"\nkills by job: {dict(report.kills.most_common())}"
        f"\ncrawler children outlived a killed run by median {statistics.median(orphans):.2f} s, "
        f"max {max(orphans):.2f} s\nproblems: {problems or 'none'}"
    )
    assert problems == []
    assert max(orphans) < 5.0
