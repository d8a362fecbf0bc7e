"""Routing keeps what it learns while it routes a batch (the cases mentions repeat, each burst group's latest alert,
each case's alerts) and holds some writes back until the batch commits. Whatever it keeps, a batch must end as
routing its mentions one transaction each would have ended."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from classifiers.base import MentionContext
from classifiers.customers import import_customers
from classifiers.job import analyze_pending, match_pending
from classifiers.matching import CustomerMatcher
from loopback.slack import SlackServer
from responders.job import route_pending
from responders.routing import TicketRouter
from responders.slack import SlackAlerter, slack_client
from store import db
from store.model import Analysis, Label, RawMention
from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.conftest import throwaway_database
from tests.integration.test_cases import BRANDS, COLUMNS, CUSTOMERS, KEY, LONG, NOW, PATTERNS, Negative, post, slack

__all__ = ["slack"]  # the fixture, shared with the case tests

TEXTS = (
    LONG,
    LONG.replace("KT-40123456 numaralı başvurumu", "Başvurumu"),  # a form letter anyone may send
    "Kuzey Telekom " + LONG.split(". ", 1)[1],  # a repost of most of it
    "Kuzey Telekom internetim yok",
    "Kuzey Telekom faturam yanlış, KT-40999999 siparişim de gelmedi",
    "KT-40123456 için hâlâ bekliyorum",
    "Kuzey Telekom {n}. gün, hâlâ çekmiyor",
    "Kuzey Telekom modem {n} kez değişti, yine bozuk",
)
HANDLES = ("aysenur_y", "mkaya", "misafir", "gece kusu", "yolcu", "")
SOURCES = ("x", "x", "sikayetvar", "eksisozluk")


class ByTopic(Negative):
    """Negative complaints whose topic (so their burst group) the text decides."""

    def analyze(self, text_: str, *, brand_hint: str | None = None, context: MentionContext | None = None) -> Analysis:
        topic = "network" if "internet" in text_ or "çekmiyor" in text_ else "device" if "modem" in text_ else "billing"
        return replace(super().analyze(text_), topics=(Label(topic, 0.7),))


def posts(n: int, seed: int) -> list[RawMention]:
    """Mentions that repeat each other, come back from the same people and name customers' order numbers."""
    rng = random.Random(seed)
    return [
        post(str(i), rng.choice(TEXTS).format(n=i), source=rng.choice(SOURCES), handle=rng.choice(HANDLES))
        for i in range(n)
    ]


@pytest.fixture
def second_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Another empty database of the same kind."""
    (tmp_path / "second").mkdir()
    kind = "sqlite" if database_url.startswith("sqlite") else "postgres"
    yield from throwaway_database(kind, tmp_path / "second", "kulak_second")


def routed(engine: Engine, tmp_path: Path, slack: SlackServer, mentions: list[RawMention], batch: int) -> Any:
    """Store, analyse, match and route ``mentions`` (routing ``batch`` at a time); what routing wrote, in a form
    that does not depend on the order of the ids of rows written together."""
    customers = tmp_path / f"customers-{batch}.csv"
    customers.write_text(CUSTOMERS, encoding="utf-8")
    uow = SqlAlchemyUnitOfWork(engine)
    import_customers(customers, COLUMNS, KEY, uow)
    with uow:
        uow.mentions.add_many(mentions)
        uow.commit()
    analyze_pending(uow, ByTopic())
    match_pending(uow, CustomerMatcher(KEY, PATTERNS), now=NOW)
    alerter = SlackAlerter(slack_client(SlackServer.DEFAULT_TOKEN, f"{slack.url}/api/"), "#care-alerts")
    counts = route_pending(uow, TicketRouter(BRANDS), [alerter], window_hours=72, now=NOW, batch_size=batch)
    queries = {
        "cases": "SELECT id, mention_id, customer_id, priority, status, channel FROM tickets ORDER BY id",
        "joined": "SELECT ticket_id, mention_id, reason FROM case_mentions ORDER BY mention_id",
        "timeline": "SELECT ticket_id, kind, detail FROM case_events",
        "outbox": "SELECT key, kind, status, ticket_id, parent_key, group_key, last_error, payload FROM deliveries",
        "mentions": "SELECT id, status FROM mentions ORDER BY id",
    }
    with engine.connect() as conn:
        found = {name: [tuple(map(str, row)) for row in conn.execute(text(sql))] for name, sql in queries.items()}
    found["timeline"] = sorted(found["timeline"])
    found["outbox"] = sorted(found["outbox"])
    return counts, found


def test_routing_a_batch_at_once_ends_as_routing_one_mention_at_a_time(
    engine: Engine, second_url: str, tmp_path: Path, slack: SlackServer
) -> None:
    mentions = posts(160, seed=20261125)
    one_by_one = db.make_engine(second_url)
    try:
        db.upgrade(one_by_one)
        alone_counts, alone = routed(one_by_one, tmp_path, slack, mentions, batch=1)
    finally:
        one_by_one.dispose()
    batch_counts, batched = routed(engine, tmp_path, slack, mentions, batch=200)
    assert batch_counts == alone_counts
    for name, rows in alone.items():
        assert batched[name] == rows, name
    # the mix reached what the batch keeps: repeats, people coming back, folded and sent alerts, notes
    assert all(alone_counts[k] >= 3 for k in ("joined_by_duplicate", "joined_by_author", "joined_by_customer"))
    assert alone_counts["alerts_folded"] >= 3 and alone_counts["alerts_queued"] >= 3, alone_counts
    assert Counter(row[1] for row in alone["outbox"])["change"] >= 3
