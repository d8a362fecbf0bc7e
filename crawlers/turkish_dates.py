"""Read dates the way Turkish sites print them ("31 Aralık 2025 22:43", "5 Kasım 09:10") into aware datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

ISTANBUL = ZoneInfo("Europe/Istanbul")

MONTHS = ("Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık")

# Turkish letters folded to ASCII after lowercasing, so "MAYIS", "Mayıs" and "mayis" all read the same.
_FOLD = str.maketrans({"ç": "c", "ğ": "g", "ı": "i", "ö": "o", "ş": "s", "ü": "u", "â": "a", "î": "i", "û": "u"})
_DATE = re.compile(
    r"(?P<day>\d{1,2})\s*\.?\s+(?P<month>[^\W\d_]+)\.?(?:\s+(?P<year>\d{4}))?"
    r"(?:\s*,?\s*(?:saat\s+)?(?P<hour>\d{1,2})[:.](?P<minute>\d{2}))?",
    re.IGNORECASE,
)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def fold(text: str) -> str:
    """Lowercase with Turkish rules (I -> ı, İ -> i) and fold the Turkish letters to ASCII."""
    return text.replace("I", "ı").replace("İ", "i").lower().translate(_FOLD)


_MONTH_KEYS = tuple(fold(name) for name in MONTHS)


def month_number(name: str) -> int | None:
    """1-12 for a Turkish month name or an abbreviation of at least three letters ("Ara", "Şub"); else None."""
    key = fold(name.strip().rstrip("."))
    if len(key) < 3:
        return None
    for number, full in enumerate(_MONTH_KEYS, start=1):
        if full.startswith(key):
            return number
    return None


def parse_turkish_datetime(
    text: str,
    now: datetime,
    *,
    tz: ZoneInfo = ISTANBUL,
    future_tolerance: timedelta = timedelta(days=1),
) -> datetime | None:
    """The first "day month [year] [HH:MM]" in ``text`` as an aware datetime in ``tz``; None if there is none.

    Sites leave the year out for dates in the current year, so a missing year is ``now``'s year, or the year
    before when that would put the date more than ``future_tolerance`` after ``now`` (late December read in
    early January).
    """
    local_now = now.astimezone(tz)
    for match in _DATE.finditer(text):
        month = month_number(match["month"])
        if month is None:
            continue
        day = int(match["day"])
        hour = int(match["hour"]) if match["hour"] else 0
        minute = int(match["minute"]) if match["minute"] else 0
        year = int(match["year"]) if match["year"] else local_now.year
        try:
            when = on_calendar(datetime(year, month, day, hour, minute, tzinfo=tz))
        except (ValueError, OverflowError):
            continue  # 31 Şubat, 25:61, 1 Ocak 0001: not a date to keep, keep looking
        if match["year"] is None and when > local_now + future_tolerance:
            try:
                when = when.replace(year=year - 1)
            except ValueError:  # 29 Şubat of a leap year read in the year after
                continue
        return when
    return None


def on_calendar(when: datetime) -> datetime:
    """``when``, checked to stay a datetime in UTC too (the store's zone): OverflowError for 0001-01-01 in Istanbul."""
    when.astimezone(UTC)
    return when


def parse_site_datetime(text: str, now: datetime, *, tz: ZoneInfo = ISTANBUL) -> datetime | None:
    """An ISO 8601 timestamp (as machine-readable attributes carry) or else a Turkish date, aware; None if neither.

    An ISO timestamp without an offset is taken as ``tz`` local time, as the site shows it.
    """
    stripped = text.strip()
    if _ISO.match(stripped):
        try:
            when = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
            return on_calendar(when if when.tzinfo is not None else when.replace(tzinfo=tz))
        except (ValueError, OverflowError):
            return None
    return parse_turkish_datetime(text, now, tz=tz)
