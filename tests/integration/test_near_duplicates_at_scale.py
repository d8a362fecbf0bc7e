"""The near-duplicate look-up reads a bounded number of candidates, and still finds an older repeat behind a flood."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, event, update

from classifiers.duplicates import FingerprintCache, find_duplicate
from store.model import MentionStatus, RawMention
from store.sql_fingerprints import SQLITE_BANDS
from store.sqlalchemy import SqlAlchemyUnitOfWork
from store.tables import FingerprintRow

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ORIGINAL = (
    "Kuzey Telekom fiber hattım 12 gündür kesik, 40512 numaralı arıza kaydı kapatılmış görünüyor ama "
    "internet hâlâ yok, evden çalışıyorum ve her gün izin alıyorum, artık tüketici hakem heyetine gideceğim."
)
REPOST = ORIGINAL.replace("Kuzey Telekom", "@kuzeytelekom").replace("artık", "yoksa")
# The same opening and closing as the original, another story: a template many people fill in.
FLOOD = "Kuzey Telekom fiber hattım {n} gündür kesik, {m} numaralı kayıt var, tüketici hakem heyetine gideceğim."


def test_a_repost_finds_its_original_behind_a_flood_of_template_complaints(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    texts = [ORIGINAL, *(FLOOD.format(n=2 + i % 30, m=50_000 + i) for i in range(300)), REPOST]
    with uow:
        uow.mentions.add_many(
            RawMention("x", f"p{i}", f"https://example.test/{i}", t, NOW, published_at=NOW) for i, t in enumerate(texts)
        )
        uow.commit()
    selects: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "fingerprint" in statement:
            selects.append(statement)

    since = NOW - timedelta(days=14)
    held = FingerprintCache()
    with uow:
        mentions = uow.mentions.with_status(MentionStatus.NEW, limit=1000)
        found = [find_duplicate(uow, m, since, held) for m in mentions[:-1]]
        event.listen(engine, "before_cursor_execute", count)
        try:
            warm = find_duplicate(uow, mentions[-1], since, held)  # all candidates held: only their ids are read
            reads_warm = [s for s in selects if s.lstrip().upper().startswith("SELECT")]
            selects.clear()
            cold = find_duplicate(uow, mentions[-1], since)  # nothing held: the candidates' data is read
            reads_cold = [s for s in selects if s.lstrip().upper().startswith("SELECT")]
        finally:
            event.remove(engine, "before_cursor_execute", count)
        uow.commit()
    assert found[0] is None
    assert cold == warm == mentions[0].id  # the original, 300 template complaints earlier
    # the candidates in one query, their data in one more, whatever their number; none when held already
    assert len(reads_cold) == 2
    assert len(reads_warm) == 1


def test_a_batch_of_look_ups_answers_as_each_look_up_alone(engine: Engine) -> None:
    """Matching asks for a whole batch's candidates at once: the same candidates, in the same order, with the
    same data left out, as asking for each mention alone. Bands shared by hundreds of mentions (the per-band cut),
    mentions too old to count, and more distinct bands than one SQLite statement takes are all in it."""
    rng = random.Random(7)
    popular = [rng.randrange(-(2**63), 2**63) for _ in range(10)]
    rest = [rng.randrange(-(2**63), 2**63) for _ in range(400)]
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.mentions.add_many(
            RawMention("x", f"p{i}", f"https://example.test/{i}", f"metin {i}", NOW, published_at=NOW)
            for i in range(600)
        )
        uow.commit()
    with uow:
        ids = [m.id for m in uow.mentions.with_status(MentionStatus.NEW, limit=1000)]
        entries = [(m, {"size": m}, rng.sample(popular, 5) + rng.sample(rest, 15), None, None) for m in ids]
        uow.fingerprints.add_many(entries)
        assert uow.session is not None
        old = ids[::7]  # fingerprinted long ago: no candidate of anyone
        uow.session.execute(
            update(FingerprintRow).where(FingerprintRow.mention_id.in_(old)).values(created_at=NOW - timedelta(days=60))
        )
        uow.commit()
    since = NOW - timedelta(days=14)
    known = set(ids[::3])
    asked = {i: rng.sample(popular, 3) + rng.sample(rest, 12) + [rng.randrange(2**40)] for i in range(300)}
    with uow:
        together = uow.fingerprints.sharing_known_many(asked, since, known)
        alone = {key: uow.fingerprints.sharing_known(bands, since, known) for key, bands in asked.items()}
    assert together == alone
    assert len({b for bands in asked.values() for b in bands}) > SQLITE_BANDS
    found = [m for answer in together.values() for m, _ in answer]
    assert found and not set(found) & set(old)
    assert any(data is None for answer in together.values() for _, data in answer)
    assert any(data == {"size": m} for answer in together.values() for m, data in answer)
