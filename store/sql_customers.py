"""SQLAlchemy repositories for who is talking: customers (as keyed hashes), match candidates, fingerprints."""

from __future__ import annotations

import functools
from collections.abc import Container, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, TextualSelect, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from store import repository as repo
from store.errors import StoreError
from store.model import Customer, CustomerMatch, Identifier, MatchStatus
from store.sql_base import insert_ignoring
from store.tables import (
    CustomerIdentifierRow,
    CustomerMatchRow,
    CustomerRow,
    FingerprintBandRow,
    FingerprintRow,
    MentionRow,
    utcnow,
)

# Look-ups the matching and routing stages make for every mention, built once (the cache key is memoised on the
# statement object; building them anew cost more than running them).
_IDENTIFIERS_OF = (
    select(CustomerIdentifierRow)
    .where(CustomerIdentifierRow.customer_id.in_(bindparam("ids", expanding=True)))
    .order_by(CustomerIdentifierRow.id)
)
_WITH_IDENTIFIER = (
    select(CustomerRow)
    .join(CustomerIdentifierRow, CustomerIdentifierRow.customer_id == CustomerRow.id)
    .where(CustomerIdentifierRow.kind == bindparam("kind"), CustomerIdentifierRow.hash == bindparam("hash"))
    .order_by(CustomerRow.id)
)
_CANDIDATES = (
    select(CustomerMatchRow)
    .where(CustomerMatchRow.mention_id == bindparam("mention_id"))
    .order_by(CustomerMatchRow.confidence.desc(), CustomerMatchRow.id)
)
_CONFIRMED_FOR_AUTHOR = (
    select(CustomerMatchRow.customer_id, func.count())
    .join(MentionRow, MentionRow.id == CustomerMatchRow.mention_id)
    .where(
        MentionRow.source == bindparam("source"),
        MentionRow.author_handle == bindparam("handle"),
        CustomerMatchRow.status == MatchStatus.CONFIRMED.value,
    )
    .group_by(CustomerMatchRow.customer_id)
)


class SqlAlchemyCustomerRepository(repo.CustomerRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def _to_customers(self, rows: Sequence[CustomerRow]) -> list[Customer]:
        if not rows:
            return []
        found: dict[int, list[Identifier]] = {r.id: [] for r in rows}
        for ident in self.session.scalars(_IDENTIFIERS_OF, {"ids": list(found)}):
            found[ident.customer_id].append(Identifier(ident.kind, ident.hash, ident.display))
        return [
            Customer(
                external_id=r.external_id,
                name=r.name,
                name_key=r.name_key,
                city=r.city,
                vip=r.vip,
                segment=r.segment,
                identifiers=tuple(found[r.id]),
                id=r.id,
            )
            for r in rows
        ]

    def upsert(self, customer: Customer) -> Customer:
        row = self.session.scalar(select(CustomerRow).where(CustomerRow.external_id == customer.external_id))
        if row is None:
            row = CustomerRow(external_id=customer.external_id)
            self.session.add(row)
        row.name, row.name_key, row.city = customer.name, customer.name_key, customer.city
        row.vip, row.segment, row.updated_at = customer.vip, customer.segment, utcnow()
        self.session.flush()
        wanted = {(i.kind, i.hash): i.display for i in customer.identifiers}
        for existing in self.session.scalars(
            select(CustomerIdentifierRow).where(CustomerIdentifierRow.customer_id == row.id)
        ):
            key = (existing.kind, existing.hash)
            if key in wanted:
                existing.display = wanted.pop(key)
            else:
                self.session.delete(existing)
        for (kind, hash_), display in sorted(wanted.items()):
            self.session.add(CustomerIdentifierRow(customer_id=row.id, kind=kind, hash=hash_, display=display))
        self.session.flush()
        return self._to_customers([row])[0]

    def get(self, customer_id: int) -> Customer | None:
        row = self.session.get(CustomerRow, customer_id)
        return self._to_customers([row])[0] if row else None

    def by_external_id(self, external_id: str) -> Customer | None:
        row = self.session.scalar(select(CustomerRow).where(CustomerRow.external_id == external_id))
        return self._to_customers([row])[0] if row else None

    def with_identifier(self, kind: str, hash_: str) -> list[Customer]:
        rows = self.session.scalars(_WITH_IDENTIFIER, {"kind": kind, "hash": hash_}).unique()
        return self._to_customers(list(rows))

    def with_name_key(self, name_key: str, limit: int = 50) -> list[Customer]:
        if not name_key:
            return []
        stmt = select(CustomerRow).where(CustomerRow.name_key == name_key).order_by(CustomerRow.id).limit(limit)
        return self._to_customers(list(self.session.scalars(stmt)))

    def identifier_kinds(self) -> list[str]:
        return list(self.session.scalars(select(CustomerIdentifierRow.kind).distinct().order_by("kind")))

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(CustomerRow)) or 0)


