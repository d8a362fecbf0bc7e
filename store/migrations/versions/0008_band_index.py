"""Near-duplicate bands indexed by (band, mention_id): a look-up reads the latest mentions of each band only.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fingerprint_bands", schema=None) as batch_op:
        batch_op.create_index("ix_fingerprint_bands_band_mention", ["band", "mention_id"], unique=False)
        batch_op.drop_index("ix_fingerprint_bands_band")


def downgrade() -> None:
    with op.batch_alter_table("fingerprint_bands", schema=None) as batch_op:
        batch_op.create_index("ix_fingerprint_bands_band", ["band"], unique=False)
        batch_op.drop_index("ix_fingerprint_bands_band_mention")
