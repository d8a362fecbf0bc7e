"""Steady state: `kulak serve` polling 200 source+brand pairs on local stand-ins for 30 minutes; CPU, memory, requests.

What it runs: 20 made-up brands x 10 API/feed sources = 200 pairs, each its own crawl job every 60 s (plus the
default 10 % jitter): two Mastodon instances, two Bluesky AppViews, two Google News search feeds, two news sites
with a feed per brand, two App Store review feeds (X and Reddit are left out: their stand-ins do not evaluate the
query, so every post would match all 20 brands). No Scrapy source, so the figures are about Kulak's own process;
the sampler still adds any child processes. SQLite, default stage/check intervals (20 s / 1 min), a local Slack.
A publisher adds new complaints (each from its own author) to random pairs at random moments, 6 a minute on
average, for the whole run; then the test waits until every post is stored and through the stages and no alert
waits to be sent (the figures include this drain, at most two intervals). Not every post opens a case: the
router decides, as in production.

Run: ``KULAK_BENCH_MINUTES=30 .venv/bin/pytest -s -p no:randomly tests/benchmarks/test_bench_steady.py``
(``KULAK_BENCH_MINUTES`` defaults to 30; 3 is enough to see it work; ``KULAK_BENCH_INTERVAL``, default 60, sets
the seconds between polls of a pair, e.g. 10 to poll six times as often). /proc is read every 30 s (every run/36
for shorter runs).

Figures:
- CPU: CPU seconds (user+sys, children included) over wall seconds = the share of one core. Baseline beside it: a
  second `kulak serve` started at the same time with the same brands, stages and Slack but no sources, so it
  polls nothing. Its share is what the service costs doing nothing (scheduler, stage jobs finding no work); the
  difference is what polling 200 pairs and handling the new mentions costs.
- Memory: RSS medians of the first window W (W = 5 min of 30, a sixth of the run), of the second window (W..2W,
  the plateau after warm-up), of the last W and of each sixth; least-squares slopes of RSS in MB/hour after W and
  over the second half. RSS still creeps up after W and then flattens (a few MB over the first few thousand
  polls in our runs), which a slope from W alone reads as growth; a leak grows as fast in the second half. No
  growth means the second half's slope stays under 20 MB/hour (asserted on runs of 10 minutes or more: on shorter
  runs a 1 MB step is a steep slope) and the last window's median within 10 % of the plateau's. Open file
  descriptors and threads are sampled too: the last reading may not exceed the warm-up readings by more than a
  few (a leak grows with polls).
- Requests per new mention: requests every source stand-in received (robots.txt included) over new mentions
  stored; requests per poll: the same requests over crawl runs (source_runs rows). A quiet poll should cost one
  request (a 304 or an empty page), so requests per poll near 1 means new mentions cost no extra pages; "beyond
  one a poll" is (requests - polls) / new mentions, what a new mention costs over polling at all.
- Alerts: Slack alerts posted and the cases opened; every alert's metadata key appears once (no double alerts).
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import threading
import time
from functools import partial
from pathlib import Path

from loopback.slack import SlackServer
from tests.support.service import start, stop, wait_for
from tests.support.steady import BRANDS, Fleet, Publisher, Sample, Sampler, slope_per_hour

MINUTES = float(os.environ.get("KULAK_BENCH_MINUTES", "30"))
PER_MINUTE = 6.0
INTERVAL = float(os.environ.get("KULAK_BENCH_INTERVAL", "60"))  # seconds between polls of a pair
SLOPE_LIMIT = 20.0  # MB/hour of RSS growth after warm-up
DRIFT_LIMIT = 0.10  # last window's median RSS against the plateau's
CONFIG = """
{brands}
[store]
sqlite_path = "{database}"

[crawl]
contact_url = "https://example.org/kulak-bench"
retries = 1
backoff = 0.1
max_wait = 5.0

{sources}

[slack]
base_url = "{slack}/api/"

[alerts]
budget = 100000
burst_window = "0s"

