"""Made-up brand mentions labelled with the customer they should auto-link to, to measure precision and recall."""

# `true_customer_no` is the customer a careful agent would link the mention to from what the mention shows (the
# author's handle on its platform, the display name, the text) and the customer base; None when that evidence does
# not single out one customer, even when the writer happens to be one ("name_only"). Kinds and their shares:
#   handle_same_platform   0.16  author's handle is a customer's handle on that platform (case/"@" may differ): them
#   handle_other_platform  0.06  a customer's X handle used on Şikayetvar/Ekşi, or their Şikayetvar one on X: not
#                                them; the truth is whoever holds that handle on the posting platform, usually nobody
#   order_in_text          0.10  "KT-40123456", "kt40123456", "KT 40123456" in the text: the order's owner
#   order_typo             0.05  an order number one digit off, belonging to nobody: None
#   subscription_in_text   0.07  a 12-digit subscriber number: its owner
#   phone_in_text          0.09  the customer's mobile in six spellings: its owner
#   email_in_text          0.05  the customer's e-mail, any case: its owner
#   name_city              0.10  display name (as written, ASCII-typed, lower-case, a typo or a dropped middle name)
#                                and the city in the text: the customer when no other customer of that city scores
#                                within NAME_MARGIN of them by name; else kind "name_city_ambiguous" and None
#   name_only              0.08  a customer's name as display name and nothing else: None (never matched on name alone)
#   namesake_other_city    0.05  a customer's name, a city where no customer has a similar name: None (another person)
#   not_customer           0.10  unknown name and handle; sometimes a valid phone/order/e-mail nobody has: None
#   others_identifier      0.04  "eşimin hattı 0532 ...", "annemin KT-... siparişi" by an unknown author: the
#                                identifier's owner (the complaint is about their line or order, the agent opens their
#                                account; the reason shown says the number came from the text)
#   conflicting_identifiers 0.03 a known customer's handle writing another customer's number: None (two customers;
#                                an agent must decide)
#   handle_and_order       0.02  handle and own order agree: the customer

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from classifiers.identity import canonical, canonical_phone, name_key, name_similarity, name_tokens
from classifiers.text import fold_letters, turkish_casefold
from tests.support.turkish_people import (
    BRANDS,
    CLAUSES,
    CLOSINGS,
    FEMALE_NAMES,
    MALE_NAMES,
    NICK_WORDS,
    OPENINGS,
    PHONE_SPELLINGS,
    PROVINCES,
    SURNAMES,
)

KINDS: dict[str, float] = {
    "handle_same_platform": 0.16, "handle_other_platform": 0.06, "order_in_text": 0.10, "order_typo": 0.05,
    "subscription_in_text": 0.07, "phone_in_text": 0.09, "email_in_text": 0.05, "name_city": 0.10, "name_only": 0.08,
    "namesake_other_city": 0.05, "not_customer": 0.10, "others_identifier": 0.04, "conflicting_identifiers": 0.03,
    "handle_and_order": 0.02,
}  # fmt: skip
NAME_MARGIN = 0.1  # a name match is decisive only this far ahead of the next customer in the same city


@dataclass(frozen=True)
class LabelledMention:
    """One made-up mention and the customer it should be auto-linked to (None: no auto-link)."""

    source: str  # "x" | "sikayetvar" | "eksisozluk"
    author_handle: str
    author_name: str
    text: str
    true_customer_no: str | None
    kind: str  # one of KINDS, or "name_city_ambiguous"


def city_suffixed(city: str, ablative: bool) -> str:
    """Turkish locative/ablative by vowel harmony and consonant hardening: "Ankara'da", "Muş'tan", "İzmir'den"."""
    folded = turkish_casefold(city)
    vowel = next(ch for ch in reversed(folded) if ch in "aeıioöuü")
    d = "t" if folded[-1] in "çfhkpsşt" else "d"
    return f"{city}'{d}{'a' if vowel in 'aıou' else 'e'}{'n' if ablative else ''}"


