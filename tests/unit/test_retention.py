"""Retention settings and the purge job on an in-memory store: batches, audit rows, dry runs, once a day."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.loader import load_settings
from config.settings import RetentionSettings
from scheduler.retention import print_purge, purge, purge_due
from store.errors import ConfigError, StoreError
from tests.fakes import FakeRetentionRepository, FakeRetentionUnitOfWork

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SETTINGS = RetentionSettings(raw_payloads="30d", mention_texts="180d", closed_cases="365d", deliveries="90d")


def store(**rows: dict[int, datetime]) -> FakeRetentionUnitOfWork:
    return FakeRetentionUnitOfWork(FakeRetentionRepository(rows))


def test_defaults_keep_every_kind_for_a_while() -> None:
    keep = RetentionSettings()
    assert [keep.keep(k) for k in ("raw_payloads", "mention_texts", "closed_cases", "deliveries")] == [
        30 * 86400,
        180 * 86400,
        365 * 86400,
        90 * 86400,
    ]


def test_off_keeps_forever_in_any_case(tmp_path: Path) -> None:
    path = tmp_path / "kulak.toml"
    path.write_text('[retention]\nmention_texts = "Off"\ndeliveries = "12h"\n', encoding="utf-8")
    settings = load_settings(path, env={}).retention
    assert settings.keep("mention_texts") is None
    assert settings.keep("deliveries") == 12 * 3600
    assert settings.keep("raw_payloads") == 30 * 86400


@pytest.mark.parametrize("value", ["1 year", "3w", "0d", "", "forever"])
def test_a_bad_duration_fails_at_load_naming_the_key(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, env={"KULAK_RETENTION__CLOSED_CASES": value})
    assert caught.value.key == "retention.closed_cases"
    assert '"off"' in str(caught.value)


def test_a_number_instead_of_a_duration_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "kulak.toml"
    path.write_text("[retention]\nraw_payloads = 30\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"kulak.toml: retention.raw_payloads: expected a string"):
        load_settings(path, env={})


def test_old_rows_go_in_batches_and_young_ones_stay() -> None:
    rows = {i: NOW - 40 * DAY for i in (3, 5, 8, 9, 12)} | {20: NOW - 10 * DAY}
    uow = store(raw_payloads=rows)
    counts = purge(uow, SETTINGS, NOW, batch=2)
    assert counts["raw_payloads"] == 5
    assert uow.retention.rows["raw_payloads"] == {20: NOW - 10 * DAY}
    batches = [call for call in uow.retention.calls if call[0] == "raw_payloads"]
    assert [after for *_, after in batches] == [0, 5, 9, 12]  # each batch starts past the last one
    assert {batch for _, _, batch, _ in batches} == {2}


def test_each_kind_is_audited_once_with_counts_cutoff_and_ids() -> None:
    uow = store(closed_cases={7: NOW - 400 * DAY, 11: NOW - 366 * DAY, 12: NOW - 300 * DAY})
    purge(uow, SETTINGS, NOW, batch=1)
    entries = {subject: (actor, action, detail) for actor, action, subject, detail in uow.audit.entries}
    assert len(uow.audit.entries) == 4 and set(entries) == {
        "raw_payloads",
        "mention_texts",
        "closed_cases",
        "deliveries",
    }
    actor, action, detail = entries["closed_cases"]
    assert (actor, action) == ("retention", "purge")
    assert (detail["count"], detail["first_id"], detail["last_id"]) == (2, 7, 11)
    assert detail["cutoff"] == (NOW - 365 * DAY).isoformat() and detail["finished"] is True
    assert entries["deliveries"][2]["count"] == 0 and entries["deliveries"][2]["first_id"] is None


def test_a_kind_that_is_off_is_not_touched_nor_audited() -> None:
    uow = store(mention_texts={1: NOW - 1000 * DAY})
    counts = purge(uow, RetentionSettings(mention_texts="off"), NOW)
    assert "mention_texts" not in counts and uow.retention.rows["mention_texts"] == {1: NOW - 1000 * DAY}
    assert all(kind != "mention_texts" for kind, *_ in uow.retention.calls)
    assert "mention_texts" not in {subject for _, _, subject, _ in uow.audit.entries}


def test_a_dry_run_counts_what_would_go_and_keeps_everything() -> None:
    old = {i: NOW - 100 * DAY for i in range(1, 6)}
    uow = store(deliveries=old)
    counts = purge(uow, SETTINGS, NOW, batch=2, dry_run=True)
    assert counts["deliveries"] == 5
    assert uow.retention.rows["deliveries"] == old
    assert uow.audit.entries == [] and uow.commits == 0


def test_a_purge_that_fails_midway_audits_what_went_and_stays_due() -> None:
    rows = {i: NOW - 40 * DAY for i in range(1, 6)}
    uow = FakeRetentionUnitOfWork(FakeRetentionRepository({"raw_payloads": rows}, fail_at=3))
    with pytest.raises(StoreError):
        purge(uow, SETTINGS, NOW, batch=2)
    assert sorted(uow.retention.rows["raw_payloads"]) == [5]  # two batches were committed before the failure
    [(_, _, subject, detail)] = uow.audit.entries
    assert subject == "raw_payloads" and detail["count"] == 4 and detail["finished"] is False
    assert purge_due(uow, NOW + timedelta(minutes=15))


def test_a_purge_is_due_once_a_day() -> None:
    uow = store()
    assert purge_due(uow, NOW)
    purge(uow, SETTINGS, NOW)
    assert not purge_due(uow, NOW + timedelta(minutes=15))
    assert not purge_due(uow, NOW + timedelta(hours=22))
    # a daily cron reaching the purge a few minutes earlier than yesterday still purges today
    assert purge_due(uow, NOW + DAY - timedelta(minutes=5))


def test_a_last_purge_dated_in_the_future_does_not_stop_purging() -> None:
    uow = store()
    purge(uow, SETTINGS, NOW + 30 * DAY)  # a clock that ran a month fast, since fixed
    assert purge_due(uow, NOW)


def test_the_cli_summary_names_every_kind_and_off_ones_as_null() -> None:
    counts = purge(store(raw_payloads={1: NOW - 40 * DAY}), RetentionSettings(deliveries="off"), NOW)
    out = io.StringIO()
    print_purge(counts, RetentionSettings(deliveries="off"), out, as_json=True, dry_run=True)
    assert json.loads(out.getvalue()) == {
        "dry_run": True,
        "raw_payloads": 1,
        "mention_texts": 0,
        "closed_cases": 0,
        "deliveries": None,
    }
    text = io.StringIO()
    print_purge(counts, RetentionSettings(deliveries="off"), text, as_json=False, dry_run=False)
    lines = text.getvalue().splitlines()
    assert lines[0] == "raw_payloads: 1 purged (kept 30d)"
    assert lines[-1] == "deliveries: kept forever (retention.deliveries is off)"
