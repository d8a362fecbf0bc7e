"""`kulak customers import`, `forget`, `match`, `case show`/`act` and `feedback export` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from store import db
from store.model import MentionStatus, RawMention
from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.integration.test_cli import kulak
from tests.integration.test_stages import NOW

KEY = "people-cli-identity-key-0123"
CONFIG = """[[brands]]
name = "Kuzey Telekom"

[customers]
columns = { id = "musteri_no", name = "ad_soyad", phone = "gsm", city = "il" }
handle_columns = { x = "x" }
"""
CSV = """musteri_no,ad_soyad,gsm,il,x
C1,Ayşe Kaya,0532 111 22 33,İzmir,ayse_k
C2,Elif Kaya,0532 111 22 33,İzmir,
C3,Bozuk,0000,,
"""


def setup(tmp_path: Path) -> Path:
    (tmp_path / "kulak.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "musteriler.csv").write_text(CSV, encoding="utf-8")
    return tmp_path


def test_import_needs_the_key_and_reports_bad_records_by_line(tmp_path: Path) -> None:
    setup(tmp_path)
    without = kulak("customers", "import", "musteriler.csv", cwd=tmp_path)
    assert without.returncode == 2 and "KULAK_IDENTITY_KEY" in without.stderr and "Traceback" not in without.stderr
    done = kulak("customers", "import", "musteriler.csv", "--json", cwd=tmp_path, KULAK_IDENTITY_KEY=KEY)
    assert done.returncode == 1, done.stderr  # a bad record: reported, the rest imported
    summary = json.loads(done.stdout)
    assert (summary["read"], summary["imported"]) == (3, 2)
    assert summary["errors"] == ["musteriler.csv:4: column 'gsm': not a valid phone (***)"]
    missing = kulak("customers", "import", "yok.csv", cwd=tmp_path, KULAK_IDENTITY_KEY=KEY)
    assert missing.returncode == 1 and "yok.csv: cannot read customer file" in missing.stderr


def test_an_agent_confirms_a_match_reads_the_case_and_the_customer_is_forgotten(tmp_path: Path) -> None:
    setup(tmp_path)
    assert kulak("customers", "import", "musteriler.csv", cwd=tmp_path, KULAK_IDENTITY_KEY=KEY).returncode == 1
    engine = db.make_engine(f"sqlite:///{tmp_path / 'kulak.db'}")
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.mentions.add_many(
            [
                RawMention(
                    source="x",
                    external_id="1",
                    url="https://x.test/1",
                    text="Kuzey Telekom rezalet, 0532 111 22 33 numaralı hattım üç gündür kapalı!",
                    fetched_at=NOW,
                    author_handle="@biri",
                    brand="Kuzey Telekom",
                )
            ]
        )
        uow.commit()
    ran = kulak("run", "--once", cwd=tmp_path, KULAK_IDENTITY_KEY=KEY)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout.splitlines()[-1])["matches_to_confirm"] == 1
    confirmed = kulak("match", "confirm", "1", "C1", "--by", "agent:U1", cwd=tmp_path, KULAK_IDENTITY_KEY=KEY)
    assert confirmed.returncode == 0, confirmed.stderr
    shown = json.loads(kulak("case", "show", "1", cwd=tmp_path).stdout)
    assert shown["customer_id"] == 1 and [m["joined"] for m in shown["mentions"]] == ["opened"]
    assert "0532 111 22 33" not in json.dumps(shown, ensure_ascii=False)  # masked text only
    assert [e["kind"] for e in shown["timeline"]][-1] == "action"
    fixed = kulak("case", "act", "1", "fix_sentiment", "--value", "neutral", "--by", "U1", cwd=tmp_path)
    assert fixed.returncode == 0 and fixed.stdout.strip().endswith("sentiment fixed: negative → neutral")
    bad = kulak("case", "act", "1", "frobnicate", cwd=tmp_path)
    assert bad.returncode == 1 and "unknown action 'frobnicate'" in bad.stderr
    exported = kulak("feedback", "export", "sentiment", "--out", "sentiment.csv", cwd=tmp_path)
    assert exported.returncode == 0 and "1 correction(s)" in exported.stdout
    rows = (tmp_path / "sentiment.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "text,label" and rows[1].endswith(",neutral") and "[TELEFON]" in rows[1]
    wrong = kulak("match", "confirm", "1", "C9", cwd=tmp_path, KULAK_IDENTITY_KEY=KEY)
    assert wrong.returncode == 1 and "no customer with id 'C9'" in wrong.stderr
    both = kulak("forget", "--customer", "C1", "--author", "x", cwd=tmp_path, KULAK_IDENTITY_KEY=KEY)
    assert both.returncode == 1 and "exactly one" in both.stderr
    forgot = kulak("forget", "--customer", "C1", cwd=tmp_path, KULAK_IDENTITY_KEY=KEY)
    assert forgot.returncode == 0, forgot.stderr
    assert "erased 1 customer record(s)" in forgot.stdout and "1 mention(s)" in forgot.stdout
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM mentions")).scalar() == 0
        assert conn.execute(text("SELECT external_id FROM customers")).scalars().all() == ["C2"]
    again = kulak("customers", "import", "musteriler.csv", "--json", cwd=tmp_path, KULAK_IDENTITY_KEY=KEY)
    assert json.loads(again.stdout)["erased"] == 1  # the erased customer is refused on re-import
    with uow:
        assert uow.mentions.count_by_status().get(MentionStatus.NEW.value) is None
    engine.dispose()
