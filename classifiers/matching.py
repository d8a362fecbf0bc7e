"""Who wrote a mention: candidate customers from several signals, each weighed and explained, never a name alone."""

# Each signal is evidence that the author is a given customer, with a weight: the chance it is right on its own.
# Signals for one customer combine like independent witnesses (1 - product of their doubts). An identifier that
# several customers share (a family's phone) is weaker for each of them. Only a single confident candidate is
# linked without asking; everything else waits for an agent.

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from classifiers.identity import IdentityKey, name_key, name_similarity
from classifiers.pii import find_pii
from classifiers.query import Words
from classifiers.text import fold
from store.errors import ConfigError
from store.model import Customer, CustomerMatch, MatchStatus, Mention
from store.repository import UnitOfWork

WEIGHTS = {
    "handle": 0.95,  # the author's handle on the same platform
    "tckn": 0.95,
    "order": 0.9,
    "subscription": 0.9,
    "policy": 0.9,
    "email": 0.9,
    "phone": 0.85,
    "confirmed": 0.8,  # agents confirmed this author as the customer before
    "name_city": 0.7,  # the author's name is the customer's and the text names the customer's city
    "name": 0.5,  # the author's name agrees: only ever counted next to another signal
}
SHARED = 0.6  # an identifier several customers hold counts this much for each
NAME_AGREES = 0.88  # name_similarity from which two names are the same person's
_PII_KINDS = {"email": "email", "phone": "phone", "tckn": "tckn"}


@cache
def _cities() -> tuple[tuple[str, Words], ...]:
    text = resources.files("classifiers.data").joinpath("cities.txt").read_text(encoding="utf-8")
    rows = [line.split("|") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return tuple((fold(row[0]), Words(row)) for row in rows)


def cities_in(folded: str) -> set[str]:
    """The provinces a folded text names ("izmir'de", "istanbuldan"), as folded province names."""
    return {city for city, words in _cities() if words.search(folded)}


@dataclass
class Candidate:
    customer: Customer
    signals: dict[str, float] = field(default_factory=dict)  # signal -> weight
    reasons: list[str] = field(default_factory=list)

    def add(self, signal: str, weight: float, reason: str) -> None:
        if weight > self.signals.get(signal, 0.0):
            self.signals[signal] = weight
            self.reasons.append(reason)

    @property
    def confidence(self) -> float:
        if set(self.signals) <= {"name"}:
            return 0.0  # never a match on a name alone
        doubt = 1.0
        for weight in self.signals.values():
            doubt *= 1.0 - weight
        return round(1.0 - doubt, 4)


class CustomerMatcher:
    """Finds a mention's candidate customers and decides which are linked, suggested or dropped."""

    name = "signals/1"

    def __init__(
        self,
        key: IdentityKey | None,
        number_patterns: Mapping[str, str] | None = None,
        *,
        auto_link: float = 0.8,
        suggest: float = 0.5,
    ) -> None:
        self.key = key
        self.auto_link, self.suggest = auto_link, suggest
        self.patterns: dict[str, re.Pattern[str]] = {}
        for kind, pattern in (number_patterns or {}).items():
            try:
                self.patterns[kind] = re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"not a regular expression: {exc}", key=f"customers.number_patterns.{kind}") from None

    def candidates(self, mention: Mention, uow: UnitOfWork) -> list[Candidate]:
        """Every customer some signal points at, most confident first (name-only ones are left out)."""
        return self.candidates_many([mention], uow)[mention.id]

    def candidates_many(self, mentions: Sequence[Mention], uow: UnitOfWork) -> dict[int, list[Candidate]]:
        """``candidates`` of each mention, by mention id, from one read of the store for all of them."""
        if self.key is None:
            return {m.id: [] for m in mentions}
        asks = {m.id: self._asks(m) for m in mentions}
        seen = _Seen.read(uow, asks.values())
        return {m.id: self._candidates(m, asks[m.id], seen) for m in mentions}

    def _asks(self, mention: Mention) -> _Asks:
        """What the store must be asked about a mention: its identifiers' hashes, its author, its author's name."""
        assert self.key is not None
        raw = mention.raw
        text = f"{raw.title}\n{raw.text}"
        asks = _Asks(author=(raw.source, raw.author_handle))
        key = self.key

        def by_identifier(kind: str, value: str, signal: str, label: str) -> None:
            try:
                hashed = key.hash(kind, value)
            except ConfigError:  # a source whose name cannot be an identifier kind holds no customer handles
                return
            if hashed:
                asks.identifiers.append((kind, hashed, signal, label))

        if raw.author_handle:
            by_identifier(f"handle:{raw.source}", raw.author_handle, "handle", "handle {} on " + raw.source)
        for span in find_pii(text):
            kind = _PII_KINDS.get(span.type)
            if kind:
                by_identifier(kind, text[span.start : span.end], kind, kind + " {} in the text")
        for kind, pattern in self.patterns.items():
            for hit in dict.fromkeys(m.group(0) for m in pattern.finditer(text)):
                by_identifier(kind, hit, kind, kind + " no {} in the text")
        if len(name_key(raw.author).split()) >= 2:  # a nickname or a first name alone says nothing
            asks.cities = cities_in(fold(text))
            if asks.cities:
                asks.name_key = name_key(raw.author)
        return asks

    def _candidates(self, mention: Mention, asks: _Asks, seen: _Seen) -> list[Candidate]:
        found: dict[int, Candidate] = {}

        def point(customers: Iterable[Customer], signal: str, reason: str) -> None:
            people = [c for c in customers if c.id is not None]
            weight = WEIGHTS[signal] * (SHARED if len(people) > 1 else 1.0)
            for customer in people:
                assert customer.id is not None
                found.setdefault(customer.id, Candidate(customer)).add(signal, weight, reason)

        for kind, hashed, signal, label in asks.identifiers:
            people = seen.identifiers[(kind, hashed)]
            point(people, signal, label.format(_shown(people, kind, hashed)))
        for customer_id, times in seen.confirmed.get(asks.author, {}).items():
            customer = seen.customers.get(customer_id)
            if customer is not None:
                point([customer], "confirmed", f"agents confirmed this author as them {times} time(s)")
        self._names(mention.raw.author, asks, seen, found)
        ranked = sorted(found.values(), key=lambda c: (-c.confidence, c.customer.id or 0))
        return [c for c in ranked if c.confidence > 0]

    def _names(self, author: str, asks: _Asks, seen: _Seen, found: dict[int, Candidate]) -> None:
        """The author's display name: agreement strengthens other signals; with the customer's city it is one."""
        if asks.cities is None:
            return  # a nickname or a first name alone says nothing
        for candidate in found.values():
            if name_similarity(author, candidate.customer.name) >= NAME_AGREES:
                candidate.add("name", WEIGHTS["name"], "name matches")
        for customer in seen.names.get(asks.name_key, []) if asks.cities else []:
            if customer.id is not None and fold(customer.city) in asks.cities:
                found.setdefault(customer.id, Candidate(customer)).add(
                    "name_city", WEIGHTS["name_city"], f"name and city ({customer.city}) match"
                )
        # A name shared by several customers in that city is no single person: weaken each.
        same_city = [c for c in found.values() if "name_city" in c.signals]
        if len(same_city) > 1:
            for candidate in same_city:
                candidate.signals["name_city"] = WEIGHTS["name_city"] * SHARED

    def match(self, mention: Mention, uow: UnitOfWork) -> list[CustomerMatch]:
        """The candidates worth keeping: the best auto-linked when it is confident and has no rival, others
        suggested to agents; below ``suggest`` nothing is kept."""
        return self.match_many([mention], uow)[mention.id]

    def match_many(self, mentions: Sequence[Mention], uow: UnitOfWork) -> dict[int, list[CustomerMatch]]:
        """``match`` of each mention, by mention id, from one read of the store for all of them."""
        return {m: self._decide(m, found) for m, found in self.candidates_many(mentions, uow).items()}

    def _decide(self, mention_id: int, candidates: list[Candidate]) -> list[CustomerMatch]:
        kept = [c for c in candidates if c.confidence >= self.suggest]
        out: list[CustomerMatch] = []
        for i, candidate in enumerate(kept):
            alone = len(kept) == 1
            status = MatchStatus.AUTO if i == 0 and alone and candidate.confidence >= self.auto_link else None
            assert candidate.customer.id is not None
            out.append(
                CustomerMatch(
                    mention_id=mention_id,
                    customer_id=candidate.customer.id,
                    confidence=candidate.confidence,
                    reasons=tuple(candidate.reasons),
                    status=status or MatchStatus.SUGGESTED,
                )
            )
        return out


