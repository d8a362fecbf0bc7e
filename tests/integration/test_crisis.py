"""Crisis alerts on a real database: a planted spike found, a normal week left alone, an incident's life in Slack."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import cache

import pytest
from sqlalchemy import Engine

from config.settings import BrandSettings, CrisisSettings, DigestSettings, Settings
from loopback.slack import SlackMessage, SlackServer
from responders.crisis import CrisisWatch
from responders.crisis_stats import Limits
from responders.crisis_text import alert_payload
from responders.job import deliver_pending
from responders.slack import SlackAlerter, slack_client
from store.errors import NotConfigured
from store.model import Brand
from store.sqlalchemy import SqlAlchemyUnitOfWork
from store.tables import AuditRow
from tests.support import crisis_seed as cs

TOKEN = "xoxb-crisis-integration-secret"
BRANDS = [Brand(cs.KUZEY, (cs.KUZEY,)), Brand(cs.MAVI, (cs.MAVI,)), Brand(cs.DENIZ, (cs.DENIZ,), competitor=True)]
TCKN = "10000000146"  # the identifier in the planted complaint's raw text; only its masked form may be shown


@cache
def background() -> tuple[cs.Planned, ...]:
    return tuple(cs.plan())


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    cs.seed(engine, background())
    return engine


@pytest.fixture
def slack_server() -> Iterator[SlackServer]:
    with SlackServer(TOKEN, {"care-alerts": "C0CARE01", "care-managers": "C0MANAGERS"}) as server:
        yield server


def watch(**options: object) -> CrisisWatch:
    return CrisisWatch("slack", "#care-managers", BRANDS, **options)  # type: ignore[arg-type]


def test_a_planted_spike_is_one_incident_with_what_drives_it(seeded: Engine) -> None:
    planted = cs.plant(seeded, cs.END)
    cs.plant(seeded, cs.END, brand=cs.DENIZ, tag="rival")  # the competitor's crisis is none of our business
    uow = SqlAlchemyUnitOfWork(seeded)
    counts = watch().check(uow, cs.END)
    assert counts == Counter(checked=2, opened=1, normal=1)
    with uow:
        [crisis] = uow.crises.listed()
        alert = uow.deliveries.get(f"crisis:{crisis.id}")
        shown = uow.crises.shown(list(crisis.detail["examples"]))
    assert (crisis.brand, crisis.status, crisis.alert_key) == (cs.KUZEY, "open", f"crisis:{crisis.id}")
    assert (crisis.scope, crisis.metric) == ("topic:fatura", "volume") and crisis.peak >= 40 > 10 * crisis.expected
    detail = crisis.detail
    assert detail["topics"][0][:2] == ["fatura", crisis.peak]
    assert "fatura" in dict(detail["terms"]), detail["terms"]
    [(size, example), *others] = detail["clusters"]
    assert size == 25 and example in planted[:25] and all(n < 25 for n, _ in others)
    assert len(shown) == 3 and all(TCKN not in e.text for e in shown.values())
    assert alert is not None and (alert.kind, alert.channel, alert.target) == ("crisis", "slack", "#care-managers")
    payload = json.dumps(alert.payload, ensure_ascii=False)
    assert "fatura" in alert.payload["text"] and "Kuzey Telekom" in alert.payload["text"]
    assert "[TCKN]" in payload and TCKN not in payload  # the cluster's example is the masked copy
    english = alert_payload(crisis, shown, "en", cs.ZONE)
    assert english["blocks"][0]["text"]["text"] == "🚨 Crisis alert: Kuzey Telekom"
    assert "Mention volume · topic fatura" in english["text"] and "*Top terms*" in json.dumps(english["blocks"])
    with uow:
        assert uow.session is not None
        audit = uow.session.query(AuditRow).filter_by(action="crisis_opened").one()
        assert (audit.subject, audit.detail["crisis_id"]) == (cs.KUZEY, crisis.id)


def test_a_normal_week_is_not_flagged(seeded: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(seeded)
    checker = watch()
    counts: Counter[str] = Counter()
    for now in cs.hours(cs.END - timedelta(weeks=1), 7 * 24):
        counts += checker.check(uow, now)
    assert counts == Counter(checked=2 * 7 * 24, normal=2 * 7 * 24)  # every hour judged against four weeks
    with uow:
        assert uow.crises.listed() == []
        assert uow.deliveries.count_by_status() == {}


def test_three_mentions_at_night_after_empty_nights_are_not_a_crisis(engine: Engine) -> None:
    night = datetime(2026, 11, 10, 4, 0, tzinfo=cs.ZONE)  # the hour 03:00-04:00 had nothing for four weeks
    earlier = night - timedelta(weeks=5, hours=-8)
    cs.store(engine, [cs.Planned(cs.KUZEY, "x", earlier, "Kuzey Telekom merhaba", "merhaba", "", "neutral")], "old")
    jump = [cs.Planned(cs.KUZEY, "x", night - timedelta(minutes=10 * i + 5), "Kuzey Telekom fatura yine yanlış",
                       "Kuzey Telekom fatura yine yanlış", "fatura", "negative") for i in range(3)]  # fmt: skip
    cs.store(engine, jump, "night")
    uow = SqlAlchemyUnitOfWork(engine)
    # even with no floor on counts, three after nothing is within chance; the default floor is ten
    assert watch(limits=Limits(min_mentions=1)).check(uow, night)["normal"] == 2
    more = [cs.Planned(cs.KUZEY, "x", night - timedelta(minutes=i + 1), "Kuzey Telekom hat kesildi",
                       "Kuzey Telekom hat kesildi", "", "negative") for i in range(12)]  # fmt: skip
    cs.store(engine, more, "more")
    assert watch().check(uow, night)["opened"] == 1  # fifteen after nothing is


def test_no_watch_without_an_alerter_a_channel_or_with_crisis_alerts_off() -> None:
    brands = (BrandSettings(name=cs.KUZEY), BrandSettings(name=cs.DENIZ, competitor=True))
    settings = Settings(brands=brands)
    alerter = SlackAlerter(slack_client(TOKEN, "http://127.0.0.1:9/api/"), "#care-alerts")
    built = CrisisWatch.from_settings(settings, [alerter])
    assert (built.channel, built.target, [b.name for b in built.brands]) == ("slack", "#care-managers", [cs.KUZEY])
    with pytest.raises(NotConfigured, match="enabled"):
        CrisisWatch.from_settings(Settings(brands=brands, crisis=CrisisSettings(enabled=False)), [alerter])
    with pytest.raises(NotConfigured, match="alerter"):
        CrisisWatch.from_settings(settings, [])
    with pytest.raises(NotConfigured, match="channel"):
        CrisisWatch.from_settings(Settings(brands=brands, digests=DigestSettings(channel="")), [alerter])
    with pytest.raises(NotConfigured, match="competitors"):
        CrisisWatch.from_settings(Settings(brands=brands[1:]), [alerter])


def _top_level(server: SlackServer) -> list[SlackMessage]:
    return [m for m in server.posted("#care-managers") if m.thread_ts is None]


def test_an_incident_is_one_message_updated_in_its_thread_and_closed_when_calm(
    seeded: Engine, slack_server: SlackServer
) -> None:
    settings = Settings(brands=tuple(BrandSettings(name=b.name, competitor=b.competitor) for b in BRANDS))
    alerter = SlackAlerter(slack_client(TOKEN, slack_server.url + "/api/", max_wait=5), "#care-alerts")
    checker = CrisisWatch.from_settings(settings, [alerter])
    uow = SqlAlchemyUnitOfWork(seeded)
    outbox = {"slack": alerter}

    def step(minutes: int, expected: str) -> None:
        now = cs.END + timedelta(minutes=minutes)
        assert checker.check(uow, now)[expected] == 1
        with uow:
            queued = uow.deliveries.count_by_status()
        again = checker.check(uow, now)  # the scheduler running the same check twice posts nothing twice
        assert not again.keys() & {"opened", "updated", "closed"}
        with uow:
            assert uow.deliveries.count_by_status() == queued
        deliver_pending(uow, outbox, now=now)

    cs.plant(seeded, cs.END, hostile=" <!channel>")
    step(0, "opened")
    [alert] = _top_level(slack_server)
    assert alert.blocks[0]["text"]["text"] == "🚨 Kriz uyarısı: Kuzey Telekom"
    cs.plant(seeded, cs.END + timedelta(minutes=30), copies=0, others=70, minutes=30, tag="grow", seed=41)
    step(30, "updated")
    [grew] = slack_server.thread(alert.ts)
    assert "Büyüyor" in grew.text
    assert slack_server.shared_message(alert.ts).method == "chat.update"  # type: ignore[union-attr]
    with uow:
        [crisis] = uow.crises.listed()
    # copies in this window name earlier copies from before it: followed up the chain, they are still one text
    assert [cluster[1] for cluster in crisis.detail["clusters"]] == [crisis.detail["clusters"][0][1]]
    step(120, "calming")  # nothing in the hour before: calm from here
    step(180, "calming")
    step(240, "closed")  # calm for crisis.calm_for (2h)
    grew, subsided = slack_server.thread(alert.ts)
    assert "Geçti" in subsided.text
    now_shown = slack_server.shared_message(alert.ts)
    assert now_shown is not None and now_shown.blocks[0]["text"]["text"] == "✅ Geçti: Kuzey Telekom"
    assert _top_level(slack_server) == [alert]  # one message per incident, everything else in its thread
    cs.plant(seeded, cs.END + timedelta(hours=6), tag="again", seed=42)
    step(360, "opened")  # a later spike is a new incident
    assert len(_top_level(slack_server)) == 2
    wire = json.dumps([(m.text, m.blocks) for m in slack_server.messages], ensure_ascii=False)
    assert "<!channel>" not in wire and "&lt;!channel&gt;" in wire
    assert TCKN not in wire