def _as_shown(rng: random.Random, handle: str) -> str:
    """The handle as its platform may show it when the CRM typed it in another case (never another letter)."""
    if handle.isascii():
        return rng.choice((handle, handle, handle.lower(), handle.capitalize()))
    return rng.choice((handle, handle, turkish_casefold(handle), _title(handle)))


def _title(name: str) -> str:
    """Turkish title case: "AYŞE IŞIK" -> "Ayşe Işık", "İLKNUR" -> "İlknur"."""
    words = turkish_casefold(name).split()
    return " ".join(w[0].replace("i", "İ").replace("ı", "I").upper() + w[1:] for w in words)


class _Writer:
    """Indexes over the customer base and the random choices that turn a case into a mention."""

    def __init__(self, customers: list[dict[str, str]], rng: random.Random) -> None:
        self.rows, self.rng = customers, rng
        self.by: dict[str, dict[str, str]] = {"x": {}, "sikayetvar": {}}
        self.owned: dict[str, set[str]] = defaultdict(set)
        self.nearby: dict[tuple[str, str], list[int]] = defaultdict(list)  # (city, name word) -> rows
        self.with_: dict[str, list[int]] = defaultdict(list)
        self.names: set[str] = set()  # name_key of every customer
        for i, row in enumerate(customers):
            for source, column in (("x", "x_kullanici"), ("sikayetvar", "sikayetvar_kullanici")):
                if row[column]:
                    self.by[source][canonical(f"handle:{source}", row[column]) or ""] = row["customer_no"]
                    self.with_[source].append(i)
            for column, kind in (("siparis_no", "order"), ("abone_no", "subscription"), ("eposta", "email")):
                if row[column]:
                    self.owned[kind].add(canonical(kind, row[column]) or "")
                    self.with_[kind].append(i)
            if row["gsm"]:
                self.owned["phone"].add(canonical_phone(row["gsm"]) or "")
                self.with_["phone"].append(i)
            tokens = name_tokens(row["ad_soyad"])
            self.names.add(" ".join(tokens))
            for word in set(tokens):
                self.nearby[(row["il"], word)].append(i)

    def pick(self, kind: str) -> dict[str, str]:
        """A random customer that has an identifier of ``kind`` (any customer for ""); LookupError if none has."""
        rows = self.with_[kind] if kind else range(len(self.rows))
        if not rows:
            raise LookupError(kind)
        return self.rows[rows[int(self.rng.random() * len(rows))]]

    def text(self, clause: str = "", brand: str = "") -> str:
        rng = self.rng
        brand = brand or rng.choice(list(BRANDS))
        problem = rng.choice(BRANDS[brand]).format(days=rng.randint(2, 20), amount=rng.choice((89, 249, 1250, 3499)))
        body = (clause, problem) if rng.random() < 0.4 else (problem, clause)
        parts = (rng.choice(OPENINGS).format(brand=brand), *body, rng.choice(CLOSINGS))
        return " ".join(p for p in parts if p)

    def clause(self, kind: str, value: str) -> str:
        return self.rng.choice(CLAUSES[kind]).format(v=value)

    def unknown_author(self, source: str = "") -> tuple[str, str, str]:
        """(source, handle, display name) of someone whose handle no customer has on that source."""
        rng = self.rng
        source = source or rng.choice(("x", "sikayetvar", "eksisozluk"))
        if source == "eksisozluk":
            nick = " ".join(rng.sample(NICK_WORDS, rng.randint(2, 3)))
            return source, nick, nick
        while True:
            handle = f"{rng.choice(('kullanici', 'musteri', 'ses', 'vatandas'))}{rng.randrange(100, 99999)}"
            if canonical(f"handle:{source}", handle) not in self.by[source]:
                return source, handle, rng.choice((handle, "Mağdur Müşteri", "🌸"))

    def written_name(self, full: str) -> str:
        rng, r = self.rng, self.rng.random()
        proper = _title(full)
        if r < 0.45:
            return proper
        if r < 0.7:
            return fold_letters(proper).title()  # typed without Turkish letters: "Ayse Yilmaz"
        if r < 0.8:
            return turkish_casefold(proper)
        words = proper.split()
        if len(words) > 2:
            return f"{words[0]} {words[-1]}"  # the middle name left out
        last = words[-1]
        if len(last) < 4:
            return proper
        at = rng.randrange(1, len(last) - 1)
        return " ".join([*words[:-1], last[:at] + last[at + 1] + last[at] + last[at + 2 :]])  # two letters swapped

    def name_decisive(self, written: str, city: str, row: dict[str, str]) -> bool:
        """No other customer in ``city`` scores within NAME_MARGIN of ``row`` against the written name."""
        own = name_similarity(written, row["ad_soyad"])
        others = {j for word in name_tokens(written) for j in self.nearby.get((city, word), ())}
        rival = max((name_similarity(written, self.rows[j]["ad_soyad"]) for j in others
                     if self.rows[j]["customer_no"] != row["customer_no"]), default=0.0)  # fmt: skip
        return own - rival > NAME_MARGIN

    def order_typo(self, order: str) -> str:
        digits = order[3:]
        while True:
            at = self.rng.randrange(len(digits))
            wrong = digits[:at] + self.rng.choice([d for d in "0123456789" if d != digits[at]]) + digits[at + 1 :]
            if wrong[0] != "0" and f"KT{wrong}" not in self.owned["order"]:
                return f"KT-{wrong}"

    def written_order(self, order: str) -> str:
        digits = order[3:]
        return self.rng.choice((f"KT-{digits}", f"KT{digits}", f"kt-{digits}", f"KT {digits}"))

    def written_phone(self, gsm: str) -> str:
        d = canonical_phone(gsm) or ""
        return self.rng.choice(PHONE_SPELLINGS).format(a=d[:3], b=d[3:6], c=d[6:8], d=d[8:])


