"""The KVKK purge on a real database: each kind goes after its time and no sooner, reports keep counting, the audit
names nobody, a second run finds nothing (SQLite always, PostgreSQL when CI provides one)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from config.settings import RetentionSettings
from scheduler.retention import purge
from store.model import (
    Analysis,
    Delivery,
    Feedback,
    Label,
    MentionStatus,
    RawMention,
    Ticket,
    TicketStatus,
    Urgency,
)
from store.sqlalchemy import SqlAlchemyUnitOfWork

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)
KEEP = RetentionSettings(raw_payloads="30d", mention_texts="180d", closed_cases="365d", deliveries="90d")
NAME, PHONE, EMAIL, HANDLE = "Ayşe Yılmaz", "0532 111 22 33", "ayse.yilmaz@example.com", "ayse_yilmaz_34"


def raw(external_id: str, age: timedelta, text_: str = "Mavi Kargo paketim bir haftadır yolda.") -> RawMention:
    return RawMention(
        source="sikayetvar",
        external_id=external_id,
        url=f"https://sikayetvar.test/mavi-kargo/{external_id}",
        text=text_,
        fetched_at=NOW - age,
        title="Kargo gecikmesi",
        brand="Mavi Kargo",
        author="Bir Müşteri",
        author_handle="bir_musteri",
        payload={"views": 40, "tags": ["kargo"]},
    )


def analysis(masked: str) -> Analysis:
    return Analysis(
        lang="tr",
        brands=("Mavi Kargo",),
        sentiment=Label("negative", 0.91),
        intent=Label("complaint", 0.84),
        topics=(Label("delivery", 0.77),),
        urgency=Urgency("normal"),
        pii=(),
        masked_text=masked,
        analyzer="test/1",
    )


class Seed:
    """Builds mentions, cases and outbox rows of chosen ages and finds them again by name."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.uow = engine, SqlAlchemyUnitOfWork(engine)
        self.mentions: dict[str, int] = {}
        self.cases: dict[str, int] = {}

    def mention(self, name: str, age: timedelta, **fields: Any) -> int:
        mention = raw(name, age, **fields)
        with self.uow:
            self.uow.mentions.add_many([mention])
            self.uow.commit()
        mention_id = int(self.scalar("SELECT id FROM mentions WHERE external_id = :e", e=name))
        with self.uow:
            self.uow.analyses.add(mention_id, analysis(f"[masked] {mention.text}"))
            self.uow.fingerprints.add(mention_id, {"minhash": [1, 2, 3]}, list(range(86)))
            self.uow.mentions.set_status(mention_id, MentionStatus.ROUTED)
            self.uow.commit()
        self.mentions[name] = mention_id
        return mention_id

    def case(self, name: str, opener: str, *, closed_ago: timedelta | None = None, joined: tuple[str, ...] = ()) -> int:
        with self.uow:
            ticket, _ = self.uow.tickets.open(
                Ticket(self.mentions[opener], "Mavi Kargo", "normal", "care", f"[masked] özet {opener}")
            )
            assert ticket.id is not None
            for other in joined:
                self.uow.tickets.attach(ticket.id, self.mentions[other], "customer")
            if closed_ago is not None:
                self.uow.tickets.update(ticket.id, status=TicketStatus.CLOSED, closed_at=NOW - closed_ago)
            self.uow.feedback.add(Feedback(self.mentions[opener], "sentiment", "neutral", "U1"), ticket_id=ticket.id)
            self.uow.commit()
        self.cases[name] = ticket.id
        return ticket.id

    def delivery(
        self, key: str, age: timedelta, status: str, case: str | None = None, parent: str | None = None
    ) -> None:
        ticket_id = self.cases[case] if case else None
        delivery = Delivery(
            key, "slack", "#care", {"text": "alert"}, ticket_id, created_at=NOW - age, kind="alert", parent_key=parent
        )
        with self.uow:
            self.uow.deliveries.enqueue(delivery)
            self.uow.commit()
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE deliveries SET status = :s WHERE key = :k"), {"s": status, "k": key})

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def count(self, table: str, where: str = "1 = 1", **params: Any) -> int:
        return int(self.scalar(f"SELECT COUNT(*) FROM {table} WHERE {where}", **params))


