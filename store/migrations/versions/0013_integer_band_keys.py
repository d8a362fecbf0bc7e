"""Near-duplicate keys as 64-bit integers, twenty bands of two rows instead of 85 of three.

Each key was a row of the store's largest index written at a random place of it, and past a few thousand
mentions every one dirtied its own page: matching slowed as the store grew. The table is now its own index,
(band, mention_id), WITHOUT ROWID on SQLite. The keys of the fingerprints already stored are computed here from
their signatures, with this revision's own copy of the key scheme (a test holds it equal to
``classifiers.dedupe.bands``); the downgrade writes the old string keys back the same way.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

MIN_SIZE = 10  # a fingerprint of fewer weighted tokens has no keys
CHUNK = 2_000


def keys_0013(data: dict[str, Any]) -> list[int]:
    """The keys of a stored fingerprint: twenty bands of two signature rows, then one per number."""
    if data.get("size", 0) < MIN_SIZE:
        return []
    signature = np.array(data["signature"], dtype=np.uint32)
    parts = [bytes((band,)) + signature[band * 2 : band * 2 + 2].tobytes() for band in range(20)]
    parts += [b"n" + int(number).to_bytes(4, "big") for number in data.get("numbers", [])]
    return [int.from_bytes(hashlib.blake2b(p, digest_size=8).digest(), "big", signed=True) for p in parts]


def keys_0012(data: dict[str, Any]) -> list[str]:
    """The keys before this revision: 85 bands of three rows as "b{n}:{hex}", then "n:{hex}" per number."""
    if data.get("size", 0) < MIN_SIZE:
        return []
    signature = np.array(data["signature"], dtype=np.uint32)
    keys = [
        f"b{band}:{hashlib.blake2b(signature[band * 3 : band * 3 + 3].tobytes(), digest_size=6).hexdigest()}"
        for band in range(85)
    ]
    return keys + [f"n:{int(number):08x}" for number in data.get("numbers", [])]


def _rows(keys_of: Callable[[dict[str, Any]], list[Any]]) -> Iterator[list[dict[str, Any]]]:
    """Band rows of every stored fingerprint, a chunk of fingerprints at a time."""
    fingerprints = sa.table("fingerprints", sa.column("mention_id", sa.Integer), sa.column("data", sa.JSON))
    connection = op.get_bind()
    last = 0
    while True:
        query = (
            sa.select(fingerprints.c.mention_id, fingerprints.c.data)
            .where(fingerprints.c.mention_id > last)
            .order_by(fingerprints.c.mention_id)
            .limit(CHUNK)
        )
        found = connection.execute(query).all()
        if not found:
            return
        last = found[-1][0]
        yield [{"mention_id": m, "band": key} for m, data in found for key in dict.fromkeys(keys_of(data))]


def upgrade() -> None:
    op.drop_table("fingerprint_bands")
    bands = op.create_table(
        "fingerprint_bands",
        sa.Column("band", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("mention_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("band", "mention_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_fingerprint_bands_mention_id", "fingerprint_bands", ["mention_id"], unique=False)
    for rows in _rows(keys_0013):
        if rows:
            op.bulk_insert(bands, rows)


def downgrade() -> None:
    op.drop_table("fingerprint_bands")
    bands = op.create_table(
        "fingerprint_bands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_fingerprint_bands_mention_id", "fingerprint_bands", ["mention_id"], unique=False)
    op.create_index("ix_fingerprint_bands_band_mention", "fingerprint_bands", ["band", "mention_id"], unique=False)
    for rows in _rows(keys_0012):
        if rows:
            op.bulk_insert(bands, rows)
