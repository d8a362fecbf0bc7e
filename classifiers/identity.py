"""One canonical form, keyed hash and masked display per customer identifier, and Turkish-aware name matching."""

# KVKK: the store keeps HMAC-SHA256(secret, kind + "\x00" + canonical) instead of the value, so a leaked database
# gives no phone numbers or e-mails, and nobody can hash guesses without the secret. Both sides of every comparison
# (the customer file and the mention text) go through `canonical`, which is why it must be the single place that
# decides when "0532 123 45 67" and "+905321234567" are the same number.

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from itertools import permutations

from classifiers.pii import tckn_valid
from classifiers.text import fold_letters, turkish_casefold
from store.errors import ConfigError

KINDS = ("email", "phone", "handle:<platform>", "order", "subscription", "policy", "tckn")
NUMBER_KINDS = frozenset({"order", "subscription", "policy"})
MIN_SECRET_BYTES = 16

_PLATFORM = re.compile(r"[a-z0-9_]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
# Separators people put in phone numbers; anything else (a letter, a second "+") means it is not one number.
_PHONE_SHAPE = re.compile(r"\+?[0-9 ().\-/]+")
_HANDLE = re.compile(r"[\w.\-]+(?: [\w.\-]+)*")  # Ekşi Sözlük nicknames have spaces
_FEDIVERSE_HANDLE = re.compile(r"[\w.\-]+(?:@[\w.\-]+)?")  # Mastodon: "name@server", the server part of who it is
_NUMBER = re.compile(r"[A-Z0-9]{4,40}")
_NUMBER_SEPARATORS = str.maketrans("", "", " -\u2010\u2011\u2012\u2013\u2014\t")
# Second-level labels that say nothing about the person ("x***.com.tr" rather than "x***.tr").
_PUBLIC_SLD = frozenset({"com", "net", "org", "edu", "gov", "gen", "bel", "av", "biz", "info", "web", "k12", "co"})


def identifier_kind(kind: str) -> str:
    """The kind as hashed ("handle:X" -> "handle:x"); ``ConfigError`` for a kind nobody knows."""
    norm = kind.strip().lower()
    if norm in ("email", "phone", "tckn") or norm in NUMBER_KINDS:
        return norm
    if norm.startswith("handle:") and _PLATFORM.fullmatch(norm[7:]):
        return norm
    raise ConfigError(f"unknown identifier kind {kind!r}; expected one of {', '.join(KINDS)}")


def canonical_phone(value: str) -> str | None:
    """Turkish numbers to their 10 national digits ("+90 (532) 123-45-67" -> "5321234567"); None otherwise."""
    value = value.strip()
    if not _PHONE_SHAPE.fullmatch(value):
        return None
    digits = "".join(ch for ch in value if ch.isdigit())
    for prefix in ("00900", "0090", "900", "90", "0"):  # "+90 0532 ..." is written too
        if digits.startswith(prefix) and len(digits) == 10 + len(prefix):
            digits = digits[len(prefix) :]
            break
    # 2-4: landline area codes, 5: mobiles; 0850/0800/444 lines belong to companies, not people.
    return digits if len(digits) == 10 and digits[0] in "2345" else None


def canonical(kind: str, value: str) -> str | None:
    """The one form compared for ``kind``; None when ``value`` is not a valid identifier of that kind."""
    kind = identifier_kind(kind)
    if kind == "phone":
        return canonical_phone(value)
    value = value.strip()
    if kind == "email":
        # Gmail's dots and "+tags" are kept: other providers treat "ayse.k" and "aysek" as different mailboxes,
        # and a false merge links one person's complaint to another's account, which is worse than a miss.
        email = value.removeprefix("mailto:").strip("<>").replace("İ", "i").lower()
        return email if len(email) <= 254 and _EMAIL.fullmatch(email) else None  # 254: the SMTP limit
    if kind == "tckn":
        digits = value.replace(" ", "")
        return digits if tckn_valid(digits) else None
    if kind in NUMBER_KINDS:
        number = value.lstrip("#").translate(_NUMBER_SEPARATORS).upper()
        return number if number.isascii() and _NUMBER.fullmatch(number) and any(c.isdigit() for c in number) else None
    # Reddit shows authors as "u/name".
    handle = " ".join(value.removeprefix("@").removeprefix("u/").split())
    # ASCII-only handles (X, Instagram) are compared by their platforms case-insensitively with "I" -> "i";
    # a handle with Turkish letters was typed on a Turkish keyboard, where "I" is the capital of "ı".
    handle = handle.lower() if handle.isascii() else turkish_casefold(handle)
    shape = _FEDIVERSE_HANDLE if kind == "handle:mastodon" else _HANDLE
    return handle if 0 < len(handle) <= 64 and shape.fullmatch(handle) else None


class IdentityKey:
    """The HMAC secret that turns identifiers into hashes; its value never appears in a repr, log or message."""

    __slots__ = ("__mac",)

    def __init__(self, secret: bytes | str) -> None:
        raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if len(raw) < MIN_SECRET_BYTES:
            raise ConfigError(f"identity key is shorter than {MIN_SECRET_BYTES} bytes")
        self.__mac = hmac.new(raw, digestmod=hashlib.sha256)  # keyed once; copies are cheaper than re-keying

    @classmethod
    def from_env(cls, name: str = "KULAK_IDENTITY_KEY", environ: Mapping[str, str] | None = None) -> IdentityKey:
        """The key from environment variable ``name`` (surrounding whitespace, as left by ``$(cat file)``, dropped)."""
        value = (os.environ if environ is None else environ).get(name, "").strip()
        if not value:
            raise ConfigError(
                f"not set; expected a random secret of at least {MIN_SECRET_BYTES} bytes "
                "(python -c 'import secrets; print(secrets.token_urlsafe(32))')",
                source="environment",
                key=name,
            )
        if len(value.encode("utf-8")) < MIN_SECRET_BYTES:
            raise ConfigError(f"shorter than {MIN_SECRET_BYTES} bytes", source="environment", key=name)
        return cls(value)

    def hash(self, kind: str, value: str) -> str | None:
        """HMAC-SHA256 hex of ``kind + "\\x00" + canonical(kind, value)``; None when the value is not valid."""
        canon = canonical(kind, value)
        if canon is None:
            return None
        mac = self.__mac.copy()
        mac.update(f"{identifier_kind(kind)}\x00{canon}".encode())
        return mac.hexdigest()

    def digest(self, label: str, text: str) -> str:
        """HMAC-SHA256 hex of ``label + "\x00" + text`` as given: for values that are no identifier kind (the
        tombstone of an erased customer's id)."""
        mac = self.__mac.copy()
        mac.update(f"{label}\x00{text}".encode())
        return mac.hexdigest()

    @property
    def fingerprint(self) -> str:
        """A short tag of the key, to store beside the hashes: a changed key is then an error, not silent misses."""
        mac = self.__mac.copy()
        mac.update(b"kulak identity key fingerprint")
        return mac.hexdigest()[:12]

    def __repr__(self) -> str:
        return "IdentityKey(<secret>)"


def display(kind: str, value: str) -> str:
    """The masked form people read: "a***@g***.com", "0532 *** ** 67", "KT******56", "@ayse.k", "*********34"."""
    canon = canonical(kind, value)
    if canon is None:
        return "***"
    kind = identifier_kind(kind)
    if kind == "email":
        local, domain = canon.split("@", 1)
        labels = domain.split(".")
        keep = 2 if len(labels) > 2 and labels[-2] in _PUBLIC_SLD else 1
        return f"{local[0]}***@{labels[0][0]}***.{'.'.join(labels[-keep:])}"
    if kind == "phone":
        return f"0{canon[:3]} *** ** {canon[8:]}"
    if kind == "tckn":
        return "*" * 9 + canon[9:]
    if kind in NUMBER_KINDS:
        if len(canon) >= 8:
            return canon[:2] + "*" * (len(canon) - 4) + canon[-2:]
        return "*" * (len(canon) - 2) + canon[-2:] if len(canon) >= 5 else "*" * len(canon)
    # A handle is already public on its platform next to every post, and the agent needs it to answer there;
    # it is shown as written (not casefolded) because that is how people recognise it.
    return "@" + " ".join(value.strip().removeprefix("@").removeprefix("u/").split())


# ---- names -----------------------------------------------------------------------------------------------------

# Titles and honorifics, after folding: "Sn. Dr. Ayşe Hanım" is "ayse".
_TITLES = frozenset(
    {
        "bay", "bayan", "sn", "sayin", "dr", "prof", "doc", "yrd", "ogr", "gor", "av", "avukat", "muh", "uzm", "op",
        "ecz", "hanim", "bey", "hanimefendi", "beyefendi", "mr", "mrs", "ms", "miss",
    }
)  # fmt: skip
_LETTERS = re.compile(r"[^\W\d_]+")
# A Turkish apostrophe parts a proper noun from its suffix ("Yılmaz'ın"): the suffix is no part of the name.
_SUFFIX = re.compile(r"'[^\W\d_]{1,5}\b")
_MAX_WORD = 30
_MAX_TOKENS = 6  # display names like "Ayşe Yılmaz | Kuzey Telekom mağduru 🇹🇷" end in words that are no name
_EXTRA_TOKEN = 0.94  # per token one name has and the other lacks (a middle name, a second surname)
_ONE_TOKEN = 0.6  # "Ayşe" against "Ayşe Yılmaz": a first name alone says little
_JOINED = 0.97  # "Ayşenur Yılmaz" against "Ayşe Nur Yılmaz"
_LENGTH_GAP = 0.2  # per letter of length difference beyond one
_TYPO_STEEPNESS = 3.0  # how fast token similarity falls below 1: one typo keeps ~0.8-0.9, another name ~0.5


def name_tokens(name: str) -> tuple[str, ...]:
    """The words of a name, Turkish-casefolded, ASCII-folded, without titles: "Sn. AYŞE Nur" -> ("ayse", "nur")."""
    folded = _SUFFIX.sub("", fold_letters(name))  # fold_letters also turned ’ into '
    # No name word is longer than _MAX_WORD; a 50 KB "word" would otherwise sit in the similarity caches.
    return tuple(t for t in _LETTERS.findall(folded) if t not in _TITLES and len(t) <= _MAX_WORD)


def name_key(name: str) -> str:
    """The normal form names are stored and compared in: "Dr. Ayşe  NUR Yılmaz" -> "ayse nur yilmaz"."""
    return " ".join(name_tokens(name))


def jaro_winkler(a: str, b: str) -> float:
    """Jaro-Winkler similarity (prefix scale 0.1, at most 4 prefix letters, boosted above 0.7) in [0, 1]."""
    if a == b:
        return 1.0
    if len(a) > len(b):
        a, b = b, a
    la, lb = len(a), len(b)
    if la == 0:
        return 0.0
    window = max(lb // 2 - 1, 0)
    used = 0  # bit j set: b[j] is matched; an int is faster than a list of flags for names
    a_matched: list[str] = []
    for i, ch in enumerate(a):
        hi = i + window + 1
        j = b.find(ch, max(i - window, 0), hi)
        while j != -1 and used >> j & 1:
            j = b.find(ch, j + 1, hi)
        if j != -1:
            used |= 1 << j
            a_matched.append(ch)
    m = len(a_matched)
    if m == 0:
        return 0.0
    out_of_order = 0
    k = 0
    for j in range(lb):
        if used >> j & 1:
            out_of_order += b[j] != a_matched[k]
            k += 1
    jaro = (m / la + m / lb + (m - out_of_order // 2) / m) / 3
    if jaro <= 0.7:
        return jaro
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


@lru_cache(maxsize=1 << 17)
def _token_score(x: str, y: str) -> float:
    if x == y:
        return 1.0
    if len(x) == 1 or len(y) == 1:  # an initial: "Ayşe Y." says the surname starts with y, no more
        return 0.3 if x[0] == y[0] else 0.0
    # One typo changes the length by one letter at most: "Musa" is not a mistyped "Mustafa", however alike they start.
    longer = max(0, abs(len(x) - len(y)) - 1) * _LENGTH_GAP
    return max(0.0, 1.0 - _TYPO_STEEPNESS * (1.0 - jaro_winkler(x, y)) - longer)


@lru_cache(maxsize=1 << 16)
def _cached_tokens(name: str) -> tuple[str, ...]:
    return name_tokens(name)[:_MAX_TOKENS]


def _best_total(scores: list[list[float]]) -> float:
    """Largest sum pairing every row (the shorter name) with its own column: exact up to 3 rows, greedy beyond."""
    rows, cols = len(scores), len(scores[0])
    if rows == 1:
        return max(scores[0])
    if rows == 2:  # the usual "first last" case, spelled out: permutations() costs more than the sums
        r0, r1 = scores
        best = 0.0
        for i in range(cols):
            for j in range(cols):
                if i != j and r0[i] + r1[j] > best:
                    best = r0[i] + r1[j]
        return best
    if rows == 3:
        return max(sum(scores[r][c] for r, c in enumerate(pick)) for pick in permutations(range(cols), rows))
    pairs = sorted(((s, r, c) for r, row in enumerate(scores) for c, s in enumerate(row)), reverse=True)
    used_r: set[int] = set()
    used_c: set[int] = set()
    total = 0.0
    for s, r, c in pairs:
        if r not in used_r and c not in used_c:
            used_r.add(r)
            used_c.add(c)
            total += s
    return total


def token_similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """``name_similarity`` for names already split by ``name_tokens`` (what the store keeps)."""
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    a, b = a[:_MAX_TOKENS], b[:_MAX_TOKENS]
    if tuple(a) == tuple(b):
        return 1.0
    if "".join(a) == "".join(b):
        return _JOINED
    total = _best_total([[_token_score(x, y) for y in b] for x in a])
    score = total / len(a) * _EXTRA_TOKEN ** (len(b) - len(a))
    return score * _ONE_TOKEN if len(a) == 1 and len(b) > 1 else score


def name_similarity(a: str, b: str) -> float:
    """How alike two full names are, in [0, 1], in any word order.

    Folding makes "Ayse Yilmaz" equal "Ayşe Yılmaz"; one typo keeps about 0.9, a missing middle name 0.94,
    while another surname ("Yıldız" for "Yılmaz") falls to about 0.75 and another first name lower still.
    """
    ta = _cached_tokens(a) if len(a) <= 200 else name_tokens(a)[:_MAX_TOKENS]
    tb = _cached_tokens(b) if len(b) <= 200 else name_tokens(b)[:_MAX_TOKENS]
    return token_similarity(ta, tb)
