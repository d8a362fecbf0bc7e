"""`kulak run --once` for real: Scrapy crawls a local Şikayetvar, alerts reach a local Slack, a re-run adds nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loopback.sikayetvar import SikayetvarSite, load_sample
from loopback.slack import SlackServer
from store import db
from store.model import MentionStatus
from store.sqlalchemy import SqlAlchemyUnitOfWork

KULAK = Path(sys.executable).with_name("kulak")
CONFIG = """
[[brands]]
name = "Kuzey Telekom"
aliases = ["Kuzey Telekom"]

[[brands]]
name = "Mavi Kargo"

[[brands]]
name = "Deniz GSM"
competitor = true

[store]
sqlite_path = "{db}"

[[sources]]
name = "sikayetvar"
type = "sikayetvar"
base_url = "{site}"
delay = [0.0, 0.0]
list_delay = [0.0, 0.0]
page_delay = [0.0, 0.0]
backoff = [0.0, 0.1]

[slack]
channel = "#care-alerts"
base_url = "{slack}/api/"

[customers]
file = "customers.csv"
"""
CUSTOMERS = """external_id,name,email,phone,handles,segment
KT-1,Mehmet Yılmaz,,0532 123 45 67,,bireysel
KT-2,Ayşe Kaya,,,sikayetvar:ayse.k,bireysel
"""
PII_IN_SAMPLE = ["0532 123 45 67", "38416207584", "TR24 0099 9000 1234 5678 9012 34", "ayse.kaya.demo@example.com"]


@pytest.fixture
def servers() -> Iterator[tuple[SikayetvarSite, SlackServer]]:
    with SikayetvarSite(load_sample()) as site, SlackServer() as slack:
        yield site, slack  # type: ignore[misc]


def kulak(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KULAK_")}
    env["KULAK_SLACK_TOKEN"] = SlackServer.DEFAULT_TOKEN
    env["KULAK_IDENTITY_KEY"] = "e2e-tests-identity-key-0001"
    return subprocess.run(
        [str(KULAK), "--config", str(config), *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_complaints_flow_from_sikayetvar_to_slack_once(
    tmp_path: Path, servers: tuple[SikayetvarSite, SlackServer]
) -> None:
    site, slack = servers
    database = tmp_path / "kulak.db"
    config = tmp_path / "kulak.toml"
    config.write_text(CONFIG.format(db=database, site=site.url, slack=slack.url), encoding="utf-8")
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")

    first = kulak(config, "run", "--once")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    complaints = load_sample()
    assert summary["mentions_new"] == len(complaints)
    assert summary["analyzed"] == len(complaints)

    posted = slack.posted()
    alerts = [m for m in posted if m.thread_ts is None]  # the rest are notes of similar cases in their threads
    assert summary["tickets_opened"] == summary["alerts_sent"] + summary["alerts_folded"]
    assert len(alerts) == summary["alerts_sent"] > 0
    assert len(posted) - len(alerts) >= summary["alerts_folded"]  # and later mentions of a case
    assert all(m.channel == "C0CARE01" for m in posted)
    wire = json.dumps([{"text": m.text, "blocks": m.blocks} for m in posted], ensure_ascii=False)
    for identifier in PII_IN_SAMPLE:
        assert identifier not in wire, f"an unmasked identifier reached Slack: {identifier[:4]}…"
    headers = [b["text"]["text"] for m in alerts for b in m.blocks if b["type"] == "header"]
    assert len(headers) == len(alerts)
    assert not any("Deniz GSM" in h for h in headers)  # a competitor is tracked, never alerted
    assert any("Kuzey Telekom" in h for h in headers) and any("Mavi Kargo" in h for h in headers)
    assert "Mehmet Yılmaz" in wire and "Ayşe Kaya" in wire  # matched customers are named (phone, handle)
    thanks = [c for c in complaints if "Teşekkür" in c.title or "İlgiliydi" in c.title]
    assert thanks and not any(c.title in wire for c in thanks)
    posts = [r for r in slack.received("/api/chat.postMessage")]
    assert all(r.headers["authorization"] == f"Bearer {SlackServer.DEFAULT_TOKEN}" for r in posts)

    engine = db.make_engine(f"sqlite:///{database}")
    with SqlAlchemyUnitOfWork(engine) as uow:
        assert uow.mentions.count_by_status() == {MentionStatus.ROUTED.value: len(complaints)}
        assert uow.tickets.count() == len(posted)
    engine.dispose()

    pages_before = len(site.received())
    second = kulak(config, "run", "--once", "--force")  # crawl although the 15m interval is not up
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout.strip().splitlines()[-1])
    assert again["mentions_new"] == 0 and again["tickets_opened"] == 0 and again["alerts_sent"] == 0
    assert again["crawls"] == 3  # one per brand
    assert len(slack.posted()) == len(posted)
    pages = [r.path for r in site.received()[pages_before:] if r.path != "/robots.txt"]
    assert [p for p in pages if p.count("/") == 2] == []  # incremental: nothing already stored is fetched again
    assert len(pages) == 3  # one list page per brand

    pages_before = len(site.received())
    third = kulak(config, "run", "--once")  # cron again within the interval: the source is not due
    summary = json.loads(third.stdout.strip().splitlines()[-1])
    assert third.returncode == 0 and summary["crawls_not_due"] == 3 and summary["crawls"] == 0
    assert site.received()[pages_before:] == []


def test_overlapping_cron_runs_do_the_work_once(tmp_path: Path, servers: tuple[SikayetvarSite, SlackServer]) -> None:
    site, slack = servers
    database = tmp_path / "kulak.db"
    config = tmp_path / "kulak.toml"
    slow = CONFIG.replace("page_delay = [0.0, 0.0]", "page_delay = [0.2, 0.2]")  # ~5 s of complaint pages
    config.write_text(slow.format(db=database, site=site.url, slack=slack.url), encoding="utf-8")
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KULAK_")}
    env["KULAK_SLACK_TOKEN"] = SlackServer.DEFAULT_TOKEN
    env["KULAK_IDENTITY_KEY"] = "e2e-tests-identity-key-0001"
    first = subprocess.Popen(
        [str(KULAK), "--config", str(config), "run", "--once"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not any(r.path.count("/") == 2 for r in site.received()):  # the first run is reading complaints
            assert first.poll() is None and time.monotonic() < deadline, "the first run ended too soon"
            time.sleep(0.05)
        second = kulak(config, "run", "--once", "--force")
        assert second.returncode == 3, second.stderr
        assert "another run holds kulak.db.lock" in second.stderr and "not starting" in second.stderr
    finally:
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1])["mentions_new"] == len(load_sample())
    alerts = [m for m in slack.posted() if m.thread_ts is None]
    assert len(alerts) == json.loads(out.strip().splitlines()[-1])["alerts_sent"]  # nothing sent twice
    after = kulak(config, "run", "--once", "--force")  # the lock was released: the next run goes ahead
    assert after.returncode == 0 and json.loads(after.stdout.strip().splitlines()[-1])["mentions_new"] == 0


def test_a_run_killed_while_delivering_loses_and_repeats_nothing(
    tmp_path: Path, servers: tuple[SikayetvarSite, SlackServer]
) -> None:
    import signal

    site, slack = servers
    config = tmp_path / "kulak.toml"
    config.write_text(CONFIG.format(db=tmp_path / "kulak.db", site=site.url, slack=slack.url), encoding="utf-8")
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    slack.answer_delay = 0.5  # Slack takes each message, then is slow to say so: the kill lands in between
    env = {k: v for k, v in os.environ.items() if not k.startswith("KULAK_")}
    env.update(KULAK_SLACK_TOKEN=SlackServer.DEFAULT_TOKEN, KULAK_IDENTITY_KEY="e2e-tests-identity-key-0001")
    run = subprocess.Popen(
        [str(KULAK), "--config", str(config), "run", "--once"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while len(slack.posted()) < 3 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    taken = len(slack.posted())
    assert taken >= 3, "the run ended before it was killed mid-delivery"
    slack.answer_delay = 0.0
    again = kulak(config, "run", "--once")
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout.strip().splitlines()[-1])
    assert summary["alerts_sent"] > 0  # the rest of the queue went out after the restart
    keys = [m.args["metadata"]["event_payload"]["key"] for m in slack.posted()]
    assert len(keys) == len(set(keys)), "a message was posted twice"
    engine = db.make_engine(f"sqlite:///{tmp_path / 'kulak.db'}")
    with SqlAlchemyUnitOfWork(engine) as uow:
        statuses = uow.deliveries.count_by_status()
        tickets = uow.tickets.count()
        alert_keys = {d.key for t in range(1, tickets + 1) for d in uow.deliveries.alerts_of(t)}
    engine.dispose()
    assert set(statuses) == {"sent"}, statuses  # nothing left behind, nothing failed
    assert alert_keys <= set(keys)  # every alert that was sent is in Slack, once
    alerts = [k for k in keys if k.count(":") == 3]  # "slack:#care-alerts:ticket:N": one alert per case
    folded = [k for k in keys if ":similar:" in k]
    assert len(alerts) + len(folded) == tickets
