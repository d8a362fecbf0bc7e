"""Cases indexed by brand and each of their moments (opened, answered, resolved, due): a digest reads one
brand's period of cases on an index instead of all the brand's cases; (brand, created_at) replaces (brand).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tickets_brand_created": ["brand", "created_at"],
    "ix_tickets_brand_responded": ["brand", "responded_at"],
    "ix_tickets_brand_resolved": ["brand", "resolved_at"],
    "ix_tickets_brand_respond_by": ["brand", "respond_by"],
}


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
        batch_op.drop_index("ix_tickets_brand")


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_brand", ["brand"], unique=False)
        for name in INDEXES:
            batch_op.drop_index(name)