@pytest.fixture
def seed(engine: Engine) -> Seed:
    s = Seed(engine)
    s.mention("young", 10 * DAY)
    s.mention("mid", 60 * DAY)
    s.mention("old", 200 * DAY)
    s.mention("active", 200 * DAY)
    s.mention("joined", 200 * DAY)
    s.mention("recently_closed", 200 * DAY)
    s.mention("closed_half_a_year", 250 * DAY)
    s.mention("closed_long_ago", 400 * DAY)
    s.case("active", "active", joined=("joined",))
    s.case("recently_closed", "recently_closed", closed_ago=30 * DAY)
    s.case("closed_half_a_year", "closed_half_a_year", closed_ago=200 * DAY)
    s.case("closed_long_ago", "closed_long_ago", closed_ago=370 * DAY)
    s.delivery("ops-old", 100 * DAY, "sent")
    s.delivery("ops-failed-old", 100 * DAY, "failed")
    s.delivery("ops-young", 10 * DAY, "sent")
    s.delivery("ops-pending-old", 100 * DAY, "pending")
    s.delivery("parent-old", 100 * DAY, "sent")
    s.delivery("child-waiting", 1 * DAY, "pending", parent="parent-old")
    s.delivery("alert-active", 100 * DAY, "sent", case="active")
    s.delivery("alert-recently-closed", 190 * DAY, "sent", case="recently_closed")
    s.delivery("alert-closed-half-a-year", 240 * DAY, "sent", case="closed_half_a_year")
    s.delivery("alert-closed-long-ago", 390 * DAY, "pending", case="closed_long_ago")
    return s


def text_of(seed: Seed, name: str) -> tuple[str, str, str, str, str, bool]:
    with seed.uow:
        m = seed.uow.mentions.get(seed.mentions[name]).raw
    return m.text, m.title, m.author, m.author_handle, m.url, bool(m.payload)


def test_raw_payloads_go_after_their_time_and_texts_stay(seed: Seed) -> None:
    counts = purge(seed.uow, KEEP, NOW)
    assert text_of(seed, "young")[-1] is True
    mid = text_of(seed, "mid")
    assert mid[-1] is False and mid[0].startswith("Mavi Kargo")
    assert counts["raw_payloads"] == 7  # every mention but the young one


def test_mention_texts_go_but_what_reports_count_stays(seed: Seed) -> None:
    counts = purge(seed.uow, KEEP, NOW)
    gone = ("old", "closed_half_a_year", "closed_long_ago")
    assert counts["mention_texts"] == len(gone)
    for name in gone:
        assert text_of(seed, name) == ("", "", "", "", "", False)
        with seed.uow:
            mention, kept = seed.uow.mentions.get(seed.mentions[name]), seed.uow.analyses.get(seed.mentions[name])
        assert mention.status is MentionStatus.ROUTED and kept is not None and kept.masked_text == ""
        assert (kept.sentiment.label, kept.intent.label, kept.topics[0].label) == ("negative", "complaint", "delivery")
        assert seed.count("mention_brands", "mention_id = :m AND brand = 'Mavi Kargo'", m=seed.mentions[name]) == 1
        assert seed.count("fingerprints", "mention_id = :m", m=seed.mentions[name]) == 0
        assert seed.count("fingerprint_bands", "mention_id = :m", m=seed.mentions[name]) == 0
    # young, and in a case not closed or closed too recently: untouched
    for name in ("young", "mid", "active", "joined", "recently_closed"):
        assert text_of(seed, name)[0].startswith("Mavi Kargo"), name
        assert seed.count("fingerprint_bands", "mention_id = :m", m=seed.mentions[name]) == 86
    summary = seed.scalar("SELECT summary FROM tickets WHERE id = :t", t=seed.cases["closed_half_a_year"])
    assert summary == ""
    assert seed.scalar("SELECT summary FROM tickets WHERE id = :t", t=seed.cases["active"]).startswith("[masked]")


def test_cases_closed_long_ago_go_with_their_timeline_and_active_ones_never(seed: Seed) -> None:
    counts = purge(seed.uow, KEEP, NOW)
    gone = seed.cases["closed_long_ago"]
    assert counts["closed_cases"] == 1
    assert seed.count("tickets", "id = :t", t=gone) == 0
    for table in ("case_events", "case_mentions", "deliveries"):
        assert seed.count(table, "ticket_id = :t", t=gone) == 0, table
    assert seed.count("feedback", "mention_id = :m AND ticket_id IS NULL", m=seed.mentions["closed_long_ago"]) == 1
    assert seed.count("mentions", "id = :m", m=seed.mentions["closed_long_ago"]) == 1
    assert seed.count("tickets") == 3
    for name in ("active", "recently_closed", "closed_half_a_year"):
        assert seed.count("case_events", "ticket_id = :t", t=seed.cases[name]) >= 1, name
    assert seed.count("case_mentions", "ticket_id = :t", t=seed.cases["active"]) == 2


