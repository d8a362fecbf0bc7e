"""Slack and helpdesks failing under the real outbox over several passes: down, rate limited, 5xx, token revoked."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock

import httpx
import pytest
from sqlalchemy import Engine

from crawlers.job import CrawlReport
from loopback.freshdesk import FreshdeskServer
from loopback.helpdesk import HelpdeskServer
from loopback.jira import JiraServer
from loopback.slack import SlackServer
from loopback.zendesk import ZendeskServer
from responders.freshdesk import FreshdeskOptions, FreshdeskTickets
from responders.helpdesk import Helpdesk
from responders.jira import JiraIssues, JiraOptions
from responders.job import CREDENTIALS_WAIT, OUTAGE_RUN
from responders.routing import Route
from responders.slack import slack_client
from responders.zendesk import ZendeskOptions, ZendeskTickets
from scheduler.pipeline import RunReport
from store.model import Delivery, DeliveryStatus
from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.support.care import CHANNELS, Desk, post

POST = "/api/chat.postMessage"


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(channels=CHANNELS) as server:
        yield server


@pytest.fixture
def desk(engine: Engine, slack: SlackServer) -> Iterator[Desk]:
    # Backoff without jitter, so which rows are due at each pass is known; time itself moves by ``now=``.
    with mock.patch("responders.job.random.uniform", return_value=1.0):
        yield Desk(SqlAlchemyUnitOfWork(engine), slack)


def urgent_cases(desk: Desk, n: int) -> None:
    """``n`` unrelated urgent complaints: each its own alert (urgent ones are never folded or held back)."""
    desk.take(*[post(i, f"Kuzey Telekom kesinti {i} [network] [critical]", handle=f"kisi{i}") for i in range(1, n + 1)])


def on_wire(slack: SlackServer) -> Counter[str]:
    """How often each outbox key reached Slack (it travels as message metadata)."""
    return Counter(m.args["metadata"]["event_payload"]["key"] for m in slack.posted() if m.args.get("metadata"))


def rows(desk: Desk) -> list[Delivery]:
    with desk.uow:
        return [d for ticket in desk.uow.tickets.listed() for d in desk.uow.deliveries.alerts_of(ticket.id or 0)]


def statuses(desk: Desk) -> dict[str, int]:
    with desk.uow:
        return desk.uow.deliveries.count_by_status()


def test_slack_down_for_minutes_then_back_on_its_port_loses_nothing_and_repeats_nothing(
    desk: Desk, slack: SlackServer
) -> None:
    urgent_cases(desk, 8)
    start = datetime.now(UTC)
    slack.stop()  # connection refused from here on
    first = desk.deliver(at=start)
    assert first == {"retry_later": OUTAGE_RUN, "waiting_out_outage": 8 - OUTAGE_RUN}  # three tries, not eight
    assert sum(d.attempts for d in rows(desk)) == OUTAGE_RUN
    assert desk.deliver(at=start + timedelta(seconds=20)) == {}  # backoff: nothing is due yet
    for minute in (2, 4, 6):  # still down: each pass tries a few and leaves the rest untried
        assert desk.deliver(at=start + timedelta(minutes=minute))["retry_later"] == OUTAGE_RUN
    assert statuses(desk) == {"pending": 8}
    slack.start()  # back, on the same port
    assert desk.deliver(at=start + timedelta(minutes=30)) == {"sent": 8}
    assert sorted(on_wire(slack).values()) == [1] * 8 and statuses(desk) == {"sent": 8}
    # only the three that were really tried were looked for first; the rows given back untried cost no lookup
    assert len(slack.received("/api/conversations.history")) == OUTAGE_RUN


def test_an_answer_lost_after_slack_took_it_then_an_outage_during_the_lookup_still_posts_it_once(
    desk: Desk, slack: SlackServer
) -> None:
    urgent_cases(desk, 1)
    start = datetime.now(UTC)
    slack.drop_answer_next()  # Slack stores the alert; the connection dies before the answer
    assert desk.deliver(at=start) == {"retry_later": 1}
    slack.fail_next(times=1, status=503)  # the lookup for it meets an outage
    assert desk.deliver(at=start + timedelta(minutes=5)) == {"retry_later": 1}
    assert len(slack.posted()) == 1 and len(slack.received(POST)) == 1  # not posted blind while it cannot look
    slack.fail_next(times=1, status=502, error="bad_gateway")
    assert desk.deliver(at=start + timedelta(minutes=15)) == {"retry_later": 1}
    assert desk.deliver(at=start + timedelta(minutes=30)) == {"recovered": 1}
    assert list(on_wire(slack).values()) == [1] and statuses(desk) == {"sent": 1}


def test_a_lost_answer_is_found_behind_more_than_a_page_of_newer_messages(desk: Desk, slack: SlackServer) -> None:
    urgent_cases(desk, 1)
    start = datetime.now(UTC)
    slack.drop_answer_next()
    assert desk.deliver(at=start) == {"retry_later": 1}
    people = slack_client(SlackServer.DEFAULT_TOKEN, f"{slack.url}/api/")
    for n in range(230):  # a busy channel: more than one page of history since the first try
        people.chat_postMessage(channel="C0CARE01", text=f"vardiya notu {n}")
    assert desk.deliver(at=start + timedelta(minutes=5)) == {"recovered": 1}
    assert list(on_wire(slack).values()) == [1]
    assert len(slack.received("/api/conversations.history")) == 2  # it read on to the second page


def test_a_429_storm_costs_one_request_a_pass_and_everything_goes_once_after_retry_after(
    desk: Desk, slack: SlackServer
) -> None:
    urgent_cases(desk, 5)
    start = datetime.now(UTC)
    slack.rate_limit_next(times=100, retry_after=90)
    assert desk.deliver(at=start) == {"retry_later": 1, "waiting_out_rate_limit": 4}
    assert len(slack.received(POST)) == 1  # the other four never went on the wire
    with desk.uow:
        assert desk.uow.deliveries.pending(now=start + timedelta(seconds=89)) == []  # Retry-After holds for all
    assert desk.deliver(at=start + timedelta(seconds=60)) == {} and len(slack.received()) == 1
    assert desk.deliver(at=start + timedelta(seconds=100)) == {"retry_later": 1, "waiting_out_rate_limit": 4}
    assert len(slack.received()) == 2  # still storming: its lookup met the 429, and nothing else was tried
    slack.calm()
    assert desk.deliver(at=start + timedelta(minutes=10)) == {"sent": 5}
    assert sorted(on_wire(slack).values()) == [1] * 5
    assert [d.attempts for d in rows(desk)] == [3, 1, 1, 1, 1]  # only the one tried paid the storm's attempts


def test_a_token_revoked_mid_run_stops_sending_keeps_everything_pending_and_tells_the_operators(
    desk: Desk, slack: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    urgent_cases(desk, 6)
    start = datetime.now(UTC)
    slack.revoke_token_after(2, "token_revoked")
    counts = desk.deliver(at=start)
    # two went out, the third met the revoked token, the other three and the operators' notice were not tried
    assert counts == {"sent": 2, "waiting_for_credentials": 5}
    assert len(slack.received(POST)) == 3
    report = RunReport(crawl=CrawlReport(), delivered=counts)
    assert not report.ok and report.summary()["alerts_waiting"] == 5 and report.summary()["alerts_sent"] == 2
    waiting = [d for d in rows(desk) if d.status is DeliveryStatus.PENDING]
    assert len(waiting) == 4 and all("token_revoked" in (d.last_error or "") and d.attempts == 0 for d in waiting)
    assert desk.deliver(at=start + timedelta(seconds=60)) == {} and len(slack.received()) == 3  # no hammering
    later = start + timedelta(seconds=CREDENTIALS_WAIT + 1)
    assert desk.deliver(at=later) == {"waiting_for_credentials": 5} and len(slack.received()) == 4  # one look
    slack.restore_token()  # an operator installed a working token
    assert desk.deliver(at=later + timedelta(seconds=CREDENTIALS_WAIT + 1)) == {"sent": 5}
    assert sorted(on_wire(slack).values()) == [1] * 7 and statuses(desk) == {"sent": 7}
    (notice,) = slack.posted("#kulak-ops")
    assert "token_revoked" in notice.text and "#care-alerts" in notice.text
    assert SlackServer.DEFAULT_TOKEN not in caplog.text
    assert "refused Kulak's credentials" in caplog.text


# -- helpdesks ---------------------------------------------------------------------------------------------------


def helpdesk_for(kind: str) -> tuple[HelpdeskServer, Helpdesk]:
    client = httpx.Client(timeout=5)
    if kind == "zendesk":
        zd = ZendeskServer().start()
        options = ZendeskOptions(email=ZendeskServer.DEFAULT_EMAIL, group="360001")
        return zd, ZendeskTickets("care-desk", client, zd.url, options, ZendeskServer.DEFAULT_TOKEN)
    if kind == "freshdesk":
        fd = FreshdeskServer().start()
        fd_options = FreshdeskOptions(requester_email="sosyal@kuzeytelekom.example")
        return fd, FreshdeskTickets("care-desk", client, fd.url, fd_options, FreshdeskServer.DEFAULT_KEY)
    jira = JiraServer().start()
    jira_options = JiraOptions(email=JiraServer.DEFAULT_EMAIL, project="CARE")
    return jira, JiraIssues("care-desk", client, jira.url, jira_options, JiraServer.DEFAULT_TOKEN)


def opened(server: HelpdeskServer) -> Counter[str]:
    """How many tickets the helpdesk holds for each case, by Kulak's external id (id, tag or label)."""
    if isinstance(server, ZendeskServer):
        return Counter(str(t["external_id"]) for t in server.tickets.values())
    if isinstance(server, FreshdeskServer):
        return Counter(tag for t in server.tickets.values() for tag in t["tags"] if tag.startswith("kulak-case-"))
    assert isinstance(server, JiraServer)
    labels = [label for i in server.issues.values() for label in i["fields"].get("labels", [])]
    return Counter(label for label in labels if label.startswith("kulak-case-"))


