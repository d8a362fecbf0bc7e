"""Deliveries indexed by kind where routing looks them up.

A case that hundreds of similar cases folded into has thousands of thread notes: finding its alert, or counting
the cases folded into it, read every one of them (13 ms a count at 50,000 mentions), so (ticket_id, kind) and
(parent_key, kind) replace (ticket_id) and (parent_key). The alert budget counted a channel's alerts of the last
hour by reading every delivery of the channel (75 ms at 50,000 mentions): (channel, target, kind, created_at).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

REPLACED = {  # old index -> (new index, its columns)
    "ix_deliveries_ticket": ("ix_deliveries_ticket_kind", ["ticket_id", "kind"]),
    "ix_deliveries_parent": ("ix_deliveries_parent_kind", ["parent_key", "kind"]),
}


ADDED = {"ix_deliveries_channel_kind": ["channel", "target", "kind", "created_at"]}


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        for old, (name, columns) in REPLACED.items():
            batch_op.create_index(name, columns, unique=False)
            batch_op.drop_index(old)
        for name, columns in ADDED.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    old_columns = {"ix_deliveries_ticket": ["ticket_id"], "ix_deliveries_parent": ["parent_key"]}
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        for old, (name, _) in REPLACED.items():
            batch_op.create_index(old, old_columns[old], unique=False)
            batch_op.drop_index(name)
        for name in ADDED:
            batch_op.drop_index(name)
