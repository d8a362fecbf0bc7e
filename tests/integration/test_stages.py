"""Each stage alone on a real database: idempotent, and one bad item never stops the rest."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from classifiers.base import MentionContext
from classifiers.customers import Columns, to_customer
from classifiers.identity import IdentityKey
from classifiers.job import analyze_pending, match_pending
from classifiers.matching import CustomerMatcher
from config.loader import load_settings
from config.settings import StoreSettings
from loopback.slack import SlackServer
from responders.job import deliver_pending, route_pending
from responders.routing import Route, TicketRouter
from responders.slack import SlackAlerter, slack_client
from scheduler.bootstrap import bootstrap
from scheduler.pipeline import run_once
from store.model import Analysis, Brand, DeliveryStatus, Label, MentionStatus, RawMention, Urgency
from store.sqlalchemy import SqlAlchemyUnitOfWork

BRANDS = [Brand("Kuzey Telekom", aliases=("Kuzey Telekom",)), Brand("Deniz GSM", competitor=True)]
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
KEY = IdentityKey("stage-tests-identity-key")


class ScriptedAnalyzer:
    """Analyses by keyword so each test controls the labels; raises on the word 'BOOM'."""

    def analyze(self, text: str, *, brand_hint: str | None = None, context: MentionContext | None = None) -> Analysis:
        if "BOOM" in text:
            raise ValueError("tokeniser blew up")
        label = "positive" if "teşekkür" in text else "negative"
        return Analysis(
            lang="tr",
            brands=(brand_hint,) if brand_hint else (),
            sentiment=Label(label, 0.9),
            intent=Label("complaint", 0.8),
            topics=(Label("billing", 0.6),),
            urgency=Urgency("high", ("legal threat",)),
            pii=(),
            masked_text=text,
            analyzer="scripted",
        )


def mention(external_id: str, text: str, brand: str = "Kuzey Telekom", handle: str = "") -> RawMention:
    return RawMention(
        source="sikayetvar",
        external_id=external_id,
        url=f"https://example.test/{external_id}",
        text=text,
        fetched_at=NOW,
        brand=brand,
        author_handle=handle,
    )


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(channels={"care-alerts": "C0CARE01", "closed": "C0CLOSED"}, not_joined=["closed"]) as server:
        yield server


def load(engine: Engine, *raws: RawMention) -> SqlAlchemyUnitOfWork:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.mentions.add_many(raws)
        uow.customers.upsert(
            to_customer({"external_id": "C-1", "name": "Ayşe Kaya", "handles": "sikayetvar:ayse.k"}, Columns(), KEY)
        )
        uow.commit()
    return uow


def test_a_failing_mention_is_marked_failed_and_the_rest_go_on(engine: Engine) -> None:
    uow = load(engine, mention("1", "fatura hatalı"), mention("2", "BOOM"), mention("3", "teşekkürler"))
    counts = analyze_pending(uow, ScriptedAnalyzer())
    assert counts == {"analyzed": 2, "failed": 1}
    with uow:
        failed = uow.mentions.with_status(MentionStatus.FAILED)
        assert [m.raw.external_id for m in failed] == ["2"]
        assert failed[0].error is not None and "tokeniser blew up" in failed[0].error
    assert analyze_pending(uow, ScriptedAnalyzer()) == {}  # nothing left: a re-run does nothing


def test_routing_opens_one_ticket_per_negative_own_brand_mention(engine: Engine, slack: SlackServer) -> None:
    uow = load(
        engine,
        mention("1", "fatura hatalı", handle="ayse.k"),
        mention("2", "teşekkürler"),
        mention("3", "şebeke yok", brand="Deniz GSM"),
    )
    analyze_pending(uow, ScriptedAnalyzer())
    assert match_pending(uow, CustomerMatcher(KEY)) == {"matched": 1, "unmatched": 2}
    alerter = SlackAlerter(slack_client(SlackServer.DEFAULT_TOKEN, f"{slack.url}/api/"), "#care-alerts")
    router = TicketRouter(BRANDS, routes=[Route("billing", topics=frozenset({"billing"}), unit="finance")])
    counts = route_pending(uow, router, [alerter])
    assert counts == {"tickets_opened": 1, "no_ticket": 2, "alerts_queued": 1}
    with uow:
        (ticket,) = uow.tickets.listed()
        assert (ticket.brand, ticket.unit, ticket.priority, ticket.customer_id) == (
            "Kuzey Telekom",
            "finance",
            "high",
            1,
        )
    assert deliver_pending(uow, {"slack": alerter}) == {"sent": 1}
    assert deliver_pending(uow, {"slack": alerter}) == {}
    assert route_pending(uow, router, [alerter]) == {}
    (message,) = slack.posted()
    assert "Ayşe Kaya" in str(message.blocks)


def test_an_outage_is_retried_and_each_alert_goes_to_its_own_target(engine: Engine, slack: SlackServer) -> None:
    uow = load(engine, mention("1", "fatura hatalı"))
    analyze_pending(uow, ScriptedAnalyzer())
    match_pending(uow, CustomerMatcher(KEY))
    client = slack_client(SlackServer.DEFAULT_TOKEN, f"{slack.url}/api/")
    care, closed = SlackAlerter(client, "#care-alerts"), SlackAlerter(client, "#closed")
    route_pending(uow, TicketRouter(BRANDS), [care, closed])

    slack.fail_next(times=1, status=503, error="service_unavailable")
    # one alerter serves every "slack" row; each row still goes to the channel it was queued for
    assert deliver_pending(uow, {"slack": care}) == {"retry_later": 1, "rejected": 1}
    with uow:
        assert uow.deliveries.pending() == []  # backing off: nothing is due right now
        later = datetime.now(UTC) + timedelta(minutes=2)
        (pending,) = uow.deliveries.pending(now=later)
    assert pending.target == "#care-alerts" and pending.attempts == 1 and pending.last_error

    assert deliver_pending(uow, {"slack": care}, now=later) == {"sent": 1}
    with uow:
        assert uow.deliveries.count_by_status() == {DeliveryStatus.SENT.value: 1, DeliveryStatus.FAILED.value: 1}
    assert [m.channel for m in slack.posted()] == ["C0CARE01"]


def test_a_channel_the_bot_is_not_in_is_rejected_once(engine: Engine, slack: SlackServer) -> None:
    uow = load(engine, mention("1", "fatura hatalı"))
    analyze_pending(uow, ScriptedAnalyzer())
    match_pending(uow, CustomerMatcher(KEY))
    closed = SlackAlerter(slack_client(SlackServer.DEFAULT_TOKEN, f"{slack.url}/api/"), "#closed")
    route_pending(uow, TicketRouter(BRANDS), [closed])
    assert deliver_pending(uow, {"slack": closed}) == {"rejected": 1}
    assert deliver_pending(uow, {"slack": closed}) == {}
    with uow:
        assert uow.deliveries.count_by_status() == {DeliveryStatus.FAILED.value: 1}
    assert slack.posted() == []


def test_bad_customer_records_are_reported_and_the_run_goes_on(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "kulak.toml"
    config.write_text('[[brands]]\nname = "Kuzey Telekom"\n[customers]\nfile = "customers.csv"\n', encoding="utf-8")
    (tmp_path / "customers.csv").write_text(
        "external_id,name,phone\nC-1,Ayşe,not-a-phone\nC-2,Mehmet Kaya,0532 111 22 33\n", encoding="utf-8"
    )
    env = {"KULAK_IDENTITY_KEY": "stage-tests-identity-key"}
    settings = replace(load_settings(config, env=env), store=StoreSettings(database_url=database_url))
    app = bootstrap(settings, sources=[], alerters=[])
    with app.uow:
        app.uow.mentions.add_many([mention("1", "Kuzey Telekom faturamı iki kez kesti, rezalet!")])
        app.uow.commit()
    report = run_once(app)
    assert report.customers == {"customers_loaded": 1, "customer_record_errors": 1}
    assert run_once(app).customers == {}  # the same file again is not re-imported
    assert report.analyzed == {"analyzed": 1} and report.routed["tickets_opened"] == 1
    app.engine.dispose()
