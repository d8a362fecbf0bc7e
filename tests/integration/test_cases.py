"""Cases on a real database: one case per problem, its timeline, and KVKK erasure that leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select, text

from classifiers.base import MentionContext
from classifiers.customers import Columns, import_customers
from classifiers.identity import IdentityKey
from classifiers.job import analyze_pending, match_pending
from classifiers.matching import CustomerMatcher
from classifiers.privacy import erase_author, erase_customer
from loopback.slack import SlackServer
from responders.job import deliver_pending, route_pending
from responders.routing import TicketRouter
from responders.slack import SlackAlerter, slack_client
from scheduler.people import decide_match
from store.model import (
    Analysis,
    Brand,
    CaseEvent,
    Customer,
    Label,
    MatchStatus,
    Mention,
    MentionStatus,
    RawMention,
    Ticket,
    TicketStatus,
    Urgency,
)
from store.sqlalchemy import SqlAlchemyUnitOfWork
from store.tables import AuditRow

KEY = IdentityKey("case-tests-identity-key")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
BRANDS = [Brand("Kuzey Telekom", aliases=("Kuzey Telekom",))]
COLUMNS = Columns(handles={"x": "x"}, numbers={"order": "siparis"})
PATTERNS = {"order": r"KT-?\d{8}"}
CUSTOMERS = """external_id,name,email,phone,city,x,siparis
C1,Ayşe Nur Yılmaz,ayse.nur@ornek.test,0532 111 22 33,İzmir,aysenur_y,KT-40123456
C2,Mehmet Kaya,mehmet@ornek.test,0542 222 33 44,Ankara,mkaya,KT-40999999
"""
LONG = (
    "Kuzey Telekom faturama üç aydır izinsiz dijital hizmet ücreti yansıtılıyor. KT-40123456 numaralı başvurumu "
    "müşteri hizmetlerine 14 Kasım'da ilettim, 30 gün içinde dönüş yapılacağı söylendi ama hâlâ ses yok. Her ay "
    "49,90 TL fazladan ödüyorum ve iadesini istiyorum. Aboneliğimi başlatırken böyle bir hizmet istemedim."
)


class Negative:
    """Every text is a negative complaint about the brand: the tests are about cases, not labels."""

    def analyze(self, text_: str, *, brand_hint: str | None = None, context: MentionContext | None = None) -> Analysis:
        return Analysis(
            lang="tr",
            brands=("Kuzey Telekom",),
            sentiment=Label("negative", 0.9),
            intent=Label("complaint", 0.8),
            topics=(Label("billing", 0.6),),
            urgency=Urgency("normal"),
            pii=(),
            masked_text=text_.replace("ayse.nur@ornek.test", "[E-POSTA]"),
            analyzer="test",
        )


def post(external_id: str, text_: str, *, source: str = "x", handle: str = "", hours: float = 0) -> RawMention:
    return RawMention(
        source=source,
        external_id=external_id,
        url=f"https://example.test/{source}/{external_id}",
        text=text_,
        fetched_at=NOW + timedelta(hours=hours),
        author_handle=handle,
        author="Ayşe Nur Yılmaz" if handle == "aysenur_y" else "",
        brand="Kuzey Telekom",
    )


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(channels={"care-alerts": "C0CARE01"}) as server:
        yield server


@pytest.fixture
def uow(engine: Engine, tmp_path: Path) -> SqlAlchemyUnitOfWork:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    work = SqlAlchemyUnitOfWork(engine)
    assert import_customers(path, COLUMNS, KEY, work).imported == 2
    return work


def process(
    uow: SqlAlchemyUnitOfWork, *posts: RawMention, slack: SlackServer | None = None, at: datetime = NOW
) -> dict[str, int]:
    with uow:
        uow.mentions.add_many(posts)
        uow.commit()
    analyze_pending(uow, Negative())
    matched = match_pending(uow, CustomerMatcher(KEY, PATTERNS), now=at)
    alerters = []
    if slack is not None:
        alerters = [SlackAlerter(slack_client(SlackServer.DEFAULT_TOKEN, f"{slack.url}/api/"), "#care-alerts")]
    routed = route_pending(uow, TicketRouter(BRANDS), alerters, window_hours=72, now=at)
    if alerters:
        deliver_pending(uow, {"slack": alerters[0]})
    return {**matched, **routed}


def test_the_same_customer_within_the_window_joins_the_open_case(uow: SqlAlchemyUnitOfWork, slack: SlackServer) -> None:
    first = process(uow, post("1", "Kuzey Telekom faturam yine yanlış", handle="aysenur_y"), slack=slack)
    assert first["tickets_opened"] == 1 and first["matched"] == 1
    # The same customer on another source, found by her order number: joins the case, no second alert.
    later = process(
        uow, post("2", "KT-40123456 için hâlâ bekliyorum", source="sikayetvar", handle="ayse_n"), slack=slack
    )
    assert later.get("joined_by_customer") == 1 and "tickets_opened" not in later
    (alert,) = [m for m in slack.posted() if m.thread_ts is None]
    (note,) = slack.thread(alert.ts)  # the agents hear of it in the alert's thread, not as a new alert
    assert "#2" in note.text and "customer" in note.text
    with uow:
        (case,) = uow.tickets.listed()
        assert case.id is not None
        assert [reason for _, reason in uow.tickets.mentions_of(case.id)] == ["opened", "customer"]
        kinds = [e.kind for e in uow.tickets.timeline(case.id)]
    assert kinds == ["opened", "match", "alert", "mention"]


def test_an_author_without_a_customer_record_keeps_one_case(uow: SqlAlchemyUnitOfWork) -> None:
    process(uow, post("1", "Kuzey Telekom internetim yok", handle="misafir"))
    counts = process(uow, post("2", "hala yok, 3. gün", handle="misafir", hours=5), at=NOW + timedelta(hours=5))
    assert counts.get("joined_by_author") == 1
    other = process(uow, post("3", "bende de yok", handle="baska_biri"))
    assert other["tickets_opened"] == 1
    with uow:
        assert uow.tickets.count() == 2


def test_after_the_window_a_new_problem_opens_a_new_case(uow: SqlAlchemyUnitOfWork) -> None:
    process(uow, post("1", "Kuzey Telekom internetim yok", handle="misafir"))
    later = NOW + timedelta(hours=100)
    counts = process(uow, post("2", "şimdi de faturam yanlış", handle="misafir", hours=100), at=later)
    assert counts["tickets_opened"] == 1


def test_a_near_duplicate_on_another_source_joins_the_case(uow: SqlAlchemyUnitOfWork) -> None:
    process(uow, post("1", LONG, source="sikayetvar", handle="sikayetci_1"))
    reposted = "Kuzey Telekom " + LONG.split(". ", 1)[1] + " #kuzeytelekom @kuzeytelekom"
    counts = process(uow, post("2", reposted, source="eksisozluk", handle="gece kusu"))
    assert counts["near_duplicates"] == 1 and counts.get("joined_by_duplicate") == 1
    unrelated = process(uow, post("3", "Kuzey Telekom modemim bozuldu, teknik servis gelmedi", handle="x1"))
    assert unrelated["tickets_opened"] == 1


def test_an_agent_confirms_a_suggestion_and_the_case_learns_the_customer(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:  # a second holder of Ayşe's phone: the number alone can no longer say who it is
        ayse = uow.customers.by_external_id("C1")
        assert ayse is not None
        phone = tuple(i for i in ayse.identifiers if i.kind == "phone")
        uow.customers.upsert(Customer("C3", "Elif Yılmaz", "elif yilmaz", identifiers=phone))
        uow.commit()
    counts = process(uow, post("1", "0532 111 22 33 hattım kapandı Kuzey Telekom", handle="elif_y"))
    assert counts["suggested"] == 1
    with uow:
        c1 = uow.customers.by_external_id("C1")
        (case,) = uow.tickets.listed()
    assert c1 is not None and case.customer_id is None
    decide_match(uow, 1, "C1", confirm=True, actor="agent:U123")
    with uow:
        assert uow.tickets.get(case.id or 0).customer_id == c1.id
        assert uow.matches.get(1) is not None
        assert uow.tickets.timeline(case.id or 0)[-1].detail["action"] == MatchStatus.CONFIRMED.value


def dump(engine: Engine) -> str:
    """Every value of every table as one string, to search for what must be gone."""
    parts = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                parts.extend(str(value) for value in row)
    return "\n".join(parts).casefold()


def test_forgetting_a_customer_leaves_nothing_that_names_them(
    uow: SqlAlchemyUnitOfWork, engine: Engine, slack: SlackServer
) -> None:
    process(uow, post("1", LONG, source="sikayetvar", handle="ayse_n"), slack=slack)
    process(uow, post("2", "Kuzey Telekom beni arayın: ayse.nur@ornek.test", handle="aysenur_y"), slack=slack)
    process(uow, post("3", "Ayşe Nur Yılmaz adına yazıyorum, annemin hattı", handle="oglu"), slack=slack)
    process(uow, post("4", "Kuzey Telekom çekmiyor", handle="mkaya"), slack=slack)  # someone else: stays
    before = dump(engine)
    secrets = ["ayse.nur@ornek.test", "ayşe nur yılmaz", "aysenur_y", "40123456", "ayse_n", "C1"]
    assert all(s.casefold() in before for s in secrets[:5])
    with uow:
        c1 = uow.customers.by_external_id("C1")
        assert c1 is not None
        hashes = [i.hash for i in c1.identifiers]
        erased = erase_customer(uow, KEY, "C1", patterns=PATTERNS)
        uow.commit()
    assert (erased.customers, erased.mentions) == (1, 3) and erased.tickets >= 1 and erased.deliveries >= 1
    after = dump(engine)
    for secret in secrets[:5] + hashes:
        assert secret.casefold() not in after, secret
    assert "\nc1\n" not in f"\n{after}\n"
    assert "mkaya" in after  # the other customer's complaint is untouched
    with uow:
        (entry,) = uow.session.scalars(select(AuditRow).where(AuditRow.action == "forget"))  # type: ignore[union-attr]
        assert entry.subject == "customer" and entry.detail["mentions"] == 3
    # A re-crawl of an erased post, or a re-import of the erased customer, does not bring them back.
    process(uow, post("1", LONG, source="sikayetvar", handle="ayse_n"))
    assert "ayse_n" not in dump(engine)


def test_forgetting_an_author_erases_their_posts_and_posts_naming_their_handle(
    uow: SqlAlchemyUnitOfWork, engine: Engine
) -> None:
    process(uow, post("1", "Kuzey Telekom internetim yok", handle="gece_kusu"))
    process(uow, post("2", "@gece_kusu haklı, bende de yok", handle="komsu"))
    process(uow, post("3", "Kuzey Telekom çekmiyor", handle="mkaya"))
    with uow:
        erased = erase_author(uow, KEY, "@gece_kusu")
        uow.commit()
    assert erased.mentions == 2
    after = dump(engine)
    assert "gece_kusu" not in after and "mkaya" in after


def test_lines_recorded_on_a_timeline_keep_their_order_and_are_written_with_the_commit(
    uow: SqlAlchemyUnitOfWork,
) -> None:
    """Routing records timeline lines to be written together: a line added at once after them still comes after
    them (same moment, so only the write order tells), and a unit of work that does not commit writes none."""
    process(uow, post("1", "Kuzey Telekom internetim yok", handle="misafir"))
    with uow:
        (case,) = uow.tickets.listed()
        assert case.id is not None
        for n in (1, 2, 3):
            uow.tickets.record_event(CaseEvent(case.id, "action", {"n": n}, NOW))
    with uow:
        assert [e for e in uow.tickets.timeline(case.id) if e.kind == "action"] == []
        uow.tickets.record_event(CaseEvent(case.id, "action", {"n": 1}, NOW))
        uow.tickets.add_event(CaseEvent(case.id, "action", {"n": 2}, NOW))
        uow.tickets.record_event(CaseEvent(case.id, "action", {"n": 3}, NOW))
        uow.commit()
        uow.tickets.record_event(CaseEvent(case.id, "action", {"n": 4}, NOW))
        uow.rollback()  # a line recorded and rolled back is not written by a later commit
        uow.tickets.record_event(CaseEvent(case.id, "action", {"n": 5}, NOW))
        uow.commit()
    with uow:
        assert [e.detail["n"] for e in uow.tickets.timeline(case.id) if e.kind == "action"] == [1, 2, 3, 5]


def test_a_customer_s_case_comes_before_their_handle_s_and_a_handle_s_case_of_someone_else_is_not_theirs(
    uow: SqlAlchemyUnitOfWork,
) -> None:
    """The case a known customer's mention joins: theirs when they have one active, else one of their handle on
    that source that belongs to no one else, else none; a case gone quiet before the window does not count."""
    with uow:
        uow.mentions.add_many([post(str(i), f"Kuzey Telekom {i}", handle="ortak_kullanici") for i in range(3)])
        uow.commit()
    with uow:
        first, second, third = uow.mentions.with_status(MentionStatus.NEW, limit=10)
        ayse, mehmet = (uow.customers.by_external_id(c) for c in ("C1", "C2"))
        assert ayse is not None and mehmet is not None and ayse.id is not None and mehmet.id is not None
        by_handle, _ = uow.tickets.open(Ticket(first.id, "Kuzey Telekom", "normal", "care", "yazan", created_at=NOW))
        since = NOW - timedelta(hours=72)

        def found(customer_id: int | None, handle: str = "ortak_kullanici") -> tuple[int | None, str] | None:
            hit = uow.tickets.open_case_of(customer_id=customer_id, source="x", author_handle=handle, since=since)
            return (hit[0].id, hit[1]) if hit is not None else None

        assert found(ayse.id) == (by_handle.id, "author") == found(None)
        assert found(ayse.id, handle="") is None
        theirs, _ = uow.tickets.open(Ticket(second.id, "Kuzey Telekom", "normal", "care", "A", ayse.id, created_at=NOW))
        assert found(ayse.id) == (theirs.id, "customer")
        uow.tickets.set_customer(by_handle.id or 0, mehmet.id)  # the handle's case is Mehmet's now
        assert found(ayse.id) == (theirs.id, "customer")
        uow.tickets.update(theirs.id or 0, status=TicketStatus.RESOLVED)
        assert found(ayse.id) is None  # Ayşe's case is closed; the handle's case is someone else's
        assert found(mehmet.id) == (by_handle.id, "customer")
        uow.tickets.open(
            Ticket(third.id, "Kuzey Telekom", "normal", "care", "B", ayse.id, created_at=NOW - timedelta(days=5))
        )
        assert found(ayse.id) is None  # active, but quiet for longer than the window


def test_the_active_cases_of_customers_and_authors_whenever_last_active(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        uow.mentions.add_many(
            [
                post("1", "Kuzey Telekom 1", handle="ortak"),
                post("2", "Kuzey Telekom 2", source="sikayetvar", handle="ortak"),
                post("3", "Kuzey Telekom 3", handle="baska"),
            ]
        )
        uow.commit()
    with uow:
        on_x, on_sikayetvar, other = uow.mentions.with_status(MentionStatus.NEW, limit=10)
        ayse = uow.customers.by_external_id("C1")
        assert ayse is not None and ayse.id is not None

        def case(mention: Mention, customer_id: int | None, at: datetime) -> Ticket:
            ticket = Ticket(mention.id, "Kuzey Telekom", "normal", "care", "-", customer_id, created_at=at)
            return uow.tickets.open(ticket)[0]

        by_handle, hers = case(on_x, None, NOW), case(other, ayse.id, NOW - timedelta(days=30))
        closed = case(on_sikayetvar, ayse.id, NOW)
        uow.tickets.update(closed.id or 0, status=TicketStatus.RESOLVED)
        authors = [("x", "ortak"), ("sikayetvar", "ortak"), ("eksisozluk", "baska")]
        found = uow.tickets.active_cases_of([ayse.id], authors)
        # Ayşe's case though quiet for a month, holding none of the authors asked about ("baska" wrote on X); the
        # handle's case on X; not Ayşe's closed one, which held the handle on Şikayetvar
        assert {case.id: held for case, held in found} == {by_handle.id: {("x", "ortak")}, hers.id: set()}
        assert uow.tickets.active_cases_of([], []) == []
