"""Find and mask Turkish personal identifiers (TCKN, IBAN, cards, phones, e-mail) so people read no raw digits."""

# Every number is validated before it is named: a TCKN needs both checksum digits, an IBAN the ISO 13616 mod-97
# check, a card 13-19 digits and the Luhn check. Digits inside a link are left alone (tweet and order ids).
# Masking replaces each span with a bracketed Turkish tag that keeps the sentence readable and no digit of the
# identifier: [TCKN], [IBAN], [KART] (also for "son dört hanesi 8233"), [TELEFON], [E-POSTA].

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from store.model import PiiSpan

MASKS: dict[str, str] = {
    "tckn": "[TCKN]",
    "iban": "[IBAN]",
    "card": "[KART]",
    "card_last4": "[KART]",
    "phone": "[TELEFON]",
    "email": "[E-POSTA]",
}

# When two candidates overlap, the type listed first wins (then the longer span).
_PRIORITY = ("email", "iban", "card", "tckn", "phone", "card_last4")

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_IBAN = re.compile(r"(?<![\w])TR ?\d{2}(?:[ ]?\d){22}(?!\d)", re.IGNORECASE)
# Patterns start with a character, not a look-behind, so the regex engine can skip ahead to candidates quickly:
# "\d(?<!\d\d)" is "a digit that does not follow a digit".
_TCKN = re.compile(r"[1-9](?<!\d\d)\d{10}(?!\d)")
_CARD = re.compile(
    r"\d(?<!\d\d)(?:"
    r"\d{12,18}"  # written in one piece
    r"|\d{3}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?"  # 4-4-4-4 and its shorter or longer cousins
    r"|\d{3}([ -])\d{6}\2\d{4,5}"  # American Express 4-6-5, Diners 4-6-4
    r")(?!\d)"
)
_SEP = r"[ .-]?"
_PHONE = re.compile(
    r"(?<![\w+.,])(?:"
    # mobiles: 05XX XXX XX XX, +90 5XX XXX XXXX, 5XXXXXXXXX, 0(5XX) XXX XX XX
    rf"(?:(?:\+|00)?90{_SEP}|0{_SEP})?\(?0?5\d{{2}}\)?{_SEP}\d{{3}}{_SEP}\d{{2}}{_SEP}\d{{2}}"
    # landlines and service numbers need the trunk 0 or +90: 0212 XXX XX XX, +90 (312) XXX XXXX, 0850 ...
    rf"|(?:(?:\+|00)90{_SEP}|0{_SEP})\(?0?[2-48]\d{{2}}\)?{_SEP}\d{{3}}{_SEP}\d{{2}}{_SEP}\d{{2}}"
    r")(?![\d])"
)
# The last four digits of a card: "son dört hanesi 8233", "**** **** **** 8233", "8233 ile biten kart".
_LAST4_SAID = re.compile(
    r"(?:son|last)\s+(?:d[öo]rt|4|four)\s+(?:hane|rakam|basama|digit|numara)[^\d\n]{0,24}?(?<!\d)(\d{4})(?!\d)",
    re.IGNORECASE,
)
_LAST4_STARRED = re.compile(r"[*xX•]{4}[ -]?(?:[*xX•]{4}[ -]?){0,2}\d{4}(?!\d)")
_LAST4_ENDING = re.compile(r"(\d{4})\s+(?:ile\s+biten|ile\s+sonlanan|numaral[ıi]\s+son)", re.IGNORECASE)


def tckn_valid(digits: str) -> bool:
    """The two checksum digits of a Turkish identity number (and 11 digits, the first not 0)."""
    if len(digits) != 11 or not digits.isdecimal() or digits[0] == "0":
        return False
    d = [int(c) for c in digits]
    d10 = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    d11 = sum(d[:10]) % 10
    return d[9] == d10 and d[10] == d11