def labelled_mentions(customers: list[dict[str, str]], n: int, seed: int = 0) -> list[LabelledMention]:
    """``n`` mentions over ``customers`` (rows of ``generate``) in the mix of KINDS; the same list for the same seed."""
    rng = random.Random(seed)
    w = _Writer(customers, rng)
    kinds, weights = list(KINDS), list(KINDS.values())
    out: list[LabelledMention] = []
    for kind in rng.choices(kinds, weights, k=n):
        try:
            out.append(_one(w, kind))
        except LookupError:  # a small base where nobody has, say, a Şikayetvar handle
            out.append(_not_customer(w))
    return out


def _one(w: _Writer, kind: str) -> LabelledMention:
    rng = w.rng
    if kind in ("handle_same_platform", "handle_and_order", "conflicting_identifiers"):
        source = rng.choice(("x", "x", "x", "sikayetvar", "sikayetvar"))
        row = w.pick(source)
        handle = _as_shown(rng, row["x_kullanici" if source == "x" else "sikayetvar_kullanici"].lstrip("@"))
        name = w.written_name(row["ad_soyad"]) if rng.random() < 0.5 else handle
        if kind == "handle_same_platform":
            return LabelledMention(source, handle, name, w.text(), row["customer_no"], kind)
        if kind == "handle_and_order" and row["siparis_no"]:
            text = w.text(w.clause("order", w.written_order(row["siparis_no"])), "Pazaryeri")
            return LabelledMention(source, handle, name, text, row["customer_no"], kind)
        other = w.pick("phone")
        if kind == "conflicting_identifiers" and other["customer_no"] != row["customer_no"]:
            text = w.text(w.clause("other_phone", w.written_phone(other["gsm"])), "Kuzey Telekom")
            return LabelledMention(source, handle, name, text, None, kind)
        return LabelledMention(source, handle, name, w.text(), row["customer_no"], "handle_same_platform")
    if kind == "handle_other_platform":
        home = rng.choice(("x", "sikayetvar"))
        row = w.pick(home)
        handle = row["x_kullanici" if home == "x" else "sikayetvar_kullanici"].lstrip("@")
        # X handles are ASCII: a Şikayetvar handle with Turkish letters can only reappear on Ekşi Sözlük.
        source = rng.choice(("sikayetvar", "eksisozluk")) if home == "x" else "x" if handle.isascii() else "eksisozluk"
        holder = w.by.get(source, {}).get(canonical(f"handle:{source}", handle) or "")
        if holder == row["customer_no"]:  # they use the same handle there too: that is the same-platform case
            return LabelledMention(source, handle, handle, w.text(), holder, "handle_same_platform")
        return LabelledMention(source, handle, handle, w.text(), holder, kind)
    if kind in ("order_in_text", "order_typo", "subscription_in_text", "phone_in_text", "email_in_text"):
        column = {"order": "siparis_no", "subscription": "abone_no", "phone": "gsm", "email": "eposta"}
        base = kind.split("_")[0]
        row = w.pick(base)
        value = row[column[base]]
        if base == "order":
            value = w.order_typo(value) if kind == "order_typo" else w.written_order(value)
        elif base == "phone":
            value = w.written_phone(value)
        elif base == "email":
            value = rng.choice((value.lower(), value, value.upper()))
        source, handle, name = w.unknown_author()
        if rng.random() < 0.3:
            name = w.written_name(row["ad_soyad"])
        brand = {"order": "Pazaryeri", "subscription": "Kuzey Telekom"}.get(base, "")
        truth = None if kind == "order_typo" else row["customer_no"]
        return LabelledMention(source, handle, name, w.text(w.clause(base, value), brand), truth, kind)
    if kind == "others_identifier":
        base = rng.choice(("phone", "order"))
        row = w.pick(base)
        value = w.written_phone(row["gsm"]) if base == "phone" else w.written_order(row["siparis_no"])
        source, handle, name = w.unknown_author()
        text = w.text(w.clause(f"other_{base}", value), "Kuzey Telekom" if base == "phone" else "Mavi Kargo")
        return LabelledMention(source, handle, name, text, row["customer_no"], kind)
    if kind in ("name_city", "name_only", "namesake_other_city"):
        row = w.pick("")
        written = _title(row["ad_soyad"]) if kind == "namesake_other_city" else w.written_name(row["ad_soyad"])
        source, handle, _ = w.unknown_author(rng.choice(("x", "sikayetvar")))
        if kind == "name_only":
            return LabelledMention(source, handle, written, w.text(), None, kind)
        if kind == "name_city":
            decisive = w.name_decisive(written, row["il"], row)
            truth, label = (row["customer_no"], kind) if decisive else (None, "name_city_ambiguous")
            return LabelledMention(source, handle, written, w.text(_city_clause(w, row["il"])), truth, label)
        for _ in range(30):  # a city where nobody of a similar name is a customer
            city = rng.choice(PROVINCES)[0]
            others = {j for word in name_tokens(written) for j in w.nearby.get((city, word), ())}
            if all(name_similarity(written, w.rows[j]["ad_soyad"]) < 0.85 for j in others):
                return LabelledMention(source, handle, written, w.text(_city_clause(w, city)), None, kind)
    return _not_customer(w)


