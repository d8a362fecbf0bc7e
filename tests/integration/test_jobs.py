"""The jobs of `kulak serve`: a crawl per source and brand owned by one worker, stages that hand work on and time
themselves, and a schedule kept in the database that lives through restarts and follows the config."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from config.loader import load_settings
from scheduler.bootstrap import App, bootstrap
from scheduler.jobs import Runner, plan
from scheduler.metrics import JOBS
from scheduler.service import build_scheduler, sync_jobs
from store.locks import NamedLock
from tests.integration.test_crawl_health import ScriptedSource, source

CONFIG = """
[[brands]]
name = "Kuzey Telekom"
[[brands]]
name = "Mavi Kargo"
[analysis]
analyzer = "simple"
[schedule]
stage_interval = "15s"
check_interval = "1m"
purge_at = "04:10"
"""


def make_app(tmp_path: Path, engine: Engine, *sources: ScriptedSource) -> App:
    (tmp_path / "kulak.toml").write_text(CONFIG, encoding="utf-8")
    settings = load_settings(tmp_path / "kulak.toml", env={})
    return bootstrap(settings, engine=engine, sources=list(sources), alerters=[], ops_alerters=[], helpdesks=[])


def test_a_crawl_is_owned_by_one_worker_and_not_repeated_within_its_interval(tmp_path: Path, engine: Engine) -> None:
    scripted = source(interval=600.0)
    scripted.script = [2]
    handed: list[str] = []
    runner = Runner(make_app(tmp_path, engine, scripted), handoff=handed.append)
    with NamedLock(engine, "crawl:scripted:Kuzey Telekom"):  # another worker is crawling this pair
        held = runner.run("crawl:scripted:Kuzey Telekom")
    assert (held.status, held.counts) == ("skipped", {"held_elsewhere": 1}) and not handed
    done = runner.run("crawl:scripted:Kuzey Telekom")
    assert (done.status, done.counts["new"], handed) == ("ok", 2, ["analyze"])
    again = runner.run("crawl:scripted:Kuzey Telekom")  # a worker whose schedule lags: crawled a moment ago
    assert (again.status, again.counts) == ("skipped", {"not_due": 1})
    other = runner.run("crawl:scripted:Mavi Kargo")  # the other brand keeps its own clock
    assert other.status == "ok"


def test_stages_hand_work_on_time_themselves_and_serial_ones_run_in_one_worker(tmp_path: Path, engine: Engine) -> None:
    scripted = source()
    scripted.script = [3]
    handed: list[str] = []
    runner = Runner(make_app(tmp_path, engine, scripted), handoff=handed.append)
    runner.run("crawl:scripted:Kuzey Telekom")
    analysed = runner.run("stage:analyze")
    assert analysed.counts["analyzed"] == 3 and handed[-1] == "match"
    assert runner.run("stage:analyze").counts == {}  # nothing left: nothing handed on
    assert handed.count("match") == 1
    with NamedLock(engine, "stage:match"):  # another worker is matching
        assert runner.run("stage:match").status == "skipped"
    assert runner.run("stage:match").counts["unmatched"] == 3 and handed[-1] == "route"
    lines = "\n".join(JOBS.render())
    assert 'kulak_stage_seconds_count{stage="analyze"}' in lines
    assert 'kulak_job_runs_total{stage="crawl",outcome="ok"}' in lines
    assert runner.run("stage:nonsense").status == "skipped"


def test_a_failing_crawl_is_a_failed_job_and_a_source_error(tmp_path: Path, engine: Engine) -> None:
    from store.errors import SourceBlocked

    scripted = source()
    scripted.script = [SourceBlocked("HTTP 403")]
    runner = Runner(make_app(tmp_path, engine, scripted))
    assert runner.run("crawl:scripted:Kuzey Telekom").status == "failed"
    assert 'kulak_source_errors_total{source="scripted"}' in "\n".join(JOBS.render())


def test_the_schedule_lives_through_a_restart_and_follows_the_config(tmp_path: Path, engine: Engine) -> None:
    app = make_app(tmp_path, engine, source(name="scripted", interval=600.0))
    specs = plan(app)
    assert {s.id for s in specs} == {
        "crawl:scripted:Kuzey Telekom",
        "crawl:scripted:Mavi Kargo",
        *(f"stage:{s}" for s in ("sync", "analyze", "match", "route", "cases", "digests", "deliver", "purge")),
    }
    crawl = next(s for s in specs if s.id.startswith("crawl:"))
    assert crawl.every == 600.0 and crawl.jitter == 60.0  # a tenth of the interval
    first = build_scheduler(app)
    first.start(paused=True)
    assert sync_jobs(first, specs, "Europe/Istanbul") == {"kept": 0, "added": 10, "removed": 0}
    when = {job.id: job.next_run_time for job in first.get_jobs()}
    purge = first.get_job("stage:purge")
    assert (purge.next_run_time.hour, purge.next_run_time.minute) == (4, 10)  # Istanbul time
    first.shutdown(wait=False)

    again = build_scheduler(app)
    again.start(paused=True)
    assert sync_jobs(again, specs, "Europe/Istanbul") == {"kept": 10, "added": 0, "removed": 0}
    assert {job.id: job.next_run_time for job in again.get_jobs()} == when  # carries on where it left off
    changed = [replace(s, every=300.0) if s.id == "stage:analyze" else s for s in specs if "Mavi" not in s.id]
    assert sync_jobs(again, changed, "Europe/Istanbul") == {"kept": 8, "added": 1, "removed": 1}
    assert again.get_job("crawl:scripted:Mavi Kargo") is None
    assert again.get_job("stage:analyze").trigger.interval.total_seconds() == 300.0
    again.shutdown(wait=False)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_worker_keeps_its_schedule_in_its_own_table(tmp_path: Path, engine: Engine) -> None:
    app = make_app(tmp_path, engine, source())
    second = replace(app, settings=replace(app.settings, schedule=replace(app.settings.schedule, worker="host2")))
    for one in (app, second):
        scheduler = build_scheduler(one)
        scheduler.start(paused=True)
        assert sync_jobs(scheduler, plan(one), "UTC")["added"] == 10  # nothing of the other worker's is touched
        scheduler.shutdown(wait=False)
