"""Hourly mention counts per brand and dimension, filled from the mentions already analysed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from store.sql_counts import rebuild

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mention_counts",
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("brand", "dimension", "hour", "value"),
    )
    # The store's own counting, so the filled counts are exactly what later changes keep up to date. It reads the
    # tables as they stand at this revision (mention_brands.at arrived in 0009).
    session = Session(bind=op.get_bind())
    rebuild(session)
    session.flush()


def downgrade() -> None:
    op.drop_table("mention_counts")
