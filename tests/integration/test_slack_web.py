"""`kulak serve`'s Slack endpoint over HTTP: signed button presses change the case and its alert; forged ones
change nothing; /kulak answers; all against a real database and the Slack stand-in."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import Engine

from config.loader import load_settings
from loopback.slack import SlackServer
from responders.slack_actions import signature
from scheduler.bootstrap import App, bootstrap
from scheduler.pipeline import run_once
from scheduler.web import KulakWeb
from store.model import TicketStatus
from tests.support.care import CHANNELS, Scripted, post

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(channels=CHANNELS) as server:
        yield server


@pytest.fixture
def app(engine: Engine, slack: SlackServer, tmp_path: Path) -> Iterator[App]:
    config = tmp_path / "kulak.toml"
    config.write_text(f'[[brands]]\nname = "Kuzey Telekom"\n[slack]\nbase_url = "{slack.url}/api/"\n', encoding="utf-8")
    env = {"KULAK_SLACK_TOKEN": SlackServer.DEFAULT_TOKEN, "KULAK_SLACK_SIGNING_SECRET": SECRET}
    settings = load_settings(config, env=env)
    built = bootstrap(settings, engine=engine, sources=[], analyzer=Scripted(), helpdesks=[])
    with built.uow:
        built.uow.mentions.add_many([post(1, "Kuzey Telekom faturam yanlış <!here>")])
        built.uow.commit()
    run_once(built)
    yield built


@pytest.fixture
def web(app: App) -> Iterator[KulakWeb]:
    server = KulakWeb(app).start()
    yield server
    server.stop()


def signed(body: str, *, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    stamp = str(int(at if at is not None else time.time()))
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(secret, stamp, body.encode()),
    }


def press(action: str, value: str, user: str = "U0AYSE01") -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "ayse"},
        "channel": {"id": "C0CARE01"},
        "actions": [{"action_id": f"kulak_{action}", "block_id": "case:1", "value": value}],
        "response_url": "https://hooks.slack.test/actions/T0/1/abc",
    }
    return urlencode({"payload": json.dumps(payload)})


def wait_for(web: KulakWeb, handled: int) -> None:
    deadline = time.monotonic() + 10
    while web.handled < handled and time.monotonic() < deadline:
        time.sleep(0.02)
    assert web.handled >= handled


def test_a_signed_claim_is_acknowledged_at_once_then_updates_the_store_and_the_alert(
    app: App, web: KulakWeb, slack: SlackServer
) -> None:
    (alert,) = slack.posted("#care-alerts")
    body = press("claim", "1")
    started = time.monotonic()
    answer = httpx.post(f"{web.url}/slack/actions", content=body, headers=signed(body))
    assert answer.status_code == 200 and time.monotonic() - started < 3
    wait_for(web, 1)
    with app.uow:
        ticket = app.uow.tickets.get(1)
        (feedback,) = app.uow.feedback.listed()
    assert (ticket.status, ticket.assignee) == (TicketStatus.ASSIGNED, "U0AYSE01")
    assert (feedback.field, feedback.new_label, feedback.author) == ("action", "claim", "U0AYSE01")
    deadline = time.monotonic() + 5
    while not slack.thread(alert.ts) and time.monotonic() < deadline:
        time.sleep(0.02)
    (note,) = slack.thread(alert.ts)
    assert "üstlendi / claimed" in note.text
    shown = slack.shared_message(alert.ts)
    assert shown is not None and shown.method == "chat.update" and "<@U0AYSE01>" in str(shown.blocks)
    assert "&lt;!here&gt;" in str(shown.blocks) and "<!here>" not in str(shown.blocks)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Request-Timestamp": "0", "X-Slack-Signature": "v0=00"},
        "wrong secret",
        "ten minutes old",
        {},
    ],
)
def test_forged_or_stale_requests_are_refused_and_change_nothing(
    app: App, web: KulakWeb, headers: dict[str, str] | str
) -> None:
    body = press("resolve", "1")
    if headers == "wrong secret":
        headers = signed(body, secret="not-the-secret-at-all")
    elif headers == "ten minutes old":
        headers = signed(body, at=time.time() - 600)
    assert isinstance(headers, dict)
    answer = httpx.post(f"{web.url}/slack/actions", content=body, headers=headers)
    assert answer.status_code == 401
    time.sleep(0.1)
    with app.uow:
        assert app.uow.tickets.get(1).status is TicketStatus.NEW
        assert app.uow.feedback.listed() == []


def test_a_tampered_body_with_the_old_signature_is_refused(web: KulakWeb) -> None:
    body = press("claim", "1")
    headers = signed(body)
    tampered = press("not_relevant", "1")
    assert httpx.post(f"{web.url}/slack/actions", content=tampered, headers=headers).status_code == 401


def test_payloads_kulak_did_not_make_are_bad_requests(web: KulakWeb) -> None:
    for body in (press("drop_table", "1"), press("claim", "abc"), "payload=not-json", "nothing=here"):
        answer = httpx.post(f"{web.url}/slack/actions", content=body, headers=signed(body))
        assert answer.status_code == 400, body


def test_an_action_that_makes_no_sense_is_explained_to_the_agent_only(
    app: App, web: KulakWeb, slack: SlackServer
) -> None:
    for action in ("not_relevant", "claim"):
        body = press(action, "1")
        assert httpx.post(f"{web.url}/slack/actions", content=body, headers=signed(body)).status_code == 200
    wait_for(web, 2)
    whispers = [m for m in slack.messages if m.method == "chat.postEphemeral"]
    assert len(whispers) == 1 and whispers[0].user == "U0AYSE01" and "closed" in whispers[0].text


def test_the_slash_command_finds_a_case_and_todays_numbers(web: KulakWeb) -> None:
    def ask(text: str) -> dict[str, str]:
        body = urlencode({"command": "/kulak", "text": text, "user_id": "U0AYSE01", "channel_id": "C0CARE01"})
        answer = httpx.post(f"{web.url}/slack/commands", content=body, headers=signed(body))
        assert answer.status_code == 200
        return dict(answer.json())

    case = ask("1")
    assert case["response_type"] == "ephemeral" and "#1 · Kuzey Telekom" in case["text"] and "new" in case["text"]
    assert "&lt;!here&gt;" in case["text"]
    assert "bulunamadı / not found" in ask("99")["text"]
    today = ask("bugün")["text"]
    assert "açılan / opened 1" in today and "new 1" in today
    assert "/kulak 42" in ask("")["text"]


def test_health_and_metrics_say_how_far_behind_each_stage_is(app: App, web: KulakWeb) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from store.model import SourceRun

    with app.uow:
        fetched = datetime.now(UTC) - timedelta(minutes=90)
        app.uow.mentions.add_many([replace(post(7, "Fatura yine yanlış"), fetched_at=fetched)])
        finished = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
        app.uow.source_runs.record(SourceRun('site "a"', finished - timedelta(minutes=1), finished, ok=True))
        app.uow.commit()
    health = httpx.get(f"{web.url}/healthz").json()
    assert health["outbox"] == {"sent": 1} and set(health["stage_lag_seconds"]) == {"analyze"}
    assert 5390 < health["stage_lag_seconds"]["analyze"] < 5500 and health["last_success"] == {
        'site "a"': finished.isoformat()
    }
    metrics = httpx.get(f"{web.url}/metrics")
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = metrics.text.splitlines()
    assert 'kulak_mentions{status="new"} 1' in lines and 'kulak_mentions{status="routed"} 1' in lines
    assert 'kulak_deliveries{channel="slack",status="sent"} 1' in lines
    assert any(line.startswith('kulak_stage_lag_seconds{stage="analyze"} ') for line in lines)
    assert f'kulak_source_last_success_timestamp_seconds{{source="site \\"a\\""}} {finished.timestamp():.0f}' in lines
    assert httpx.get(f"{web.url}/nope").status_code == 404


def test_health_and_a_missing_signing_secret(app: App, web: KulakWeb) -> None:
    health = httpx.get(f"{web.url}/healthz")
    assert health.status_code == 200 and health.json()["outbox"] == {"sent": 1}
    assert httpx.get(f"{web.url}/nope").status_code == 404
    app.settings = app.settings.__class__(slack=app.settings.slack.__class__())
    unsigned = KulakWeb(app).start()
    try:
        body = press("claim", "1")
        assert httpx.post(f"{unsigned.url}/slack/actions", content=body, headers=signed(body)).status_code == 503
    finally:
        unsigned.stop()


def test_presses_and_health_checks_at_the_same_time_all_land(app: App, web: KulakWeb, slack: SlackServer) -> None:
    import threading

    failures: list[int] = []

    def poll_health() -> None:
        with httpx.Client(base_url=web.url, timeout=10) as client:
            for _ in range(40):
                status = client.get("/healthz").status_code
                if status != 200:
                    failures.append(status)

    poller = threading.Thread(target=poll_health)
    poller.start()
    with httpx.Client(base_url=web.url, timeout=10) as client:
        for i in range(20):
            body = press(("claim", "contacted")[i % 2], "1")
            assert client.post("/slack/actions", content=body, headers=signed(body)).status_code == 200
    poller.join()
    wait_for(web, 20)
    assert failures == []
    with app.uow:
        assert len(app.uow.feedback.listed()) == 20
        assert app.uow.deliveries.count_by_status() == {"sent": 41}  # the alert, then a note and a refresh each
