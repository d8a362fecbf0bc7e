"""Routing, alert budgets, agents' actions, SLA clocks and Slack failures, on a real database and the Slack stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from loopback.slack import SlackServer
from responders.actions import Action, apply_action
from responders.budget import AlertPolicy
from responders.clock import check_cases
from responders.job import LEASE
from responders.routing import Route
from store.errors import InputError
from store.model import DeliveryStatus, TicketStatus
from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.support.care import CHANNELS, NOW, Desk, post


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(channels=CHANNELS) as server:
        yield server


@pytest.fixture
def desk(engine: Engine, slack: SlackServer) -> Desk:
    return Desk(SqlAlchemyUnitOfWork(engine), slack)


def act(desk: Desk, kind: str, ticket_id: int, value: str = "", user: str = "U0AYSE01") -> str:
    with desk.uow:
        outcome = apply_action(desk.uow, Action(kind, ticket_id, user, value, NOW), desk.channels)
        desk.uow.commit()
    return outcome.message


def test_an_alert_carries_the_case_its_deadline_and_the_buttons(desk: Desk) -> None:
    assert (
        desk.take(post(1, "Kuzey Telekom faturam iki kez kesildi, kartım 4111 1111 1111 1111 <!channel>"))[
            "alerts_queued"
        ]
        == 1
    )
    assert desk.deliver() == {"sent": 1}
    (alert,) = desk.alerts()
    wire = str(alert.blocks)
    assert "4111 1111" not in wire and "[KART]" in wire and "<!channel>" not in wire and "&lt;!channel&gt;" in wire
    actions = [e["action_id"] for b in alert.blocks if b["type"] == "actions" for e in b["elements"]]
    assert actions[:5] == ["kulak_claim", "kulak_contacted", "kulak_resolve", "kulak_escalate", "kulak_not_relevant"]
    assert "kulak_fix_sentiment" in actions and "kulak_fix_topic" in actions
    # normal priority: 8 business hours from Tuesday 13:00 Istanbul = Wednesday 12:00 Istanbul (09:00 UTC)
    with desk.uow:
        (ticket,) = desk.uow.tickets.listed()
    assert ticket.respond_by == datetime(2026, 11, 25, 9, 0, tzinfo=UTC) and ticket.status is TicketStatus.NEW
    assert f"<!date^{int(ticket.respond_by.timestamp())}^" in wire


def test_the_first_matching_route_picks_channel_unit_and_priority_and_competitors_are_never_alerted(
    desk: Desk, slack: SlackServer
) -> None:
    desk.routes = [
        Route("network", topics=frozenset({"network"}), channel="#care-vip", unit="technical", priority="high"),
        Route("all-network", topics=frozenset({"network"}), unit="never-reached"),
    ]
    counts = desk.take(post(1, "İnternet yok [network]"), post(2, "Deniz GSM de kötü [rakip]"), post(3, "Fatura"))
    assert counts["tickets_opened"] == 2 and counts["no_ticket"] == 1
    desk.deliver()
    with desk.uow:
        tickets = {t.mention_id: t for t in desk.uow.tickets.listed()}
    assert (tickets[1].route, tickets[1].unit, tickets[1].priority) == ("network", "technical", "high")
    assert (tickets[3].route, tickets[3].unit) == ("default", "care")
    assert [m.channel for m in desk.alerts()] == ["C0VIP001", "C0CARE01"]
    assert "Deniz GSM" not in str(slack.posted())


def test_a_burst_of_similar_cases_is_one_alert_with_a_count_and_urgent_still_goes_out(desk: Desk) -> None:
    posts = [post(i, f"Kuzey Telekom internet yok {i} [network]", minutes=i) for i in range(1, 5)]
    counts = desk.take(*posts, post(9, "Bölgede kesinti, hastane hattı [network] [critical]"))
    assert counts["tickets_opened"] == 5 and counts["alerts_queued"] == 2 and counts["alerts_folded"] == 3
    desk.deliver()
    first, urgent = desk.alerts()
    assert "urgent" in urgent.text
    notes = desk.slack.thread(first.ts)
    assert len(notes) == 3 and all("benzer vaka / similar case" in n.text for n in notes)
    shown = desk.slack.shared_message(first.ts)
    assert shown is not None and "+3 benzer / similar" in str(shown.blocks)  # the alert was refreshed
    # outside the burst window a similar case gets its own alert again
    later = NOW + timedelta(hours=2)
    assert desk.take(post(20, "Yine internet yok [network]", minutes=120), at=later)["alerts_queued"] == 1


def test_quiet_hours_and_the_budget_hold_back_what_is_not_urgent(desk: Desk) -> None:
    night = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # 00:00 in Istanbul, the night before NOW
    desk.policy = AlertPolicy(budget=1, quiet=(time(22, 0), time(8, 0)), tz=ZoneInfo("Europe/Istanbul"))
    counts = desk.take(post(1, "fatura [low]"), post(2, "kesinti [critical] [network]"), at=night)
    assert counts["alerts_deferred"] == 1 and counts["alerts_queued"] == 1
    with desk.uow:
        assert desk.uow.deliveries.count_by_status() == {"deferred": 1, "pending": 1}
    desk.deliver()
    assert len(desk.alerts()) == 1 and "urgent" in desk.alerts()[0].text
    # daytime, but the hourly budget of 1 is used: a normal case waits for the digest, a high one goes out
    day = NOW
    counts = desk.take(post(3, "kargo [delivery]"), post(4, "kesinti [network] [high]", handle="other"), at=day)
    assert counts["alerts_queued"] == 2 and counts["alerts_deferred"] == 0, counts  # budget: alerts of the hour
    counts = desk.take(post(5, "fatura yine [low]"), at=day + timedelta(minutes=1))
    assert counts["alerts_deferred"] == 1


def test_claim_contact_resolve_update_the_alert_in_place_and_post_in_its_thread(desk: Desk) -> None:
    desk.take(post(1, "Fatura yanlış"))
    desk.deliver()
    (alert,) = desk.alerts()
    assert act(desk, "claim", 1).startswith("#1: üstlendi")
    assert act(desk, "contacted", 1)
    assert desk.deliver() == {"updates_sent": 4}
    shown = desk.slack.shared_message(alert.ts)
    assert shown is not None and "<@U0AYSE01>" in str(shown.blocks) and "waiting" in str(shown.blocks)
    assert [n.text.split(":")[0] for n in desk.slack.thread(alert.ts)] == ["#1", "#1"]
    act(desk, "resolve", 1)
    with desk.uow:
        ticket = desk.uow.tickets.get(1)
        feedback = [(f.field, f.new_label) for f in desk.uow.feedback.listed()]
    assert ticket.status is TicketStatus.RESOLVED and ticket.responded_at == NOW and ticket.assignee == "U0AYSE01"
    assert feedback == [("action", "claim"), ("action", "contacted"), ("action", "resolve")]
    with pytest.raises(InputError, match="reopen it first"):
        act(desk, "claim", 1)
    desk.deliver()
    shown = desk.slack.shared_message(alert.ts)
    assert shown is not None and "kulak_reopen" in str(shown.blocks) and "kulak_claim" not in str(shown.blocks)


def test_corrections_change_the_case_and_are_kept_for_training(desk: Desk) -> None:
    desk.take(post(1, "Fatura yanlış"))
    act(desk, "fix_sentiment", 1, "neutral")
    act(desk, "fix_topic", 1, "refund")
    act(desk, "escalate", 1)
    with pytest.raises(InputError, match="sentiment"):
        act(desk, "fix_sentiment", 1, "furious")
    with pytest.raises(InputError, match="unknown action"):
        act(desk, "delete_everything", 1)
    act(desk, "not_relevant", 1, user="U0MEHMET")
    with desk.uow:
        analysis = desk.uow.analyses.get(1)
        ticket = desk.uow.tickets.get(1)
        kept = [(f.field, f.old_label, f.new_label, f.author) for f in desk.uow.feedback.listed()]
    assert analysis is not None and analysis.sentiment.label == "neutral" and analysis.topics[0].label == "refund"
    assert ticket.priority == "high" and ticket.status is TicketStatus.CLOSED
    assert ("sentiment", "negative", "neutral", "U0AYSE01") in kept
    assert ("topic", "billing", "refund", "U0AYSE01") in kept
    assert ("relevant", "yes", "no", "U0MEHMET") in kept


def test_a_missed_first_response_is_announced_once_and_resolved_cases_close(desk: Desk) -> None:
    desk.take(post(1, "Fatura yanlış"), post(2, "Kargo gelmedi [delivery]", handle="other"))
    desk.deliver()
    first, _ = desk.alerts()
    late = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    act(desk, "resolve", 2)
    assert check_cases(desk.uow, desk.channels, now=late) == {"breaches": 1}
    assert check_cases(desk.uow, desk.channels, now=late + timedelta(hours=1)) == {}
    desk.deliver()
    (breach,) = desk.slack.thread(first.ts)
    assert "SLA aşıldı / breached" in breach.text and breach.args.get("reply_broadcast") is True
    closed = check_cases(desk.uow, desk.channels, now=late + timedelta(days=4))
    assert closed == {"closed": 1}
    with desk.uow:
        assert desk.uow.tickets.get(2).status is TicketStatus.CLOSED


def test_a_channel_slack_refuses_fails_that_alert_only_and_tells_the_operators(desk: Desk) -> None:
    desk.routes = [Route("lost", topics=frozenset({"network"}), channel="#no-such-channel")]
    desk.take(post(1, "İnternet yok [network]"), post(2, "Fatura", handle="b"))
    assert desk.deliver() == {"rejected": 1, "sent": 2}  # the other alert, and the ops alert about the rejection
    assert desk.deliver() == {}
    (ops,) = desk.slack.posted("#kulak-ops")
    assert "channel_not_found" in ops.text and "#no-such-channel" in ops.text
    with desk.uow:
        assert desk.uow.deliveries.count_by_status() == {"failed": 1, "sent": 2}


def test_a_429_storm_is_waited_out_and_every_alert_arrives_once(desk: Desk, slack: SlackServer) -> None:
    desk.take(*[post(i, f"Fatura {i} [{t}]", handle=f"k{i}") for i, t in enumerate(("billing", "network", "delivery"))])
    slack.rate_limit_next(times=30, retry_after=120)
    assert desk.deliver() == {"retry_later": 1, "waiting_out_rate_limit": 2}  # the others wait untried
    with desk.uow:
        assert desk.uow.deliveries.pending() == []  # nothing due before Retry-After
        assert len(desk.uow.deliveries.pending(now=datetime.now(UTC) + timedelta(seconds=121))) == 3
    slack.calm()  # the storm is over
    assert desk.deliver(at=datetime.now(UTC) + timedelta(minutes=5)) == {"sent": 3}
    assert len(desk.alerts()) == 3


def test_an_answer_lost_after_slack_took_the_alert_does_not_post_it_twice(desk: Desk, slack: SlackServer) -> None:
    desk.take(post(1, "Fatura yanlış"))
    slack.drop_answer_next()  # Slack stores the alert, the connection dies before the answer
    assert desk.deliver() == {"retry_later": 1}
    assert desk.deliver(at=datetime.now(UTC) + timedelta(minutes=5)) == {"recovered": 1}
    (alert,) = desk.alerts()
    with desk.uow:
        (delivery,) = desk.uow.deliveries.alerts_of(1)
    assert delivery.status is DeliveryStatus.SENT and delivery.external_ref == f"C0CARE01/{alert.ts}"


def test_a_crash_between_sending_and_recording_is_recovered_on_restart(engine: Engine, desk: Desk) -> None:
    desk.take(post(1, "Fatura yanlış"), post(2, "Kargo [delivery]", handle="b"))
    now = datetime.now(UTC)
    with desk.uow:
        ((first, earlier),) = desk.uow.deliveries.claim_due(1, 10, now, now + timedelta(seconds=LEASE))
        assert earlier is None  # never tried before
        desk.uow.commit()
    desk.alerter.send(first.payload, first.target, key=first.key)  # ... and the process died here
    restarted = Desk(SqlAlchemyUnitOfWork(engine), desk.slack)
    assert restarted.deliver() == {"sent": 1}  # the first is still the dead worker's until its lease runs out
    assert restarted.deliver(at=now + timedelta(seconds=LEASE + 1)) == {"recovered": 1}
    assert sorted(m.args["metadata"]["event_payload"]["key"] for m in desk.alerts()) == [
        "slack:#care-alerts:ticket:1",
        "slack:#care-alerts:ticket:2",
    ]


def test_a_change_waits_for_its_alert_and_a_joined_mention_is_told_in_the_thread(desk: Desk) -> None:
    desk.take(post(1, "Fatura yanlış", handle="ayse"))
    act(desk, "claim", 1)  # before the alert is sent
    assert desk.deliver() == {"sent": 1, "updates_sent": 2}  # the alert first, then what changed
    desk.take(post(2, "Hâlâ cevap yok", handle="ayse", minutes=30), at=NOW + timedelta(minutes=30))
    desk.deliver()
    (alert,) = desk.alerts()
    notes = [n.text for n in desk.slack.thread(alert.ts)]
    assert len(notes) == 2 and "new mention #2" in notes[1]
    assert "Hâlâ cevap yok" in str(desk.slack.thread(alert.ts)[1].blocks)


def test_a_question_opens_a_case_routed_by_intent(desk: Desk) -> None:
    desk.routes = [Route("sales", intents=frozenset({"question"}), unit="sales", channel="#care-vip")]
    assert desk.take(post(1, "Fiber paketleriniz ne kadar? [question]"))["tickets_opened"] == 1
    with desk.uow:
        (ticket,) = desk.uow.tickets.listed()
    assert (ticket.unit, ticket.channel) == ("sales", "#care-vip")


def test_reopen_only_what_is_not_active(desk: Desk) -> None:
    desk.take(post(1, "Fatura"))
    with pytest.raises(InputError, match="still open"):
        act(desk, "reopen", 1)
    act(desk, "resolve", 1)
    act(desk, "reopen", 1)
    with desk.uow:
        ticket = desk.uow.tickets.get(1)
    assert ticket.status is TicketStatus.ASSIGNED and ticket.resolved_at is None


def test_a_route_to_a_helpdesk_opens_the_case_there_and_keeps_it_up_to_date(desk: Desk) -> None:
    import httpx

    from loopback.zendesk import ZendeskServer
    from responders.zendesk import ZendeskOptions, ZendeskTickets

    with ZendeskServer() as zendesk:
        options = ZendeskOptions(email=ZendeskServer.DEFAULT_EMAIL, group="360001")
        desk.helpdesks = [
            ZendeskTickets("zendesk-care", httpx.Client(timeout=5), zendesk.url, options, ZendeskServer.DEFAULT_TOKEN)
        ]
        desk.routes = [Route("billing", topics=frozenset({"billing"}), helpdesk="zendesk-care", queue="360001")]
        first = post(1, "Faturam iki kez kesildi, kartım 4111 1111 1111 1111")
        again = post(3, "Hâlâ iade yok", handle="kisi1", minutes=1)  # the same author, in the same batch
        counts = desk.take(first, post(2, "Kargo [delivery]"), again)
        assert counts["joined_by_author"] == 1
        # two Slack alerts, one Zendesk ticket (only billing goes there); the case's alerts both hear of the repeat
        assert desk.deliver() == {"sent": 3, "updates_sent": 3}
        (ticket,) = zendesk.tickets.values()
        assert ticket["external_id"] == "kulak-case-1" and "4111" not in str(zendesk.received())
        assert any("#3" in c["body"] for c in zendesk.comments[ticket["id"]])
        act(desk, "resolve", 1)
        assert desk.deliver()["updates_sent"] == 3  # Slack thread note and refresh, Zendesk comment
        (ticket,) = zendesk.tickets.values()
        assert ticket["status"] == "solved"
        assert any("resolved" in c["body"] and c["public"] is False for c in zendesk.comments[ticket["id"]])
        # a restart that sends the opening again finds the ticket instead of opening a second one
        with desk.uow:
            (opening,) = [d for d in desk.uow.deliveries.alerts_of(1) if d.channel == "zendesk-care"]
        desk.helpdesks[0].send(opening.payload, opening.target, key=opening.key)
        assert len(zendesk.tickets) == 1
