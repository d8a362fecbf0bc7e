"""A deterministic, made-up Turkish customer base (CSV/JSONL rows) to test import, matching and erasure at scale."""

# Columns are Turkish on purpose: a brand's CRM export has its own names, and `kulak customers import` maps them
# through config. Values are as messy as real exports: phones in four spellings, some names in capitals, some
# handles with "@", empty cells. Identifier formats (for the matcher's patterns in config):
#   siparis_no  "KT-" + 8 digits, first digit 1-9 ("KT-40123456"); written in texts as KT-.., KT.., kt-.., "KT ..".
#               Regex: (?i)\bKT[- ]?[1-9]\d{7}\b
#   abone_no    12 digits starting with 1 ("100482913377"): longer than a TCKN (11) or a phone (10), shorter than
#               a card (13+). Regex: \b1\d{11}\b
# Every identifier (e-mail, phone, handle per platform, order, subscription) is unique in the base; names are not.

from __future__ import annotations

import csv
import json
import random
from bisect import bisect
from collections.abc import Callable, Iterator
from functools import partial
from itertools import accumulate
from pathlib import Path

from classifiers.identity import canonical
from classifiers.text import fold_letters
from tests.support.mentions import LabelledMention, labelled_mentions
from tests.support.turkish_people import (
    COMPANY_DOMAINS,
    EMAIL_DOMAINS,
    FEMALE_NAMES,
    MALE_NAMES,
    MOBILE_PREFIXES,
    PROVINCES,
    SURNAMES,
)

__all__ = ["COLUMNS", "LabelledMention", "generate", "labelled_mentions", "write_csv", "write_jsonl"]

COLUMNS = (
    "customer_no", "ad_soyad", "eposta", "gsm", "il", "x_kullanici", "sikayetvar_kullanici", "siparis_no",
    "abone_no", "vip", "segment",
)  # fmt: skip
ORDER_PATTERN = r"(?i)\bKT[- ]?[1-9]\d{7}\b"
SUBSCRIPTION_PATTERN = r"\b1\d{11}\b"

# Shares of rows that have a value (the rest are empty cells).
SHARE = {"eposta": 0.90, "gsm": 0.96, "x_kullanici": 0.40, "sikayetvar_kullanici": 0.25, "siparis_no": 0.60}
SHARE |= {"abone_no": 0.50, "vip": 0.02, "middle_name": 0.12, "capitals": 0.10}
SEGMENTS = (("bireysel", 80), ("kurumsal", 12), ("genç", 8))


def _cumulative(weights: list[float]) -> list[float]:
    return list(accumulate(weights))


def _ranked(n: int, flatness: float) -> list[float]:
    """Zipf-like weights for a list sorted by frequency: the first names of the list are the common ones."""
    return _cumulative([1 / (rank + flatness) for rank in range(n)])


class _Picker:
    """Weighted choices by bisecting cumulative weights: `random.choices` costs more per call at 100,000 rows."""

    def __init__(self, rng: random.Random, items: tuple[str, ...], cumulative: list[float]) -> None:
        self.rng, self.items, self.cumulative, self.total = rng, items, cumulative, cumulative[-1]

    def __call__(self) -> str:
        return self.items[bisect(self.cumulative, self.rng.random() * self.total)]


def _phone_written(rng: random.Random, digits: str) -> str:
    style = rng.random()
    if style < 0.35:
        return f"0{digits[:3]} {digits[3:6]} {digits[6:8]} {digits[8:]}"
    if style < 0.6:
        return f"+90 {digits[:3]} {digits[3:]}"
    if style < 0.85:
        return digits
    return f"(0{digits[:3]}) {digits[3:6]} {digits[6:8]} {digits[8:]}"


def _unique(used: set[str], wanted: str, rng: random.Random, key: Callable[[str], str] = str.lower) -> str:
    """``wanted``, or ``wanted`` with digits added, so that its comparison ``key`` is not taken yet."""
    value = wanted
    while key(value) in used:
        value = f"{wanted}{rng.randrange(10, 1000)}"
    used.add(key(value))
    return value


def _address(local: str, at: str) -> str:
    return f"{local}@{at}"


def _sikayetvar_key(handle: str) -> str:
    return canonical("handle:sikayetvar", handle) or handle


