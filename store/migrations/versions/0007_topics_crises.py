"""Topics of each mention as rows (digests count them in SQL), a site's resolved mark, and crisis incidents.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None
BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "mention_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mention_id", "topic", name="uq_mention_topics"),
    )
    with op.batch_alter_table("mention_topics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mention_topics_mention_id"), ["mention_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mention_topics_topic"), ["topic"], unique=False)
    op.create_table(
        "crises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("calm_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("peak", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("alert_key", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("crises", schema=None) as batch_op:
        batch_op.create_index("ix_crises_brand_scope_status", ["brand", "scope", "metric", "status"], unique=False)
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_resolved", sa.Boolean(), nullable=True))
    _backfill_topics()
    _backfill_resolved()


def _backfill_topics() -> None:
    """Topics of the mentions analysed before this revision, read from each analysis's JSON."""
    bind = op.get_bind()
    analyses = sa.table("analyses", sa.column("id"), sa.column("mention_id"), sa.column("data", sa.JSON))
    topics = sa.table("mention_topics", sa.column("mention_id"), sa.column("topic"))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(analyses.c.id, analyses.c.mention_id, analyses.c.data)
            .where(analyses.c.id > last)
            .order_by(analyses.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        values = []
        for _, mention_id, data in rows:
            seen: set[str] = set()
            for topic in _topics(data):
                if topic not in seen:
                    seen.add(topic)
                    values.append({"mention_id": mention_id, "topic": topic})
        if values:
            bind.execute(topics.insert(), values)
        last = rows[-1][0]


def _backfill_resolved() -> None:
    """Şikayetvar's resolved mark of the mentions crawled before this revision, from their payload."""
    bind = op.get_bind()
    mentions = sa.table("mentions", sa.column("id"), sa.column("payload", sa.JSON), sa.column("site_resolved"))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(mentions.c.id, mentions.c.payload)
            .where(mentions.c.id > last)
            .order_by(mentions.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for mention_id, payload in rows:
            data = json.loads(payload) if isinstance(payload, str) else payload
            mark = data.get("resolved") if isinstance(data, dict) else None
            if isinstance(mark, bool):
                bind.execute(mentions.update().where(mentions.c.id == mention_id).values(site_resolved=mark))
        last = rows[-1][0]


def _topics(data: Any) -> list[str]:
    if isinstance(data, str):
        data = json.loads(data)
    if not isinstance(data, dict):
        return []
    return [str(t["label"])[:100] for t in data.get("topics") or [] if isinstance(t, dict) and t.get("label")]


def downgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_column("site_resolved")
    with op.batch_alter_table("crises", schema=None) as batch_op:
        batch_op.drop_index("ix_crises_brand_scope_status")
    op.drop_table("crises")
    with op.batch_alter_table("mention_topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mention_topics_topic"))
        batch_op.drop_index(batch_op.f("ix_mention_topics_mention_id"))
    op.drop_table("mention_topics")
