"""Customer records from CSV, JSON or JSONL into the store, contact details kept only as keyed hashes."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers.identity import NUMBER_KINDS, IdentityKey, display, identifier_kind, name_key
from classifiers.privacy import customer_tombstone
from store.errors import ConfigError, InputError
from store.model import Customer, Identifier
from store.repository import UnitOfWork

FIELDS = ("id", "name", "email", "phone", "city", "vip", "segment", "handles")
# The columns of a record when the config names none: the shape Kulak's own examples use.
DEFAULT_COLUMNS = {"id": "external_id", "handles": "handles"}
_YES = frozenset({"1", "true", "yes", "evet", "e", "x", "vip"})
_NO = frozenset({"", "0", "false", "no", "hayir", "hayır", "h", "-"})


@dataclass(frozen=True)
class Columns:
    """Which column of a record holds which field (``customers.columns``, ``handle_columns``, ``number_columns``)."""

    fields: Mapping[str, str] = field(default_factory=dict)
    handles: Mapping[str, str] = field(default_factory=dict)  # source -> column
    numbers: Mapping[str, str] = field(default_factory=dict)  # order | subscription | policy -> column

    def column(self, name: str) -> str:
        return self.fields.get(name) or DEFAULT_COLUMNS.get(name, name)

    def check(self) -> None:
        for name in self.fields:
            if name not in FIELDS:
                raise ConfigError(f"unknown customer field {name!r}", key=f"customers.columns.{name}")
        for kind in self.numbers:
            if kind not in NUMBER_KINDS:
                raise ConfigError(
                    f"unknown number kind {kind!r}; expected one of {', '.join(sorted(NUMBER_KINDS))}",
                    key=f"customers.number_columns.{kind}",
                )
        for source in self.handles:
            identifier_kind(f"handle:{source}")


@dataclass
class ImportReport:
    read: int = 0
    imported: int = 0
    erased: int = 0  # records of people erased under KVKK, refused
    errors: list[str] = field(default_factory=list)  # "customers.csv:14: phone is not a phone number"


def read_records(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, record) pairs: ``where`` is "file:line" for CSV and JSONL, "file record N" for JSON."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json", ".jsonl"):
        raise InputError(f"{path}: expected a .csv, .json or .jsonl customer file")
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read customer file: {exc.strerror or exc}") from None
    with handle:
        if suffix == ".csv":
            reader = csv.DictReader(handle)
            try:
                for row in reader:
                    yield f"{path}:{reader.line_num}", row
            except (csv.Error, UnicodeDecodeError) as exc:
                raise InputError(f"{path}:{reader.line_num}: not a readable CSV row ({exc})") from None
        elif suffix == ".jsonl":
            number = 0
            try:
                for number, line in enumerate(handle, start=1):
                    if line.strip():
                        try:
                            record: Any = json.loads(line)
                        except json.JSONDecodeError as exc:
                            record = InputError(f"not valid JSON ({exc.msg})")
                        except RecursionError:
                            record = InputError("not valid JSON (nested too deeply)")
                        yield f"{path}:{number}", record
            except UnicodeDecodeError as exc:  # the file, not one line, is in another encoding
                raise InputError(f"{path}:{number + 1}: not UTF-8 ({exc.reason})") from None
        else:
            try:
                rows = json.load(handle)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise InputError(f"{path}: not valid JSON: {exc}") from None
            except RecursionError:
                raise InputError(f"{path}: not valid JSON: nested too deeply") from None
            if not isinstance(rows, list):
                raise InputError(f"{path}: expected a JSON list of customer objects")
            for number, row in enumerate(rows, start=1):
                yield f"{path} record {number}", row


def to_customer(record: Any, columns: Columns, key: IdentityKey) -> Customer:
    """One record as a Customer with hashed identifiers; ``InputError`` says which field is wrong."""
    if isinstance(record, InputError):
        raise record
    if not isinstance(record, dict):
        raise InputError("expected an object with the customer's fields")

    def value(column: str) -> str:
        raw = record.get(column)
        return "" if raw is None else str(raw).strip()

    external_id, name = value(columns.column("id")), value(columns.column("name"))
    if not external_id:
        raise InputError(f"no customer id (column {columns.column('id')!r})")
    if not name:
        raise InputError(f"no name (column {columns.column('name')!r})")
    found: list[tuple[str, str, str]] = []  # (kind, value, column)
    for kind in ("email", "phone"):
        if value(columns.column(kind)):
            found.append((kind, value(columns.column(kind)), columns.column(kind)))
    for number_kind, column in columns.numbers.items():
        for part in value(column).replace(";", ",").split(","):
            if part.strip():
                found.append((number_kind, part.strip(), column))
    for source, column in columns.handles.items():
        if value(column):
            found.append((f"handle:{source}", value(column), column))
    pairs = record.get(columns.column("handles")) or []
    for pair in pairs.split() if isinstance(pairs, str) else pairs if isinstance(pairs, list) else [pairs]:
        if not isinstance(pair, str) or ":" not in pair:
            raise InputError(f"handles must be source:handle pairs like sikayetvar:ayse.k, got {pair!r}")
        source, handle = pair.split(":", 1)
        found.append((f"handle:{source.strip().lower()}", handle, columns.column("handles")))
    identifiers: dict[tuple[str, str], Identifier] = {}
    for kind, raw, column in found:
        try:
            hashed = key.hash(kind, raw)
        except ConfigError as exc:
            raise InputError(f"column {column!r}: {exc}") from None
        if hashed is None:
            raise InputError(f"column {column!r}: not a valid {kind.split(':')[0]} ({display(kind, raw)})")
        identifiers[(kind, hashed)] = Identifier(identifier_kind(kind), hashed, display(kind, raw))
    vip = value(columns.column("vip")).casefold()
    if vip not in _YES | _NO:
        raise InputError(f"column {columns.column('vip')!r}: expected yes/no (evet/hayır), got {vip[:20]!r}")
    return Customer(
        external_id=external_id,
        name=name,
        name_key=name_key(name),
        city=value(columns.column("city")),
        vip=vip in _YES,
        segment=value(columns.column("segment")),
        identifiers=tuple(identifiers.values()),
    )


def import_customers(
    path: str | Path, columns: Columns, key: IdentityKey, uow: UnitOfWork, *, batch: int = 1000
) -> ImportReport:
    """Insert or update every good record (by customer id), one transaction per ``batch``; bad records are
    reported with their line and skipped, and so are records of people erased under KVKK."""
    columns.check()
    report = ImportReport()
    seen: set[str] = set()
    pending: list[Customer] = []

    def flush() -> None:
        with uow:
            for customer in pending:
                if uow.privacy.is_tombstoned("customer", customer_tombstone(key, customer.external_id)):
                    report.erased += 1
                    continue
                uow.customers.upsert(customer)
                report.imported += 1
            uow.commit()
        pending.clear()

    for where, record in read_records(Path(path)):
        report.read += 1
        try:
            customer = to_customer(record, columns, key)
        except InputError as exc:
            report.errors.append(f"{where}: {exc}")
            continue
        if customer.external_id in seen:
            report.errors.append(f"{where}: customer id appears earlier in the file; this record is skipped")
            continue
        seen.add(customer.external_id)
        pending.append(customer)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    return report
