"""The Slack alert as rendered: escaped, masked, within Slack's limits; and how Slack errors are translated."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from loopback.slack import block_problems
from responders.alerts import NOT_MATCHED, Alerter, CaseView
from responders.slack import ConsoleAlerter, SlackAlerter
from responders.slack_text import escape, escaped_clip, link, slack_len
from store.errors import DeliveryError, DeliveryRejected
from store.model import Analysis, Customer, Label, Mention, MentionStatus, PiiSpan, RawMention, Ticket, Urgency

RAW_TEXT = "TC kimlik 12345678901, telefonum 0532 123 45 67. İnternet üç gündür yok!"
MASKED_TEXT = "TC kimlik [TCKN], telefonum [TELEFON]. İnternet üç gündür yok!"


def make_case(
    *,
    raw_text: str = RAW_TEXT,
    masked: str = MASKED_TEXT,
    url: str = "https://www.sikayetvar.com/kuzey-telekom/internet-yok",
    handle: str = "ayse_k",
    customer: Customer | None = None,
    brand: str = "Kuzey Telekom",
    topics: tuple[str, ...] = ("internet", "outage"),
) -> CaseView:
    raw = RawMention(
        source="sikayetvar",
        external_id="sv-1",
        url=url,
        text=raw_text,
        fetched_at=datetime(2025, 11, 23, 10, 0, tzinfo=UTC),
        brand=brand,
        author="Ayşe K.",
        author_handle=handle,
    )
    analysis = Analysis(
        lang="tr",
        brands=(brand,),
        sentiment=Label("negative", 0.93),
        intent=Label("complaint", 0.81),
        topics=tuple(Label(t, 0.7) for t in topics),
        urgency=Urgency("high", ("outage", "repeat")),
        pii=(PiiSpan("tckn", 10, 21), PiiSpan("phone", 33, 47)),
        masked_text=masked,
        analyzer="test",
    )
    ticket = Ticket(mention_id=7, brand=brand, priority="urgent", unit="network", summary="internet yok", id=42)
    return CaseView(ticket, Mention(7, MentionStatus.MATCHED, raw), analysis, customer)


def render(case: CaseView) -> dict[str, Any]:
    return SlackAlerter(WebClient(token="xoxb-unused"), "#care-alerts").render(case)


def section_text(payload: dict[str, Any]) -> str:
    return str(payload["blocks"][1]["text"]["text"])


def test_outside_text_is_escaped_so_it_cannot_ping_or_forge_links() -> None:
    hostile = "Dikkat <!channel> <!here> <@U123> <http://evil.example|tıkla> AT&T"
    case = make_case(
        masked=hostile,
        handle="<!here>",
        topics=("fatura & ödeme", "<#C999>"),
        customer=Customer(external_id="c1", name="Ali <@U999>"),
    )
    payload = render(case)
    dumped = json.dumps(payload, ensure_ascii=False)
    for forbidden in ("<!channel>", "<!here>", "<@U123>", "<@U999>", "<http://evil", "<#C999>"):
        assert forbidden not in dumped
    text = section_text(payload)
    assert "&lt;!channel&gt;" in text and "&lt;@U123&gt;" in text
    assert "&lt;http://evil.example|tıkla&gt;" in text and "AT&amp;T" in text
    assert "&lt;!here&gt;" in dumped and "fatura &amp; ödeme" in dumped and "Ali &lt;@U999&gt;" in dumped
    assert "&lt;!channel&gt;" in payload["text"]
    assert payload["blocks"][1]["text"]["verbatim"] is True  # no auto-linking of bare URLs or #channels either


def test_a_long_text_is_cut_to_slacks_limits_with_an_ellipsis() -> None:
    for masked in ("a" * 10_000, "&<>" * 3_400, "ş😀" * 5_000):
        payload = render(make_case(masked=masked))
        text = section_text(payload)
        assert slack_len(text) <= 3000 and text.endswith("…")
        assert not text[:-1].endswith(("&", "&a", "&am", "&amp", "&l", "&lt", "&g", "&gt"))
        assert len(payload["text"]) < 4000
        assert block_problems(payload["blocks"]) == []


def test_escaping_first_then_cutting_never_leaves_half_an_entity() -> None:
    assert escaped_clip("a&b", 100) == "a&amp;b"
    assert escaped_clip("&&&", 8) == "&amp;…"
    assert escape("<a href='x'>&</a>") == "&lt;a href='x'&gt;&amp;&lt;/a&gt;"


def test_the_masked_text_is_shown_and_the_raw_identifiers_are_not() -> None:
    case = make_case()
    slack = json.dumps(render(case), ensure_ascii=False)
    console = ConsoleAlerter().render(case)["text"]
    for shown in (slack, console):
        assert "[TCKN]" in shown and "[TELEFON]" in shown
        assert "12345678901" not in shown and "0532 123 45 67" not in shown


def test_the_matched_customer_is_named_and_an_unmatched_one_says_so() -> None:
    matched = json.dumps(render(make_case(customer=Customer(external_id="c1", name="Ayşe Kaya"))), ensure_ascii=False)
    assert "Ayşe Kaya" in matched
    unmatched = json.dumps(render(make_case()), ensure_ascii=False)
    assert NOT_MATCHED in unmatched


def test_candidates_waiting_for_an_agent_are_listed_escaped_with_their_confidence() -> None:
    waiting = (Customer("c1", "Ayşe <@U1> Kaya"), 0.72), (Customer("c2", "Elif Kaya", vip=True), 0.55)
    case = replace(make_case(), suggested=waiting)
    shown = json.dumps(render(case), ensure_ascii=False)
    assert "onay bekliyor / to confirm: Ayşe &lt;@U1&gt; Kaya (0.72), Elif Kaya (0.55)" in shown
    vip = json.dumps(render(make_case(customer=Customer("c2", "Elif Kaya", vip=True))), ensure_ascii=False)
    assert "Elif Kaya (VIP)" in vip


def test_fields_and_context_carry_the_case() -> None:
    payload = render(make_case())
    fields = " ".join(f["text"] for f in payload["blocks"][2]["fields"])
    for expected in (
        "sikayetvar",
        "ayse_k",
        "negative (0.93)",
        "complaint (0.81)",
        "internet, outage",
        "high — outage, repeat",
        "network",
        "*Durum / Status*\nnew",
    ):
        assert expected in fields
    context = payload["blocks"][3]["elements"][0]["text"]
    assert context.startswith("<https://www.sikayetvar.com/kuzey-telekom/internet-yok|")
    assert payload["blocks"][0]["text"]["text"] == "🔴 Kuzey Telekom · urgent · #42"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "ftp://x.example/a", "http://", "x"])
def test_a_url_that_is_not_http_is_not_linked(url: str) -> None:
    context = render(make_case(url=url))["blocks"][3]["elements"][0]["text"]
    assert "<" not in context and "|" not in context
    assert link(url, "open") is None


def test_a_url_cannot_break_out_of_its_link() -> None:
    made = link("https://example.com/a|b>c <!channel>&x=1", "aç")
    assert made == "<https://example.com/a%7Cb%3Ec%20%3C!channel%3E&amp;x=1|aç>"


def test_the_header_stays_within_150_characters() -> None:
    payload = render(make_case(brand="Çok Uzun Marka Adı " * 20))
    header = payload["blocks"][0]["text"]
    assert header["type"] == "plain_text" and slack_len(header["text"]) <= 150 and header["text"].endswith("…")
    assert block_problems(payload["blocks"]) == []


def test_both_alerters_speak_the_alerter_protocol() -> None:
    alerters: list[Alerter] = [SlackAlerter(WebClient(token="xoxb-unused"), "#care-alerts"), ConsoleAlerter()]
    assert [(a.name, a.target) for a in alerters] == [("slack", "#care-alerts"), ("console", "stdout")]


def test_the_console_version_is_plain_readable_and_terminal_safe() -> None:
    stream = io.StringIO()
    alerter = ConsoleAlerter(stream)
    payload = alerter.render(make_case(masked="bozuk \x1b[2J\x1b[31mkırmızı\u202e tersine"))
    assert alerter.send(payload) == "console"
    out = stream.getvalue()
    assert "🔴 Kuzey Telekom · urgent" in out and "bozuk [2J[31mkırmızı tersine" in out
    assert "\x1b" not in out and "\u202e" not in out and "&amp;" not in out
    assert "Birim / Unit: network" in out and NOT_MATCHED in out
    json.dumps(payload)  # stored in the outbox


class FakeWebClient(WebClient):
    """A WebClient whose chat_postMessage answers from a script instead of the network."""

    def __init__(self, error: str | None = None, status: int = 200) -> None:
        super().__init__(token="xoxb-fake")
        self.error, self.status, self.calls = error, status, 0

    def chat_postMessage(self, **kwargs: Any) -> SlackResponse:
        self.calls += 1
        data = (
            {"ok": False, "error": self.error}
            if self.error
            else {"ok": True, "channel": "C0CARE01", "ts": f"1.00000{self.calls}"}
        )
        response = SlackResponse(
            client=self,
            http_verb="POST",
            api_url="fake",
            req_args={},
            data=data,
            headers={"Retry-After": "30"},
            status_code=self.status,
        )
        if self.error:
            raise SlackApiError("fake", response)  # type: ignore[no-untyped-call]
        return response


@pytest.mark.parametrize("code", ["account_inactive", "token_revoked", "invalid_blocks", "msg_too_long", "no_text"])
def test_errors_retrying_will_not_fix_are_rejections(code: str) -> None:
    alerter = SlackAlerter(FakeWebClient(code), "#care-alerts")
    with pytest.raises(DeliveryRejected, match=code) as caught:
        alerter.send(render(make_case()))
    assert isinstance(caught.value.__cause__, SlackApiError)


@pytest.mark.parametrize(("code", "status"), [("ratelimited", 429), ("internal_error", 500), ("fatal_error", 200)])
def test_errors_that_may_pass_are_plain_delivery_errors(code: str, status: int) -> None:
    with pytest.raises(DeliveryError) as caught:
        SlackAlerter(FakeWebClient(code, status), "#care-alerts").send(render(make_case()))
    assert not isinstance(caught.value, DeliveryRejected)


def test_posts_can_be_paced_to_about_one_a_second() -> None:
    alerter = SlackAlerter(FakeWebClient(), "#care-alerts", min_interval=1.0)
    payload = render(make_case())
    with (
        mock.patch("responders.slack.time.monotonic", side_effect=[100.0, 100.0, 100.25, 100.25]),
        mock.patch("responders.slack.time.sleep") as sleep,
    ):
        assert alerter.send(payload) == "C0CARE01/1.000001"
        assert alerter.send(payload) == "C0CARE01/1.000002"
    sleep.assert_called_once_with(pytest.approx(0.75))
