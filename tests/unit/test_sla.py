"""Business-hours clocks, quiet hours and the config checks behind them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.loader import load_settings
from config.settings import Settings, SlaSettings
from responders.budget import AlertPolicy
from responders.sla import BusinessCalendar, Sla
from store.errors import ConfigError

IST = ZoneInfo("Europe/Istanbul")
WEEKDAYS = frozenset(range(5))
CALENDAR = BusinessCalendar(IST, time(9), time(18), WEEKDAYS, frozenset({date(2026, 10, 29)}))


def ist(*args: int) -> datetime:
    return datetime(*args, tzinfo=IST)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (ist(2026, 11, 24, 10, 0), 2, ist(2026, 11, 24, 12, 0)),  # within the day
        (ist(2026, 11, 24, 17, 0), 2, ist(2026, 11, 25, 10, 0)),  # the evening does not count
        (ist(2026, 11, 24, 20, 0), 1, ist(2026, 11, 25, 10, 0)),  # opened after hours: starts next morning
        (ist(2026, 11, 27, 17, 30), 1, ist(2026, 11, 30, 9, 30)),  # Friday evening to Monday
        (ist(2026, 11, 28, 12, 0), 8, ist(2026, 11, 30, 17, 0)),  # opened on Saturday
        (ist(2026, 10, 28, 17, 0), 2, ist(2026, 10, 30, 10, 0)),  # the 29th is a holiday
        (ist(2026, 11, 24, 7, 0), 24, ist(2026, 11, 26, 15, 0)),  # more than a working day
    ],
)
def test_business_time_stops_outside_the_working_day(start: datetime, hours: int, due: datetime) -> None:
    assert CALENDAR.add(start.astimezone(UTC), hours * 3600) == due.astimezone(UTC)


def test_urgent_counts_around_the_clock_and_a_route_can_set_its_own_target() -> None:
    sla = Sla.from_settings(Settings())
    friday_night = ist(2026, 11, 27, 23, 0).astimezone(UTC)
    assert sla.respond_by("urgent", friday_night) == friday_night + timedelta(hours=1)
    assert sla.respond_by("high", friday_night) == ist(2026, 11, 30, 13, 0).astimezone(UTC)
    assert sla.respond_by("high", friday_night, override=1800) == ist(2026, 11, 30, 9, 30).astimezone(UTC)
    published = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert sla.reply_by(["sikayetvar"], published) == published + timedelta(hours=48)
    assert sla.reply_by(["x"], published) is None


@pytest.mark.parametrize(
    ("clock", "quiet"), [(time(23, 0), True), (time(7, 59), True), (time(8, 0), False), (time(21, 59), False)]
)
def test_quiet_hours_wrap_around_midnight(clock: time, quiet: bool) -> None:
    policy = AlertPolicy(quiet=(time(22, 0), time(8, 0)), tz=IST)
    assert policy.is_quiet(datetime.combine(date(2026, 11, 24), clock, IST).astimezone(UTC)) is quiet


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[sla]\ntimezone = "Mars/Olympus"\n', "sla.timezone"),
        ('[sla]\nbusiness_hours = ["9am", "6pm"]\n', "sla.business_hours"),
        ('[sla]\nbusiness_days = ["pzt"]\n', "sla.business_days"),
        ('[sla]\nholidays = ["29 Ekim"]\n', "sla.holidays"),
        ('[sla.first_response]\nurgent = "soon"\n', "sla.first_response.urgent"),
        ('[sla.first_response]\ncritical = "1h"\n', "sla.first_response.critical"),
        ('[alerts]\nquiet_hours = ["22:00"]\n', "alerts.quiet_hours"),
        ("[alerts]\nbudget = 0\n", "alerts.budget"),
        ('[alerts]\nquiet_min_priority = "loud"\n', "alerts.quiet_min_priority"),
        ('[[routes]]\nbrands = ["Nowhere"]\n', "routes[0].brands[0]"),
        ('[[routes]]\nhelpdesk = "zendesk"\n', "routes[0].helpdesk"),
        ('[[routes]]\npriority = "asap"\n', "routes[0].priority"),
        ('[[routes]]\nsla = "fast"\n', "routes[0].sla"),
        ('[[routes]]\nurgency = ["panic"]\n', "routes[0].urgency[0]"),
        ('[[helpdesks]]\nname = "a"\n[[helpdesks]]\nname = "a"\n', "helpdesks[1].name"),
        ('[[helpdesks]]\nname = "slack"\n', "helpdesks[0].name"),
        ("[web]\nport = 70000\n", "web.port"),
    ],
)
def test_bad_service_settings_fail_at_start_naming_the_key(tmp_path: Path, toml: str, key: str) -> None:
    config = tmp_path / "kulak.toml"
    config.write_text('[[brands]]\nname = "Kuzey Telekom"\n' + toml, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={})
    assert caught.value.key == key


def test_the_defaults_make_a_working_calendar() -> None:
    sla = Sla.from_settings(Settings(sla=SlaSettings()))
    assert sla.calendar.days == WEEKDAYS and sla.first_response["normal"] == 8 * 3600
