"""Each brand row of a mention carries the mention's moment, indexed with the brand: a digest reads its period only.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# One correlated subquery, so the same statement runs on SQLite and PostgreSQL; published_at and fetched_at never
# change once a mention is stored, so the copy stays true.
BACKFILL = """
UPDATE mention_brands SET at = (
    SELECT coalesce(mentions.published_at, mentions.fetched_at) FROM mentions
    WHERE mentions.id = mention_brands.mention_id
)
"""


def upgrade() -> None:
    with op.batch_alter_table("mention_brands", schema=None) as batch_op:
        batch_op.add_column(sa.Column("at", sa.DateTime(timezone=True), nullable=True))
    op.execute(BACKFILL)
    with op.batch_alter_table("mention_brands", schema=None) as batch_op:
        batch_op.alter_column("at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index("ix_mention_brands_brand_at", ["brand", "at"], unique=False)
        batch_op.drop_index("ix_mention_brands_brand")  # (brand, at) serves every look-up by brand


def downgrade() -> None:
    with op.batch_alter_table("mention_brands", schema=None) as batch_op:
        batch_op.create_index("ix_mention_brands_brand", ["brand"], unique=False)
        batch_op.drop_index("ix_mention_brands_brand_at")
        batch_op.drop_column("at")