def iban_valid(iban: str) -> bool:
    """ISO 13616 mod-97 check of a Turkish IBAN (TR + 24 digits; spaces ignored)."""
    compact = iban.replace(" ", "").upper()
    if len(compact) != 26 or not compact.startswith("TR") or not compact[2:].isdecimal():
        return False
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def luhn_valid(digits: str) -> bool:
    """The Luhn check digit of a payment card number (13-19 digits; spaces and dashes ignored)."""
    compact = digits.replace(" ", "").replace("-", "")
    if not 13 <= len(compact) <= 19 or not compact.isdecimal():
        return False
    total = 0
    for i, ch in enumerate(reversed(compact)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdecimal())


def _scan(
    kind: str, pattern: re.Pattern[str], text: str, check: Callable[[re.Match[str]], tuple[int, int] | None]
) -> Iterable[tuple[str, int, int]]:
    for m in pattern.finditer(text):
        span = check(m)
        if span is not None:
            yield kind, span[0], span[1]


def _whole(valid: Callable[[str], bool]) -> Callable[[re.Match[str]], tuple[int, int] | None]:
    return lambda m: m.span() if valid(m.group()) else None


def _card_span(m: re.Match[str]) -> tuple[int, int] | None:
    """The card number, trimming trailing groups that belong to something else ("4111 ... 1111 12/25")."""
    written = m.group()
    while True:
        if luhn_valid(written):
            return m.start(), m.start() + len(written)
        cut = max(written.rfind(" "), written.rfind("-"))
        if cut < 0 or len(_digits(written[:cut])) < 13:
            return None
        written = written[:cut]


def _word_start(m: re.Match[str]) -> tuple[int, int] | None:
    """The digits of group 1, when the match does not start inside a word ("reason" is not "son")."""
    start = m.start()
    return m.span(1) if start == 0 or not m.string[start - 1].isalnum() else None


def _own_digits(m: re.Match[str]) -> tuple[int, int] | None:
    """Group 1, when it is not the tail of a longer number."""
    start = m.start(1)
    return m.span(1) if start == 0 or not m.string[start - 1].isdecimal() else None


def find_pii(text: str) -> tuple[PiiSpan, ...]:
    """Every validated identifier in ``text``: character spans into it, sorted and never overlapping."""
    if not text or not any(ch.isdecimal() or ch == "@" for ch in text):
        return ()
    urls = [m.span() for m in _URL.finditer(text)]
    candidates = [
        *(_scan("email", _EMAIL, text, lambda m: m.span()) if "@" in text else ()),
        *_scan("iban", _IBAN, text, _whole(iban_valid)),
        *_scan("card", _CARD, text, _card_span),
        *_scan("tckn", _TCKN, text, _whole(tckn_valid)),
        *_scan("phone", _PHONE, text, lambda m: m.span()),
        *_scan("card_last4", _LAST4_SAID, text, _word_start),
        *_scan("card_last4", _LAST4_STARRED, text, lambda m: m.span()),
        *_scan("card_last4", _LAST4_ENDING, text, _own_digits),
    ]
    candidates.sort(key=lambda c: (_PRIORITY.index(c[0]), c[1] - c[2], c[1]))
    taken: list[tuple[int, int]] = []
    chosen: list[PiiSpan] = []
    for kind, start, end in candidates:
        if kind != "email" and any(start < u_end and u_start < end for u_start, u_end in urls):
            continue
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        taken.append((start, end))
        chosen.append(PiiSpan(kind, start, end))
    return tuple(sorted(chosen, key=lambda s: s.start))


def mask(text: str, spans: Iterable[PiiSpan]) -> str:
    """``text`` with every span replaced by its tag (``[TELEFON]`` ...); spans must come from ``find_pii(text)``."""
    parts: list[str] = []
    pos = 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.end <= pos:  # overlapping input: already hidden by an earlier span
            continue
        parts.append(text[pos : max(pos, span.start)])
        parts.append(MASKS.get(span.type, "[GİZLİ]"))
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts)


def mask_pii(text: str) -> str:
    """Shortcut: ``mask(text, find_pii(text))``."""
    return mask(text, find_pii(text))
