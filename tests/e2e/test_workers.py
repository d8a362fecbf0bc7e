"""Three `kulak serve` workers on one PostgreSQL share the work: every mention analysed once, every alert sent once."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import inspect

from loopback.mastodon import MastodonInstance
from loopback.slack import SlackServer
from store import db
from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.support.service import KULAK, Publisher, json_lines, start, stop, wait_for, write_config

POSTS = 400
WORKERS = ("w1", "w2", "w3")


def job_counts(lines: list[dict[str, object]], job: str) -> Counter[str]:
    done: Counter[str] = Counter()
    for line in lines:
        if line.get("job") == job and isinstance(line.get("counts"), dict):
            done.update(line["counts"])  # type: ignore[arg-type]
    return done


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_three_workers_share_one_database_and_do_each_piece_of_work_once(tmp_path: Path, database_url: str) -> None:
    with MastodonInstance() as instance, SlackServer() as slack:
        Publisher(instance).publish(POSTS)
        config = write_config(tmp_path / "kulak.toml", instance.url, slack.url, database="", interval="3s", stages="1s")
        env = {**os.environ, "KULAK_DATABASE_URL": database_url}
        upgraded = subprocess.run(
            [str(KULAK), "--config", str(config), "db", "upgrade"], capture_output=True, text=True, env=env, check=False
        )
        assert upgraded.returncode == 0, upgraded.stderr
        engine = db.make_engine(database_url)
        uow = SqlAlchemyUnitOfWork(engine)

        def settled() -> bool:
            with uow:
                mentions = uow.mentions.count_by_status()
                outbox = uow.deliveries.count_by_status()
            return mentions == {"routed": POSTS} and set(outbox) == {"sent"}

        logs = {name: tmp_path / f"{name}.log" for name in WORKERS}
        workers = [
            start(config, tmp_path, worker=name, log=logs[name], KULAK_DATABASE_URL=database_url) for name in WORKERS
        ]
        try:
            wait_for(settled, 240, "every mention routed and every alert sent", interval=0.5)
            time.sleep(3.0)  # a second send of anything would show up now
            stopped = [stop(worker) for worker in workers]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
        lines = {name: json_lines(path.read_text(encoding="utf-8")) for name, path in logs.items()}
        assert all(code == 0 for code, _ in stopped), {n: ls[-3:] for n, ls in lines.items()}
        errors = [line for ls in lines.values() for line in ls if line["level"] in ("ERROR", "CRITICAL")]
        assert not errors, json.dumps(errors[:3], ensure_ascii=False)

        analysed = {name: job_counts(ls, "stage:analyze")["analyzed"] for name, ls in lines.items()}
        assert sum(analysed.values()) == POSTS, analysed  # each mention analysed by exactly one worker
        stored = {name: job_counts(ls, "crawl:mastodon:Kuzey Telekom")["new"] for name, ls in lines.items()}
        assert sum(stored.values()) == POSTS, stored
        with uow:
            tickets = uow.tickets.count()
            alerts = [d for t in range(1, tickets + 1) for d in uow.deliveries.alerts_of(t)]
        keys = [m.args["metadata"]["event_payload"]["key"] for m in slack.posted() if m.thread_ts is None]
        assert len(keys) == len(set(keys)) == len(alerts) > 0  # every alert sent, none twice
        sent = {name: job_counts(ls, "stage:deliver")["sent"] for name, ls in lines.items()}
        assert sum(sent.values()) == len(keys), sent
        tables = set(inspect(engine).get_table_names())
        assert {f"kulak_jobs_{name}" for name in WORKERS} <= tables  # each worker keeps its own schedule
        engine.dispose()
        print(f"\nshare of the work: analysed {analysed}, stored {stored}, alerts sent {sent}")
