"""Checks that span keys of routes, helpdesks, service levels and alerts: a bad value fails at start, named."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.settings import DAYS, Settings, parse_duration
from store.errors import ConfigError
from store.model import PRIORITIES

URGENCY = ("low", "normal", "high", "critical")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def check_routes(settings: Settings, source: str) -> None:
    helpdesks: set[str] = set()
    for i, desk in enumerate(settings.helpdesks):
        key = f"helpdesks[{i}]"
        if not desk.name.strip():
            raise ConfigError("every helpdesk needs a name", source=source, key=f"{key}.name")
        if desk.name in ("slack", "console"):
            raise ConfigError(
                f"{desk.name!r} is the name of a built-in channel; pick another", source=source, key=f"{key}.name"
            )
        if desk.name in helpdesks:
            raise ConfigError(f"helpdesk name {desk.name!r} is used twice", source=source, key=f"{key}.name")
        helpdesks.add(desk.name)
        if desk.timeout <= 0:
            raise ConfigError("expected more than 0", source=source, key=f"{key}.timeout")
    known = {
        "brands": {b.name for b in settings.brands},
        "sources": {s.name for s in settings.sources},
        "urgency": set(URGENCY),
    }
    for i, route in enumerate(settings.routes):
        key = f"routes[{i}]"
        for name, allowed in known.items():
            for j, value in enumerate(getattr(route, name)):
                if value not in allowed:
                    choices = ", ".join(sorted(allowed)) or "none configured"
                    raise ConfigError(
                        f"unknown {value!r}; expected one of: {choices}", source=source, key=f"{key}.{name}[{j}]"
                    )
        if route.helpdesk and route.helpdesk not in helpdesks:
            raise ConfigError(
                f"no [[helpdesks]] table is named {route.helpdesk!r}", source=source, key=f"{key}.helpdesk"
            )
        if route.priority and route.priority not in PRIORITIES:
            raise ConfigError(f"expected one of {', '.join(PRIORITIES)}", source=source, key=f"{key}.priority")
        _duration(route.sla, source, f"{key}.sla", optional=True)


def _duration(text: str, source: str, key: str, *, optional: bool = False) -> None:
    if optional and not text:
        return
    try:
        parse_duration(text)
    except ValueError as exc:
        raise ConfigError(str(exc), source=source, key=key) from None


def check_service_levels(settings: Settings, source: str) -> None:
    sla, alerts = settings.sla, settings.alerts
    try:
        ZoneInfo(sla.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "unknown time zone; expected an IANA name like Europe/Istanbul", source=source, key="sla.timezone"
        ) from None
    for key, clocks in (("sla.business_hours", sla.business_hours), ("alerts.quiet_hours", alerts.quiet_hours)):
        if any(not CLOCK.match(c) for c in clocks) or len(clocks) not in (0, 2):
            raise ConfigError('expected ["HH:MM", "HH:MM"], e.g. ["09:00", "18:00"]', source=source, key=key)
    for day in sla.business_days:
        if day not in DAYS:
            raise ConfigError(f"unknown day {day!r}; expected {' '.join(DAYS)}", source=source, key="sla.business_days")
    for day in sla.holidays:
        try:
            date.fromisoformat(day)
        except ValueError:
            raise ConfigError(
                f'expected a date like "2026-10-29", got {day!r}', source=source, key="sla.holidays"
            ) from None
    for priority, text in sla.first_response.items():
        if priority not in PRIORITIES:
            raise ConfigError(
                f"expected priorities {', '.join(PRIORITIES)}", source=source, key=f"sla.first_response.{priority}"
            )
        _duration(text, source, f"sla.first_response.{priority}")
    for kind, text in sla.reply_windows.items():
        _duration(text, source, f"sla.reply_windows.{kind}")
    _duration(sla.close_after, source, "sla.close_after")
    _duration(alerts.burst_window, source, "alerts.burst_window")
    if alerts.budget < 1:
        raise ConfigError("expected at least 1", source=source, key="alerts.budget")
    if alerts.quiet_min_priority not in PRIORITIES:
        raise ConfigError(f"expected one of {', '.join(PRIORITIES)}", source=source, key="alerts.quiet_min_priority")
    if not 0 <= settings.web.port <= 65535:
        raise ConfigError("expected a port from 0 to 65535", source=source, key="web.port")
