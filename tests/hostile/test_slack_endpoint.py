"""The Slack endpoint of `kulak serve` under attack: forged, replayed and oversized requests, broken and hostile
payloads; each gets a clear refusal and the store stays as it was. (The happy paths are in
tests/integration/test_slack_web.py, whose request helpers these tests share.)"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from config.loader import load_settings
from loopback.slack import SlackServer
from responders.slack_actions import MAX_BODY, signature
from scheduler.bootstrap import App, bootstrap
from scheduler.pipeline import run_once
from scheduler.web import KulakWeb
from store import db
from tests.integration.test_slack_web import SECRET, press, signed
from tests.support.care import CHANNELS, Scripted, post

ACTIONS = "/slack/actions"


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackServer]:
    with SlackServer(channels=CHANNELS) as server:
        yield server


@pytest.fixture(scope="module")
def app(slack: SlackServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """One case (#1, new) on SQLite, shared by the module: every test here checks that nothing changes it."""
    tmp: Path = tmp_path_factory.mktemp("endpoint")
    config = tmp / "kulak.toml"
    config.write_text(f'[[brands]]\nname = "Kuzey Telekom"\n[slack]\nbase_url = "{slack.url}/api/"\n', encoding="utf-8")
    env = {"KULAK_SLACK_TOKEN": SlackServer.DEFAULT_TOKEN, "KULAK_SLACK_SIGNING_SECRET": SECRET}
    engine = db.make_engine(f"sqlite:///{tmp / 'kulak.db'}")
    built = bootstrap(load_settings(config, env=env), engine=engine, sources=[], analyzer=Scripted(), helpdesks=[])
    with built.uow:
        built.uow.mentions.add_many([post(1, "Kuzey Telekom faturam yanlış")])
        built.uow.commit()
    run_once(built)
    yield built
    engine.dispose()


@pytest.fixture(scope="module")
def web(app: App) -> Iterator[KulakWeb]:
    server = KulakWeb(app).start()
    yield server
    server.stop()


def state(kulak: App) -> tuple[Any, ...]:
    """Everything an action could change: the case, its feedback, the outbox, its timeline."""
    with kulak.uow as uow:
        ticket = uow.tickets.get(1)
        return (
            ticket.status,
            ticket.assignee,
            ticket.priority,
            ticket.customer_id,
            len(uow.feedback.listed()),
            uow.deliveries.count_by_status(),
            len(uow.tickets.timeline(1)),
        )


def settle(server: KulakWeb) -> None:
    """Give the action worker time to apply anything it was (wrongly) handed."""
    time.sleep(0.15)
    assert server.work.empty()


def raw_request(server: KulakWeb, head: str, body: bytes = b"", timeout: float = 3.0) -> bytes:
    """Send bytes as they are (headers httpx would fix or refuse) and read the answer until the server closes or
    goes quiet."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        received = b""
        try:
            while chunk := conn.recv(65536):
                received += chunk
                if b"\r\n\r\n" in received and _complete(received):
                    break
        except TimeoutError:
            pass
    return received


def _complete(received: bytes) -> bool:
    head, _, body = received.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return True


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1."), answer[:80]
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "forge",
    [
        "signature of another body",
        "signature scheme v1",
        "signature for another timestamp",
        "uppercase hex",
        "signature without prefix",
        "only the timestamp",
        "only the signature",
    ],
)
def test_forged_signatures_are_refused(app: App, web: KulakWeb, forge: str) -> None:
    before = state(app)
    body = press("claim", "1")
    headers = signed(body)
    good = headers["X-Slack-Signature"]
    if forge == "signature of another body":
        headers["X-Slack-Signature"] = signed(press("resolve", "1"))["X-Slack-Signature"]
    elif forge == "signature scheme v1":
        headers["X-Slack-Signature"] = good.replace("v0=", "v1=")
    elif forge == "signature for another timestamp":
        headers["X-Slack-Request-Timestamp"] = str(int(headers["X-Slack-Request-Timestamp"]) - 1)
    elif forge == "uppercase hex":
        headers["X-Slack-Signature"] = "v0=" + good[3:].upper()
    elif forge == "signature without prefix":
        headers["X-Slack-Signature"] = good[3:]
    elif forge == "only the timestamp":
        del headers["X-Slack-Signature"]
    else:
        del headers["X-Slack-Request-Timestamp"]
    answer = httpx.post(f"{web.url}{ACTIONS}", content=body, headers=headers)
    assert answer.status_code == 401 and answer.json() == {"error": "invalid signature"}
    settle(web)
    assert state(app) == before


@pytest.mark.parametrize(
    "stamp",
    [
        "9" * 400,  # digits, but no time a float can hold
        "²³",  # str.isdigit() says yes, int() says no
        "١٧٠٠٠٠٠٠٠٠",  # Arabic-Indic digits: int() reads them, Slack never sends them
        "-60",
        "+1700000000",
        " 1700000000",
        "1e9",
        "",
    ],
)
def test_malformed_timestamps_are_refused_not_crashed_on(app: App, web: KulakWeb, stamp: str) -> None:
    before = state(app)
    body = press("claim", "1")
    sign = signature(SECRET, stamp, body.encode())  # signed right: the stamp is the problem
    head = f"POST {ACTIONS} HTTP/1.1\nHost: x\nContent-Type: application/x-www-form-urlencoded\n"
    head += f"Content-Length: {len(body)}\nX-Slack-Request-Timestamp: {stamp}\nX-Slack-Signature: {sign}\n"
    assert status_of(raw_request(web, head, body.encode())) == 401
    settle(web)
    assert state(app) == before


def test_a_request_replayed_after_five_minutes_is_refused(app: App) -> None:
    now = [time.time()]
    server = KulakWeb(app, clock=lambda: now[0]).start()
    try:
        body = press("claim", "1")
        headers = signed(body, at=now[0])
        assert httpx.post(f"{server.url}{ACTIONS}", content=body, headers=headers).status_code == 200
        deadline = time.monotonic() + 10
        while server.handled < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        after_first = state(app)
        now[0] += 301  # the same bytes, captured and sent again later
        assert httpx.post(f"{server.url}{ACTIONS}", content=body, headers=headers).status_code == 401
        now[0] -= 301 + 301  # or stamped five minutes in the future
        future = signed(body, at=now[0] + 301)
        assert httpx.post(f"{server.url}{ACTIONS}", content=body, headers=future).status_code == 401
        settle(server)
        assert state(app) == after_first and server.handled == 1
    finally:
        server.stop()


def test_an_oversized_body_is_refused_before_it_is_read(app: App, web: KulakWeb) -> None:
    before = state(app)
    started = time.monotonic()
    # Announces a gigabyte and sends none of it: an endpoint that read first would hang until the timeout.
    head = f"POST {ACTIONS} HTTP/1.1\nHost: x\nContent-Type: application/x-www-form-urlencoded\n"
    head += f"Content-Length: {1_000_000_000}\n"
    answer = raw_request(web, head)
    assert status_of(answer) == 413 and time.monotonic() - started < 2
    assert b"connection: close" in answer.lower()  # the unread body must not be taken for the next request
    body = "payload=" + "x" * (MAX_BODY + 1)
    assert httpx.post(f"{web.url}{ACTIONS}", content=body, headers=signed(body)).status_code == 413
    settle(web)
    assert state(app) == before
    assert httpx.get(f"{web.url}/healthz").status_code == 200  # and the endpoint is still up


@pytest.mark.parametrize("length", ["-1", "abc", "1, 2", "0x10", "99999999999999999999999999"])
def test_a_bad_content_length_is_a_bad_request(app: App, web: KulakWeb, length: str) -> None:
    before = state(app)
    head = f"POST {ACTIONS} HTTP/1.1\nHost: x\nContent-Length: {length}\n"
    started = time.monotonic()
    answer = raw_request(web, head, b"payload=%7B%7D")
    assert status_of(answer) in (400, 413) and time.monotonic() - started < 2
    settle(web)
    assert state(app) == before


def _payload(**fields: Any) -> str:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U0AYSE01"},
        "channel": {"id": "C0CARE01"},
        "actions": [{"action_id": "kulak_claim", "value": "1"}],
    }
    payload.update(fields)
    return urlencode({"payload": json.dumps(payload)})


@pytest.mark.parametrize(
    "body",
    [
        "payload=%5B1%2C2%5D",  # a JSON list
        "payload=null",
        "payload=%7B%22type%22%3A%22block_actions%22",  # cut short
        "payload=" + "%5B" * 5000,  # nested past what a parser should follow
        _payload(user="U0AYSE01"),  # a string where an object belongs
        _payload(user={"id": ["U0AYSE01"]}),
        _payload(actions="kulak_claim"),
        _payload(actions=[["kulak_claim", "1"]]),
        _payload(actions=[{"action_id": "kulak_claim", "value": {"id": 1}}]),
        _payload(actions=[{"action_id": "kulak_claim", "value": "²"}]),  # isdigit() but not int()
        _payload(actions=[{"action_id": "kulak_claim", "value": "9" * 40}]),  # no case id a column holds
        _payload(actions=[{"action_id": "kulak_claim", "selected_option": "1"}]),
        _payload(user={"id": "<!channel>"}),  # not a Slack user id: it would be stored and shown as the assignee
        _payload(user={"id": "U" + "A" * 200}),
        b"payload=%ff%fe".decode("latin-1"),  # not UTF-8 once unquoted
    ],
)
def test_broken_or_hostile_payloads_are_bad_requests_and_change_nothing(
    app: App,
    web: KulakWeb,
    slack: SlackServer,
    body: str,
) -> None:
    before, messages = state(app), len(slack.messages)
    answer = httpx.post(f"{web.url}{ACTIONS}", content=body.encode("latin-1"), headers=signed(body))
    assert answer.status_code == 400, answer.text
    assert "error" in answer.json()
    settle(web)
    assert state(app) == before
    assert len(slack.messages) == messages  # no alert refreshed, nobody told anything


def test_a_hostile_label_is_refused_to_the_agent_alone(app: App, web: KulakWeb, slack: SlackServer) -> None:
    """A correction's label is checked when it is applied (after Slack got its 200): the agent is told, privately."""
    before, handled = state(app), web.handled
    for value in ("1:<!channel>", "1:" + "a" * 5000, "1:Billing\u202e"):
        body = _payload(actions=[{"action_id": "kulak_fix_topic", "value": value}])
        assert httpx.post(f"{web.url}{ACTIONS}", content=body, headers=signed(body)).status_code == 200
    deadline = time.monotonic() + 10
    while web.handled < handled + 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert state(app) == before
    told = [m for m in slack.messages if m.method == "chat.postEphemeral"][-3:]
    assert len(told) == 3 and all(m.user == "U0AYSE01" and "<!channel>" not in m.text for m in told)


def test_a_hostile_slash_command_is_answered_escaped(web: KulakWeb) -> None:
    body = urlencode({"command": "/kulak", "text": "<!channel> 1", "user_id": "<!here>", "channel_id": "C0CARE01"})
    answer = httpx.post(f"{web.url}/slack/commands", content=body, headers=signed(body))
    assert answer.status_code == 200 and "<!channel>" not in answer.text and "<!here>" not in answer.text
    body = urlencode({"command": "/drop_table", "text": "1"})
    assert httpx.post(f"{web.url}/slack/commands", content=body, headers=signed(body)).status_code == 400


def test_unknown_paths_and_methods_are_refused(web: KulakWeb) -> None:
    body = press("claim", "1")
    assert httpx.post(f"{web.url}/slack/actions/../admin", content=body, headers=signed(body)).status_code == 404
    assert httpx.put(f"{web.url}{ACTIONS}", content=body, headers=signed(body)).status_code in (404, 405, 501)
