"""Helpdesk adapters without I/O: what goes in a ticket, error texts, webhook signatures, building from settings."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from config.settings import HelpdeskSettings, Settings
from loopback.jira import is_adf
from responders.alerts import CaseView
from responders.freshdesk import FreshdeskOptions, FreshdeskTickets
from responders.helpdesk import Helpdesk, build_helpdesks, error_text, helpdesk_types, retry_after
from responders.jira import JiraIssues, JiraOptions
from responders.ticket_text import case_tags, plain_body, slug, subject
from responders.webhook import WebhookAlerter, WebhookOptions, sign, verify_signature
from responders.zendesk import ZendeskOptions, ZendeskTickets
from store.errors import ConfigError, NotConfigured
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


def make_case(**ticket_changes: Any) -> CaseView:
    raw = RawMention(
        source="sikayetvar",
        external_id="sv-31",
        url="https://www.sikayetvar.com/kuzey-telekom/fatura-iki-kez",
        text=f"Faturam iki kez kesildi, kartım {CARD} <script>alert(1)</script>",
        fetched_at=datetime(2025, 11, 23, 9, 30, tzinfo=UTC),
        author_handle="deniz_k",
    )
    analysis = Analysis(
        lang="tr",
        brands=("Kuzey Telekom",),
        sentiment=Label("negative", 0.91),
        intent=Label("complaint", 0.87),
        topics=(Label("billing", 0.8), Label("Fatura İtirazı", 0.6)),
        urgency=Urgency("high", ("repeat_contact",)),
        pii=(),
        masked_text="Faturam iki kez kesildi, kartım [KART] <script>alert(1)</script>",
        analyzer="test",
    )
    ticket = Ticket(
        mention_id=31,
        brand="Kuzey Telekom",
        priority="high",
        unit="finance",
        summary="fatura iki kez kesildi",
        id=12,
        respond_by=datetime(2025, 11, 23, 13, 30, tzinfo=UTC),
    )
    ticket = replace(ticket, **ticket_changes)
    customer = Customer(external_id="M-1001", name="Ayşe Demir", vip=True)
    mention = Mention(31, MentionStatus.MATCHED, raw)
    return CaseView(ticket, mention, analysis, customer, draft="Merhaba Ayşe Hanım, kaydınızı inceliyoruz.")


def adapters() -> list[Helpdesk]:
    client = httpx.Client()
    return [
        ZendeskTickets("zd", client, "https://kt.zendesk.example", ZendeskOptions(email="a@kt.example"), "t"),
        FreshdeskTickets("fd", client, "https://kt.freshdesk.example", FreshdeskOptions(requester_email="s@kt"), "k"),
        JiraIssues("jira", client, "https://kt.atlassian.example", JiraOptions(email="b@kt", project="CARE"), "t"),
        WebhookAlerter("hook", client, "https://hooks.kt.example/kulak", WebhookOptions(), "s"),
    ]


@pytest.mark.parametrize("desk", adapters(), ids=lambda d: d.kind)
def test_payloads_are_json_and_carry_the_masked_text_but_never_the_raw_one(desk: Helpdesk) -> None:
    case = make_case()
    change = CaseChange(ticket_id=12, kind="waiting", summary="Ayşe müşteriden fatura no istedi", actor="U0AYSE")
    payloads = [desk.render(case), *desk.render_change(case, change)]
    text = json.dumps(payloads, ensure_ascii=False)
    assert CARD not in text and "4111" not in text
    assert "[KART]" in text
    assert payloads[0]["op"] == "open" and all(p["op"] == "update" for p in payloads[1:])


def test_subject_tags_and_slugs() -> None:
    case = make_case(summary="fatura\n iki   kez")
    assert subject(case) == "[Kuzey Telekom] fatura iki kez"
    assert case_tags(case) == ["kulak", "kulak-case-12", "kuzey-telekom", "billing", "fatura-itirazi"]
    assert slug("Yıldız Bank / Şube Çağrı") == "yildiz-bank-sube-cagri"
    assert len(subject(make_case(summary="x" * 400))) <= 250


def test_the_plain_body_names_the_customer_the_deadline_and_the_draft() -> None:
    body = plain_body(make_case())
    assert body.startswith("Faturam iki kez kesildi, kartım [KART]")
    for expected in ("#12", "high", "finance", "2025-11-23T13:30+00:00", "Ayşe Demir (M-1001) · VIP", "billing"):
        assert expected in body
    assert "https://www.sikayetvar.com/kuzey-telekom/fatura-iki-kez" in body
    assert body.rstrip().endswith("Merhaba Ayşe Hanım, kaydınızı inceliyoruz.")
    unmatched = plain_body(replace(make_case(), customer=None, draft=""))
    assert "eşleşmedi" in unmatched and "Önerilen yanıt" not in unmatched


def test_a_case_without_an_id_cannot_be_opened() -> None:
    with pytest.raises(ValueError, match="no id"):
        adapters()[0].render(make_case(id=None))


def test_zendesk_maps_priority_status_and_the_group() -> None:
    desk = ZendeskTickets("zd", httpx.Client(), "https://z.example", ZendeskOptions(email="a@b", group="7"), "t")
    opened = desk.render(make_case(priority="urgent"))
    assert opened["ticket"]["priority"] == "urgent" and opened["group"] == "7"
    assert opened["ticket"]["comment"]["public"] is False and opened["ticket"]["external_id"] == "kulak-case-12"
    assert desk.render(make_case(queue="99"))["group"] == "99"
    change = CaseChange(ticket_id=12, kind="closed", summary="kapandı")
    [update] = desk.render_change(make_case(status=TicketStatus.CLOSED), change)
    assert update["status"] == "solved" and update["comment"] == "Kulak: kapandı"


def test_freshdesk_escapes_html_and_uses_its_numbers() -> None:
    desk = FreshdeskTickets("fd", httpx.Client(), "https://f.example", FreshdeskOptions(requester_email="s@k"), "k")
    ticket = desk.render(make_case(priority="low"))["ticket"]
    assert "<script>" not in ticket["description"] and "&lt;script&gt;" in ticket["description"]
    assert '<a href="https://www.sikayetvar.com/kuzey-telekom/fatura-iki-kez">' in ticket["description"]
    assert (ticket["priority"], ticket["status"]) == (1, 2)
    [update] = desk.render_change(make_case(status=TicketStatus.WAITING), CaseChange(12, "waiting", "<b>bekliyor</b>"))
    assert update["status"] == 3 and "<b>" not in update["note"]


def test_jira_writes_atlassian_documents_and_its_own_names() -> None:
    desk = JiraIssues("jira", httpx.Client(), "https://j.example", JiraOptions(email="b@k", project="CARE"), "t")
    fields = desk.render(make_case(priority="urgent"))["fields"]
    assert is_adf(fields["description"]) and fields["priority"] == {"name": "Highest"}
    assert fields["project"] == {"key": "CARE"} and "kulak-case-12" in fields["labels"]
    links = [m for p in fields["description"]["content"] for n in p["content"] for m in n.get("marks", [])]
    assert links == [{"type": "link", "attrs": {"href": "https://www.sikayetvar.com/kuzey-telekom/fatura-iki-kez"}}]
    [update] = desk.render_change(make_case(status=TicketStatus.WAITING), CaseChange(12, "waiting", "bekliyor"))
    assert update["status"] == "Waiting for customer" and update["priority"] == "High"
    quiet = JiraIssues(
        "j", httpx.Client(), "https://j.example", JiraOptions(email="b", project="C", priorities={}), "t"
    )
    assert "priority" not in quiet.render(make_case())["fields"]


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (422, {"error": "RecordInvalid", "details": {"priority": [{"description": "Priority: is not valid"}]}},
         "RecordInvalid; priority: Priority: is not valid"),
        (400, {"description": "Validation failed", "errors": [{"field": "email", "message": "bad", "code": "x"}]},
         "Validation failed; email: bad"),
        (400, {"errorMessages": [], "errors": {"summary": "You must specify a summary of the issue."}},
         "summary: You must specify a summary of the issue."),
        (401, {"code": "invalid_credentials", "message": "You have to be logged in"}, "You have to be logged in"),
    ],
)  # fmt: skip
def test_error_text_reads_each_helpdesks_error_shape(status: int, body: object, expected: str) -> None:
    assert error_text(httpx.Response(status, json=body)) == expected


def test_error_text_of_a_non_json_page_is_trimmed() -> None:
    text = error_text(httpx.Response(502, text="<html>" + "x " * 500 + "</html>"))
    assert text.startswith("<html>x x") and len(text) <= 300


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("0.5", 0.5), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None), (None, None)],
)
def test_retry_after_reads_seconds(header: str | None, seconds: float | None) -> None:
    headers = {"Retry-After": header} if header is not None else {}
    assert retry_after(httpx.Response(429, headers=headers)) == seconds


@pytest.mark.parametrize("kind", ["zendesk", "freshdesk", "jira", "webhook"])
def test_every_helpdesk_type_and_option_is_documented(kind: str) -> None:
    cls = helpdesk_types()[kind]
    assert cls.kind == kind and (cls.__doc__ or "").strip(), f"{cls.__name__} needs a docstring"
    for f in dataclasses.fields(cls.Options):
        assert f.metadata.get("doc", "").strip(), f"{kind} option {f.name} has no doc line"
    assert cls.secret_option.endswith("_env") and cls.secret_option in {f.name for f in dataclasses.fields(cls.Options)}


# -- the webhook signature ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("secret", "stamp", "body", "now", "valid"),
    [
        ("s3cret", "1764000000", b'{"a":1}', 1764000100.0, True),
        ("other", "1764000000", b'{"a":1}', 1764000100.0, False),  # forged: another secret
        ("s3cret", "1764000000", b'{"a":2}', 1764000100.0, False),  # the body was changed
        ("s3cret", "1764000000", b'{"a":1}', 1764000301.0, False),  # older than five minutes
        ("s3cret", "1764000400", b'{"a":1}', 1764000000.0, False),  # from the future
        ("", "1764000000", b'{"a":1}', 1764000100.0, False),  # no secret never verifies
    ],
)
def test_verify_signature(secret: str, stamp: str, body: bytes, now: float, valid: bool) -> None:
    signature = sign("s3cret", "1764000000", b'{"a":1}')
    assert verify_signature(secret, stamp, body, signature, now) is valid


def test_verify_signature_refuses_garbage_and_accepts_one_of_several() -> None:
    good = sign("s3cret", "1764000000", b"{}")
    assert not verify_signature("s3cret", "17640e5", b"{}", good, 1764000000.0)
    assert not verify_signature("s3cret", "1764000000", b"{}", "v1=deadbeef", 1764000000.0)
    assert verify_signature("s3cret", "1764000000", b"{}", f"v1=old,{good}", 1764000000.0)


# -- from settings ------------------------------------------------------------------------------------
def settings_with(*desks: HelpdeskSettings, env: dict[str, str] | None = None) -> Settings:
    return Settings(helpdesks=desks, environ=env or {})


def zendesk_table(**changes: Any) -> HelpdeskSettings:
    options = {"email": "agent@kt.example", "group": "360001"}
    table = HelpdeskSettings(
        name="zendesk-care", type="zendesk", base_url="https://kt.zendesk.example", options=options
    )
    return replace(table, **changes)


def test_build_helpdesks_builds_the_enabled_ones_and_says_why_others_are_off() -> None:
    tables = (
        zendesk_table(),
        HelpdeskSettings(name="fd", type="freshdesk", base_url="https://kt.freshdesk.example",
                         options={"requester_email": "s@kt.example"}),
        HelpdeskSettings(name="old-jira", type="jira", enabled=False, base_url="https://kt.atlassian.example"),
    )  # fmt: skip
    off: dict[str, str] = {}
    built = build_helpdesks(settings_with(*tables, env={"KULAK_ZENDESK_TOKEN": "zd-secret"}), off)
    assert [(d.name, d.target) for d in built] == [("zendesk-care", "360001")]
    assert "KULAK_FRESHDESK_API_KEY" in off["fd"] and "enabled = false" in off["old-jira"]
    assert "zd-secret" not in " ".join(off.values())


@pytest.mark.parametrize(
    ("table", "key"),
    [
        (zendesk_table(type="servicenow"), "helpdesks[0].type"),
        (zendesk_table(base_url=""), "helpdesks[0].base_url"),
        (zendesk_table(base_url="kt.zendesk.example"), "helpdesks[0].base_url"),
        (zendesk_table(base_url="http://kt.zendesk.example"), "helpdesks[0].base_url"),
        (zendesk_table(timeout=0.0), "helpdesks[0].timeout"),
        (zendesk_table(options={"group": "1"}), "helpdesks[0].email"),
        (zendesk_table(options={"email": "a@b", "group": "Kargo"}), "helpdesks[0].group"),
        (zendesk_table(options={"email": "a@b", "tokn_env": "X"}), "helpdesks[0].tokn_env"),
        (zendesk_table(options={"email": "a@b", "token_env": ""}), "helpdesks[0].token_env"),
        (zendesk_table(type="freshdesk", options={}), "helpdesks[0].requester_email"),
        (zendesk_table(type="jira", options={"email": "a@b"}), "helpdesks[0].project"),
        (zendesk_table(type="jira", options={"email": "a", "project": "C", "priorities": {"asap": "High"}}),
         "helpdesks[0].priorities.asap"),
        (zendesk_table(type="jira", options={"email": "a", "project": "C", "statuses": {"done": "Done"}}),
         "helpdesks[0].statuses.done"),
        (zendesk_table(type="webhook", options={"secret_env": 5}), "helpdesks[0].secret_env"),
    ],
)  # fmt: skip
def test_a_bad_table_is_a_config_error_naming_the_key(table: HelpdeskSettings, key: str) -> None:
    env = {"KULAK_ZENDESK_TOKEN": "t", "KULAK_FRESHDESK_API_KEY": "k", "KULAK_JIRA_TOKEN": "j"}
    with pytest.raises(ConfigError) as caught:
        build_helpdesks(settings_with(table, env=env))
    assert caught.value.key == key


def test_two_helpdesks_with_one_name_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="used twice") as caught:
        build_helpdesks(settings_with(zendesk_table(), zendesk_table(), env={"KULAK_ZENDESK_TOKEN": "t"}))
    assert caught.value.key == "helpdesks[1].name"


@pytest.mark.parametrize(
    ("kind", "options", "variable"),
    [
        ("zendesk", {"email": "a@b"}, "KULAK_ZENDESK_TOKEN"),
        ("freshdesk", {"requester_email": "s@k"}, "KULAK_FRESHDESK_API_KEY"),
        ("jira", {"email": "a@b", "project": "CARE"}, "KULAK_JIRA_TOKEN"),
        ("webhook", {}, "KULAK_WEBHOOK_SECRET"),
        ("webhook", {"secret_env": "HOOK_SECRET"}, "HOOK_SECRET"),
    ],
)
def test_a_missing_secret_switches_the_helpdesk_off(kind: str, options: dict[str, Any], variable: str) -> None:
    table = HelpdeskSettings(name="d", type=kind, base_url="https://desk.example", options=options)
    with pytest.raises(NotConfigured, match=variable):
        helpdesk_types()[kind].from_settings(table, settings_with(table), 0)
    off: dict[str, str] = {}
    assert build_helpdesks(settings_with(table), off) == [] and variable in off["d"]
    assert [d.name for d in build_helpdesks(settings_with(table, env={variable: "set"}))] == ["d"]
