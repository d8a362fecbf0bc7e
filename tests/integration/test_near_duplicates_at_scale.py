"""The near-duplicate look-up reads a bounded number of candidates, and still finds an older repeat behind a flood."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, event

from classifiers.duplicates import FingerprintCache, find_duplicate
from store.model import MentionStatus, RawMention
from store.sqlalchemy import SqlAlchemyUnitOfWork

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