@pytest.mark.parametrize("kind", ["zendesk", "freshdesk", "jira"])
def test_a_helpdesk_down_then_refusing_its_token_opens_every_case_once_when_it_is_fixed(
    desk: Desk, slack: SlackServer, kind: str
) -> None:
    server, helpdesk = helpdesk_for(kind)
    try:
        desk.helpdesks = [helpdesk]
        desk.routes = [Route("everything", helpdesk="care-desk")]
        urgent_cases(desk, 5)
        start = datetime.now(UTC)
        server.fail_next(times=OUTAGE_RUN, status=503)  # exactly as many requests as the outbox makes before it stops
        counts = desk.deliver(at=start)
        assert counts == {"sent": 5, "retry_later": OUTAGE_RUN, "waiting_out_outage": 5 - OUTAGE_RUN}  # Slack is up
        assert len(server.received()) == OUTAGE_RUN and opened(server) == {}
        server.revoke_after(0)
        counts = desk.deliver(at=start + timedelta(minutes=10))
        assert counts == {"waiting_for_credentials": 5, "sent": 1}  # the operators' notice went out in Slack
        assert len(server.received()) == OUTAGE_RUN + 1  # one request met the 401; the others were not made
        (notice,) = slack.posted("#kulak-ops")
        assert "401" in notice.text and "care-desk" in notice.text
        server.restore()
        assert desk.deliver(at=start + timedelta(minutes=30)) == {"sent": 5}
        assert sorted(opened(server).values()) == [1] * 5
        assert statuses(desk) == {"sent": 11}  # five alerts, five tickets, one notice
    finally:
        server.stop()
