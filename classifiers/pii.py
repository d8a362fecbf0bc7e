"""Find and mask personal identifiers (TCKN, IBAN, cards, phones, e-mail) so people read no raw digits."""

# Only valid identifiers are named, so order numbers, amounts, dates and typos stay readable for the care team:
# - TCKN: 11 digits, the first not 0, both checksum digits right;
# - IBAN: a known country's length and the ISO 13616 mod-97 check, grouped or not (TR: 26 characters, digits);
# - card: 13-19 digits passing Luhn that start like a payment card (2-6: Visa, Mastercard, Amex, Discover...;
#   9792: Troy); the last four said alone ("son dört hanesi 8233", "**** 8233") are masked too;
# - phone: Turkish mobiles (05xx, +90 5xx, 5xx with separators) and landlines with their trunk 0 or +90, and
#   other countries' numbers written with "+" or "00". Call-centre numbers (444 xx xx, 0850, 0800, 0900) belong
#   to companies, not people, and stay;
# - e-mail addresses.
# A number labelled as something else ("sipariş no", "takip numarası", "IMEI", "order #") is that something else,
# even when its digits happen to pass a check (one random number in ten passes Luhn). Digits inside a link are
# left alone (tweet and order ids). Masks are bracketed Turkish tags that keep the sentence readable and no digit
# of the identifier: [TCKN], [IBAN], [KART], [TELEFON], [E-POSTA].

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

# ISO 13616 lengths of the IBANs a Turkish customer is likely to paste (Turkey, the EU and neighbours).
IBAN_LENGTHS: dict[str, int] = {
    "TR": 26, "DE": 22, "GB": 22, "FR": 27, "NL": 18, "BE": 16, "AT": 20, "CH": 21, "IT": 27, "ES": 24, "PT": 25,
    "IE": 22, "LU": 20, "DK": 18, "SE": 24, "NO": 15, "FI": 18, "PL": 28, "CZ": 24, "SK": 24, "HU": 28, "RO": 24,
    "BG": 22, "GR": 27, "CY": 28, "MT": 31, "SI": 19, "HR": 21, "RS": 22, "BA": 20, "ME": 22, "MK": 19, "AL": 28,
    "XK": 20, "EE": 20, "LV": 21, "LT": 20, "UA": 29, "GE": 22, "AZ": 28, "MD": 24, "IL": 23, "AE": 23, "SA": 24,
    "QA": 29, "KW": 30, "BH": 22, "JO": 30, "LB": 28, "KZ": 20, "PK": 24, "TN": 24, "LI": 21, "MC": 27, "SM": 27,
}  # fmt: skip

# When two candidates overlap, the type listed first wins (then the longer span).
_PRIORITY = ("email", "iban", "card", "tckn", "phone", "card_last4")

