"""Read customer records (CSV or JSON) into Customer objects, with errors that name the row and field."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from store.errors import InputError
from store.model import Customer

FIELDS = ("external_id", "name", "email", "phone", "handles", "segment")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_phone(text: str) -> str | None:
    """Turkish numbers to their 10 national digits (``5321234567``); None when it is no Turkish number."""
    digits = re.sub(r"\D", "", text)
    if digits.startswith("90") and len(digits) == 12:
        digits = digits[2:]
    elif digits.startswith("0") and len(digits) == 11:
        digits = digits[1:]
    if len(digits) == 10 and digits[0] in "2345":
        return digits
    return None


def load_customers(path: str | Path) -> list[Customer]:
    """Customers from ``.csv`` (columns FIELDS; handles separated by spaces) or ``.json`` (a list of objects)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{p}: cannot read customer file: {exc.strerror or exc}") from exc
    if p.suffix.lower() == ".json":
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{p}: not valid JSON: {exc}") from exc
        if not isinstance(rows, list):
            raise InputError(f"{p}: expected a JSON list of customer objects")
    elif p.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        missing = {"external_id", "name"} - set(reader.fieldnames or ())
        if missing:
            raise InputError(f"{p}: missing column(s) {', '.join(sorted(missing))}")
        rows = list(reader)
    else:
        raise InputError(f"{p}: expected a .csv or .json customer file")
    customers = [_customer(row, f"{p} record {i}") for i, row in enumerate(rows, start=1)]
    seen: set[str] = set()
    for c in customers:
        if c.external_id in seen:
            raise InputError(f"{p}: external_id {c.external_id!r} appears twice")
        seen.add(c.external_id)
    return customers


def _customer(row: Any, where: str) -> Customer:
    if not isinstance(row, dict):
        raise InputError(f"{where}: expected an object with {', '.join(FIELDS)}")
    unknown = set(row) - set(FIELDS)
    if unknown:
        raise InputError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    external_id = str(row.get("external_id") or "").strip()
    name = str(row.get("name") or "").strip()
    if not external_id or not name:
        raise InputError(f"{where}: external_id and name are required")
    email = str(row.get("email") or "").strip() or None
    if email and not _EMAIL.match(email):
        raise InputError(f"{where}: email is not an e-mail address")
    phone_raw = str(row.get("phone") or "").strip()
    phone = normalize_phone(phone_raw) if phone_raw else None
    if phone_raw and phone is None:
        raise InputError(f"{where}: phone is not a Turkish phone number")
    handles_raw = row.get("handles") or []
    handles = handles_raw.split() if isinstance(handles_raw, str) else handles_raw
    if not isinstance(handles, list) or not all(isinstance(h, str) and ":" in h for h in handles):
        raise InputError(f"{where}: handles must be source:handle pairs, like sikayetvar:ayse.k")
    return Customer(
        external_id=external_id,
        name=name,
        email=email,
        phone=phone,
        handles=tuple(h.strip().casefold() for h in handles),
        segment=str(row.get("segment") or ""),
    )
