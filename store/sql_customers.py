"""SQLAlchemy repositories for who is talking: customers (as keyed hashes), match candidates, fingerprints."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from store import repository as repo
from store.errors import StoreError
from store.model import Customer, CustomerMatch, Identifier, MatchStatus
from store.sql_base import chunked, insert_ignoring, insert_many_ignoring
from store.tables import (
    CustomerIdentifierRow,
    CustomerMatchRow,
    CustomerRow,
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
_CANDIDATES_OF = (
    select(CustomerMatchRow)
    .where(CustomerMatchRow.mention_id.in_(bindparam("ids", expanding=True)))
    .order_by(CustomerMatchRow.mention_id, CustomerMatchRow.confidence.desc(), CustomerMatchRow.id)
)
_CUSTOMERS = select(CustomerRow).where(CustomerRow.id.in_(bindparam("ids", expanding=True))).order_by(CustomerRow.id)
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

# kind IN (...) AND hash IN (...), the pairs picked out after: both databases walk the (kind, hash) index for
# that, where a row-value IN of the pairs was read from the whole table on SQLite.
_HOLDERS = select(CustomerIdentifierRow.kind, CustomerIdentifierRow.hash, CustomerIdentifierRow.customer_id).where(
    CustomerIdentifierRow.kind.in_(bindparam("kinds", expanding=True)),
    CustomerIdentifierRow.hash.in_(bindparam("hashes", expanding=True)),
)
_NAMED = (
    select(
        CustomerRow.id,
        CustomerRow.name_key,
        func.row_number().over(partition_by=CustomerRow.name_key, order_by=CustomerRow.id).label("n"),
    )
    .where(CustomerRow.name_key.in_(bindparam("keys", expanding=True)))
    .subquery()
)
_NAMED_FIRST = select(_NAMED.c.id, _NAMED.c.name_key).where(_NAMED.c.n <= bindparam("limit"))
_CONFIRMED_FOR_AUTHORS = (
    select(MentionRow.source, MentionRow.author_handle, CustomerMatchRow.customer_id, func.count())
    .join(MentionRow, MentionRow.id == CustomerMatchRow.mention_id)
    .where(
        MentionRow.source.in_(bindparam("sources", expanding=True)),  # as with _HOLDERS: the index, then the pairs
        MentionRow.author_handle.in_(bindparam("handles", expanding=True)),
        CustomerMatchRow.status == MatchStatus.CONFIRMED.value,
    )
    .group_by(MentionRow.source, MentionRow.author_handle, CustomerMatchRow.customer_id)
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

    def get_many(self, customer_ids: Sequence[int]) -> dict[int, Customer]:
        wanted = list(dict.fromkeys(customer_ids))
        found: dict[int, Customer] = {}
        for ids in chunked(wanted):
            rows = list(self.session.scalars(_CUSTOMERS, {"ids": ids}))
            found.update((c.id or 0, c) for c in self._to_customers(rows))
        return found

    def by_external_id(self, external_id: str) -> Customer | None:
        row = self.session.scalar(select(CustomerRow).where(CustomerRow.external_id == external_id))
        return self._to_customers([row])[0] if row else None

    def with_identifier(self, kind: str, hash_: str) -> list[Customer]:
        rows = self.session.scalars(_WITH_IDENTIFIER, {"kind": kind, "hash": hash_}).unique()
        return self._to_customers(list(rows))

    def with_identifiers(self, wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], list[Customer]]:
        pairs = list(dict.fromkeys(wanted))
        holders: dict[tuple[str, str], list[int]] = {pair: [] for pair in pairs}
        for chunk in chunked(pairs):
            kinds, hashes = sorted({k for k, _ in chunk}), sorted({h for _, h in chunk})
            for kind, hash_, customer_id in self.session.execute(_HOLDERS, {"kinds": kinds, "hashes": hashes}):
                if (kind, hash_) in holders:
                    holders[(kind, hash_)].append(int(customer_id))
        customers = self.get_many([c for ids in holders.values() for c in ids])
        return {pair: [customers[c] for c in sorted(set(ids)) if c in customers] for pair, ids in holders.items()}

    def with_name_keys(self, keys: Sequence[str], limit: int = 50) -> dict[str, list[Customer]]:
        named: dict[str, list[int]] = {key: [] for key in dict.fromkeys(keys)}
        for chunk in chunked([key for key in named if key]):
            for customer_id, key in self.session.execute(_NAMED_FIRST, {"keys": chunk, "limit": limit}):
                named[key].append(int(customer_id))
        customers = self.get_many([c for ids in named.values() for c in ids])
        return {key: [customers[c] for c in sorted(ids) if c in customers] for key, ids in named.items()}

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

    def candidates_of(self, mention_ids: Sequence[int]) -> dict[int, list[CustomerMatch]]:
        wanted = list(dict.fromkeys(mention_ids))
        found: dict[int, list[CustomerMatch]] = {m: [] for m in wanted}
        for ids in chunked(wanted):
            for row in self.session.scalars(_CANDIDATES_OF, {"ids": ids}):
                found[row.mention_id].append(_to_match(row))
        return found

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

    def add_many(self, matches: Sequence[CustomerMatch]) -> int:
        now = utcnow()
        rows = [
            {
                "mention_id": m.mention_id,
                "customer_id": m.customer_id,
                "confidence": m.confidence,
                "reasons": list(m.reasons),
                "status": m.status.value,
                "created_at": now,
                "updated_at": now,
            }
            for m in matches
        ]
        self.session.flush()  # a Core statement: what the ORM holds back goes first
        return len(insert_many_ignoring(self.session, CustomerMatchRow, rows, ["mention_id", "customer_id"]))

    def confirmed_for_authors(self, authors: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict[int, int]]:
        pairs = list(dict.fromkeys(authors))
        found: dict[tuple[str, str], dict[int, int]] = {pair: {} for pair in pairs}
        for chunk in chunked([(source, handle) for source, handle in pairs if handle]):
            sources, handles = sorted({s for s, _ in chunk}), sorted({h for _, h in chunk})
            rows = self.session.execute(_CONFIRMED_FOR_AUTHORS, {"sources": sources, "handles": handles})
            for source, handle, customer_id, n in rows:
                if (source, handle) in found:
                    found[(source, handle)][int(customer_id)] = int(n)
        return found

    def confirmed_for_author(self, source: str, author_handle: str) -> dict[int, int]:
        if not author_handle:
            return {}
        rows = self.session.execute(_CONFIRMED_FOR_AUTHOR, {"source": source, "handle": author_handle})
        return {int(c): int(n) for c, n in rows}
