"""What this process's jobs did, for /metrics: how long each stage takes, how each ended, which sources failed."""

from __future__ import annotations

import threading
from collections import Counter

#: Upper bounds (seconds) of the stage latency histogram's buckets.
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


def label(value: str) -> str:
    """A Prometheus label value: backslash, quote and newline escaped (source and channel names are the operator's)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class JobMetrics:
    """Counters and a latency histogram per stage ("crawl" for every crawl job), safe across job threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, list[int]] = {}
        self._sum: dict[str, float] = {}
        self._runs: Counter[tuple[str, str]] = Counter()
        self._source_errors: Counter[str] = Counter()

    def observe(self, stage: str, seconds: float, outcome: str) -> None:
        with self._lock:
            counts = self._buckets.setdefault(stage, [0] * (len(BUCKETS) + 1))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            counts[-1] += 1  # +Inf: every observation
            self._sum[stage] = self._sum.get(stage, 0.0) + seconds
            self._runs[stage, outcome] += 1

    def source_error(self, source: str) -> None:
        with self._lock:
            self._source_errors[source] += 1

    def render(self) -> list[str]:
        """Prometheus text lines: kulak_stage_seconds (histogram), kulak_job_runs_total, kulak_source_errors_total."""
        with self._lock:
            lines = [
                "# HELP kulak_stage_seconds How long each run of a stage took.",
                "# TYPE kulak_stage_seconds histogram",
            ]
            for stage in sorted(self._buckets):
                counts = self._buckets[stage]
                for bound, n in zip((*map(str, BUCKETS), "+Inf"), counts, strict=True):
                    lines.append(f'kulak_stage_seconds_bucket{{stage="{stage}",le="{bound}"}} {n}')
                lines.append(f'kulak_stage_seconds_sum{{stage="{stage}"}} {self._sum[stage]:.3f}')
                lines.append(f'kulak_stage_seconds_count{{stage="{stage}"}} {counts[-1]}')
            lines += [
                "# HELP kulak_job_runs_total Job runs by stage and outcome.",
                "# TYPE kulak_job_runs_total counter",
            ]
            lines += [
                f'kulak_job_runs_total{{stage="{stage}",outcome="{outcome}"}} {n}'
                for (stage, outcome), n in sorted(self._runs.items())
            ]
            lines += [
                "# HELP kulak_source_errors_total Crawls that ended in an error, by source.",
                "# TYPE kulak_source_errors_total counter",
            ]
            lines += [
                f'kulak_source_errors_total{{source="{label(s)}"}} {n}' for s, n in sorted(self._source_errors.items())
            ]
            return lines


JOBS = JobMetrics()
