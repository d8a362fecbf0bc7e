"""Who wrote a mention: candidate customers from several signals, each weighed and explained, never a name alone."""

# Each signal is evidence that the author is a given customer, with a weight: the chance it is right on its own.
# Signals for one customer combine like independent witnesses (1 - product of their doubts). An identifier that
# several customers share (a family's phone) is weaker for each of them. Only a single confident candidate is
# linked without asking; everything else waits for an agent.

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
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
        if self.key is None:
            return []
        raw = mention.raw
        found: dict[int, Candidate] = {}

        def point(customers: Iterable[Customer], signal: str, reason: str) -> None:
            people = [c for c in customers if c.id is not None]
            weight = WEIGHTS[signal] * (SHARED if len(people) > 1 else 1.0)
            for customer in people:
                assert customer.id is not None
                found.setdefault(customer.id, Candidate(customer)).add(signal, weight, reason)

        key = self.key

        def by_identifier(kind: str, value: str, signal: str, label: str) -> None:
            try:
                hashed = key.hash(kind, value)
            except ConfigError:  # a source whose name cannot be an identifier kind holds no customer handles
                return
            if hashed:
                people = uow.customers.with_identifier(kind, hashed)
                point(people, signal, label.format(_shown(people, kind, hashed)))

        if raw.author_handle:
            by_identifier(f"handle:{raw.source}", raw.author_handle, "handle", "handle {} on " + raw.source)
        text = f"{raw.title}\n{raw.text}"
        for span in find_pii(text):
            kind = _PII_KINDS.get(span.type)
            if kind:
                by_identifier(kind, text[span.start : span.end], kind, kind + " {} in the text")
        for kind, pattern in self.patterns.items():
            for hit in dict.fromkeys(m.group(0) for m in pattern.finditer(text)):
                by_identifier(kind, hit, kind, kind + " no {} in the text")
        confirmed = uow.matches.confirmed_for_author(raw.source, raw.author_handle)
        for customer_id, times in confirmed.items():
            customer = uow.customers.get(customer_id)
            if customer is not None:
                point([customer], "confirmed", f"agents confirmed this author as them {times} time(s)")
        self._names(raw.author, text, found, uow)
        ranked = sorted(found.values(), key=lambda c: (-c.confidence, c.customer.id or 0))
        return [c for c in ranked if c.confidence > 0]

    def _names(self, author: str, text: str, found: dict[int, Candidate], uow: UnitOfWork) -> None:
        """The author's display name: agreement strengthens other signals; with the customer's city it is one."""
        if len(name_key(author).split()) < 2:
            return  # a nickname or a first name alone says nothing
        cities = cities_in(fold(text))
        for candidate in found.values():
            if name_similarity(author, candidate.customer.name) >= NAME_AGREES:
                candidate.add("name", WEIGHTS["name"], "name matches")
        if not cities:
            return
        for customer in uow.customers.with_name_key(name_key(author)):
            if customer.id is not None and fold(customer.city) in cities:
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
        kept = [c for c in self.candidates(mention, uow) if c.confidence >= self.suggest]
        out: list[CustomerMatch] = []
        for i, candidate in enumerate(kept):
            alone = len(kept) == 1
            status = MatchStatus.AUTO if i == 0 and alone and candidate.confidence >= self.auto_link else None
            assert candidate.customer.id is not None
            out.append(
                CustomerMatch(
                    mention_id=mention.id,
                    customer_id=candidate.customer.id,
                    confidence=candidate.confidence,
                    reasons=tuple(candidate.reasons),
                    status=status or MatchStatus.SUGGESTED,
                )
            )
        return out


def _shown(customers: Iterable[Customer], kind: str, hashed: str) -> str:
    """The masked form of an identifier for a reason line, as stored with the customer who holds it."""
    for customer in customers:
        for ident in customer.identifiers:
            if ident.kind == kind and ident.hash == hashed:
                return ident.display
    return "(masked)"
