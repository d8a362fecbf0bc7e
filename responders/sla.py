"""Service-level clocks: first-response targets counted in business hours, and a site's public reply window."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.settings import DAYS, Settings, parse_duration
from store.errors import ConfigError


def parse_clock(text: str, key: str) -> time:
    """ "09:30" as a time; ConfigError naming ``key`` otherwise."""
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(f'expected a time like "09:00", got {text!r}', key=key) from None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"unknown time zone {name!r}; expected an IANA name like Europe/Istanbul"
        raise ConfigError(message, key="sla.timezone") from None


@dataclass(frozen=True)
class BusinessCalendar:
    """When the care team works: a daily window on working days, in one time zone, minus holidays."""

    tz: ZoneInfo
    opens: time
    closes: time
    days: frozenset[int]  # 0 = Monday
    holidays: frozenset[date] = frozenset()

    def is_open_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    def add(self, start: datetime, seconds: float) -> datetime:
        """``start`` plus ``seconds`` of working time: the clock stops outside the window and on days off."""
        if self.opens >= self.closes or not self.days:
            return start + timedelta(seconds=seconds)  # no working window at all: count wall-clock time
        local = start.astimezone(self.tz)
        left = timedelta(seconds=seconds)
        for _ in range(3700):  # ten years of days: a bounded walk even with odd holiday lists
            day = local.date()
            if self.is_open_day(day):
                window_start = datetime.combine(day, self.opens, self.tz)
                window_end = datetime.combine(day, self.closes, self.tz)
                begin = max(local, window_start)
                if begin < window_end:
                    if begin + left <= window_end:
                        return (begin + left).astimezone(UTC)
                    left -= window_end - begin
            local = datetime.combine(day + timedelta(days=1), time(0), self.tz)
        raise ConfigError("the business calendar has no working time in the next ten years", key="sla")


@dataclass(frozen=True)
class Sla:
    """First-response targets per priority (business time, or around the clock) and reply windows per source."""

    calendar: BusinessCalendar
    first_response: Mapping[str, float]  # priority -> seconds
    around_the_clock: frozenset[str] = frozenset()
    reply_windows: Mapping[str, float] | None = None  # source type -> seconds from publication

    @classmethod
    def from_settings(cls, settings: Settings) -> Sla:
        s = settings.sla
        opens = parse_clock(s.business_hours[0], "sla.business_hours")
        closes = parse_clock(s.business_hours[1], "sla.business_hours")
        unknown = [d for d in s.business_days if d not in DAYS]
        if unknown:
            raise ConfigError(f"unknown day {unknown[0]!r}; expected {' '.join(DAYS)}", key="sla.business_days")
        try:
            holidays = frozenset(date.fromisoformat(d) for d in s.holidays)
        except ValueError as exc:
            raise ConfigError(f'expected dates like "2026-10-29": {exc}', key="sla.holidays") from None
        workdays = frozenset(DAYS.index(d) for d in s.business_days)
        calendar = BusinessCalendar(zone(s.timezone), opens, closes, workdays, holidays)
        return cls(
            calendar,
            {p: seconds(v, f"sla.first_response.{p}") for p, v in s.first_response.items()},
            frozenset(s.around_the_clock),
            {k: seconds(v, f"sla.reply_windows.{k}") for k, v in s.reply_windows.items()},
        )

    def respond_by(self, priority: str, opened: datetime, override: float | None = None) -> datetime | None:
        """When the first response is due; None when no target is set for this priority."""
        seconds = override if override is not None else self.first_response.get(priority)
        if seconds is None:
            return None
        if priority in self.around_the_clock:
            return opened + timedelta(seconds=seconds)
        return self.calendar.add(opened, seconds)

    def reply_by(self, source_types: Sequence[str], published: datetime | None) -> datetime | None:
        """The site's public reply deadline, counted from publication, when the source has one."""
        for kind in source_types:
            window = (self.reply_windows or {}).get(kind)
            if window is not None and published is not None:
                return published + timedelta(seconds=window)
        return None


def seconds(text: str, key: str) -> float:
    """A duration setting in seconds; ConfigError naming ``key`` when it is not one."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ConfigError(str(exc), key=key) from None
