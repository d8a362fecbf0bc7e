"""SQLAlchemy repository of near-duplicate fingerprints: each mention's fingerprint and its LSH bands."""

from __future__ import annotations

import functools
import heapq
from collections import Counter
from collections.abc import Container, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, TextClause, TextualSelect, bindparam, delete, insert, select, text
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


@functools.lru_cache(maxsize=8)
def _latest_query(dialect: str, bands: int) -> TextClause:
    """The latest PER_BAND mentions of each of ``bands`` bands: on PostgreSQL (band, array of mention ids) rows
    for an array of any length, on SQLite (band, mention id) rows of ``bands`` look-ups in one compound SELECT."""
    if dialect == "postgresql":  # a row a band, its mentions in an array: a row a mention cost more to read
        return text(
            "SELECT b.band, ARRAY(SELECT mention_id FROM fingerprint_bands WHERE band = b.band "
            f"ORDER BY mention_id DESC LIMIT {PER_BAND}) FROM unnest(CAST(:bands AS BIGINT[])) AS b(band)"
        )
    return text(
        " UNION ALL ".join(
            f"SELECT * FROM (SELECT band, mention_id FROM fingerprint_bands WHERE band = :b{i} "
            f"ORDER BY mention_id DESC LIMIT {PER_BAND})"
            for i in range(bands)
        )
    )


SQLITE_BANDS = 256  # bands in one SQLite look-up at most (a compound SELECT takes 500 parts)


# Statements built once: SQLAlchemy memoises a statement object's cache key, and these run for every mention.
_FINGERPRINTS = cast(Table, FingerprintRow.__table__)
_BANDS = cast(Table, FingerprintBandRow.__table__)
_DROP_BANDS_OF = delete(_BANDS).where(_BANDS.c.mention_id.in_(bindparam("ids", expanding=True)))
_DROP_FINGERPRINTS_OF = delete(_FINGERPRINTS).where(_FINGERPRINTS.c.mention_id.in_(bindparam("ids", expanding=True)))
_ADD_FINGERPRINT = insert(_FINGERPRINTS)
_ADD_BANDS = insert(_BANDS)
# On PostgreSQL a batch's keys go in as two arrays: one statement, where an executemany sent a message per key.
_ADD_BANDS_PG = text(
    "INSERT INTO fingerprint_bands (mention_id, band) "
    "SELECT * FROM unnest(CAST(:mentions AS BIGINT[]), CAST(:bands AS BIGINT[]))"
)
_RECENT_OF = select(_FINGERPRINTS.c.mention_id).where(
    _FINGERPRINTS.c.mention_id.in_(bindparam("ids", expanding=True)), _FINGERPRINTS.c.created_at >= bindparam("since")
)
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
        pairs = [(m, band) for m, keys in bands_of.items() for band in dict.fromkeys(keys)]
        if not pairs:
            return
        if connection.dialect.name == "postgresql":
            mentions, bands = zip(*pairs, strict=True)
            connection.execute(_ADD_BANDS_PG, {"mentions": list(mentions), "bands": list(bands)})
        else:  # one executemany for the batch: a mention has twenty bands and a key per number
            connection.execute(_ADD_BANDS, [{"mention_id": m, "band": band} for m, band in pairs])

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

    def sharing_known_many(
        self, bands_of: Mapping[int, Sequence[int]], since: datetime, known: Container[int], limit: int = 50
    ) -> dict[int, list[tuple[int, dict[str, Any] | None]]]:
        # ``sharing_known``'s answer for each look-up in three kinds of statement for the whole batch (the bands'
        # latest mentions, which of them are recent, the data of those the caller does not hold) rather than two
        # statements a mention: on PostgreSQL the per-mention query cost the server as much as matching's Python.
        self.session.flush()
        connection = self.session.connection()
        latest = self._latest(connection, list(dict.fromkeys(b for bands in bands_of.values() for b in bands)))
        ranked: dict[int, list[int]] = {}
        for key, bands in bands_of.items():
            shared = Counter(m for band in dict.fromkeys(bands) for m in latest.get(band, ()))
            # the order of sharing_bands: most bands shared first, then the latest
            ranked[key] = heapq.nsmallest(limit, shared, key=lambda m: (-shared[m], -m))
        pooled = list(dict.fromkeys(m for ids in ranked.values() for m in ids))
        recent: set[int] = set()
        for ids in chunked(pooled):
            recent.update(int(m) for m in connection.execute(_RECENT_OF, {"ids": ids, "since": since}).scalars())
        data: dict[int, dict[str, Any]] = {}
        for ids in chunked([m for m in pooled if m in recent and m not in known]):
            data.update((int(m), dict(d)) for m, d in connection.execute(_DATA_OF, {"ids": ids}))
        return {
            key: [(m, data.get(m)) for m in ids if m in recent and (m in data or m in known)]
            for key, ids in ranked.items()
        }

    def _latest(self, connection: Any, bands: list[int]) -> dict[int, list[int]]:
        """Band -> the latest PER_BAND mention ids holding it."""
        found: dict[int, list[int]] = {}
        dialect = connection.dialect.name
        if dialect == "postgresql":
            rows = connection.execute(_latest_query(dialect, 0), {"bands": bands}).all() if bands else []
            return {int(band): ids for band, ids in rows if ids}
        for chunk in chunked(bands, SQLITE_BANDS):
            size = 1 << max(4, (len(chunk) - 1).bit_length())  # a few statement shapes; the rest repeats a band
            padded = chunk + [chunk[-1]] * (size - len(chunk))
            params = {f"b{i}": band for i, band in enumerate(padded)}
            for band, mention_id in connection.execute(_latest_query(dialect, size), params):
                ids = found.setdefault(int(band), [])
                if mention_id not in ids:
                    ids.append(int(mention_id))
        return found

    def duplicate_of(self, mention_id: int) -> int | None:
        return self.session.scalar(select(FingerprintRow.duplicate_of).where(FingerprintRow.mention_id == mention_id))

    def duplicates_of(self, mention_ids: Sequence[int]) -> dict[int, int]:
        wanted = list(dict.fromkeys(mention_ids))
        found: dict[int, int] = {}
        for ids in chunked(wanted):
            rows = self.session.execute(_DUPLICATES_OF, {"ids": ids})
            found.update((int(m), int(d)) for m, d in rows if d is not None)
        return found
