"""`kulak serve` for months: posts published while it runs reach Slack, SIGTERM stops it cleanly and in bounded
time, and what a stop cut short is finished by the next start, never done twice."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from loopback.mastodon import MastodonInstance
from loopback.slack import SlackServer
from store import db
from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.support.service import Publisher, alert_times, json_lines, start, stop, wait_for, write_config


@pytest.fixture
def stands() -> Iterator[tuple[MastodonInstance, SlackServer]]:
    with MastodonInstance() as instance, SlackServer() as slack:
        yield instance, slack  # type: ignore[misc]


def alert_keys(slack: SlackServer) -> list[str]:
    return [m.args["metadata"]["event_payload"]["key"] for m in slack.posted() if m.thread_ts is None]


def delivery_statuses(database: Path) -> dict[str, int]:
    engine = db.make_engine(f"sqlite:///{database}")
    with SqlAlchemyUnitOfWork(engine) as uow:
        statuses = uow.deliveries.count_by_status()
    engine.dispose()
    return statuses


def test_posts_published_while_it_runs_reach_slack_each_once(
    tmp_path: Path, stands: tuple[MastodonInstance, SlackServer]
) -> None:
    instance, slack = stands
    publisher = Publisher(instance)
    publisher.publish(2)
    config = write_config(tmp_path / "kulak.toml", instance.url, slack.url, database=str(tmp_path / "kulak.db"))
    log = tmp_path / "serve.log"
    service = start(config, tmp_path, log=log)
    try:
        wait_for(lambda: len(alert_times(slack)) == 2, 90, "the alerts of the posts there at start")
        for _ in range(4):  # new posts while it runs, a couple of seconds apart
            publisher.publish(1)
            time.sleep(1.5)
        wait_for(lambda: len(alert_times(slack)) == 6, 60, "the alerts of the posts published while serving")
        code, took = stop(service)
    finally:
        if service.poll() is None:
            service.kill()
    lines = json_lines(log.read_text(encoding="utf-8"))
    assert code == 0 and took < 20, lines[-5:]
    assert set(alert_times(slack)) == set(publisher.published)
    assert len(alert_keys(slack)) == len(set(alert_keys(slack))) == 6  # one alert per case, none twice
    crawls = [line for line in lines if line.get("job", "").startswith("crawl:") and "counts" in line]
    assert crawls and all(line["source"] == "mastodon" and line["brand"] == "Kuzey Telekom" for line in crawls)
    assert not [line for line in lines if line["level"] in ("ERROR", "CRITICAL")]
    assert lines[-1]["message"] == "stopped cleanly"


def test_sigterm_mid_delivery_stops_in_time_and_the_next_start_finishes_the_work(
    tmp_path: Path, stands: tuple[MastodonInstance, SlackServer]
) -> None:
    instance, slack = stands
    publisher = Publisher(instance)
    publisher.publish(6)
    slack.answer_delay = 1.0  # a slow Slack: the outbox takes a while to empty
    database = tmp_path / "kulak.db"
    config = write_config(tmp_path / "kulak.toml", instance.url, slack.url, database=str(database), stop_timeout="20s")
    service = start(config, tmp_path, log=tmp_path / "first.log")
    try:
        wait_for(lambda: len(slack.received("/api/chat.postMessage")) >= 1, 90, "the first alert")
        code, took = stop(service)
    finally:
        if service.poll() is None:
            service.kill()
    first = json_lines((tmp_path / "first.log").read_text(encoding="utf-8"))
    assert code == 0 and took < 20, first[-5:]
    sent_before = len(alert_keys(slack))
    assert 1 <= sent_before < 6, "the stop did not come mid-delivery"
    assert "pending" in delivery_statuses(database)  # given back, not lost

    slack.answer_delay = 0.0
    service = start(config, tmp_path, log=tmp_path / "second.log")
    try:
        wait_for(lambda: len(alert_keys(slack)) >= 6, 60, "the rest of the alerts after the restart")
        time.sleep(2.0)  # a double send would show up now
        stop(service)
    finally:
        if service.poll() is None:
            service.kill()
    second = json_lines((tmp_path / "second.log").read_text(encoding="utf-8"))
    keys = alert_keys(slack)
    assert len(keys) == len(set(keys)) == 6
    assert delivery_statuses(database) == {"sent": 6}
    serving = next(line["message"] for line in second if line["message"].startswith("serving as worker"))
    assert "0 new" in serving and "kept from the last run" in serving  # the schedule lived through the restart


def test_a_job_stuck_past_the_stop_timeout_does_not_hold_the_stop_and_is_not_repeated(
    tmp_path: Path, stands: tuple[MastodonInstance, SlackServer]
) -> None:
    instance, slack = stands
    Publisher(instance).publish(1)
    slack.answer_delay = 60.0  # Slack takes the alert, then hangs
    database = tmp_path / "kulak.db"
    config = write_config(tmp_path / "kulak.toml", instance.url, slack.url, database=str(database), stop_timeout="2s")
    service = start(config, tmp_path, log=tmp_path / "first.log")
    try:
        wait_for(lambda: len(slack.posted()) == 1, 90, "the alert reaching Slack")
        code, took = stop(service)
    finally:
        if service.poll() is None:
            service.kill()
    first = json_lines((tmp_path / "first.log").read_text(encoding="utf-8"))
    assert code == 0 and took < 10, first[-5:]
    assert any("exiting anyway" in line["message"] for line in first)

    slack.answer_delay = 0.0
    service = start(config, tmp_path, log=tmp_path / "second.log")
    try:
        wait_for(lambda: delivery_statuses(database) == {"sent": 1}, 60, "the half-sent alert being settled")
        stop(service)
    finally:
        if service.poll() is None:
            service.kill()
    assert len(slack.posted()) == 1  # found in the channel's history, not posted again
    second = json_lines((tmp_path / "second.log").read_text(encoding="utf-8"))
    delivered: Counter[str] = Counter()
    for line in second:
        if line.get("job") == "stage:deliver":
            delivered.update(line.get("counts", {}))
    assert delivered["recovered"] == 1 and not delivered["sent"], json.dumps(second[-5:])
