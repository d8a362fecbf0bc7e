"""Customer import and matching on a real database: keyed hashes only, signals weighed, never a name alone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from classifiers.customers import Columns, import_customers
from classifiers.identity import IdentityKey
from classifiers.matching import CustomerMatcher
from store.model import MatchStatus, Mention, MentionStatus, RawMention
from store.sqlalchemy import SqlAlchemyUnitOfWork

KEY = IdentityKey("customer-tests-identity-key")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
COLUMNS = Columns(
    fields={"id": "musteri_no", "name": "ad_soyad", "email": "eposta", "phone": "gsm", "city": "il", "vip": "vip"},
    handles={"x": "x_kullanici", "sikayetvar": "sikayetvar_kullanici"},
    numbers={"order": "siparis_no"},
)
CSV = """musteri_no,ad_soyad,eposta,gsm,il,vip,x_kullanici,sikayetvar_kullanici,siparis_no
C1,Ayşe Nur Yılmaz,ayse.nur@ornek.test,0532 111 22 33,İzmir,evet,@aysenur_y,aysenur.y,KT-40123456
C2,Mehmet Kaya,mehmet.kaya@ornek.test,+90 542 222 33 44,Ankara,hayır,,mkaya,KT-40999999
C3,Ayşe Nur Yılmaz,ayse.yilmaz@ornek.test,0533 444 55 66,Bursa,,,,
C4,Elif Demir,,0532 111 22 33,İzmir,,,,
C5,Bozuk Kayıt,not-an-email,,,,,,
,İsimsiz,,,,,,,
C6,Zeynep Ak,,05551234567,Adana,belki,,,
"""


def raw(text_: str, *, source: str = "x", handle: str = "", author: str = "", external_id: str = "1") -> RawMention:
    return RawMention(
        source=source,
        external_id=external_id,
        url=f"https://example.test/{external_id}",
        text=text_,
        fetched_at=NOW,
        author=author,
        author_handle=handle,
    )


@pytest.fixture
def uow(engine: Engine, tmp_path: Path) -> SqlAlchemyUnitOfWork:
    path = tmp_path / "musteriler.csv"
    path.write_text(CSV, encoding="utf-8")
    work = SqlAlchemyUnitOfWork(engine)
    report = import_customers(path, COLUMNS, KEY, work)
    assert (report.read, report.imported) == (7, 4)
    return work


def test_import_reports_bad_records_by_line_and_keeps_the_rest(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "musteriler.csv"
    path.write_text(CSV, encoding="utf-8")
    report = import_customers(path, COLUMNS, KEY, SqlAlchemyUnitOfWork(engine))
    assert report.imported == 4
    assert [e.split(": ", 1)[0] for e in report.errors] == [f"{path}:6", f"{path}:7", f"{path}:8"]
    assert "column 'eposta': not a valid email" in report.errors[0]
    assert "no customer id (column 'musteri_no')" in report.errors[1]
    assert "column 'vip': expected yes/no" in report.errors[2]


def test_the_store_holds_hashes_and_masked_forms_never_the_identifiers(
    uow: SqlAlchemyUnitOfWork, engine: Engine
) -> None:
    with engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM customer_identifiers")) for v in row)
    for secret in ("ayse.nur@ornek.test", "5321112233", "532 111 22 33", "40123456", "aysenur_y"[:-1] + "x"):
        assert secret not in dump
    with uow:
        ayse = uow.customers.by_external_id("C1")
    assert ayse is not None and ayse.vip and ayse.city == "İzmir" and ayse.name_key == "ayse nur yilmaz"
    shown = {i.kind: i.display for i in ayse.identifiers}
    assert shown["email"] == "a***@o***.test" and shown["phone"] == "0532 *** ** 33"
    assert shown["order"] == "KT******56" and shown["handle:x"] == "@aysenur_y"


def test_reimport_updates_in_place(uow: SqlAlchemyUnitOfWork, tmp_path: Path) -> None:
    path = tmp_path / "guncel.jsonl"
    path.write_text(
        '{"musteri_no": "C2", "ad_soyad": "Mehmet Kaya", "il": "İstanbul", "gsm": "0542 999 88 77"}\n{broken json\n',
        encoding="utf-8",
    )
    report = import_customers(path, COLUMNS, KEY, uow)
    assert report.imported == 1 and report.errors[0].startswith(f"{path}:2: not valid JSON")
    with uow:
        assert uow.customers.count() == 4
        mehmet = uow.customers.by_external_id("C2")
        old_phone = KEY.hash("phone", "+90 542 222 33 44")
        assert old_phone is not None and uow.customers.with_identifier("phone", old_phone) == []
    assert mehmet is not None and mehmet.city == "İstanbul" and [i.kind for i in mehmet.identifiers] == ["phone"]


def match(uow: SqlAlchemyUnitOfWork, record: RawMention, **options: float) -> list[tuple[str, MatchStatus, float]]:
    matcher = CustomerMatcher(KEY, {"order": r"KT-?\d{8}"}, **options)
    with uow:
        uow.mentions.add_many([record])
        mention: Mention = uow.mentions.with_status(MentionStatus.NEW)[-1]
        found = matcher.match(mention, uow)
        for candidate in found:
            uow.matches.add(candidate)
        names = {c.id: c.external_id for c in (uow.customers.get(m.customer_id) for m in found) if c}
        uow.commit()
    return [(names[m.customer_id], m.status, m.confidence) for m in found]


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (raw("Kuzey Telekom faturamı iki kez kesti", handle="@AyseNur_Y"), ["C1"]),  # handle, any case
        (raw("paketim gelmedi", source="sikayetvar", handle="mkaya"), ["C2"]),
        (raw("KT40123456 numaralı siparişim nerede?"), ["C1"]),  # order number without its dash
        (raw("bana ayse.nur@ornek.test adresinden dönün"), ["C1"]),
        (raw("numaram +90 (533) 444 55 66 arayın"), ["C3"]),
    ],
)
def test_a_strong_single_signal_auto_links(uow: SqlAlchemyUnitOfWork, record: RawMention, expected: list[str]) -> None:
    found = match(uow, record)
    assert [(name, status) for name, status, _ in found] == [(expected[0], MatchStatus.AUTO)]


def test_the_reasons_name_the_signal_with_the_masked_identifier(uow: SqlAlchemyUnitOfWork) -> None:
    matcher = CustomerMatcher(KEY, {"order": r"KT-?\d{8}"})
    with uow:
        uow.mentions.add_many([raw("KT-40123456 hâlâ gelmedi", handle="aysenur_y", author="Ayşe Nur Yılmaz")])
        (mention,) = uow.mentions.with_status(MentionStatus.NEW)
        (found,) = matcher.match(mention, uow)
    assert found.reasons == ("handle @aysenur_y on x", "order no KT******56 in the text", "name matches")
    assert found.confidence > 0.99


def test_a_handle_on_another_platform_is_not_the_customer(uow: SqlAlchemyUnitOfWork) -> None:
    assert match(uow, raw("çekmiyor", source="sikayetvar", handle="aysenur_y")) == []


def test_a_shared_phone_is_only_a_suggestion_for_each_holder(uow: SqlAlchemyUnitOfWork) -> None:
    found = match(uow, raw("0532 111 22 33 numaralı hattım kapandı"))
    assert sorted(name for name, _, _ in found) == ["C1", "C4"]
    assert {status for _, status, _ in found} == {MatchStatus.SUGGESTED}


def test_never_on_a_name_alone_and_a_namesake_city_only_suggests(uow: SqlAlchemyUnitOfWork) -> None:
    assert match(uow, raw("internetim yok", author="Ayşe Nur Yılmaz", external_id="a")) == []
    found = match(uow, raw("Bursa'da internetim yok", author="Ayse Nur Yilmaz", external_id="b"))
    assert [(name, status) for name, status, _ in found] == [("C3", MatchStatus.SUGGESTED)]
    assert found[0][2] == pytest.approx(0.7)


def test_a_typo_in_a_number_matches_nobody(uow: SqlAlchemyUnitOfWork) -> None:
    assert match(uow, raw("KT-40123457 numaralı siparişim")) == []


def test_an_agents_earlier_confirmation_counts_for_the_author(uow: SqlAlchemyUnitOfWork) -> None:
    first = match(uow, raw("0532 111 22 33 hattım", source="eksisozluk", handle="gece kuşu", external_id="1"))
    assert len(first) == 2
    with uow:
        c4 = uow.customers.by_external_id("C4")
        assert c4 is not None and c4.id is not None
        uow.matches.decide(1, c4.id, MatchStatus.CONFIRMED)
        uow.commit()
        decided = {m.customer_id: m.status for m in uow.matches.candidates(1)}
        assert decided.pop(c4.id) is MatchStatus.CONFIRMED and list(decided.values()) == [MatchStatus.REJECTED]
        assert uow.matches.get(1) is not None and uow.matches.get(1).customer_id == c4.id  # type: ignore[union-attr]
    later = match(uow, raw("yine çekmiyor", source="eksisozluk", handle="gece kuşu", external_id="2"))
    assert [(name, status) for name, status, _ in later] == [("C4", MatchStatus.AUTO)]


def test_without_a_key_nothing_is_matched(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        uow.mentions.add_many([raw("x", handle="aysenur_y")])
        (mention,) = uow.mentions.with_status(MentionStatus.NEW)
        assert CustomerMatcher(None).match(mention, uow) == []


def test_a_batch_is_matched_from_one_read_as_one_mention_at_a_time_would_be(uow: SqlAlchemyUnitOfWork) -> None:
    match(uow, raw("0532 111 22 33 hattım", source="eksisozluk", handle="gece kuşu", external_id="0"))
    records = [
        raw("Kuzey Telekom faturamı iki kez kesti", handle="@AyseNur_Y", author="Ayşe Nur Yılmaz", external_id="1"),
        raw("paketim gelmedi", source="sikayetvar", handle="mkaya", external_id="2"),
        raw("KT40123456 ve KT-40999999 siparişlerim nerede?", external_id="3"),
        raw("0532 111 22 33 numaralı hattım kapandı, ayse.nur@ornek.test", external_id="4"),
        raw("Bursa'da internetim yok", author="Ayse Nur Yilmaz", external_id="5"),
        raw("yine çekmiyor", source="eksisozluk", handle="gece kuşu", external_id="6"),
        raw("İzmir'de hattım yok", author="Ayşe Nur Yılmaz", handle="bilinmeyen", external_id="7"),
        raw("hiçbir şey", external_id="8"),
    ]
    matcher = CustomerMatcher(KEY, {"order": r"KT-?\d{8}"})
    with uow:
        c4 = uow.customers.by_external_id("C4")
        assert c4 is not None and c4.id is not None
        uow.matches.decide(1, c4.id, MatchStatus.CONFIRMED)
        uow.mentions.add_many(records)
        mentions = uow.mentions.with_status(MentionStatus.NEW)
        together = matcher.match_many(mentions, uow)
        assert together == {m.id: matcher.match(m, uow) for m in mentions}
        # the first is the mention the agent confirmed, still NEW; each signal finds someone, the last no one
        assert [bool(together[m.id]) for m in mentions] == [True] * 8 + [False]
        fresh = [c for m in mentions[1:] for c in together[m.id]]
        assert uow.matches.add_many(fresh) == len(fresh)
        assert uow.matches.add_many(together[mentions[0].id]) == 0  # stored by the first match: nothing twice


def test_the_stores_batch_look_ups_answer_as_its_single_ones(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        held = [
            (i.kind, i.hash)
            for c in (uow.customers.by_external_id(x) for x in ("C1", "C4"))
            if c
            for i in c.identifiers
        ]
        asked = [*held, ("email", held[0][1]), ("phone", "0" * 64), held[0]]  # a hash under another kind, none, twice
        assert uow.customers.with_identifiers(asked) == {pair: uow.customers.with_identifier(*pair) for pair in asked}
        shared = [pair for pair in held if len(uow.customers.with_identifier(*pair)) == 2]
        assert shared  # the phone C1 and C4 share
        keys = ["ayse nur yilmaz", "mehmet kaya", "kimse"]
        for limit in (1, 50):
            assert uow.customers.with_name_keys(keys, limit) == {k: uow.customers.with_name_key(k, limit) for k in keys}
        assert len(uow.customers.with_name_keys(keys)["ayse nur yilmaz"]) == 2
        authors = [("eksisozluk", "gece kuşu"), ("x", "gece kuşu"), ("eksisozluk", "kimse")]
        assert uow.matches.confirmed_for_authors(authors) == {a: uow.matches.confirmed_for_author(*a) for a in authors}
