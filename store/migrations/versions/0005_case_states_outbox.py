"""Case states and SLA clocks, routes and helpdesks on tickets; outbox changes, bursts, retries and in-flight marks.

Open cases become "new" (the first state of new -> assigned -> waiting -> resolved -> closed).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)
TICKET_TEXT = (("route", 100), ("channel", 300), ("helpdesk", 100), ("queue", 100), ("assignee", 100))
TICKET_TIMES = ("respond_by", "reply_by", "responded_at", "resolved_at", "closed_at")


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for name, size in TICKET_TEXT:
            batch_op.add_column(sa.Column(name, sa.String(length=size), nullable=False, server_default=""))
        for name in TICKET_TIMES:
            batch_op.add_column(sa.Column(name, WHEN, nullable=True))
        batch_op.alter_column("status", existing_type=sa.String(length=20), server_default=None)
    op.execute("UPDATE tickets SET status = 'new' WHERE status = 'open'")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=False, server_default="alert"))
        batch_op.add_column(sa.Column("parent_key", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("group_key", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("claimed_at", WHEN, nullable=True))
        batch_op.create_index("ix_deliveries_ticket", ["ticket_id"], unique=False)
        batch_op.create_index("ix_deliveries_group", ["channel", "target", "group_key", "created_at"], unique=False)
        batch_op.create_index("ix_deliveries_parent", ["parent_key"], unique=False)
    op.execute("UPDATE deliveries SET kind = 'ops' WHERE key LIKE '%:ops:%'")

    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_feedback_ticket", "tickets", ["ticket_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_constraint("fk_feedback_ticket", type_="foreignkey")
        batch_op.drop_column("ticket_id")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_parent")
        batch_op.drop_index("ix_deliveries_group")
        batch_op.drop_index("ix_deliveries_ticket")
        for name in ("claimed_at", "next_attempt_at", "group_key", "parent_key", "kind"):
            batch_op.drop_column(name)
    op.execute("UPDATE tickets SET status = 'open' WHERE status IN ('new', 'assigned', 'waiting')")
    op.execute("UPDATE tickets SET status = 'closed' WHERE status = 'resolved'")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for name in reversed(TICKET_TIMES):
            batch_op.drop_column(name)
        for name, _ in reversed(TICKET_TEXT):
            batch_op.drop_column(name)