[schedule]
stage_interval = "20s"
check_interval = "1m"
stop_timeout = "30s"

[web]
port = 0  # no Slack endpoint: two services run side by side
"""


def write(folder: Path, sources: str, slack: str) -> Path:
    folder.mkdir()
    brands = "\n".join(f'[[brands]]\nname = "{b}"\naliases = ["{b}"]' for b in BRANDS)
    text = CONFIG.format(brands=brands, database=folder / "kulak.db", sources=sources, slack=slack)
    (folder / "kulak.toml").write_text(text, encoding="utf-8")
    return folder / "kulak.toml"


def scalar(database: Path, sql: str) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as db:
        return int(db.execute(sql).fetchone()[0] or 0)


def serving(log: Path) -> bool:
    return "serving as worker" in log.read_text(encoding="utf-8")


def settled(database: Path, published: int) -> bool:
    """Every published post stored and through the stages, and no alert waiting to be sent."""
    stored = scalar(database, "select count(*) from mentions")
    moving = scalar(database, "select count(*) from mentions where status in ('new', 'analyzed', 'matched')")
    return stored >= published and not moving and not scalar(database, PENDING)


PENDING = "select count(*) from deliveries where status = 'pending'"


def alert_keys(slack: SlackServer) -> list[str]:
    keys = []
    for message in slack.posted():
        metadata = message.args.get("metadata")
        data = json.loads(metadata) if isinstance(metadata, str) else metadata or {}
        if message.thread_ts is None and data.get("event_payload", {}).get("key"):
            keys.append(str(data["event_payload"]["key"]))
    return keys


def median_rss(samples: list[Sample], start: float, end: float) -> float:
    return statistics.median([s.rss_mb for s in samples if start <= s.at <= end] or [float("nan")])


def cpu_share(samples: list[Sample], start: float, end: float) -> float:
    inside = [s for s in samples if start <= s.at <= end]
    return (inside[-1].cpu - inside[0].cpu) / (inside[-1].at - inside[0].at)


def test_steady_state_200_pairs(tmp_path: Path) -> None:
    seconds = MINUTES * 60
    window = seconds / 6
    every = min(30.0, seconds / 36)
    with Fleet() as fleet, SlackServer() as slack, SlackServer() as idle_slack:
        main_config = write(tmp_path / "main", fleet.sources_toml(f"{INTERVAL:.0f}s"), slack.url)
        idle_config = write(tmp_path / "idle", "", idle_slack.url)
        logs = {name: tmp_path / name / "serve.log" for name in ("main", "idle")}
        main = start(main_config, main_config.parent, log=logs["main"])
        idle = start(idle_config, idle_config.parent, log=logs["idle"])
        database = main_config.parent / "kulak.db"
        publisher = Publisher(fleet)
        done = threading.Event()
        try:
            for name, path in logs.items():
                wait_for(partial(serving, path), 120, f"{name} starting")
            assert main.poll() is None and idle.poll() is None, "a service exited at start"
            sampler = Sampler({"main": main.pid, "idle": idle.pid}, every).start()
            feeder = threading.Thread(target=publisher.run, args=(PER_MINUTE, seconds, done), daemon=True)
            feeder.start()
            feeder.join()
            wait_for(lambda: settled(database, len(publisher.published)), INTERVAL * 2 + 90, "every post handled", 1.0)
            drained = time.monotonic() - sampler.began
            sampler.stop()
            (main_code, main_stop), (idle_code, _) = stop(main), stop(idle)
        finally:
            done.set()
            for service in (main, idle):
                if service.poll() is None:
                    service.kill()
        requests = fleet.requests()
        keys = alert_keys(slack)
    for name, path in logs.items():
        assert "Traceback" not in path.read_text(encoding="utf-8"), f"{name} logged a traceback"
    assert main_code == 0 and idle_code == 0
    mentions = scalar(database, "select count(*) from mentions")
    polls = scalar(database, "select count(*) from source_runs")
    recorded = scalar(database, "select sum(requests) from source_runs")
    cases = scalar(database, "select count(*) from tickets")
    failed = scalar(database, "select count(*) from source_runs where not ok")
    lost = scalar(database, "select count(*) from mentions where status = 'failed'")
    unsent = scalar(database, "select count(*) from deliveries where status != 'sent'")

    run, idle_run = sampler.samples["main"], sampler.samples["idle"]
    share, idle_share = cpu_share(run, 0, seconds + every), cpu_share(idle_run, 0, seconds + every)
    warm_share = cpu_share(run, window, seconds + every)
    first, plateau = median_rss(run, 0, window), median_rss(run, window, 2 * window)
    last = median_rss(run, seconds - window, seconds + every)
    slope = slope_per_hour([(s.at, s.rss_mb) for s in run if window <= s.at <= seconds + every])
    late_slope = slope_per_hour([(s.at, s.rss_mb) for s in run if seconds / 2 <= s.at <= seconds + every])
    warm = [s for s in run if s.at <= 2 * window]
    after = [s for s in run if s.at <= seconds + every]
    sixths = " ".join(f"{median_rss(run, i * window, (i + 1) * window):.1f}" for i in range(6))
    print(
        f"\nsteady state, {len(fleet.servers)} sources x {len(BRANDS)} brands = {len(fleet.servers) * len(BRANDS)}"
        f" pairs, {INTERVAL:.0f} s interval, {MINUTES:g} min, {len(publisher.published)} posts published"
        f" ({PER_MINUTE:g}/min), drained after {drained:.0f} s, stopped in {main_stop:.1f} s\n"
        f"  CPU: {share:.1%} of one core ({warm_share:.1%} after warm-up); baseline serve polling nothing"
        f" {idle_share:.1%}; polling and handling cost {share - idle_share:.1%}\n"
        f"  RSS: first {window / 60:.1f} min {first:.1f} MB, plateau {plateau:.1f} MB, last {window / 60:.1f} min"
        f" {last:.1f} MB ({last / plateau - 1:+.1%}), slope after warm-up {slope:+.1f} MB/h, over the second"
        f" half {late_slope:+.1f} MB/h;"
        f" baseline {median_rss(idle_run, 0, seconds):.1f} MB\n"
        f"  RSS median by sixth of the run: {sixths} MB\n"
        f"  fds {warm[-1].fds} -> {after[-1].fds} (max {max(s.fds for s in after)}),"
        f" threads {warm[-1].threads} -> {after[-1].threads} (max {max(s.threads for s in after)})\n"
        f"  requests {requests} ({recorded} by source_runs) for {mentions} new mentions ="
        f" {requests / max(mentions, 1):.1f}/new; {polls} polls ({failed} failed) = {requests / max(polls, 1):.2f}"
        f" requests/poll; beyond one a poll {(requests - polls) / max(mentions, 1):.2f}/new\n"
        f"  alerts {len(keys)} ({len(set(keys))} distinct keys) for {cases} cases; child processes at most"
        f" {max(s.children for s in run)}"
    )
    assert mentions == len(publisher.published), "a post was lost or stored twice"
    assert recorded == requests, "source_runs and the stand-ins disagree on requests sent"
    assert failed == 0
    assert len(keys) == len(set(keys)), "a case was alerted twice"
    assert len({k for k in keys if ":ticket:" in k}) == cases, "a case was not alerted"
    assert lost == 0 and unsent == 0
    assert requests / polls < 1.5, "polls cost more than a page each"
    assert abs(last / plateau - 1) < DRIFT_LIMIT, f"RSS moved {last / plateau - 1:+.1%} from the plateau"
    if MINUTES >= 10:
        assert late_slope < SLOPE_LIMIT, f"RSS grows {late_slope:.1f} MB/hour over the second half"
    assert after[-1].fds <= max(s.fds for s in warm) + 5, "file descriptors grow with polls"
    assert after[-1].threads <= max(s.threads for s in warm) + 4, "threads grow with polls"
