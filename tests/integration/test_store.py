"""The store on a real database (SQLite always, PostgreSQL when CI provides one)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, text

from store import db
from store.errors import StoreError
from store.model import (
    Analysis,
    Brand,
    CrawlState,
    Customer,
    CustomerMatch,
    Delivery,
    DeliveryStatus,
    Identifier,
    Label,
    Mention,
    MentionStatus,
    RawMention,
    Ticket,
    Urgency,
)
from store.repository import UnitOfWork, drain
from store.sqlalchemy import SqlAlchemyUnitOfWork
from store.tables import TicketRow

ISTANBUL = timezone(timedelta(hours=3))
HANDLE = Identifier("handle:sikayetvar", "h" * 64, "@ayse.k")
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=ISTANBUL)


def raw(external_id: str, text_: str = "Faturam iki kez kesildi.", source: str = "sikayetvar") -> RawMention:
    return RawMention(
        source=source,
        external_id=external_id,
        url=f"https://example.test/{external_id}",
        text=text_,
        fetched_at=NOW,
        title="Fatura",
        brand="Kuzey Telekom",
        author="Ayşe K.",
        author_handle="ayse.k",
        language="tr",
        published_at=NOW - timedelta(hours=2),
        payload={"views": 12, "tags": ["Fatura"]},
    )


def analysis(brands: tuple[str, ...] = ("Kuzey Telekom",)) -> Analysis:
    return Analysis(
        lang="tr",
        brands=brands,
        sentiment=Label("negative", 0.9),
        intent=Label("complaint", 0.8),
        topics=(Label("billing", 0.7),),
        urgency=Urgency("high", ("legal threat",)),
        pii=(),
        masked_text="Faturam iki kez kesildi.",
        analyzer="test/1",
    )


def test_migrations_create_the_schema_and_rerun_as_a_no_op(engine: Engine) -> None:
    tables = set(db.table_names(engine))
    assert {
        "mentions",
        "analyses",
        "customers",
        "customer_matches",
        "tickets",
        "deliveries",
        "crawl_state",
        "feedback",
        "audit_log",
        "brands",
        "sources",
    } <= tables
    assert not db.pending(engine)
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()


def test_the_migrations_build_exactly_the_tables_the_code_declares(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from store.tables import Base

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_the_latest_migration_goes_down_and_up_again(engine: Engine) -> None:
    from alembic import command

    command.downgrade(db._alembic_config(engine), "0003")
    assert "customer_handles" in db.table_names(engine) and "case_events" not in db.table_names(engine)
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()


def test_same_mention_is_stored_once_and_keeps_its_fields(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        first = uow.mentions.add_many([raw("1"), raw("2"), raw("1")])
        uow.commit()
    with uow:
        again = uow.mentions.add_many([raw("1"), raw("2"), raw("1", source="eksisozluk")])
        uow.commit()
    assert (first.added, first.duplicates) == (2, 1)
    assert (again.added, again.duplicates) == (1, 2)
    with uow:
        stored = uow.mentions.with_status(MentionStatus.NEW)
    assert len(stored) == 3
    m = stored[0].raw
    assert m.published_at == NOW - timedelta(hours=2)
    assert m.published_at is not None and m.published_at.tzinfo is not None
    assert m.payload == {"views": 12, "tags": ["Fatura"]}
    assert m.author == "Ayşe K." and m.language == "tr"


def test_uncommitted_work_is_rolled_back(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.mentions.add_many([raw("9")])
    with uow:
        assert uow.mentions.count_by_status() == {}


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    naive = RawMention(source="s", external_id="x", url="u", text="t", fetched_at=datetime(2026, 1, 1))
    with uow, pytest.raises(StoreError):
        uow.mentions.add_many([naive])
        uow.commit()


def test_stage_rows_are_idempotent(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.mentions.add_many([raw("1")])
        mention = uow.mentions.with_status(MentionStatus.NEW)[0]
        customer = uow.customers.upsert(Customer("C-1", "Ayşe Kaya", identifiers=(HANDLE,)))
        assert customer.id is not None
        assert uow.analyses.add(mention.id, analysis())
        assert not uow.analyses.add(mention.id, analysis(("Other",)))
        assert uow.matches.add(CustomerMatch(mention.id, customer.id, 0.95, ("handle @ayse.k on sikayetvar",)))
        assert not uow.matches.add(CustomerMatch(mention.id, customer.id, 0.9, ("email",)))
        ticket, created = uow.tickets.open(Ticket(mention.id, "Kuzey Telekom", "high", "finance", "Fatura"))
        same, created_again = uow.tickets.open(Ticket(mention.id, "Kuzey Telekom", "low", "care", "x"))
        assert uow.tickets.mentions_of(ticket.id or 0) == [(mention.id, "opened")]  # the second open wrote nothing
        uow.commit()
    assert created and not created_again and same.id == ticket.id and same.priority == "high"
    with uow:
        stored = uow.analyses.get(mention.id)
        assert (
            stored is not None and stored.brands == ("Kuzey Telekom",) and stored.urgency.reasons == ("legal threat",)
        )
        match = uow.matches.get(mention.id)
        assert match is not None and match.reasons == ("handle @ayse.k on sikayetvar",)
        assert uow.tickets.count() == 1


def test_a_case_row_the_session_holds_shows_what_routing_changed(engine: Engine) -> None:
    # Routing changes a case with plain UPDATEs; a row object of it that the session holds (the ORM keeps the ones
    # still referenced) must not be served stale afterwards.
    with SqlAlchemyUnitOfWork(engine) as uow:
        uow.mentions.add_many([raw("1"), raw("2")])
        first, second = uow.mentions.with_status(MentionStatus.NEW)
        customer = uow.customers.upsert(Customer("C-1", "Ayşe Kaya", identifiers=(HANDLE,)))
        ticket, _ = uow.tickets.open(Ticket(first.id, "Kuzey Telekom", "high", "finance", "Fatura"))
        held = uow.session.get(TicketRow, ticket.id)
        assert held is not None and held.customer_id is None
        uow.tickets.set_customer(ticket.id or 0, customer.id)
        assert held.customer_id == customer.id and uow.tickets.get(ticket.id or 0).customer_id == customer.id
        before = held.updated_at
        assert uow.tickets.attach(ticket.id or 0, second.id, "customer")
        assert held.updated_at > before
        assert uow.tickets.case_of(second.id) == uow.tickets.get(ticket.id or 0)
        touched = held.updated_at
        assert not uow.tickets.attach(ticket.id or 0, second.id, "duplicate")  # in the case already: nothing changes
        assert held.updated_at == touched
        assert uow.tickets.mentions_of(ticket.id or 0) == [(first.id, "opened"), (second.id, "customer")]
        uow.commit()


def test_updates_held_back_are_written_in_order_before_anything_reads_them_and_dropped_by_a_rollback(
    engine: Engine,
) -> None:
    def update(n: int, kind: str = "change") -> Delivery:
        group = "g" if kind == "alert" else None
        key = f"slack:#care:ticket:1:note:{n}"
        return Delivery(key, "slack", "#care", {"n": n}, kind=kind, parent_key="p", group_key=group)

    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.deliveries.enqueue_later(update(1))
        uow.deliveries.enqueue_later(update(2, "fold"))
        assert uow.deliveries.count_children("p", "fold") == 1  # written before the count
        uow.deliveries.enqueue_later(update(3))
        assert uow.deliveries.enqueue(update(4))  # after what was held back
        uow.deliveries.enqueue_later(update(5))
        uow.deliveries.enqueue_later(update(1))  # already queued: left as it is
        # An alert is written at once: a look-up of alerts, which writes nothing held back first, finds it.
        uow.deliveries.enqueue_later(update(6, "alert"))
        alert = uow.deliveries.last_in_group("slack", "#care", "g", datetime(2000, 1, 1, tzinfo=UTC))
        assert alert is not None and alert.payload == {"n": 6}
        uow.commit()
    with uow:
        assert [d.payload["n"] for d in uow.deliveries.pending()] == [1, 2, 3, 4, 5, 6]
        uow.deliveries.enqueue_later(update(7))
        uow.rollback()
        uow.deliveries.enqueue_later(update(8))
        uow.commit()
    with uow:
        assert [d.payload["n"] for d in uow.deliveries.pending()] == [1, 2, 3, 4, 5, 6, 8]
    with uow:
        uow.deliveries.enqueue_later(update(9))  # never committed
    with uow:
        assert uow.deliveries.get(update(9).key) is None


def test_outbox_sends_once_and_gives_up_after_repeated_failures(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert uow.deliveries.enqueue(
            Delivery(key="slack:#care:ticket:1", channel="slack", target="#care", payload={"text": "a"})
        )
        assert not uow.deliveries.enqueue(
            Delivery(key="slack:#care:ticket:1", channel="slack", target="#care", payload={"text": "b"})
        )
        assert uow.deliveries.enqueue(
            Delivery(key="slack:#care:ticket:2", channel="slack", target="#care", payload={"text": "c"})
        )
        uow.commit()
    with uow:
        first, second = uow.deliveries.pending()
        assert first.payload == {"text": "a"}
        uow.deliveries.mark_sent(first.id or 0, "1763900000.000100")
        for _ in range(4):
            uow.deliveries.mark_failed(second.id or 0, "ratelimited", final=False)
        assert [d.key for d in uow.deliveries.pending()] == ["slack:#care:ticket:2"]
        uow.deliveries.mark_failed(second.id or 0, "ratelimited", final=False)
        uow.commit()
    with uow:
        assert uow.deliveries.pending() == []
        assert uow.deliveries.count_by_status() == {DeliveryStatus.SENT.value: 1, DeliveryStatus.FAILED.value: 1}


def test_crawl_state_is_saved_and_updated(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert uow.crawl_state.get("sikayetvar", "Kuzey Telekom") is None
        uow.crawl_state.save(CrawlState("sikayetvar", "Kuzey Telekom", last_seen_id="100"))
        uow.commit()
    with uow:
        uow.crawl_state.save(CrawlState("sikayetvar", "Kuzey Telekom", last_seen_id="120", etag='"abc"'))
        uow.commit()
    with uow:
        state = uow.crawl_state.get("sikayetvar", "Kuzey Telekom")
    assert state is not None and state.last_seen_id == "120" and state.etag == '"abc"'
    assert state.updated_at is not None and state.updated_at.tzinfo == UTC


def test_customers_are_found_by_identifier_hash_and_name_key(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    email, phone = Identifier("email", "e" * 64, "a***@e***.test"), Identifier("phone", "p" * 64, "0532 *** ** 67")
    with uow:
        uow.customers.upsert(Customer("C-1", "Ayşe Kaya", "ayse kaya", identifiers=(HANDLE, email, phone)))
        updated = uow.customers.upsert(Customer("C-1", "Ayşe Kaya", "ayse kaya", "İzmir", identifiers=(HANDLE,)))
        uow.customers.upsert(Customer("C-2", "Mehmet Kaya", "mehmet kaya", identifiers=(HANDLE,)))  # shared
        uow.commit()
    assert updated.identifiers == (HANDLE,) and updated.city == "İzmir"
    with uow:
        assert uow.customers.with_identifier("email", "e" * 64) == []  # dropped by the update
        assert [c.external_id for c in uow.customers.with_identifier(HANDLE.kind, HANDLE.hash)] == ["C-1", "C-2"]
        assert uow.customers.with_identifier("handle:x", HANDLE.hash) == []  # the kind is part of the key
        assert [c.external_id for c in uow.customers.with_name_key("ayse kaya")] == ["C-1"]
        assert uow.customers.identifier_kinds() == ["handle:sikayetvar"]
        assert uow.customers.count() == 2


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_brands_and_sources_follow_the_configuration(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.brands.sync([Brand("Kuzey Telekom"), Brand("Deniz GSM", competitor=True)])
        uow.sources.sync({"sikayetvar": True, "eksisozluk": False})
        uow.commit()
    with uow:
        uow.brands.sync([Brand("Kuzey Telekom", competitor=True)])
        uow.sources.sync({"sikayetvar": False})
        uow.commit()
    with engine.connect() as conn:
        brands = dict(conn.execute(text("SELECT name, competitor FROM brands")).all())
        sources = dict(conn.execute(text("SELECT name, enabled FROM sources")).all())
    assert {k: bool(v) for k, v in brands.items()} == {"Kuzey Telekom": True, "Deniz GSM": True}
    assert {k: bool(v) for k, v in sources.items()} == {"sikayetvar": False, "eksisozluk": False}


def test_drain_hands_each_mention_over_once_and_respects_the_limit(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.mentions.add_many([raw(str(i)) for i in range(5)])
        uow.commit()
    seen: list[int] = []

    def forgetful(uow: UnitOfWork, mention: Mention, counts: Counter[str]) -> None:
        seen.append(mention.id)  # leaves the mention NEW: a faulty handler
        counts["seen"] += 1

    assert drain(uow, MentionStatus.NEW, forgetful, batch=2) == {"seen": 5}
    assert sorted(seen) == sorted(set(seen))

    def analyse(uow: UnitOfWork, mention: Mention, counts: Counter[str]) -> None:
        uow.mentions.set_status(mention.id, MentionStatus.ANALYZED)
        counts["moved"] += 1

    assert drain(uow, MentionStatus.NEW, analyse, batch=2, limit=3) == {"moved": 3}
    with uow:
        assert uow.mentions.count_by_status() == {"new": 2, "analyzed": 3}


def test_a_claimed_mention_does_not_hold_up_rows_that_only_refer_to_it(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer at a time")
    with SqlAlchemyUnitOfWork(engine) as uow:
        uow.mentions.add_many([raw("1"), raw("2"), raw("3")])
        uow.commit()
    routing, matching = SqlAlchemyUnitOfWork(engine), SqlAlchemyUnitOfWork(engine)
    with routing:
        held = routing.mentions.with_status(MentionStatus.NEW, limit=2, claim=True)
        assert [m.raw.external_id for m in held] == ["1", "2"]
        first = held[0]
        with matching:
            matching.session.execute(text("SET LOCAL lock_timeout = '2s'"))
            # another worker's claim skips the held rows and takes the free one
            assert [m.raw.external_id for m in matching.mentions.with_status(MentionStatus.NEW, claim=True)] == ["3"]
            # a repeat of a held mention is written at once (FOR UPDATE made this wait for the claim's commit)
            matching.fingerprints.add_many([(3, {"size": 0}, [], first.id, 0.9)])
            matching.commit()
        routing.commit()
    with SqlAlchemyUnitOfWork(engine) as uow:
        assert uow.fingerprints.duplicate_of(3) == first.id
