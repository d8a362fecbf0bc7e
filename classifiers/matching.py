"""Tie a mention to a customer record: by the author's handle on that source, else by contact details."""

from __future__ import annotations

from classifiers.customers import normalize_phone
from classifiers.pii import find_pii
from store.model import CustomerMatch, Mention
from store.repository import CustomerRepository


class CustomerMatcher:
    """Strongest evidence first: a known handle, then an e-mail, then a phone number written in the text."""

    name = "rules/1"

    def match(self, mention: Mention, customers: CustomerRepository) -> CustomerMatch | None:
        raw = mention.raw
        if raw.author_handle:
            found = customers.by_handle(f"{raw.source}:{raw.author_handle}")
            if found is not None and found.id is not None:
                return CustomerMatch(mention.id, found.id, "handle", 0.95)
        text = f"{raw.title}\n{raw.text}"
        for span in find_pii(text):
            value = text[span.start : span.end]
            if span.type == "email":
                found = customers.by_contact(email=value)
                method, confidence = "email", 0.9
            elif span.type == "phone":
                phone = normalize_phone(value)
                found = customers.by_contact(phone=phone) if phone else None
                method, confidence = "phone", 0.85
            else:
                continue
            if found is not None and found.id is not None:
                return CustomerMatch(mention.id, found.id, method, confidence)
        return None
