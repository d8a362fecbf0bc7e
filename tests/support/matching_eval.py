"""Measure auto-link precision and recall on the synthetic customer base and its labelled mentions."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from classifiers.customers import Columns, ImportReport, import_customers
from classifiers.identity import IdentityKey
from classifiers.matching import CustomerMatcher
from store.model import MatchStatus, MentionStatus, RawMention
from store.repository import UnitOfWork
from tests.support.mentions import LabelledMention, labelled_mentions
from tests.support.synthetic_customers import ORDER_PATTERN, SUBSCRIPTION_PATTERN, generate, write_csv

KEY = IdentityKey("synthetic-customers-identity-key")
COLUMNS = Columns(
    fields={"id": "customer_no", "name": "ad_soyad", "email": "eposta", "phone": "gsm", "city": "il", "vip": "vip"},
    handles={"x": "x_kullanici", "sikayetvar": "sikayetvar_kullanici"},
    numbers={"order": "siparis_no", "subscription": "abone_no"},
)
PATTERNS = {"order": ORDER_PATTERN, "subscription": SUBSCRIPTION_PATTERN}
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@dataclass
class Quality:
    linked: int = 0  # auto-links made
    right: int = 0  # auto-links to the true customer
    truths: int = 0  # mentions whose truth is a customer
    seconds: list[float] = field(default_factory=list)  # match time per mention
    wrong_by_kind: Counter[str] = field(default_factory=Counter)
    missed_by_kind: Counter[str] = field(default_factory=Counter)
    suggested_right: int = 0  # the true customer was among the suggestions

    @property
    def precision(self) -> float:
        return self.right / self.linked if self.linked else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.truths if self.truths else 1.0


def load_base(tmp: Path, uow: UnitOfWork, n: int, seed: int = 0) -> tuple[list[dict[str, str]], ImportReport]:
    """Write ``n`` synthetic customers to a CSV, import them, and return the rows and the import report."""
    path = write_csv(tmp / "customers.csv", n, seed)
    report = import_customers(path, COLUMNS, KEY, uow)
    return list(generate(n, seed)), report


def measure(uow: UnitOfWork, rows: list[dict[str, str]], n_mentions: int, seed: int = 1) -> Quality:
    """Store the labelled mentions, match each one, and count auto-links against the truth."""
    labelled = labelled_mentions(rows, n_mentions, seed)
    matcher = CustomerMatcher(KEY, PATTERNS)
    quality = Quality()
    with uow:
        uow.mentions.add_many(raw(i, item) for i, item in enumerate(labelled))
        uow.commit()
    with uow:
        mentions = uow.mentions.with_status(MentionStatus.NEW, limit=n_mentions + 1)
        by_id: dict[int | None, str] = {}
        for mention, item in zip(mentions, labelled, strict=True):
            started = time.perf_counter()
            found = matcher.match(mention, uow)
            quality.seconds.append(time.perf_counter() - started)
            auto = [m for m in found if m.status is MatchStatus.AUTO]
            names = [_external_id(uow, m.customer_id, by_id) for m in found]
            quality.truths += item.true_customer_no is not None
            if auto:
                quality.linked += 1
                if names[0] == item.true_customer_no:
                    quality.right += 1
                else:
                    quality.wrong_by_kind[item.kind] += 1
            elif item.true_customer_no is not None:
                quality.missed_by_kind[item.kind] += 1
                quality.suggested_right += item.true_customer_no in names
    return quality


def _external_id(uow: UnitOfWork, customer_id: int, cache: dict[int | None, str]) -> str:
    if customer_id not in cache:
        customer = uow.customers.get(customer_id)
        cache[customer_id] = customer.external_id if customer else "?"
    return cache[customer_id]


def raw(i: int, item: LabelledMention) -> RawMention:
    return RawMention(
        source=item.source,
        external_id=f"m{i}",
        url=f"https://example.test/{item.source}/{i}",
        text=item.text,
        fetched_at=NOW,
        author=item.author_name,
        author_handle=item.author_handle,
    )
