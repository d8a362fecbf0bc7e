"""Routing keeps what it learns while it routes a batch (the cases mentions repeat, each burst group's latest alert,
each case's alerts) and holds some writes back until the batch commits. Whatever it keeps, a batch must end as
routing its mentions one transaction each would have ended."""

from __future__ import annotations

import json
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
from responders.replies import ReplyDrafter
from responders.routing import TicketRouter
from responders.slack import SlackAlerter, slack_client
from store import db
from store.model import Analysis, Label, MentionStatus, RawMention
from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.conftest import throwaway_database
from tests.integration.test_cases import (
    BRANDS,
    COLUMNS,
    CUSTOMERS,
    KEY,
    LONG,
    NOW,
    PATTERNS,
    Negative,
    post,
    process,
    slack,
    uow,
)

__all__ = ["slack", "uow"]  # the fixtures, shared with the case tests

FORM_LETTER = LONG.replace("KT-40123456 numaralı başvurumu", "Başvurumu")  # anyone may send it
TEXTS = (
    LONG,
    FORM_LETTER,
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
    drafter = ReplyDrafter()  # the suggested reply names the customer: it follows the case
    counts = route_pending(
        uow, TicketRouter(BRANDS), [alerter], drafter=drafter, window_hours=72, now=NOW, batch_size=batch
    )
    queries = {
        "cases": "SELECT id, mention_id, customer_id, priority, status, channel FROM tickets ORDER BY id",
        "joined": "SELECT ticket_id, mention_id, reason FROM case_mentions ORDER BY mention_id",
        "timeline": "SELECT ticket_id, kind, detail FROM case_events",
        "outbox": "SELECT key, kind, status, ticket_id, parent_key, group_key, last_error, payload FROM deliveries",
        "mentions": "SELECT id, status FROM mentions ORDER BY id",
    }
    with engine.connect() as conn:
        found = {name: [tuple(map(_plain, row)) for row in conn.execute(text(sql))] for name, sql in queries.items()}
    found["timeline"] = sorted(found["timeline"])
    found["outbox"] = sorted(found["outbox"])
    return counts, found


def _plain(value: Any) -> str:
    """A column as text, JSON the same on both databases (PostgreSQL's driver hands it over decoded)."""
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else str(value)


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
    # an alert shown again with its count of similar cases keeps its suggested reply
    refreshed = [json.loads(row[7]) for row in alone["outbox"] if row[1] == "change" and ":similar:" in row[0]]
    updates = [payload for payload in refreshed if payload.get("op") == "update"]
    assert updates and all("Suggested reply" in json.dumps(payload["blocks"]) for payload in updates)


def test_in_one_batch_a_handle_s_case_of_someone_else_is_not_theirs(uow: SqlAlchemyUnitOfWork) -> None:
    # Mehmet's case; a shared account repeats his post, so the case holds that account's mention; then Ayşe writes
    # from the shared account with her own order number: the account's case is Mehmet's, not hers.
    counts = process(
        uow,
        post("1", "Kuzey Telekom faturam yanlış, KT-40999999 siparişim de gelmedi", handle="mkaya"),
        post("2", "Kuzey Telekom faturam yanlış, KT-40999999 siparişim de gelmedi", handle="ortak_hesap"),
        post("3", "KT-40123456 için hâlâ bekliyorum", handle="ortak_hesap"),
    )
    assert counts["tickets_opened"] == 2
    with uow:
        first, shared, ayse = uow.mentions.with_status(MentionStatus.ROUTED, limit=10)
        mehmet_s, hers = uow.tickets.case_of(first.id), uow.tickets.case_of(ayse.id)
        assert mehmet_s is not None and hers is not None
        assert uow.tickets.case_of(shared.id) == mehmet_s and hers != mehmet_s
        assert [c.external_id for c in uow.customers.get_many([hers.customer_id or 0]).values()] == ["C1"]


def test_in_one_batch_an_author_with_two_active_cases_joins_the_one_active_last(uow: SqlAlchemyUnitOfWork) -> None:
    # The author opens a case, then repeats someone else's form letter and so joins that earlier case, which is then
    # the one they were last active in: their next mention joins it, though the other case is newer.
    process(
        uow,
        post("1", FORM_LETTER, handle="biri"),
        post("2", "Kuzey Telekom internetim yok", handle="gezgin"),
        post("3", FORM_LETTER, handle="gezgin"),
        post("4", "Kuzey Telekom hâlâ yok", handle="gezgin"),
    )
    with uow:
        letter, own, copy, again = uow.mentions.with_status(MentionStatus.ROUTED, limit=10)
        earlier, newer = uow.tickets.case_of(letter.id), uow.tickets.case_of(own.id)
        assert earlier is not None and newer is not None and (earlier.id or 0) < (newer.id or 0)
        assert uow.tickets.case_of(copy.id) == uow.tickets.case_of(again.id) == earlier