def _city_clause(w: _Writer, city: str) -> str:
    return w.rng.choice(CLAUSES["city"]).format(
        loc=city_suffixed(city, False), abl=city_suffixed(city, True), city=city
    )


def _not_customer(w: _Writer) -> LabelledMention:
    rng = w.rng
    source, handle, name = w.unknown_author()
    while True:
        full = f"{rng.choice(rng.choice((FEMALE_NAMES, MALE_NAMES)))} {rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"
        if name_key(full) not in w.names:
            break
    if source != "eksisozluk" and rng.random() < 0.5:
        name = full
    clause = ""
    r = rng.random()
    if r < 0.15:  # a valid number that is nobody's
        phone = f"5{rng.choice('0345')}{rng.randrange(10**8):08d}"
        clause = "" if phone in w.owned["phone"] else w.clause("phone", w.written_phone(phone))
    elif r < 0.3:
        order = f"{rng.randrange(10**7, 10**8)}"
        clause = "" if f"KT{order}" in w.owned["order"] else w.clause("order", f"KT-{order}")
    elif r < 0.4:
        email = f"{fold_letters(full).replace(' ', '.')}@gmail.com"
        clause = "" if email in w.owned["email"] else w.clause("email", email)
    return LabelledMention(source, handle, name, w.text(clause), None, "not_customer")
