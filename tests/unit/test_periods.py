"""Digest periods: local calendar days, weeks, months and years, the one before, and when each digest is due."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from config.settings import check_send_time
from responders.digest import counts, percentile, rising
from responders.periods import buckets, due_at, last_complete, period_containing, previous
from store.errors import InputError

IST = "Europe/Istanbul"
TZ = ZoneInfo(IST)


def test_yesterday_is_the_last_complete_day_in_local_time() -> None:
    # 22:30 UTC on the 23rd is already 01:30 on the 24th in Istanbul: yesterday there is the 23rd.
    day = last_complete("day", datetime(2026, 11, 23, 22, 30, tzinfo=UTC), IST)
    assert day.label == "2026-11-23"
    assert day.start == datetime(2026, 11, 23, tzinfo=TZ) and day.end == datetime(2026, 11, 24, tzinfo=TZ)
    assert last_complete("day", datetime(2026, 11, 23, 20, 30, tzinfo=UTC), IST).label == "2026-11-22"


@pytest.mark.parametrize(
    ("kind", "label", "start", "end"),
    [
        ("week", "2026-W47", date(2026, 11, 16), date(2026, 11, 23)),
        ("month", "2026-10", date(2026, 10, 1), date(2026, 11, 1)),
        ("year", "2025", date(2025, 1, 1), date(2026, 1, 1)),
    ],
)
def test_last_complete_week_month_and_year(kind: str, label: str, start: date, end: date) -> None:
    got = last_complete(kind, datetime(2026, 11, 24, 9, 0, tzinfo=TZ), IST)
    assert (got.label, got.start.date(), got.end.date()) == (label, start, end)


def test_previous_period_of_march_is_february_and_of_a_week_the_week_before() -> None:
    march = period_containing("month", date(2028, 3, 15), IST)
    assert previous(march, IST).label == "2028-02" and previous(march, IST).end == march.start
    week = period_containing("week", date(2027, 1, 1), IST)  # a Friday: the week of 28 Dec 2026, ISO week 53
    assert week.label == "2026-W53" and previous(week, IST).label == "2026-W52"


def test_timeline_buckets_cover_the_period() -> None:
    day = period_containing("day", date(2026, 11, 23), IST)
    assert [label for label, _ in buckets(day)][:2] == ["00", "01"] and len(buckets(day)) == 24
    assert len(buckets(period_containing("month", date(2026, 2, 3), IST))) == 28
    assert len(buckets(period_containing("year", date(2026, 2, 3), IST))) == 12
    assert len(buckets(period_containing("week", date(2026, 2, 3), IST))) == 7


@pytest.mark.parametrize(
    ("kind", "spec", "due"),
    [
        ("day", "08:30", datetime(2026, 11, 24, 8, 30, tzinfo=TZ)),
        ("week", "mon 08:45", datetime(2026, 11, 23, 8, 45, tzinfo=TZ)),
        ("week", "wed 10:00", datetime(2026, 11, 25, 10, 0, tzinfo=TZ)),
        ("month", "1 09:00", datetime(2026, 11, 1, 9, 0, tzinfo=TZ)),
        ("month", "3 09:00", datetime(2026, 11, 3, 9, 0, tzinfo=TZ)),
        ("year", "01-02 09:30", datetime(2026, 1, 2, 9, 30, tzinfo=TZ)),
    ],
)
def test_a_digest_is_due_at_the_first_matching_moment_after_its_period(kind: str, spec: str, due: datetime) -> None:
    period = last_complete(kind, datetime(2026, 11, 24, 12, 0, tzinfo=TZ), IST)
    assert due_at(period, spec, IST) == due


def test_off_and_malformed_send_times() -> None:
    period = last_complete("day", datetime(2026, 11, 24, 12, 0, tzinfo=TZ), IST)
    assert due_at(period, "", IST) is None
    for kind, bad in (("day", "8:30"), ("week", "monday 08:30"), ("month", "31 09:00"), ("year", "13-01 09:00")):
        with pytest.raises(ValueError, match="expected a time like"):
            check_send_time(kind, bad)
    with pytest.raises(InputError, match="unknown period"):
        period_containing("fortnight", date(2026, 1, 1), IST)


def test_nearest_rank_percentiles() -> None:
    assert percentile([], 0.5) is None
    assert percentile([10.0], 0.9) == 10.0
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 0.5) == 5.0 and percentile(values, 0.9) == 9.0


def test_counts_keep_the_given_order_then_biggest_first() -> None:
    got = counts({"negative": 3, "odd": 1, "x": 5}, {"positive": 2}, order=("positive", "neutral", "negative"))
    assert [(c.label, c.now, c.before) for c in got] == [
        ("positive", 0, 2), ("neutral", 0, 0), ("negative", 3, 0), ("x", 5, 0), ("odd", 1, 0),
    ]  # fmt: skip


def test_rising_topics_need_enough_mentions_and_growth() -> None:
    now = {"fatura": 12, "kargo": 3, "iade": 2, "internet": 30}
    before = {"fatura": 2, "kargo": 0, "iade": 0, "internet": 29}
    got = rising(now, before, top=5)
    assert [c.label for c in got] == ["fatura", "kargo", "internet"]  # iade: 2 is too few to call a trend
