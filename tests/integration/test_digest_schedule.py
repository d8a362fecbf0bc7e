"""Digests made when they fall due, once each, and sent through the outbox to a Slack-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from config.loader import load_settings
from loopback.slack import SlackServer
from responders.job import deliver_pending
from scheduler.bootstrap import App, bootstrap
from scheduler.digests import due_digests
from tests.support.digest_seed import COMPETITOR, OWN, plan, seed

TZ = ZoneInfo("Europe/Istanbul")
TOKEN = "xoxb-digest-test"


class NoAnalyzer:
    def analyze(self, text: str, **_: Any) -> Any:
        raise AssertionError("digests never analyse text")


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(TOKEN, {"care-alerts": "C0CARE01", "care-managers": "C0MGRS01"}) as server:
        yield server


def make_app(engine: Engine, slack: SlackServer, tmp_path: Path) -> App:
    config = tmp_path / "kulak.toml"
    config.write_text(
        f'[[brands]]\nname = "{OWN[0]}"\n\n[[brands]]\nname = "{OWN[1]}"\n\n'
        f'[[brands]]\nname = "{COMPETITOR}"\ncompetitor = true\n\n'
        f'[slack]\nbase_url = "{slack.url}/api/"\n\n'
        '[digests]\nchannel = "#care-managers"\nout_dir = "reports"\nweekly_at = ""\n',
        encoding="utf-8",
    )
    settings = load_settings(config, env={"KULAK_SLACK_TOKEN": TOKEN})
    return bootstrap(settings, engine=engine, sources=[], analyzer=NoAnalyzer())  # type: ignore[arg-type]


def test_due_digests_are_made_once_and_sent_with_their_charts(
    engine: Engine, slack: SlackServer, tmp_path: Path
) -> None:
    seed(engine, *plan())
    app = make_app(engine, slack, tmp_path)
    morning = datetime(2026, 12, 1, 9, 5, tzinfo=TZ)  # the daily (08:30) and monthly (1st, 09:00) digests are due
    made = due_digests(app, app.uow, morning)
    assert made["digests_day"] == 1 and made["digests_month"] == 1 and "digests_week" not in made  # weekly is off
    assert due_digests(app, app.uow, morning) == {}, "a digest is made once per period"
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["day-2026-11-30.html", "month-2026-11.html"]
    sent = deliver_pending(app.uow, app.outbox, ops=app.ops_alerters)
    assert sent["sent"] == 4 and not sent.get("rejected"), sent  # two periods, two brands
    posts = slack.posted("C0MGRS01")
    assert len(posts) == 4 and not slack.posted("C0CARE01")
    assert {OWN[0] in p.text or OWN[1] in p.text for p in posts} == {True}
    assert all(f.channel == "C0MGRS01" and f.thread_ts in {p.ts for p in posts} for f in slack.files)
    assert slack.files and all(f.content.startswith(b"\x89PNG") for f in slack.files)


def test_before_an_hour_is_due_or_before_listening_nothing_is_made(
    engine: Engine, slack: SlackServer, tmp_path: Path
) -> None:
    seed(engine, *plan())
    app = make_app(engine, slack, tmp_path)
    assert due_digests(app, app.uow, datetime(2026, 12, 1, 8, 0, tzinfo=TZ)) == {}  # 08:30 has not come yet
    # The seed's first mention was fetched on 1 October: no digest of September or of 30 September.
    assert due_digests(app, app.uow, datetime(2026, 10, 1, 10, 0, tzinfo=TZ)) == {}