def generate(n: int, seed: int = 0) -> Iterator[dict[str, str]]:
    """``n`` made-up customers C0000001..., the same rows for the same seed (``random.Random`` is stable)."""
    rng = random.Random(seed)
    rand = rng.random
    female = _Picker(rng, FEMALE_NAMES, _ranked(len(FEMALE_NAMES), 8))
    male = _Picker(rng, MALE_NAMES, _ranked(len(MALE_NAMES), 8))
    surname = _Picker(rng, SURNAMES, _ranked(len(SURNAMES), 10))
    city = _Picker(rng, tuple(p for p, _ in PROVINCES), _cumulative([w for _, w in PROVINCES]))
    domain = _Picker(rng, tuple(d for d, _ in EMAIL_DOMAINS), _cumulative([w for _, w in EMAIL_DOMAINS]))
    segment = _Picker(rng, tuple(s for s, _ in SEGMENTS), _cumulative([w for _, w in SEGMENTS]))
    emails: set[str] = set()
    phones: set[str] = set()
    x_handles: set[str] = set()
    sv_handles: set[str] = set()
    orders: set[str] = set()
    subscriptions: set[str] = set()
    for i in range(1, n + 1):
        first_pick = female if rand() < 0.5 else male
        first = first_pick()
        if rand() < SHARE["middle_name"]:
            second = first_pick()
            first = first if second == first else f"{first} {second}"
        last = surname()
        full = f"{first} {last}"
        if rand() < SHARE["capitals"]:  # CRM exports in capitals, Turkish-style: "AYŞE IŞIK", "İLKNUR"
            full = full.replace("i", "İ").replace("ı", "I").upper()
        f_plain = fold_letters(first).replace(" ", "")
        l_plain = fold_letters(last)
        row_segment = segment()
        email = ""
        if rand() < SHARE["eposta"]:
            shapes = (f"{f_plain}.{l_plain}", f"{f_plain}{l_plain}", f"{f_plain}_{l_plain}", f"{f_plain[0]}{l_plain}")
            wanted = shapes[int(rand() * 4)]
            if rand() < 0.4:
                wanted += str(rng.randrange(60, 100) if rand() < 0.5 else rng.randrange(1960, 2006))
            company = row_segment == "kurumsal" and rand() < 0.6
            at = COMPANY_DOMAINS[int(rand() * len(COMPANY_DOMAINS))] if company else domain()
            email = f"{_unique(emails, wanted, rng, partial(_address, at=at))}@{at}"
            if rand() < 0.05:
                email = email.title()  # "Ayse.Yilmaz@Gmail.Com": typed by an agent, case means nothing
        gsm = ""
        if rand() < SHARE["gsm"]:
            digits = MOBILE_PREFIXES[int(rand() * len(MOBILE_PREFIXES))] + f"{rng.randrange(10_000_000):07d}"
            while digits in phones:
                digits = digits[:3] + f"{rng.randrange(10_000_000):07d}"
            phones.add(digits)
            gsm = _phone_written(rng, digits)
        x_handle = ""
        if rand() < SHARE["x_kullanici"]:
            forms = (f"{f_plain}{l_plain}", f"{f_plain}_{l_plain}", f"{f_plain}{l_plain[0]}", f"{l_plain}{f_plain}")
            wanted = forms[int(rand() * 4)][:12]
            if rand() < 0.3:
                wanted = wanted.replace("_", "").capitalize()
            x_handle = _unique(x_handles, wanted, rng)
            x_handle = "@" + x_handle if rand() < 0.15 else x_handle
        sv_handle = ""
        if rand() < SHARE["sikayetvar_kullanici"]:
            if x_handle and rand() < 0.3:  # people reuse a handle across platforms
                wanted = x_handle.lstrip("@")
            elif rand() < 0.4:  # Şikayetvar allows Turkish letters
                wanted = f"{first.split()[0]}{last}"
            else:
                wanted = f"{f_plain}.{l_plain}"
            sv_handle = _unique(sv_handles, wanted, rng, _sikayetvar_key)
        order = ""
        if rand() < SHARE["siparis_no"]:
            order = f"KT-{rng.randrange(10_000_000, 100_000_000)}"
            while order in orders:
                order = f"KT-{rng.randrange(10_000_000, 100_000_000)}"
            orders.add(order)
        subscription = ""
        if rand() < SHARE["abone_no"]:
            subscription = f"1{rng.randrange(10**11):011d}"
            while subscription in subscriptions:
                subscription = f"1{rng.randrange(10**11):011d}"
            subscriptions.add(subscription)
        yield {
            "customer_no": f"C{i:07d}",
            "ad_soyad": full,
            "eposta": email,
            "gsm": gsm,
            "il": city(),
            "x_kullanici": x_handle,
            "sikayetvar_kullanici": sv_handle,
            "siparis_no": order,
            "abone_no": subscription,
            "vip": "evet" if rand() < SHARE["vip"] else "hayir",
            "segment": row_segment,
        }


def write_csv(path: str | Path, n: int, seed: int = 0) -> Path:
    """``generate(n, seed)`` as a UTF-8 CSV with a header row; returns the path."""
    out = Path(path)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(generate(n, seed))
    return out


def write_jsonl(path: str | Path, n: int, seed: int = 0) -> Path:
    """``generate(n, seed)`` as one JSON object per line (UTF-8, Turkish letters unescaped); returns the path."""
    out = Path(path)
    with out.open("w", encoding="utf-8") as fh:
        for row in generate(n, seed):
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return out
