"""`kulak purge` as an operator runs it: a dry run that deletes nothing, a real run, a bad keeping time named."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from store import db
from store.model import RawMention
from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.integration.test_cli import kulak

CONFIG = """[[brands]]
name = "Yıldız Bank"

[retention]
deliveries = "off"
"""


def seed(tmp_path: Path) -> str:
    (tmp_path / "kulak.toml").write_text(CONFIG, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'kulak.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    uow = SqlAlchemyUnitOfWork(engine)
    now = datetime.now(UTC)
    with uow:
        uow.mentions.add_many(
            RawMention(
                source="eksisozluk",
                external_id=name,
                url=f"https://eksi.test/entry/{name}",
                text="Yıldız Bank kartımı sebepsiz yere kapattı.",
                fetched_at=now - age,
                author="Biri",
                payload={"entry": name},
            )
            for name, age in (("old", timedelta(days=200)), ("young", timedelta(days=2)))
        )
        uow.commit()
    engine.dispose()
    return url


def texts(url: str) -> dict[str, str]:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        rows = {external_id: body for external_id, body in conn.execute(text("SELECT external_id, text FROM mentions"))}
    engine.dispose()
    return rows


def audit_rows(url: str) -> int:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        count = int(conn.execute(text("SELECT COUNT(*) FROM audit_log")).scalar_one())
    engine.dispose()
    return count


def test_a_dry_run_counts_and_deletes_nothing_then_a_real_run_purges(tmp_path: Path) -> None:
    url = seed(tmp_path)
    dry = kulak("purge", "--dry-run", "--json", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    expected = {"raw_payloads": 1, "mention_texts": 1, "closed_cases": 0, "deliveries": None}
    assert json.loads(dry.stdout) == {"dry_run": True, **expected}
    assert texts(url)["old"].startswith("Yıldız Bank") and audit_rows(url) == 0
    done = kulak("purge", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "mention_texts: 1 purged (kept 180d)" in done.stdout.splitlines()
    assert "deliveries: kept forever (retention.deliveries is off)" in done.stdout.splitlines()
    assert texts(url) == {"old": "", "young": "Yıldız Bank kartımı sebepsiz yere kapattı."}
    assert audit_rows(url) == 3  # one per kind purged; deliveries is off


def test_a_keeping_time_it_cannot_read_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "kulak.toml").write_text('[retention]\nclosed_cases = "bir yıl"\n', encoding="utf-8")
    result = kulak("purge", "--dry-run", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "retention.closed_cases" in result.stderr and '"off"' in result.stderr
