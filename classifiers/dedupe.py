"""Near-duplicate fingerprints, so one complaint posted on Şikayetvar, X and Ekşi joins one case instead of three."""

# What a text becomes: Turkish casefold and ASCII fold (so "şikayet" typed as "sikayet" meets it), links and
# @handles dropped (every repost adds its own), thousands separators dropped ("2.150" = "2150"), a few function
# words dropped, and each word cut to its first five letters, a plain stemmer that suits Turkish suffixes
# ("paketim", "paketimi", "paketimin" -> "paket"). Word order is ignored: an Ekşi entry retells the story in its
# own order, and word n-grams lost most rewordings in our measurements (training/measure_dedupe.py).
#
# Numbers are what tells the same person from the same topic (an order number, an amount, a card's last
# digits), so they weigh more: a digit run of five or more counts as IDENTIFIER_WEIGHT words and one of three or
# four (not a year) as AMOUNT_WEIGHT words, which is weighted MinHash by repeating the token. (``normalize().norm``
# turns every digit run into "0"; on our pairs that made same-topic complaints by different people look alike.)
# The fingerprint also keeps hashes of those numbers, and similarity() uses them twice: two texts that both name
# numbers but share at most half of them get half their resemblance (on real Şikayetvar data these were mostly
# template letters filled in by different people), and a text is only "contained" in another without a shared
# number when nearly all of it is there (a quote, a preview cut with "…").
# Legal citations ("6502 sayılı", "2011/4736 esas", "125. maddesi") are dropped: template letters share them.
#
# What a text cannot tell: two people who write the same words with no number (short posts, a Şikayetvar title
# shared alone, a brand's template reply), template letters filled in by many people that share a standard fee
# amount, the same person writing about a second problem that names the same order number, a quote of someone
# else's complaint (scored as the same case, which is what an agent wants), and a story retold in another
# language. Who wrote a post is for the author and customer signals of case grouping, not for this module.

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import numpy as np

from classifiers.text import fold, words
from store.errors import InputError

PERMUTATIONS = 256
ROWS_PER_BAND = 2
BANDS = 20  # over the first 40 permutations: resemblance 0.4 shares a band with p = 0.97, 0.3 with 0.85
THRESHOLD = 0.6
MIN_SIZE = 10  # weighted tokens the smaller text needs before it can be anyone's duplicate
QUOTE_CONTAINMENT = 0.75  # how much of a text must be inside another when they share no number
IDENTIFIER_WEIGHT = 16
AMOUNT_WEIGHT = 2
MAX_NUMBERS = 32  # the smallest hashes are kept, so two capped lists still intersect where the texts do
STEM = 5

_PRIME = 4_294_967_291  # the largest prime below 2**32: (a * x + b) stays below 2**64 in uint64
_EMPTY = _PRIME  # no hash reaches it, so an empty text shares no minimum with anything

_LINKS = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S*|@\w+")
_CITATIONS = re.compile(r"\d+\s*sayili|\b(?:19|20)\d\d\s*/\s*\d+|\d+\s*\.?\s*madde")
_THOUSANDS = re.compile(r"(?<=\d)[.,](?=\d{3}(?!\d))")
_YEAR = re.compile(r"(?:19|20)\d\d")
# Function words every complaint has; dropping them keeps two short posts from matching on "ve", "bir", "the".
_STOP_WORDS = (
    "ve veya ile bir bu su o da de ki mi mu ne ama icin gibi daha cok en hic hala her ben sen biz siz onlar "
    "bana beni benim bize sizin size the a an and or to of in on is it my i for was"
)
_STOP = frozenset(_STOP_WORDS.split())


def _coefficients(name: str) -> np.ndarray[Any, np.dtype[np.uint64]]:
    # Derived from blake2b rather than a numpy generator, whose streams may change between numpy versions.
    values = [
        int.from_bytes(hashlib.blake2b(f"kulak-dedupe-{name}-{i}".encode(), digest_size=8).digest(), "big")
        for i in range(PERMUTATIONS)
    ]
    return np.array([1 + v % (_PRIME - 1) for v in values], dtype=np.uint64)


_A = _coefficients("a")
_B = _coefficients("b")


