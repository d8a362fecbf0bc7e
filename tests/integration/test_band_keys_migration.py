"""Migration 0013: the near-duplicate keys of fingerprints already stored are rewritten, both ways."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from alembic import command
from sqlalchemy import Engine, text

from classifiers.dedupe import bands, fingerprint
from store import db
from store.model import MentionStatus, RawMention
from store.sqlalchemy import SqlAlchemyUnitOfWork

MIGRATION = Path(__file__).resolve().parents[2] / "store" / "migrations" / "versions" / "0013_integer_band_keys.py"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TEXTS = {
    "complaint": "Mavi Kargo MK39120455 numaralı paketim 9 gündür Hadımköy aktarma merkezinde bekliyor, "
    "müşteri hizmetleri her aradığımda yarın çıkacak diyor ama hiçbir hareket yok. 1.250 TL ödedim.",
    "retold": "Hadımköy aktarmada 9 gündür bekleyen MK39120455 paketim için her gün arıyorum, "
    "yarın diyorlar, hareket yok. Mavi Kargo ücreti 1250 TL aldı, paketimi getirmedi.",
    "tiny": "Mavi Kargo rezalet",
}


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("migration_0013", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_the_migrations_copy_of_the_key_scheme_is_the_classifiers(name: str) -> None:
    fp = fingerprint(TEXTS[name])
    assert _migration().keys_0013(fp.to_json()) == bands(fp)
    assert (name == "tiny") == (bands(fp) == [])


def _stored(engine: Engine, name: str) -> list[object]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT band FROM fingerprint_bands b JOIN mentions m ON m.id = b.mention_id WHERE m.external_id = :e"
            ),
            {"e": name},
        )
        return sorted(row[0] for row in rows)


def test_stored_keys_go_down_to_strings_and_up_to_integers_and_are_found(engine: Engine) -> None:
    fps = {name: fingerprint(body) for name, body in TEXTS.items()}
    with SqlAlchemyUnitOfWork(engine) as uow:
        uow.mentions.add_many(
            [
                RawMention(source="x", external_id=name, url=f"https://x.test/{name}", text=body, fetched_at=NOW)
                for name, body in TEXTS.items()
            ]
        )
        by_name = {m.raw.external_id: m.id for m in uow.mentions.with_status(MentionStatus.NEW)}
        uow.fingerprints.add_many(
            [(by_name[n], fp.to_json(), bands(fp), None, None) for n, fp in fps.items() if n != "retold"]
        )
        uow.commit()
    migration = _migration()

    command.downgrade(db._alembic_config(engine), "0012")
    assert _stored(engine, "complaint") == sorted(migration.keys_0012(fps["complaint"].to_json()))
    assert len(_stored(engine, "complaint")) == 85 + len(fps["complaint"].numbers)
    assert _stored(engine, "tiny") == []

    db.upgrade(engine)
    assert _stored(engine, "complaint") == sorted(bands(fps["complaint"]))
    with SqlAlchemyUnitOfWork(engine) as uow:
        found = uow.fingerprints.sharing_bands(bands(fps["retold"]), NOW - timedelta(days=365))
    assert [m for m, _ in found] == [by_name["complaint"]]
