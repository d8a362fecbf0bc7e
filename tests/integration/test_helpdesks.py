"""The helpdesk adapters over the wire: real httpx against the Zendesk, Freshdesk, Jira and webhook stand-ins."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from config.settings import HelpdeskSettings, Settings
from loopback.freshdesk import FreshdeskServer
from loopback.helpdesk import HelpdeskServer
from loopback.jira import JiraServer
from loopback.webhook import WebhookReceiver
from loopback.zendesk import ZendeskServer
from responders.alerts import CaseView
from responders.freshdesk import FreshdeskOptions, FreshdeskTickets
from responders.helpdesk import Helpdesk, build_helpdesks
from responders.jira import JiraIssues, JiraOptions
from responders.webhook import WebhookAlerter, WebhookOptions, verify_signature
from responders.zendesk import ZendeskOptions, ZendeskTickets
from store.errors import DeliveryError, DeliveryRejected
from store.model import (
    Analysis,
    CaseChange,
    Customer,
    Label,
    Mention,
    MentionStatus,
    RawMention,
    Ticket,
    TicketStatus,
    Urgency,
)

CARD = "4111 1111 1111 1111"
KINDS = ("zendesk", "freshdesk", "jira", "webhook")
TICKETING = ("zendesk", "freshdesk", "jira")


def make_case(**ticket_changes: Any) -> CaseView:
    raw = RawMention(
        source="sikayetvar",
        external_id="sv-77",
        url="https://www.sikayetvar.com/mavi-kargo/kolim-kayip",
        text=f"Kolim kayıp, kartımdan iki kez çekildi: {CARD}",
        fetched_at=datetime(2025, 11, 24, 8, 0, tzinfo=UTC),
        author_handle="kerem_t",
    )
    analysis = Analysis(
        lang="tr",
        brands=("Mavi Kargo",),
        sentiment=Label("negative", 0.93),
        intent=Label("complaint", 0.9),
        topics=(Label("delivery", 0.85),),
        urgency=Urgency("high", ("money_lost",)),
        pii=(),
        masked_text="Kolim kayıp, kartımdan iki kez çekildi: [KART]",
        analyzer="test",
    )
    ticket = Ticket(mention_id=77, brand="Mavi Kargo", priority="high", unit="care", summary="kayıp koli", id=41)
    customer = Customer(external_id="MK-2207", name="Kerem Tunç")
    return CaseView(replace(ticket, **ticket_changes), Mention(77, MentionStatus.MATCHED, raw), analysis, customer)


@dataclass
class Rig:
    """A stand-in and an adapter pointed at it, with the secret the stand-in accepts."""

    kind: str
    server: HelpdeskServer
    desk: Helpdesk
    secret: str

    def tickets(self) -> list[dict[str, Any]]:
        server = self.server
        if isinstance(server, ZendeskServer | FreshdeskServer):
            return list(server.tickets.values())
        if isinstance(server, JiraServer):
            return list(server.issues.values())
        assert isinstance(server, WebhookReceiver)
        return [e for e in server.events if e["event"] == "case.opened"]

    def wire(self) -> str:
        """Everything the stand-in received, headers and bodies, as one text."""
        return "\n".join(f"{r.headers}\n{r.body.decode('utf-8')}" for r in self.server.received())


def build(kind: str, server: HelpdeskServer, secret: str, **options: Any) -> Helpdesk:
    client = httpx.Client(timeout=5)
    if kind == "zendesk":
        zd = ZendeskOptions(**{"email": ZendeskServer.DEFAULT_EMAIL, "group": "360001", **options})
        return ZendeskTickets("zendesk-care", client, server.url, zd, secret)
    if kind == "freshdesk":
        fd = FreshdeskOptions(**{"requester_email": "sosyal@mavikargo.example", **options})
        return FreshdeskTickets("freshdesk-care", client, server.url, fd, secret)
    if kind == "jira":
        jira = JiraOptions(**{"email": JiraServer.DEFAULT_EMAIL, "project": "CARE", **options})
        return JiraIssues("jsm", client, server.url, jira, secret)
    return WebhookAlerter("hook", client, server.url + "/kulak/hook", WebhookOptions(**options), secret)


def start(kind: str) -> tuple[HelpdeskServer, str]:
    servers: dict[str, Callable[[], tuple[HelpdeskServer, str]]] = {
        "zendesk": lambda: (ZendeskServer(), ZendeskServer.DEFAULT_TOKEN),
        "freshdesk": lambda: (FreshdeskServer(), FreshdeskServer.DEFAULT_KEY),
        "jira": lambda: (JiraServer(), JiraServer.DEFAULT_TOKEN),
        "webhook": lambda: (WebhookReceiver(), WebhookReceiver.DEFAULT_SECRET),
    }
    server, secret = servers[kind]()
    return server.start(), secret


@pytest.fixture(params=KINDS)
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    server, secret = start(request.param)
    try:
        yield Rig(request.param, server, build(request.param, server, secret), secret)
    finally:
        server.stop()


@pytest.fixture(params=TICKETING)
def desk_rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    server, secret = start(request.param)
    try:
        yield Rig(request.param, server, build(request.param, server, secret), secret)
    finally:
        server.stop()


def open_case(desk: Helpdesk, case: CaseView | None = None, key: str = "desk:ticket:41") -> str:
    return desk.send(desk.render(case or make_case()), desk.target, key=key)


# -- every adapter ------------------------------------------------------------------------------------
def test_opening_creates_exactly_one_ticket_and_only_the_masked_text_travels(rig: Rig) -> None:
    ref = open_case(rig.desk)
    [ticket] = rig.tickets()
    wire = rig.wire()
    assert "[KART]" in wire and CARD not in wire and "4111" not in wire
    assert ref and rig.secret not in wire  # Basic auth encodes it; the webhook never sends it at all
    if rig.kind == "webhook":
        assert ref == "case-1" and ticket["case"]["id"] == 41 and ticket["id"] == "desk:ticket:41"


def test_a_resend_after_a_crash_opens_no_second_ticket(rig: Rig) -> None:
    first = open_case(rig.desk)
    again = open_case(rig.desk)  # the outbox crashed before it recorded the first answer
    assert again == first and len(rig.tickets()) == 1


def test_a_wrong_secret_is_rejected_without_the_secret_in_the_message(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-secret-9f2c"
    desk = build(rig.kind, rig.server, wrong)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DeliveryRejected, match="401") as caught:
        desk.send(desk.render(make_case()), key="k1")
    assert wrong not in str(caught.value) and wrong not in caplog.text
    assert rig.tickets() == []


def test_a_long_rate_limit_goes_back_to_the_outbox(rig: Rig) -> None:
    rig.server.rate_limit_next(times=1, retry_after=60)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="Retry-After 60 s") as caught:
        open_case(rig.desk)
    assert not isinstance(caught.value, DeliveryRejected) and caught.value.retry_after == 60
    assert time.monotonic() - started < 5 and len(rig.server.received()) == 1


def test_a_short_rate_limit_is_waited_out_once(rig: Rig) -> None:
    rig.server.rate_limit_next(times=1, retry_after=0.01)
    assert open_case(rig.desk)
    assert len(rig.tickets()) == 1


def test_two_rate_limits_in_a_row_are_a_delivery_error(rig: Rig) -> None:
    rig.server.rate_limit_next(times=2, retry_after=0)
    with pytest.raises(DeliveryError, match="429"):
        open_case(rig.desk)
    assert rig.tickets() == []


@pytest.mark.parametrize("status", [500, 503])
def test_an_outage_is_worth_retrying(rig: Rig, status: int) -> None:
    rig.server.fail_next(times=1, status=status)
    with pytest.raises(DeliveryError, match=str(status)) as caught:
        open_case(rig.desk)
    assert not isinstance(caught.value, DeliveryRejected)
    assert open_case(rig.desk) and len(rig.tickets()) == 1  # the outbox's next try goes through


def test_an_unreachable_helpdesk_is_worth_retrying(rig: Rig) -> None:
    rig.server.stop()
    with pytest.raises(DeliveryError, match="unreachable") as caught:
        open_case(rig.desk)
    assert not isinstance(caught.value, DeliveryRejected)


def test_a_change_without_the_ticket_it_updates_is_rejected(rig: Rig) -> None:
    [payload] = rig.desk.render_change(make_case(), CaseChange(41, "assigned", "Ece üstlendi"))
    with pytest.raises(DeliveryRejected, match="needs the ticket"):
        rig.desk.send(payload, key="k2")


# -- the ticketing APIs -------------------------------------------------------------------------------
def change_case(desk: Helpdesk, ref: str, key: str, **ticket: Any) -> None:
    case = make_case(**ticket)
    change = CaseChange(ticket_id=41, kind="waiting", summary="Ece müşteriden takip numarası istedi", actor="U0ECE")
    for payload in desk.render_change(case, change):
        assert desk.send(payload, desk.target, key=key, parent_ref=ref) == ref


def test_a_change_updates_the_same_ticket_once_even_when_resent(desk_rig: Rig) -> None:
    ref = open_case(desk_rig.desk)
    for _ in range(2):  # the second time: the outbox lost the answer and sends the same key again
        change_case(desk_rig.desk, ref, "desk:change:41:1", status=TicketStatus.WAITING, priority="urgent")
    server = desk_rig.server
    if isinstance(server, ZendeskServer):
        ticket = server.tickets[int(ref)]
        assert (ticket["status"], ticket["priority"]) == ("pending", "urgent")
        notes = [c for c in server.comments[int(ref)] if "takip numarası" in c["body"]]
        assert len(notes) == 1 and notes[0]["public"] is False
    elif isinstance(server, FreshdeskServer):
        ticket = server.tickets[int(ref)]
        assert (ticket["status"], ticket["priority"]) == (3, 4)
        assert len(server.notes[int(ref)]) == 1 and server.notes[int(ref)][0]["private"] is True
        assert "takip numarası" in server.notes[int(ref)][0]["body"]
    else:
        assert isinstance(server, JiraServer)
        fields = server.issues[ref]["fields"]
        assert (fields["status"]["name"], fields["priority"]["name"]) == ("Waiting for customer", "Highest")
        [comment] = server.comments[ref]
        assert comment["properties"] == [{"key": "sd.public.comment", "value": {"internal": True}}]
    assert len(desk_rig.tickets()) == 1


def test_zendesk_ticket_fields_auth_and_idempotency_key() -> None:
    with ZendeskServer() as server:
        desk = build("zendesk", server, ZendeskServer.DEFAULT_TOKEN, requester_email="sosyal@mavikargo.example")
        ref = open_case(desk, make_case(queue=""), key="zd:ticket:41")
        ticket = server.tickets[int(ref)]
        assert ticket["subject"] == "[Mavi Kargo] kayıp koli" and ticket["priority"] == "high"
        assert ticket["group_id"] == 360001 and ticket["external_id"] == "kulak-case-41"
        assert ticket["tags"] == ["kulak", "kulak-case-41", "mavi-kargo", "delivery"]
        assert "Kerem Tunç (MK-2207)" in ticket["description"] and server.comments[int(ref)][0]["public"] is False
        [create] = server.received("/api/v2/tickets.json")[1:]
        assert create.headers["idempotency-key"] == "zd:ticket:41"
        assert create.headers["authorization"].startswith("Basic ")
        assert create.json()["ticket"]["requester"] == {"name": "Kulak", "email": "sosyal@mavikargo.example"}


def test_zendesk_finds_the_ticket_by_external_id_once_the_idempotency_key_expired() -> None:
    with ZendeskServer() as server:
        desk = build("zendesk", server, ZendeskServer.DEFAULT_TOKEN)
        first = open_case(desk)
        server.expire_keys()  # the outbox resends hours after a crash
        assert open_case(desk) == first and len(server.tickets) == 1


def test_zendesk_replays_a_create_with_the_same_idempotency_key() -> None:
    with ZendeskServer() as server:
        auth = (f"{ZendeskServer.DEFAULT_EMAIL}/token", ZendeskServer.DEFAULT_TOKEN)
        body = {"ticket": {"subject": "s", "comment": {"body": "b", "public": False}}}
        post = lambda data: httpx.post(  # noqa: E731
            server.url + "/api/v2/tickets.json", json=data, auth=auth, headers={"Idempotency-Key": "k-1"}
        )
        first, second = post(body), post(body)
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json() and len(server.tickets) == 1
        assert (first.headers["x-idempotency-lookup"], second.headers["x-idempotency-lookup"]) == ("miss", "hit")
        other = post({"ticket": {"subject": "other", "comment": {"body": "b"}}})
        assert other.status_code == 400 and other.json()["error"] == "IdempotentRequestError"


def test_zendesk_validation_errors_are_rejected_with_zendesks_words() -> None:
    with ZendeskServer() as server:
        desk = build("zendesk", server, ZendeskServer.DEFAULT_TOKEN)
        with pytest.raises(DeliveryRejected, match="Group: is invalid"):
            open_case(desk, make_case(queue="999"), key="zd:ticket:41")
        ref = open_case(desk, key="zd:ticket:41:again")  # same key, other body: Zendesk would refuse it
        server.tickets[int(ref)]["status"] = "closed"
        with pytest.raises(DeliveryRejected, match="closed prevents ticket update"):
            change_case(desk, ref, "k-closed", status=TicketStatus.RESOLVED)


def test_freshdesk_ticket_fields_and_the_tag_lookup() -> None:
    with FreshdeskServer() as server:
        desk = build("freshdesk", server, FreshdeskServer.DEFAULT_KEY, group="43000001")
        ref = open_case(desk)
        ticket = server.tickets[int(ref)]
        assert (ticket["priority"], ticket["status"], ticket["group_id"]) == (3, 2, 43000001)
        assert ticket["email"] == "sosyal@mavikargo.example" and "kulak-case-41" in ticket["tags"]
        assert "<strong>Müşteri / Customer:</strong> Kerem Tunç (MK-2207)" in ticket["description"]
        [search] = server.received("/api/v2/search/tickets")
        assert search.query["query"] == ["\"tag:'kulak-case-41'\""]
        expected = base64.b64encode(f"{FreshdeskServer.DEFAULT_KEY}:X".encode()).decode()
        assert search.headers["authorization"] == f"Basic {expected}"


def test_jira_issue_fields_and_a_status_the_workflow_cannot_reach() -> None:
    with JiraServer() as server:
        desk = build("jira", server, JiraServer.DEFAULT_TOKEN, statuses={"waiting": "Escalated to vendor"})
        ref = open_case(desk, make_case(queue="Kargo Hasar"))
        fields = server.issues[ref]["fields"]
        assert ref == "CARE-1" and fields["issuetype"] == {"name": "Task"}
        assert fields["summary"] == "[Mavi Kargo] kayıp koli" and "kulak-queue-kargo-hasar" in fields["labels"]
        change_case(desk, ref, "k-w", status=TicketStatus.WAITING)  # no transition there: left as it is
        assert server.issues[ref]["fields"]["status"] == {"name": "Open"} and len(server.comments[ref]) == 1


def test_jira_refuses_an_unknown_project_in_its_own_words() -> None:
    with JiraServer() as server:
        desk = build("jira", server, JiraServer.DEFAULT_TOKEN, project="NOPE")
        with pytest.raises(DeliveryRejected, match="project: valid project is required"):
            open_case(desk)


# -- the signed webhook -------------------------------------------------------------------------------
def test_the_webhook_is_signed_and_a_forged_or_stale_one_is_refused() -> None:
    with WebhookReceiver() as receiver:
        secret = WebhookReceiver.DEFAULT_SECRET
        open_case(build("webhook", receiver, secret))
        [request] = receiver.received()
        stamp, signature = request.headers["x-kulak-timestamp"], request.headers["x-kulak-signature"]
        assert verify_signature(secret, stamp, request.body, signature, now=time.time())
        assert not verify_signature(secret, stamp, request.body + b" ", signature, now=time.time())
        url, ten_minutes_ago = receiver.url + "/kulak/hook", lambda: time.time() - 600
        stale = WebhookAlerter("hook", httpx.Client(), url, WebhookOptions(), secret, clock=ten_minutes_ago)
        with pytest.raises(DeliveryRejected, match="stale"):
            stale.send(stale.render(make_case(id=42)), key="k-stale")
        assert len(receiver.events) == 1


def test_a_webhook_receiver_without_an_id_gets_the_key_back() -> None:
    with WebhookReceiver(answer_ids=False) as receiver:
        desk = build("webhook", receiver, WebhookReceiver.DEFAULT_SECRET)
        assert open_case(desk, key="hook:ticket:41") == "hook:ticket:41"


def test_a_webhook_change_carries_the_change_and_the_ref() -> None:
    with WebhookReceiver() as receiver:
        desk = build("webhook", receiver, WebhookReceiver.DEFAULT_SECRET)
        ref = open_case(desk)
        change_case(desk, ref, "hook:change:41:1", status=TicketStatus.WAITING)
        event = receiver.events[-1]
        assert event["event"] == "case.changed" and event["ref"] == ref and event["case"]["status"] == "waiting"
        summary = "Ece müşteriden takip numarası istedi"
        assert event["change"] == {"kind": "waiting", "summary": summary, "actor": "U0ECE", "at": None}


# -- from settings ------------------------------------------------------------------------------------
def test_from_settings_talks_to_the_configured_helpdesk_with_kulaks_user_agent() -> None:
    with JiraServer() as server:
        options = {"email": JiraServer.DEFAULT_EMAIL, "project": "CARE"}
        table = HelpdeskSettings(name="jsm", type="jira", base_url=server.url + "/", timeout=3.0, options=options)
        settings = Settings(helpdesks=(table,), environ={"KULAK_JIRA_TOKEN": JiraServer.DEFAULT_TOKEN})
        [desk] = build_helpdesks(settings)
        assert desk.send(desk.render(make_case()), key="jsm:ticket:41") == "CARE-1"
        assert all(r.headers["user-agent"] == settings.crawl.agent() for r in server.received())