@dataclass(frozen=True)
class Fingerprint:
    """MinHash signature of a text's weighted word set, that set's size, and hashes of the text's numbers."""

    signature: tuple[int, ...]
    size: int
    numbers: tuple[int, ...] = ()
    _array: np.ndarray[Any, np.dtype[np.uint32]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_array", np.array(self.signature, dtype=np.uint32))

    def to_json(self) -> dict[str, Any]:
        """A plain dict for a JSON column."""
        return {"size": self.size, "signature": list(self.signature), "numbers": list(self.numbers)}

    @classmethod
    def from_json(cls, data: object) -> Fingerprint:
        """The inverse of ``to_json``; a malformed record raises ``InputError`` saying what is wrong."""
        if not isinstance(data, dict):
            raise InputError(f"fingerprint: expected an object with size and signature, got {type(data).__name__}")
        size, signature, numbers = data.get("size"), data.get("signature"), data.get("numbers", [])
        if not _is_int(size) or size < 0:
            raise InputError(f"fingerprint: size must be a non-negative integer, got {size!r}")
        if not isinstance(signature, list) or len(signature) != PERMUTATIONS:
            count = len(signature) if isinstance(signature, list) else type(signature).__name__
            raise InputError(f"fingerprint: signature must be a list of {PERMUTATIONS} integers, got {count}")
        # type() over the list, then min/max: this runs for every candidate of every mention, so no Python loop
        if not _ints_within(signature, _EMPTY + 1):
            raise InputError(f"fingerprint: signature values must be integers in [0, {_EMPTY}]")
        if not isinstance(numbers, list) or len(numbers) > MAX_NUMBERS:
            raise InputError(f"fingerprint: numbers must be a list of at most {MAX_NUMBERS} integers")
        if not _ints_within(numbers, 2**32):
            raise InputError("fingerprint: numbers must be 32-bit hashes")
        return cls(tuple(signature), size, tuple(numbers))


def _ints_within(values: list[Any], end: int) -> bool:
    """Whether every value is an int (not a bool) in [0, end)."""
    return not values or (set(map(type, values)) == {int} and min(values) >= 0 and max(values) < end)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def tokens(text: str) -> list[str]:
    """The weighted word set of ``text``; the copies that weight a number carry a suffix "#1", "#2", ..."""
    if not isinstance(text, str):
        return []
    folded = _THOUSANDS.sub("", _CITATIONS.sub(" ", _LINKS.sub(" ", fold(text))))
    seen: set[str] = set()
    out: list[str] = []
    for word in words(folded):
        word = word.split("'", 1)[0]
        if not word or word in _STOP:
            continue
        token = word if word.isdigit() else word[:STEM]
        if token in seen:
            continue
        seen.add(token)
        out.append(token)
        out.extend(f"{token}#{r}" for r in range(1, _weight(token)))
    return out


def _weight(token: str) -> int:
    if not token.isdigit():
        return 1
    if len(token) >= 5:
        return IDENTIFIER_WEIGHT
    if len(token) >= 3 and not _YEAR.fullmatch(token):
        return AMOUNT_WEIGHT
    return 1


def fingerprint(text: str) -> Fingerprint:
    """The MinHash fingerprint of ``text``; the same text gives the same fingerprint in every process."""
    items = tokens(text)
    if not items:
        return Fingerprint((_EMPTY,) * PERMUTATIONS, 0)
    base = np.array([zlib.crc32(t.encode()) % _PRIME for t in items], dtype=np.uint64)
    hashed = (base[:, None] * _A[None, :] + _B[None, :]) % _PRIME
    numbers = sorted({zlib.crc32(t.encode()) for t in items if t.isdigit() and _weight(t) > 1})
    return Fingerprint(tuple(hashed.min(axis=0).tolist()), len(items), tuple(numbers[:MAX_NUMBERS]))


def bands(fp: Fingerprint) -> list[int]:
    """Index keys (signed 64-bit): two fingerprints that share one are candidates for ``similarity``. Tiny texts
    get none.

    MinHash bands find copies and rewordings; one key per number finds a summary that shares an order number or
    an amount with a much longer text, whose resemblance is low. Twenty bands of two rows found as many of our
    near-duplicate pairs as 85 bands of three did (training/measure_dedupe.py), and each key is a row of the
    store's largest index, written at a random place of it: fewer, smaller keys are what keeps matching fast as
    the store grows.
    """
    if fp.size < MIN_SIZE:
        return []
    keys = []
    for band in range(BANDS):
        rows = fp._array[band * ROWS_PER_BAND : (band + 1) * ROWS_PER_BAND]
        keys.append(_key(bytes((band,)) + rows.tobytes()))
    keys.extend(_key(b"n" + number.to_bytes(4, "big")) for number in fp.numbers)
    return keys


def _key(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def resemblance(a: Fingerprint, b: Fingerprint) -> float:
    """Estimated Jaccard resemblance of the two weighted word sets."""
    if a.size == 0 or b.size == 0:
        return 0.0
    return int(np.count_nonzero(a._array == b._array)) / PERMUTATIONS


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Resemblance, or the estimated share of the smaller text found in the larger when that is higher; in [0, 1].

    Containment lets a tweet that summarises a long complaint, or an entry that quotes it, reach the score of a
    copy, as long as the numbers agree (module notes). A text below MIN_SIZE scores 0: a few words are anyone's.
    """
    return _score(a, b, resemblance(a, b))


def similarities(a: Fingerprint, others: Sequence[Fingerprint]) -> list[float]:
    """``similarity`` of ``a`` with each of ``others``, their resemblances counted in one array operation (the
    matching stage scores up to fifty candidates a mention)."""
    if not others:
        return []
    if a.size == 0:
        return [0.0] * len(others)
    agree = np.count_nonzero(np.stack([o._array for o in others]) == a._array, axis=1).tolist()
    return [_score(a, o, n / PERMUTATIONS if o.size else 0.0) for o, n in zip(others, agree, strict=True)]


def _score(a: Fingerprint, b: Fingerprint, jaccard: float) -> float:
    small, large = sorted((a.size, b.size))
    if small < MIN_SIZE:
        return 0.0
    shared = len(set(a.numbers).intersection(b.numbers))
    if a.numbers and b.numbers and shared <= min(len(a.numbers), len(b.numbers)) / 2:
        # The numbers disagree: a template filled in by someone else. Halved, it can rank but not match.
        return jaccard / 2
    containment = min(1.0, jaccard * (small + large) / (1.0 + jaccard) / small)
    if not shared and containment < QUOTE_CONTAINMENT:
        return jaccard
    return max(jaccard, containment)


def is_near_duplicate(a: Fingerprint, b: Fingerprint, threshold: float = THRESHOLD) -> bool:
    """Whether ``a`` and ``b`` are the same text give or take edits, a summary or a quote (see module notes)."""
    return similarity(a, b) >= threshold
