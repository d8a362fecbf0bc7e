"""The Slack alerter over the wire: the real slack_sdk WebClient against the Slack-compatible loopback server."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from config.settings import Settings, SlackSettings
from loopback.slack import SlackServer
from responders.alerts import CaseView
from responders.slack import SlackAlerter, slack_client
from store.errors import DeliveryError, DeliveryRejected, NotConfigured
from store.model import Analysis, Label, Mention, MentionStatus, RawMention, Ticket, Urgency

TOKEN = "xoxb-kulak-integration-secret"


def make_case() -> CaseView:
    raw = RawMention(
        source="sikayetvar",
        external_id="sv-9",
        url="https://www.sikayetvar.com/kuzey-telekom/fatura-iki-kez",
        text="Faturam iki kez kesildi, kartım 4111 1111 1111 1111 <!channel>",
        fetched_at=datetime(2025, 11, 23, 9, 30, tzinfo=UTC),
        author_handle="mehmet_y",
    )
    analysis = Analysis(
        lang="tr",
        brands=("Kuzey Telekom",),
        sentiment=Label("negative", 0.88),
        intent=Label("complaint", 0.9),
        topics=(Label("billing", 0.8),),
        urgency=Urgency("normal"),
        pii=(),
        masked_text="Faturam iki kez kesildi, kartım [KART] <!channel>",
        analyzer="test",
    )
    ticket = Ticket(mention_id=9, brand="Kuzey Telekom", priority="high", unit="finance", summary="fatura", id=5)
    return CaseView(ticket, Mention(9, MentionStatus.MATCHED, raw), analysis, None)


@pytest.fixture
def slack_server() -> Iterator[SlackServer]:
    server = SlackServer(TOKEN, {"care-alerts": "C0CARE01", "general": "C0GENERAL"}, not_joined=["general"])
    with server:
        yield server


def alerter_for(server: SlackServer, channel: str = "#care-alerts", token: str = TOKEN) -> SlackAlerter:
    return SlackAlerter(slack_client(token, server.url + "/api/", max_wait=5), channel)


def test_an_alert_arrives_with_its_blocks_text_and_the_bearer_token(slack_server: SlackServer) -> None:
    alerter = alerter_for(slack_server)
    payload = alerter.render(make_case())
    ref = alerter.send(payload, key="slack:#care-alerts:ticket:5")
    [message] = slack_server.posted("#care-alerts")
    assert ref == f"C0CARE01/{message.ts}"  # chat.update and threads need the channel id as well as the ts
    ts = message.ts
    assert message.args["metadata"]["event_payload"] == {"key": "slack:#care-alerts:ticket:5"}
    assert message.text == payload["text"] and message.blocks == payload["blocks"]
    assert message.args["unfurl_links"] is False and message.args["unfurl_media"] is False
    assert slack_server.shared_message(ts) == message
    [request] = slack_server.received("/api/chat.postMessage")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"].startswith("application/json")


def test_timestamps_increase(slack_server: SlackServer) -> None:
    alerter = alerter_for(slack_server)
    payload = alerter.render(make_case())
    first, second = (alerter.send(payload).split("/")[1] for _ in range(2))
    assert abs(float(first) - time.time()) < 60 and float(second) > float(first)


@pytest.mark.parametrize(("channel", "code"), [("#nowhere", "channel_not_found"), ("general", "not_in_channel")])
def test_a_channel_we_cannot_post_to_is_rejected(slack_server: SlackServer, channel: str, code: str) -> None:
    alerter = alerter_for(slack_server, channel)
    with pytest.raises(DeliveryRejected, match=code):
        alerter.send(alerter.render(make_case()))
    assert slack_server.messages == []


def test_a_wrong_token_is_rejected_and_never_logged(
    slack_server: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "xoxb-wrong-secret-token"
    alerter = alerter_for(slack_server, token=wrong)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DeliveryRejected, match="invalid_auth") as caught:
        alerter.send(alerter.render(make_case()))
    assert wrong not in caplog.text and wrong not in str(caught.value)
    assert slack_server.messages == []


def test_one_rate_limit_is_waited_out_and_the_alert_delivered_once(slack_server: SlackServer) -> None:
    slack_server.rate_limit_next(times=1, retry_after=0.01)
    alerter = alerter_for(slack_server)
    ref = alerter.send(alerter.render(make_case()))
    assert [f"C0CARE01/{m.ts}" for m in slack_server.posted()] == [ref]
    assert len(slack_server.received("/api/chat.postMessage")) == 2


def test_a_long_rate_limit_is_left_to_the_outbox(slack_server: SlackServer) -> None:
    slack_server.rate_limit_next(times=1, retry_after=60)
    alerter = alerter_for(slack_server)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="rate limited") as caught:
        alerter.send(alerter.render(make_case()))
    assert not isinstance(caught.value, DeliveryRejected)
    assert time.monotonic() - started < 5 and len(slack_server.received()) == 1


def test_rate_limits_past_the_retries_are_a_delivery_error(slack_server: SlackServer) -> None:
    slack_server.rate_limit_next(times=5, retry_after=0)
    alerter = alerter_for(slack_server)
    with pytest.raises(DeliveryError) as caught:
        alerter.send(alerter.render(make_case()))
    assert not isinstance(caught.value, DeliveryRejected)
    assert len(slack_server.received()) == 3 and slack_server.messages == []


def test_a_slack_outage_is_a_delivery_error(slack_server: SlackServer) -> None:
    slack_server.fail_next(status=503, error="service_unavailable")
    alerter = alerter_for(slack_server)
    with pytest.raises(DeliveryError, match="503") as caught:
        alerter.send(alerter.render(make_case()))
    assert not isinstance(caught.value, DeliveryRejected)


def test_a_stopped_server_is_a_delivery_error() -> None:
    server = SlackServer(TOKEN).start()
    alerter = alerter_for(server)
    server.stop()
    with pytest.raises(DeliveryError) as caught:
        alerter.send(alerter.render(make_case()))
    assert not isinstance(caught.value, DeliveryRejected)
    assert isinstance(caught.value.__cause__, OSError)


def test_from_settings_needs_a_token_and_talks_to_the_configured_base_url(slack_server: SlackServer) -> None:
    with pytest.raises(NotConfigured, match="KULAK_SLACK_TOKEN"):
        SlackAlerter.from_settings(Settings())
    slack = SlackSettings(channel="care-alerts", base_url=slack_server.url + "/api", token=TOKEN)
    alerter = SlackAlerter.from_settings(Settings(slack=slack))
    assert alerter.target == "care-alerts"
    ref = alerter.send(alerter.render(make_case()))
    assert slack_server.shared_message(ref.split("/")[1]) is not None


# -- the stand-in itself answers like Slack --------------------------------------------------------------


def test_the_server_answers_form_and_query_calls(slack_server: SlackServer) -> None:
    client = WebClient(token=TOKEN, base_url=slack_server.url + "/api/")
    assert client.auth_test()["user_id"] == SlackServer.BOT_USER_ID
    info = client.conversations_info(channel="C0GENERAL")["channel"]
    assert (info["name"], info["is_member"]) == ("general", False)
    with pytest.raises(SlackApiError) as caught:
        client.conversations_info(channel="C0MISSING")
    assert caught.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as caught:
        WebClient(base_url=slack_server.url + "/api/").auth_test()
    assert caught.value.response["error"] == "not_authed"


def test_the_server_updates_and_whispers(slack_server: SlackServer) -> None:
    client = WebClient(token=TOKEN, base_url=slack_server.url + "/api/")
    ts = client.chat_postMessage(channel="care-alerts", text="açıldı")["ts"]
    updated = client.chat_update(channel="C0CARE01", ts=ts, text="üstlenildi")
    assert updated["ts"] == ts
    shared = slack_server.shared_message(ts)
    assert shared is not None and (shared.text, shared.method) == ("üstlenildi", "chat.update")
    whisper = client.chat_postEphemeral(channel="#care-alerts", user="U0AGENT", text="sadece sen")
    assert whisper["message_ts"] != ts and slack_server.shared_message(whisper["message_ts"]) is None
    with pytest.raises(SlackApiError) as caught:
        client.chat_update(channel="C0CARE01", ts="1.000001", text="x")
    assert caught.value.response["error"] == "message_not_found"


def actions(**button: object) -> dict[str, object]:
    element = {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "Üstlen"}, **button}
    return {"blocks": [{"type": "actions", "elements": [element]}]}


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"text": "x" * 40_001}, "msg_too_long"),
        ({"text": ""}, "no_text"),
        ({"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]}, "invalid_blocks"),
        ({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]}, "invalid_blocks"),
        ({"blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
        ({"blocks": [{"type": "divider", "block_id": "b" * 256}]}, "invalid_blocks"),
        (actions(text={"type": "plain_text", "text": "x" * 76}), "invalid_blocks"),
        (actions(value="v" * 2001), "invalid_blocks"),
        (actions(action_id="a" * 256), "invalid_blocks"),
    ],
)
def test_the_server_enforces_slacks_limits(slack_server: SlackServer, kwargs: dict[str, object], code: str) -> None:
    client = WebClient(token=TOKEN, base_url=slack_server.url + "/api/")
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="#care-alerts", **{"text": "yedek", **kwargs})  # type: ignore[arg-type]
    assert caught.value.response.status_code == 200 and caught.value.response["error"] == code
    assert slack_server.messages == []
