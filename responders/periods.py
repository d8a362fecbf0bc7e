"""Calendar periods of digests (day, week, month, year) in the care team's time zone, and when each is due."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from config.settings import check_send_time
from responders.digest_model import Period
from store.errors import InputError

KINDS = ("day", "week", "month", "year")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _start_of(kind: str, day: date) -> date:
    if kind == "day":
        return day
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def _after(kind: str, first: date) -> date:
    """The first day of the period after the one starting on ``first``."""
    if kind == "day":
        return first + timedelta(days=1)
    if kind == "week":
        return first + timedelta(days=7)
    if kind == "month":
        return (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first.replace(year=first.year + 1)


def _label(kind: str, first: date) -> str:
    if kind == "day":
        return first.isoformat()
    if kind == "week":
        year, week, _ = first.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "month":
        return f"{first:%Y-%m}"
    return f"{first:%Y}"


def period_containing(kind: str, day: date, zone: str) -> Period:
    """The ``kind`` period that ``day`` falls in, from local midnight to local midnight."""
    if kind not in KINDS:
        raise InputError(f"unknown period {kind!r}; expected one of {', '.join(KINDS)}")
    tz = ZoneInfo(zone)
    first = _start_of(kind, day)
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(_after(kind, first), time(), tz)
    return Period(kind, start, end, _label(kind, first))


def last_complete(kind: str, now: datetime, zone: str) -> Period:
    """The latest ``kind`` period that had ended by ``now`` (yesterday, last week, last month, last year)."""
    today = now.astimezone(ZoneInfo(zone)).date()
    current = period_containing(kind, today, zone)
    return period_containing(kind, current.start.date() - timedelta(days=1), zone)


def previous(period: Period, zone: str) -> Period:
    return period_containing(period.kind, period.start.date() - timedelta(days=1), zone)


def buckets(period: Period) -> list[tuple[str, datetime]]:
    """The timeline of a period: (label, start) per hour of a day, day of a week or month, month of a year."""
    tz = period.start.tzinfo
    if period.kind == "day":
        day = period.start.date()
        return [(f"{h:02d}", datetime.combine(day, time(h), tz)) for h in range(24)]
    if period.kind == "year":
        return [(f"{m:02d}", period.start.replace(month=m)) for m in range(1, 13)]
    days = (period.end.date() - period.start.date()).days
    return [
        (f"{d:%m-%d}", datetime.combine(d, time(), tz))
        for d in (period.start.date() + timedelta(days=i) for i in range(days))
    ]


def due_at(period: Period, spec: str, zone: str) -> datetime | None:
    """When the digest of ``period`` is sent: the first moment matching ``spec`` at or after the period's end."""
    spec = spec.strip().lower()
    if not spec:
        return None
    check_send_time(period.kind, spec)
    *when, clock = spec.split()
    hour, minute = (int(x) for x in clock.split(":"))
    tz = ZoneInfo(zone)
    day = period.end.astimezone(tz).date()
    for _ in range(370):
        if _matches(period.kind, when, day):
            return datetime.combine(day, time(hour, minute), tz)
        day += timedelta(days=1)
    raise ValueError(f"no day matches {spec!r}")  # unreachable for the forms check_spec allows


def _matches(kind: str, when: list[str], day: date) -> bool:
    if kind == "day":
        return True
    if kind == "week":
        return WEEKDAYS[day.weekday()] == when[0]
    if kind == "month":
        return day.day == int(when[0])
    month, dom = (int(x) for x in when[0].split("-"))
    return (day.month, day.day) == (month, dom)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