def test_even_the_shortest_keeping_time_deletes_no_case_that_is_not_closed(engine: Engine) -> None:
    s = Seed(engine)
    for name in ("new", "resolved", "closed"):
        s.mention(name, 900 * DAY)
    s.case("new", "new")
    s.case("resolved", "resolved")
    s.case("closed", "closed", closed_ago=2 * DAY)
    with s.uow:
        s.uow.tickets.update(s.cases["resolved"], status=TicketStatus.RESOLVED, resolved_at=NOW - 800 * DAY)
        s.uow.commit()
    purge(s.uow, RetentionSettings(closed_cases="1s"), NOW)
    assert s.count("tickets") == 2 and s.count("tickets", "id = :t", t=s.cases["closed"]) == 0


def test_finished_outbox_rows_go_unless_a_case_or_a_waiting_change_needs_them(seed: Seed) -> None:
    counts = purge(seed.uow, KEEP, NOW)
    with seed.engine.connect() as conn:
        keys = set(conn.execute(text("SELECT key FROM deliveries")).scalars())
    assert keys == {
        "ops-young",
        "ops-pending-old",
        "parent-old",
        "child-waiting",
        "alert-active",
        "alert-recently-closed",
    }
    assert counts["deliveries"] == 3  # ops-old, ops-failed-old, alert-closed-half-a-year


def test_the_audit_keeps_counts_and_ids_and_names_nobody(engine: Engine) -> None:
    s = Seed(engine)
    said = f"{NAME} burada, {PHONE} numaralı hattım kapalı, {EMAIL} adresime yazın. Mavi Kargo rezalet!"
    first = s.mention("pii-1", 400 * DAY, text_=said)
    s.mention("pii-2", 400 * DAY, text_=said)
    with engine.begin() as conn:
        conn.execute(text("UPDATE mentions SET author = :a, author_handle = :h"), {"a": NAME, "h": HANDLE})
    s.case("pii", "pii-1", closed_ago=400 * DAY)
    s.delivery("pii-alert", 400 * DAY, "sent", case="pii")
    purge(s.uow, KEEP, NOW)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT actor, action, subject, detail FROM audit_log")).all()
    assert sorted(subject for *_, subject, _ in rows) == ["closed_cases", "deliveries", "mention_texts", "raw_payloads"]
    written = json.dumps([[str(value) for value in row] for row in rows], ensure_ascii=False)
    for secret in (NAME, "Ayşe", "Yılmaz", PHONE, "0532", EMAIL, HANDLE, "sikayetvar.test", "rezalet"):
        assert secret not in written, secret
    detail = {subject: details for *_, subject, details in rows}["mention_texts"]
    detail = detail if isinstance(detail, dict) else json.loads(detail)
    assert (detail["count"], detail["first_id"], detail["last_id"]) == (2, first, first + 1)
    assert detail["cutoff"] == (NOW - 180 * DAY).isoformat()


def test_a_second_purge_finds_nothing(seed: Seed) -> None:
    assert sum(purge(seed.uow, KEEP, NOW).values()) > 0
    again = purge(seed.uow, KEEP, NOW)
    assert dict(again) == {"raw_payloads": 0, "mention_texts": 0, "closed_cases": 0, "deliveries": 0}


def test_batches_smaller_than_the_rows_purge_them_all(engine: Engine) -> None:
    s = Seed(engine)
    ids = [s.mention(f"m{i}", 200 * DAY) for i in range(7)]
    counts = purge(s.uow, KEEP, NOW, batch=3)
    assert counts["mention_texts"] == 7 and counts["raw_payloads"] == 7
    assert s.count("mentions", "text <> ''") == 0 and s.count("fingerprint_bands") == 0
    last = s.scalar("SELECT detail FROM audit_log WHERE subject = 'mention_texts'")
    last = last if isinstance(last, dict) else json.loads(last)
    assert (last["count"], last["first_id"], last["last_id"]) == (7, ids[0], ids[-1])


def test_a_dry_run_counts_and_changes_nothing(seed: Seed) -> None:
    before = seed.count("fingerprint_bands"), seed.count("tickets"), seed.count("deliveries")
    dry = purge(seed.uow, KEEP, NOW, batch=2, dry_run=True)
    assert (seed.count("fingerprint_bands"), seed.count("tickets"), seed.count("deliveries")) == before
    assert seed.count("mentions", "text = ''") == 0 and seed.count("audit_log") == 0
    assert dry == purge(seed.uow, KEEP, NOW)  # what it said would go is what goes
