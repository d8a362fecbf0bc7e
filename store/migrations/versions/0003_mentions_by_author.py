"""Find a mention author's earlier mentions quickly (repeated contact).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_mentions_source_author", "mentions", ["source", "author_handle"])


def downgrade() -> None:
    op.drop_index("ix_mentions_source_author", table_name="mentions")
