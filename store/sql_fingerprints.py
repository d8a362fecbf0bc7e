"""SQLAlchemy repository of near-duplicate fingerprints: each mention's fingerprint and its LSH bands."""

from __future__ import annotations

import functools
from collections.abc import Container, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, TextualSelect, bindparam, delete, insert, select, text
from sqlalchemy.orm import Session

from store import repository as repo
from store.sql_base import chunked
from store.tables import FingerprintBandRow, FingerprintRow, utcnow

_DUPLICATES_OF = select(FingerprintRow.mention_id, FingerprintRow.duplicate_of).where(
    FingerprintRow.mention_id.in_(bindparam("ids", expanding=True)), FingerprintRow.duplicate_of.is_not(None)
)

PER_BAND = 25  # the latest mentions of each band a near-duplicate look-up considers


@functools.lru_cache(maxsize=8)
def _sharing_query(bands: int, with_data: bool = True) -> TextualSelect:
    """The candidates query for ``bands`` bands, written out once: built with the ORM it cost more than it ran."""
    latest = " UNION ALL ".join(
        f"SELECT mention_id FROM (SELECT mention_id FROM fingerprint_bands WHERE band = :b{i} "
        f"ORDER BY mention_id DESC LIMIT {PER_BAND}) AS b{i}"
        for i in range(bands)
    )
    sql = (
        f"SELECT f.mention_id{', f.data' if with_data else ''} FROM fingerprints AS f JOIN ("
        f"SELECT mention_id, count(*) AS shared FROM ({latest}) AS pooled "
        "GROUP BY mention_id ORDER BY shared DESC, mention_id DESC LIMIT :limit"
        ") AS ranked ON ranked.mention_id = f.mention_id WHERE f.created_at >= :since "
        "ORDER BY ranked.shared DESC, f.mention_id DESC"
    )
    since = bindparam("since", type_=FingerprintRow.__table__.c.created_at.type)
    columns = [FingerprintRow.__table__.c.mention_id] + ([FingerprintRow.__table__.c.data] if with_data else [])
    return text(sql).bindparams(since).columns(*columns)


# Statements built once: SQLAlchemy memoises a statement object's cache key, and these run for every mention.
_FINGERPRINTS = cast(Table, FingerprintRow.__table__)
_BANDS = cast(Table, FingerprintBandRow.__table__)
_DROP_BANDS_OF = delete(_BANDS).where(_BANDS.c.mention_id.in_(bindparam("ids", expanding=True)))
_DROP_FINGERPRINTS_OF = delete(_FINGERPRINTS).where(_FINGERPRINTS.c.mention_id.in_(bindparam("ids", expanding=True)))
_ADD_FINGERPRINT = insert(_FINGERPRINTS)
_ADD_BANDS = insert(_BANDS)
_DATA_OF = select(_FINGERPRINTS.c.mention_id, _FINGERPRINTS.c.data).where(
    _FINGERPRINTS.c.mention_id.in_(bindparam("ids", expanding=True))
)


class SqlAlchemyFingerprintRepository(repo.FingerprintRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        mention_id: int,
        data: Mapping[str, Any],
        bands: Sequence[int],
        duplicate_of: int | None = None,
        similarity: float | None = None,
    ) -> None:
        self.add_many([(mention_id, data, bands, duplicate_of, similarity)])

    def add_many(self, entries: Sequence[repo.FingerprintEntry]) -> None:
        if not entries:
            return
        self.session.flush()  # the statements below bypass the ORM: what it holds back goes first
        connection = self.session.connection()
        ids = list(dict.fromkeys(entry[0] for entry in entries))
        for chunk in chunked(ids):
            connection.execute(_DROP_BANDS_OF, {"ids": chunk})
            connection.execute(_DROP_FINGERPRINTS_OF, {"ids": chunk})
        now = utcnow()
        fingerprints = {
            mention_id: {
                "mention_id": mention_id,
                "data": dict(data),
                "duplicate_of": duplicate_of,
                "similarity": similarity,
                "created_at": now,
            }
            for mention_id, data, _, duplicate_of, similarity in entries
        }  # the last entry of a mention wins, as with ``add`` one after the other
        connection.execute(_ADD_FINGERPRINT, list(fingerprints.values()))
        bands_of = {mention_id: keys for mention_id, _, keys, _, _ in entries}
        rows = [{"mention_id": m, "band": band} for m, keys in bands_of.items() for band in dict.fromkeys(keys)]
        if rows:  # one executemany for the batch: a mention has twenty bands and a key per number
            connection.execute(_ADD_BANDS, rows)

    def sharing_bands(self, bands: Sequence[int], since: datetime, limit: int = 50) -> list[tuple[int, dict[str, Any]]]:
        wanted = list(dict.fromkeys(bands))
        if not wanted:
            return []
        # The latest PER_BAND mentions of each band, so a look-up costs the same at a million fingerprints as at a
        # thousand (a band common to a template or a slogan would otherwise bring back every mention holding it);
        # the ones sharing the most bands come first. A real repeat shares many bands, so it stays among them.
        params: dict[str, Any] = {f"b{i}": band for i, band in enumerate(wanted)}
        params.update(since=since, limit=limit)
        return [(int(m), dict(d)) for m, d in self.session.execute(_sharing_query(len(wanted)), params)]

    def sharing_known(
        self, bands: Sequence[int], since: datetime, known: Container[int], limit: int = 50
    ) -> list[tuple[int, dict[str, Any] | None]]:
        wanted = list(dict.fromkeys(bands))
        if not wanted:
            return []
        params: dict[str, Any] = {f"b{i}": band for i, band in enumerate(wanted)}
        params.update(since=since, limit=limit)
        found = [int(m) for m in self.session.scalars(_sharing_query(len(wanted), with_data=False), params)]
        # Only the fingerprints the caller does not hold are read: decoding them cost more than the look-up.
        missing = [m for m in found if m not in known]
        data: dict[int, dict[str, Any]] = {}
        if missing:
            rows = self.session.connection().execute(_DATA_OF, {"ids": missing})
            data = {int(m): dict(d) for m, d in rows}
        return [(m, data.get(m)) for m in found if m in data or m not in missing]

    def duplicate_of(self, mention_id: int) -> int | None:
        return self.session.scalar(select(FingerprintRow.duplicate_of).where(FingerprintRow.mention_id == mention_id))

    def duplicates_of(self, mention_ids: Sequence[int]) -> dict[int, int]:
        wanted = list(dict.fromkeys(mention_ids))
        found: dict[int, int] = {}
        for ids in chunked(wanted):
            rows = self.session.execute(_DUPLICATES_OF, {"ids": ids})
            found.update((int(m), int(d)) for m, d in rows if d is not None)
        return found