def _to_match(row: CustomerMatchRow) -> CustomerMatch:
    return CustomerMatch(row.mention_id, row.customer_id, row.confidence, tuple(row.reasons), MatchStatus(row.status))


class SqlAlchemyMatchRepository(repo.MatchRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, match: CustomerMatch) -> bool:
        now = utcnow()
        values = {
            "mention_id": match.mention_id,
            "customer_id": match.customer_id,
            "confidence": match.confidence,
            "reasons": list(match.reasons),
            "status": match.status.value,
            "created_at": now,
            "updated_at": now,
        }
        return insert_ignoring(self.session, CustomerMatchRow, values, ["mention_id", "customer_id"]) is not None

    def get(self, mention_id: int) -> CustomerMatch | None:
        linked = [m for m in self.candidates(mention_id) if m.status.linked]
        return linked[0] if linked else None

    def candidates(self, mention_id: int) -> list[CustomerMatch]:
        return [_to_match(r) for r in self.session.scalars(_CANDIDATES, {"mention_id": mention_id})]

    def decide(self, mention_id: int, customer_id: int, status: MatchStatus) -> CustomerMatch:
        row = self.session.scalar(
            select(CustomerMatchRow).where(
                CustomerMatchRow.mention_id == mention_id, CustomerMatchRow.customer_id == customer_id
            )
        )
        if row is None:
            raise StoreError(f"customer {customer_id} is not a candidate of mention {mention_id}")
        now = utcnow()
        row.status, row.updated_at = status.value, now
        if status is MatchStatus.CONFIRMED:
            self.session.execute(
                update(CustomerMatchRow)
                .where(CustomerMatchRow.mention_id == mention_id, CustomerMatchRow.customer_id != customer_id)
                .values(status=MatchStatus.REJECTED.value, updated_at=now)
            )
        self.session.flush()
        return _to_match(row)

    def confirmed_for_author(self, source: str, author_handle: str) -> dict[int, int]:
        if not author_handle:
            return {}
        rows = self.session.execute(_CONFIRMED_FOR_AUTHOR, {"source": source, "handle": author_handle})
        return {int(c): int(n) for c, n in rows}


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
_DROP_BANDS = delete(_BANDS).where(_BANDS.c.mention_id == bindparam("mention_id"))
_DROP_FINGERPRINT = delete(_FINGERPRINTS).where(_FINGERPRINTS.c.mention_id == bindparam("mention_id"))
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
        bands: Sequence[str],
        duplicate_of: int | None = None,
        similarity: float | None = None,
    ) -> None:
        self.session.flush()  # the statements below bypass the ORM: what it holds back goes first
        connection = self.session.connection()
        connection.execute(_DROP_BANDS, {"mention_id": mention_id})
        connection.execute(_DROP_FINGERPRINT, {"mention_id": mention_id})
        values = {
            "mention_id": mention_id,
            "data": dict(data),
            "duplicate_of": duplicate_of,
            "similarity": similarity,
            "created_at": utcnow(),
        }
        connection.execute(_ADD_FINGERPRINT, values)
        rows = [{"mention_id": mention_id, "band": band} for band in dict.fromkeys(bands)]
        if rows:  # one executemany: a mention has 85 bands
            connection.execute(_ADD_BANDS, rows)

    def sharing_bands(self, bands: Sequence[str], since: datetime, limit: int = 50) -> list[tuple[int, dict[str, Any]]]:
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
        self, bands: Sequence[str], since: datetime, known: Container[int], limit: int = 50
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
