"""Revision 0009 copies each mention's moment onto its brand rows: digests and crisis checks filter on that copy, so
a row left without it, or with the wrong one, would drop out of every report or land in the wrong period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, select, text

from store import db
from store.model import Analysis, Label, RawMention, Urgency
from store.sqlalchemy import SqlAlchemyUnitOfWork
from store.tables import MentionBrandRow

PUBLISHED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
FETCHED = PUBLISHED + timedelta(hours=5)  # hours apart: a copy of the wrong one would show


def _stored_before(conn: Connection, external_id: str, published: datetime | None) -> int:
    conn.execute(
        text(
            "INSERT INTO mentions (source, external_id, url, title, author, author_handle, text, published_at,"
            " fetched_at, payload, content_hash, status, updated_at) VALUES ('x', :ext, 'https://x.test', '', '',"
            " '', 'metin', :published, :fetched, '{}', 'h', 'analyzed', :fetched)"
        ),
        {"ext": external_id, "published": published, "fetched": FETCHED},
    )
    mention_id = int(conn.execute(text("SELECT id FROM mentions WHERE external_id = :e"), {"e": external_id}).one()[0])
    for brand in ("Kuzey Telekom", "Mavi Kargo"):
        conn.execute(
            text("INSERT INTO mention_brands (mention_id, brand) VALUES (:m, :b)"), {"m": mention_id, "b": brand}
        )
    return mention_id


def _moments(engine: Engine, mention_id: int) -> list[datetime]:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert uow.session is not None
        stmt = select(MentionBrandRow.at).where(MentionBrandRow.mention_id == mention_id).order_by(MentionBrandRow.id)
        return list(uow.session.scalars(stmt))


def test_brand_rows_carry_the_moment_of_their_mention(database_url: str) -> None:
    engine = db.make_engine(database_url)
    db.upgrade(engine, "0008")
    with engine.begin() as conn:
        published = _stored_before(conn, "p", PUBLISHED)
        fetched_only = _stored_before(conn, "f", None)
    db.upgrade(engine)

    assert _moments(engine, published) == [PUBLISHED, PUBLISHED]
    assert _moments(engine, fetched_only) == [FETCHED, FETCHED]

    later = PUBLISHED + timedelta(days=3)
    analysis = Analysis(
        lang="tr", brands=("Mavi Kargo", "Deniz GSM"), sentiment=Label("negative", 0.9),
        intent=Label("complaint", 0.8), topics=(), urgency=Urgency("normal"), pii=(), masked_text="Kargo gelmedi",
        analyzer="test",
    )  # fmt: skip
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.mentions.add_many(
            [
                RawMention("x", "after", "https://x.test/a", "Kargo gelmedi", FETCHED, published_at=later),
                RawMention("x", "after-f", "https://x.test/b", "Kargo gelmedi", FETCHED),
            ]
        )
        uow.commit()
    with engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT external_id, id FROM mentions WHERE external_id LIKE 'after%'")).all())
    with uow:
        assert uow.analyses.add(ids["after"], analysis)
        assert uow.analyses.add(ids["after-f"], analysis)
        uow.commit()
    assert _moments(engine, ids["after"]) == [later, later]
    assert _moments(engine, ids["after-f"]) == [FETCHED, FETCHED]
    engine.dispose()
