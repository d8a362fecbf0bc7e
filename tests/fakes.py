"""Fakes the test layers share: time that moves only when something sleeps; an in-memory store for retention."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from store.errors import StoreError
from store.repository import AuditLog, Purged, RetentionRepository, UnitOfWork


class Clock:
    """Fake time for a source and its stand-in: ``sleep`` moves it on and every wait is kept.

    Pass ``clock.sleep`` as the source's sleep and ``clock`` itself as its clock (epoch seconds).
    """

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


class FakeRetentionRepository(RetentionRepository):
    """Rows of each kind as id -> the time their age counts from; a purge takes them away in id order.

    ``fail_at`` makes that call (counted from 1) raise StoreError, like a database going away mid-purge."""

    KINDS = ("raw_payloads", "mention_texts", "closed_cases", "deliveries")

    def __init__(self, rows: Mapping[str, Mapping[int, datetime]] | None = None, fail_at: int | None = None) -> None:
        self.rows: dict[str, dict[int, datetime]] = {k: dict((rows or {}).get(k, {})) for k in self.KINDS}
        self.calls: list[tuple[str, datetime, int, int]] = []
        self.fail_at = fail_at

    def raw_payloads(self, cutoff: datetime, batch: int, after_id: int = 0) -> Purged:
        return self._purge("raw_payloads", cutoff, batch, after_id)

    def mention_texts(self, cutoff: datetime, batch: int, after_id: int = 0) -> Purged:
        return self._purge("mention_texts", cutoff, batch, after_id)

    def closed_cases(self, cutoff: datetime, batch: int, after_id: int = 0) -> Purged:
        return self._purge("closed_cases", cutoff, batch, after_id)

    def deliveries(self, cutoff: datetime, batch: int, after_id: int = 0) -> Purged:
        return self._purge("deliveries", cutoff, batch, after_id)

    def _purge(self, kind: str, cutoff: datetime, batch: int, after_id: int) -> Purged:
        self.calls.append((kind, cutoff, batch, after_id))
        if len(self.calls) == self.fail_at:
            raise StoreError("could not save: the database went away")
        ids = sorted(i for i, at in self.rows[kind].items() if at < cutoff and i > after_id)[:batch]
        for i in ids:
            del self.rows[kind][i]
        return Purged(len(ids), ids[0], ids[-1]) if ids else Purged()


class FakeAuditLog(AuditLog):
    def __init__(self) -> None:
        self.entries: list[tuple[str, str, str, dict[str, Any]]] = []

    def record(self, actor: str, action: str, subject: str = "", **detail: Any) -> None:
        self.entries.append((actor, action, subject, detail))

    def last(self, action: str, subject: str | None = None) -> dict[str, Any] | None:
        found = [d for _, done, about, d in self.entries if done == action and subject in (None, about)]
        return dict(found[-1]) if found else None


class FakeRetentionUnitOfWork(UnitOfWork):
    """A unit of work holding only retention and the audit log, in memory; leaving a block without commit puts
    both back as they were, as a rolled-back transaction would."""

    retention: FakeRetentionRepository
    audit: FakeAuditLog

    def __init__(self, retention: FakeRetentionRepository | None = None) -> None:
        self.retention = retention or FakeRetentionRepository()
        self.audit = FakeAuditLog()
        self.commits = 0
        self._saved: tuple[dict[str, dict[int, datetime]], list[Any]] | None = None

    def __enter__(self) -> FakeRetentionUnitOfWork:
        self._save()
        return self

    def commit(self) -> None:
        self.commits += 1
        self._save()

    def rollback(self) -> None:
        if self._saved is not None:
            self.retention.rows, self.audit.entries = copy.deepcopy(self._saved[0]), list(self._saved[1])

    def _save(self) -> None:
        self._saved = (copy.deepcopy(self.retention.rows), list(self.audit.entries))
