"""KVKK erasure: find every stored mention that names a person, then remove it and the person's record."""

# The store keeps identifiers only as keyed hashes, so "does this text name Ayşe?" is answered the same way the
# matcher answers "who wrote this?": hash what the text holds (e-mails, phones, numbers, @handles) and compare.
# A full name is compared folded, as a phrase. The scan reads every mention: erasure is rare and must be complete.

from __future__ import annotations

import re
from collections.abc import Mapping

from classifiers.identity import IdentityKey, name_key
from classifiers.pii import find_pii
from classifiers.text import fold
from store.errors import InputError
from store.model import Customer, Erasure
from store.repository import UnitOfWork

_PII_KINDS = {"email": "email", "phone": "phone", "tckn": "tckn"}
_AT_HANDLE = re.compile(r"(?<![\w@])@([\w.\-]+)")
_BATCH = 1000


def customer_tombstone(key: IdentityKey, external_id: str) -> str:
    """The keyed hash kept of an erased customer's id, so a later import does not bring the record back."""
    return key.digest("customer", external_id)


class PersonFinder:
    """Tells whether a text names one person, by the hashes of the identifiers it holds or by their full name."""

    def __init__(
        self,
        key: IdentityKey,
        hashes: Mapping[str, set[str]],
        *,
        full_name: str = "",
        patterns: Mapping[str, str] | None = None,
        handle: str = "",
    ) -> None:
        self.key, self.hashes = key, hashes  # identifier kind -> hashes of the person's identifiers
        words = name_key(full_name).split()
        self.name = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)") if len(words) > 1 else None
        self.patterns = {k: re.compile(p) for k, p in (patterns or {}).items() if k in hashes}
        self.platforms = [k for k in hashes if k.startswith("handle:")]
        # "@handle" written in a text, whoever wrote it and whether or not a customer holds that handle
        self.handle = re.compile(r"(?<![\w@])@" + re.escape(fold(handle)) + r"(?!\w)") if handle else None

    def names(self, text: str) -> bool:
        if self.handle is not None and self.handle.search(fold(text)):
            return True
        if self.name is not None and self.name.search(name_key(text)):
            return True
        for span in find_pii(text):
            kind = _PII_KINDS.get(span.type, "")
            if kind in self.hashes and self.key.hash(kind, text[span.start : span.end]) in self.hashes[kind]:
                return True
        for kind, pattern in self.patterns.items():
            if any(self.key.hash(kind, m.group(0)) in self.hashes[kind] for m in pattern.finditer(text)):
                return True
        for handle in _AT_HANDLE.findall(text) if self.platforms else ():
            if any(self.key.hash(kind, handle) in self.hashes[kind] for kind in self.platforms):
                return True
        return False


def _scan(uow: UnitOfWork, finder: PersonFinder) -> set[int]:
    found: set[int] = set()
    after = 0
    while batch := uow.privacy.scan_mentions(after, _BATCH):
        for mention in batch:
            raw = mention.raw
            if finder.names(f"{raw.title}\n{raw.text}\n{raw.author}"):
                found.add(mention.id)
        after = batch[-1].id
    return found


def _hashes(customer: Customer) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for ident in customer.identifiers:
        out.setdefault(ident.kind, set()).add(ident.hash)
    return out


def erase_customer(
    uow: UnitOfWork, key: IdentityKey, external_id: str, *, patterns: Mapping[str, str] | None = None
) -> Erasure:
    """Erase a customer: the record, its identifiers, its cases, and every mention matched to it, written from
    one of its handles or naming it. Runs inside the caller's ``with uow`` and leaves the commit to it."""
    customer = uow.customers.by_external_id(external_id)
    if customer is None or customer.id is None:
        raise InputError(f"no customer with id {external_id!r}")
    hashes = _hashes(customer)
    finder = PersonFinder(key, hashes, full_name=customer.name, patterns=patterns)
    mentions = _scan(uow, finder) | set(uow.privacy.matched_mentions(customer.id))
    handles = [i for i in customer.identifiers if i.kind.startswith("handle:")]
    for ident in handles:
        mentions |= _mentions_by_handle(uow, ident.display, ident.kind.removeprefix("handle:"))
    erased = uow.privacy.erase(mention_ids=sorted(mentions), customer_id=customer.id)
    uow.privacy.tombstone("customer", customer_tombstone(key, external_id))
    uow.audit.record("kvkk", "forget", "customer", **_counts(erased))
    return erased


def erase_author(uow: UnitOfWork, key: IdentityKey, handle: str, *, source: str | None = None) -> Erasure:
    """Erase an author: every mention they wrote (on ``source``, or anywhere) or that names their @handle, and
    that handle from any customer record. Runs inside the caller's ``with uow``."""
    plain = handle.strip().removeprefix("@")
    if not plain or not re.fullmatch(r"[\w.\- /]+", plain):
        raise InputError(f"not a handle: {handle!r}")
    kinds = [k for k in uow.customers.identifier_kinds() if k.startswith("handle:")]
    if source is not None:
        kinds = [k for k in kinds if k == f"handle:{source}"]
    hashes = {kind: {h} for kind in kinds if (h := key.hash(kind, plain)) is not None}
    mentions = _mentions_by_handle(uow, plain, source)
    mentions |= _scan(uow, PersonFinder(key, hashes, handle=plain))
    every_hash = sorted(h for found in hashes.values() for h in found)
    erased = uow.privacy.erase(mention_ids=sorted(mentions), identifier_hashes=every_hash)
    uow.audit.record("kvkk", "forget", "author", **_counts(erased))
    return erased


def _mentions_by_handle(uow: UnitOfWork, handle: str, source: str | None) -> set[int]:
    plain = handle.strip().removeprefix("@")
    found = set(uow.privacy.mentions_by_author(plain, source))
    if source == "reddit" or source is None:
        found |= set(uow.privacy.mentions_by_author(f"u/{plain}", source))
    return found


def _counts(erased: Erasure) -> dict[str, int]:
    return {
        "customers": erased.customers,
        "identifiers": erased.identifiers,
        "mentions": erased.mentions,
        "tickets": erased.tickets,
        "deliveries": erased.deliveries,
    }
