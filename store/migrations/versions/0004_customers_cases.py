"""Customers as keyed hashes, match candidates with reasons, cases with timelines, near-duplicates, tombstones.

Customer e-mails, phones and handles were stored in the clear; they are dropped here and come back as keyed
hashes on the next import (`kulak customers import FILE`, or the next run when `customers.file` is set). Matches
made before this revision carried no reasons and are dropped too; new mentions are matched as before.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tombstones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "hash", name="uq_tombstones"),
    )
    op.create_table(
        "customer_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("display", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("customer_id", "kind", "hash", name="uq_customer_identifiers"),
    )
    with op.batch_alter_table("customer_identifiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_identifiers_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_customer_identifiers_kind_hash", ["kind", "hash"], unique=False)

    op.create_table(
        "fingerprint_bands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fingerprint_bands", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fingerprint_bands_band"), ["band"], unique=False)
        batch_op.create_index(batch_op.f("ix_fingerprint_bands_mention_id"), ["mention_id"], unique=False)

    op.create_table(
        "fingerprints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["duplicate_of"], ["mentions.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mention_id"),
    )
    with op.batch_alter_table("fingerprints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fingerprints_created_at"), ["created_at"], unique=False)

    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_events_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "case_mentions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mention_id"),
    )
    with op.batch_alter_table("case_mentions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_mentions_ticket_id"), ["ticket_id"], unique=False)

    with op.batch_alter_table("customer_handles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_handles_customer_id"))

    op.drop_table("customer_handles")
    op.drop_table("customer_matches")
    op.create_table(
        "customer_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mention_id", "customer_id", name="uq_customer_matches"),
    )
    with op.batch_alter_table("customer_matches", schema=None) as batch_op:
        batch_op.create_index("ix_customer_matches_customer", ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_matches_mention_id"), ["mention_id"], unique=False)

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=300), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("city", sa.String(length=100), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("vip", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_index(batch_op.f("ix_customers_email"))
        batch_op.drop_index(batch_op.f("ix_customers_phone"))
        batch_op.create_index(batch_op.f("ix_customers_name_key"), ["name_key"], unique=False)
        batch_op.drop_column("email")
        batch_op.drop_column("phone")

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_customer_status", ["customer_id", "status"], unique=False)
        batch_op.create_index("ix_tickets_status_updated", ["status", "updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_status_updated")
        batch_op.drop_index("ix_tickets_customer_status")

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=300), nullable=True))
        batch_op.drop_index(batch_op.f("ix_customers_name_key"))
        batch_op.create_index(batch_op.f("ix_customers_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_email"), ["email"], unique=False)
        batch_op.drop_column("vip")
        batch_op.drop_column("city")
        batch_op.drop_column("name_key")

    op.drop_table("customer_matches")
    op.create_table(
        "customer_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mention_id"),
    )

    op.create_table(
        "customer_handles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("handle", name=op.f("uq_customer_handles_handle")),
    )
    with op.batch_alter_table("customer_handles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_handles_customer_id"), ["customer_id"], unique=False)

    with op.batch_alter_table("case_mentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_mentions_ticket_id"))

    op.drop_table("case_mentions")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_events_ticket_id"))

    op.drop_table("case_events")
    with op.batch_alter_table("fingerprints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fingerprints_created_at"))

    op.drop_table("fingerprints")
    with op.batch_alter_table("fingerprint_bands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fingerprint_bands_mention_id"))
        batch_op.drop_index(batch_op.f("ix_fingerprint_bands_band"))

    op.drop_table("fingerprint_bands")
    with op.batch_alter_table("customer_identifiers", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_identifiers_kind_hash")
        batch_op.drop_index(batch_op.f("ix_customer_identifiers_customer_id"))

    op.drop_table("customer_identifiers")
    op.drop_table("tombstones")