@dataclass
class _Asks:
    """What one mention needs from the store."""

    author: tuple[str, str]  # (source, handle)
    identifiers: list[tuple[str, str, str, str]] = field(default_factory=list)  # kind, hash, signal, reason
    cities: set[str] | None = None  # None: the author's name is no full name
    name_key: str = ""


@dataclass
class _Seen:
    """What the store answered for a batch of mentions' asks."""

    identifiers: dict[tuple[str, str], list[Customer]]
    confirmed: dict[tuple[str, str], dict[int, int]]
    customers: dict[int, Customer]
    names: dict[str, list[Customer]]

    @classmethod
    def read(cls, uow: UnitOfWork, asks: Iterable[_Asks]) -> _Seen:
        asks = list(asks)
        identifiers = uow.customers.with_identifiers([(k, h) for a in asks for k, h, _, _ in a.identifiers])
        confirmed = uow.matches.confirmed_for_authors([a.author for a in asks if a.author[1]])
        customers = uow.customers.get_many([c for found in confirmed.values() for c in found])
        names = uow.customers.with_name_keys([a.name_key for a in asks if a.name_key])
        return cls(identifiers, confirmed, customers, names)


def _shown(customers: Iterable[Customer], kind: str, hashed: str) -> str:
    """The masked form of an identifier for a reason line, as stored with the customer who holds it."""
    for customer in customers:
        for ident in customer.identifiers:
            if ident.kind == kind and ident.hash == hashed:
                return ident.display
    return "(masked)"