# Invisible characters: pasted from apps (bidi isolates around numbers) or typed to slip a number past a filter.
_INVISIBLE = re.compile(r"[\xad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_IBAN_START = re.compile(r"(?<!\w)[A-Za-z]{2}\d{2}(?= ?[A-Za-z0-9])")
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
_THREE_DIGITS = re.compile(r"\d\d\d")
# Anything written like an IBAN, valid or not: the numbers inside one are not cards or phones.
_IBAN_SHAPE = re.compile(r"(?<!\w)([A-Za-z]{2})\d{2}(?: ?[0-9A-Za-z*•]{4}){2,8}(?: ?[0-9A-Za-z*•]{1,3})?(?!\w)")
_CARD_STARTS = ("2", "3", "4", "5", "6", "9792")
_SEP = r"[ .-]?"
_PHONE = re.compile(
    r"(?<![\w+.,])(?:"
    # mobiles: 05XX XXX XX XX, +90 5XX XXX XXXX, 5XX XXX XX XX, 0(5XX) XXX XX XX, (0532) XXX XX XX
    rf"(?:(?:\+|00)90{_SEP}|0{_SEP})?\(?0?5[0-6]\d\)?{_SEP}\d{{3}}{_SEP}\d{{2}}{_SEP}\d{{2}}"
    # landlines need the trunk 0 or +90: 0212 XXX XX XX, +90 (312) XXX XXXX, (0216) XXX XX XX
    rf"|(?:(?:\+|00)90{_SEP}\(?|0{_SEP}\(?|\(0)[2-4]\d{{2}}\)?{_SEP}\d{{3}}{_SEP}\d{{2}}{_SEP}\d{{2}}"
    # other countries, always written with + or 00: +44 7700 900123, +1 (555) 123-4567
    r"|(?:\+|00)(?!90)[1-9]\d{0,2}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){2,4}"
    r")(?!\d)"
)
# A label that makes the number after it an order, tracking, invoice, subscriber or device number.
_OTHER_LABEL = re.compile(
    r"\b(?:sipari[sş]|order|takip|tracking|kargo|g[oö]nderi|fatura|invoice|abone(?:lik)?|m[uü][sş]teri|referans|ref\b"
    r"|ba[sş]vuru|talep|[sş]ikayet|dosya|kay[ıi]t|[uü]r[uü]n|seri|imei|barkod|dekont|i[sş]lem|ticket|case)\w*"
    r"\s*(?:takip\s*)?(?:(?:no|nr|numara\w*|kod\w*|id)\b|#)\.?\s*[:#=-]?\s*$"
    # these name their number even without "no" ("ref" only as a word: "Refah", "reform" name nothing)
    r"|\b(?:imei|iccid|ref\b|referans|barkod)\w*\s*(?:(?:no|nr|numara\w*)\b)?\.?\s*[:#=-]?\s*$",
    re.IGNORECASE,
)
_LABEL_REACH = 40  # characters before a number searched for its label
# The last four digits of a card: "son dört hanesi 8233", "**** **** **** 8233", "8233 ile biten kart".
_LAST4_SAID = re.compile(
    r"(?:son|last)\s+(?:d[öo]rt|4|four)\s+(?:hane|rakam|basama|digit|numara)[^\d\n]{0,24}?(?<!\d)(\d{4})(?!\d)",
    re.IGNORECASE,
)
_LAST4_STARRED = re.compile(r"[*xX•]{4}[ -]?(?:[*xX•]{4}[ -]?){0,2}\d{4}(?!\d)")
_LAST4_ENDING = re.compile(r"(\d{4})\s+(?:ile\s+bit\w*|ile\s+sonlan\w*|numaral[ıi]\s+son)", re.IGNORECASE)
# "kartımın sonu 8233", "sonu 8233 olan kart": "sonu" needs a card or account before it, or a tail after it,
# so "yıl sonu 2025" stays.
_LAST4_SONU = re.compile(
    r"(?:(?:kart|hesab|hesap|numara|iban)\w*(?:\s+\w+)?\s+sonu\s*:?\s*(\d{4})(?!\d)"
    r"|\bsonu\s*:?\s*(\d{4})(?=\s*(?:ile\s|olan\b|numaral)))",
    re.IGNORECASE,
)
# An IBAN someone half-starred ("TR12 0006 4000 **** **** 1234"): the digits left are still theirs.
_IBAN_STARRED = re.compile(r"(?<!\w)TR ?\d{2}(?=[\d ]*[*•])(?:[ ]?[\d*•]){12,26}(?![\w*•])", re.IGNORECASE)


def tckn_valid(digits: str) -> bool:
    """The two checksum digits of a Turkish identity number (and 11 digits, the first not 0)."""
    if len(digits) != 11 or not digits.isdecimal() or not digits.isascii() or digits[0] == "0":
        return False
    d = [int(c) for c in digits]
    d10 = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    d11 = sum(d[:10]) % 10
    return d[9] == d10 and d[10] == d11


def iban_valid(iban: str) -> bool:
    """ISO 13616: the country's length (``IBAN_LENGTHS``) and the mod-97 check; spaces ignored, any case."""
    compact = iban.replace(" ", "").upper()
    if not compact.isascii() or not compact.isalnum() or IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    if not compact[2:4].isdecimal() or (compact[:2] == "TR" and not compact[2:].isdecimal()):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def luhn_valid(digits: str) -> bool:
    """The Luhn check digit of a payment card number (13-19 digits; spaces and dashes ignored)."""
    compact = digits.replace(" ", "").replace("-", "")
    if not 13 <= len(compact) <= 19 or not compact.isdecimal() or not compact.isascii():
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


def _labelled_other(text: str, start: int) -> bool:
    return _OTHER_LABEL.search(text, max(0, start - _LABEL_REACH), start) is not None


def _tckn_span(m: re.Match[str]) -> tuple[int, int] | None:
    return m.span() if tckn_valid(m.group()) and not _labelled_other(m.string, m.start()) else None


def _iban_span(m: re.Match[str]) -> tuple[int, int] | None:
    """The IBAN starting at the country code: as many characters as the country's length, single spaces allowed."""
    text, start = m.string, m.start()
    wanted = IBAN_LENGTHS.get(m.group()[:2].upper())
    if wanted is None:
        return None
    count, i = 0, start
    while i < len(text) and count < wanted:
        if text[i].isascii() and text[i].isalnum():
            count += 1
        elif text[i] != " " or text[i - 1] == " ":
            break
        i += 1
    written = text[start:i]
    letters = sum(ch.isalpha() for ch in written[4:])
    if count < wanted or letters > 4 or (i < len(text) and text[i].isalnum()):
        return None
    return (start, i) if iban_valid(written) else None


def _card_span(m: re.Match[str]) -> tuple[int, int] | None:
    """The card number, trimming trailing groups that belong to something else ("4111 ... 1111 12/25")."""
    written = m.group()
    if not written.startswith(_CARD_STARTS) or _labelled_other(m.string, m.start()):
        return None
    while True:
        if luhn_valid(written):
            return m.start(), m.start() + len(written)
        cut = max(written.rfind(" "), written.rfind("-"))
        if cut < 0 or len(_digits(written[:cut])) < 13:
            return None
        written = written[:cut]


def _phone_span(m: re.Match[str]) -> tuple[int, int] | None:
    digits = _digits(m.group())
    if m.group().startswith(("+", "00")) and not digits.startswith(("90", "0090")) and not 9 <= len(digits) <= 17:
        return None
    return None if _labelled_other(m.string, m.start()) else m.span()


def _word_start(m: re.Match[str]) -> tuple[int, int] | None:
    """The digits of group 1, when the match does not start inside a word ("reason" is not "son")."""
    start = m.start()
    return m.span(1) if start == 0 or not m.string[start - 1].isalnum() else None


def _own_digits(m: re.Match[str]) -> tuple[int, int] | None:
    """Group 1, when it is not the tail of a longer number."""
    start = m.start(1)
    return m.span(1) if start == 0 or not m.string[start - 1].isdecimal() else None


def _sonu_digits(m: re.Match[str]) -> tuple[int, int] | None:
    group = 1 if m.group(1) else 2
    start = m.start(group)
    return m.span(group) if not m.string[start - 1].isdecimal() else None


def find_pii(text: str) -> tuple[PiiSpan, ...]:
    """Every validated identifier in ``text``: character spans into it, sorted and never overlapping.

    Characters nobody sees (zero-width spaces, direction marks, the soft hyphen) are looked through: "0532<ZWSP>123
    45 67" is a phone number to its reader, so it is found, and its span covers the hidden characters inside it.
    """
    if _INVISIBLE.search(text) is None:
        return _find(text)
    kept = [i for i, ch in enumerate(text) if not _INVISIBLE.match(ch)]
    visible = "".join(text[i] for i in kept)
    return tuple(PiiSpan(s.type, kept[s.start], kept[s.end - 1] + 1) for s in _find(visible))


def _find(text: str) -> tuple[PiiSpan, ...]:
    # Every identifier has an "@" or a run of three digits; most texts have neither and stop here.
    if not text or ("@" not in text and _THREE_DIGITS.search(text) is None):
        return ()
    candidates = [
        *(_scan("email", _EMAIL, text, lambda m: m.span()) if "@" in text else ()),
        *_scan("iban", _IBAN_START, text, _iban_span),
        *_scan("card", _CARD, text, _card_span),
        *_scan("tckn", _TCKN, text, _tckn_span),
        *_scan("phone", _PHONE, text, _phone_span),
        *_scan("card_last4", _LAST4_SAID, text, _word_start),
        *_scan("card_last4", _LAST4_STARRED, text, lambda m: m.span()),
        *_scan("card_last4", _LAST4_ENDING, text, _own_digits),
        *_scan("card_last4", _LAST4_SONU, text, _sonu_digits),
        *_scan("iban", _IBAN_STARRED, text, lambda m: m.span()),
    ]
    if not candidates:
        return ()
    # Digits inside a link, or numbers inside an IBAN-shaped run (a mistyped IBAN), are not identifiers of their own.
    urls = [m.span() for m in _URL.finditer(text)]
    ibans = [m.span() for m in _IBAN_SHAPE.finditer(text) if m.group(1).upper() in IBAN_LENGTHS]
    candidates.sort(key=lambda c: (_PRIORITY.index(c[0]), c[1] - c[2], c[1]))
    taken: list[tuple[int, int]] = []
    chosen: list[PiiSpan] = []
    for kind, start, end in candidates:
        shields = () if kind == "email" else urls if kind == "iban" else urls + ibans
        if any(start < s_end and s_start < end for s_start, s_end in shields):
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
