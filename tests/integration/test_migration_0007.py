"""Revision 0007 carries what was stored before it: each analysis's topics become rows, Şikayetvar's resolved
mark moves out of the payload (which retention empties) into its own column."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Engine, text

from store import db


def test_topics_and_resolved_marks_are_backfilled(database_url: str) -> None:
    engine: Engine = db.make_engine(database_url)
    db.upgrade(engine, "0006")
    now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    analysis = {"topics": [{"label": "fatura", "score": 0.8}, {"label": "internet", "score": 0.6}]}
    with engine.begin() as conn:
        for i, payload in enumerate(({"resolved": True}, {"resolved": False}, {"views": 3})):
            conn.execute(
                text(
                    "INSERT INTO mentions (source, external_id, url, title, author, author_handle, text, fetched_at,"
                    " payload, content_hash, status, updated_at) VALUES ('sikayetvar', :ext, 'https://s.test', '',"
                    " '', '', 'metin', :at, :payload, 'h', 'analyzed', :at)"
                ),
                {"ext": f"c{i}", "at": now, "payload": json.dumps(payload)},
            )
        first = conn.execute(text("SELECT min(id) FROM mentions")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO analyses (mention_id, analyzer, lang, sentiment, sentiment_score, intent, urgency, data,"
                " created_at) VALUES (:m, 'kulak', 'tr', 'negative', 0.9, 'complaint', 'normal', :data, :at)"
            ),
            {"m": first, "data": json.dumps(analysis), "at": now},
        )
    db.upgrade(engine)
    with engine.connect() as conn:
        topics = conn.execute(
            text("SELECT topic FROM mention_topics WHERE mention_id = :m ORDER BY topic"), {"m": first}
        )
        assert [t for (t,) in topics] == ["fatura", "internet"]
        marks = conn.execute(text("SELECT external_id, site_resolved FROM mentions ORDER BY external_id")).all()
        assert [(e, None if m is None else bool(m)) for e, m in marks] == [("c0", True), ("c1", False), ("c2", None)]
    engine.dispose()
