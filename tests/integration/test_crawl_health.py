"""The crawl stage records each source's health; failing or silent sources reach doctor and the ops channel."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from crawlers.base import FETCHED, PARSE_FAILURES, REQUESTS, BaseSource, CrawlResult, SourceConfig
from crawlers.health import check_source
from crawlers.job import crawl_all, is_due
from loopback.slack import SlackServer
from responders.job import deliver_pending
from responders.ops import queue_ops_alerts
from responders.slack import ConsoleAlerter, SlackAlerter, slack_client
from store.errors import SourceBlocked
from store.model import Brand, CrawlState, RawMention
from store.sqlalchemy import SqlAlchemyUnitOfWork

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KUZEY, MAVI = Brand("Kuzey Telekom"), Brand("Mavi Kargo")


class ScriptedSource(BaseSource):
    """A source whose answers the test sets: a number of new items, a parse failure, or an error."""

    kind = "scripted"
    default_base_url = "http://127.0.0.1:9"

    def __init__(self, config: SourceConfig) -> None:
        super().__init__(config)
        self.script: list[int | Exception | str] = []
        self.next_id = 0

    def collect(self, brand: Brand, state: CrawlState | None) -> CrawlResult:
        step = self.script.pop(0) if self.script else 0
        if isinstance(step, Exception):
            raise step
        stats: Counter[str] = Counter({REQUESTS: 1, "new": 99})  # a source's own "new" is not what was stored
        if step == "unreadable":
            stats[PARSE_FAILURES] += 1
            return CrawlResult([], self.state_for(brand, state), stats)
        mentions = []
        for _ in range(int(step)):
            self.next_id += 1
            mentions.append(
                RawMention("scripted", str(self.next_id), f"http://x/{self.next_id}", f"metin {self.next_id}", T0)
            )
        stats[FETCHED] += len(mentions)
        return CrawlResult(mentions, self.state_for(brand, state), stats)


def source(**config: object) -> ScriptedSource:
    settings = {"name": "scripted", "base_url": "http://127.0.0.1:9", "max_failures": 3, "silence": 86400.0, **config}
    return ScriptedSource(SourceConfig(**settings))  # type: ignore[arg-type]


def at(*minutes: float) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in minutes]


def test_a_run_records_what_the_source_fetched_kept_and_lost(engine: Engine) -> None:
    uow, src = SqlAlchemyUnitOfWork(engine), source(brands=frozenset({"Kuzey Telekom"}))
    src.script = [3]
    report = crawl_all(uow, [src], [KUZEY, MAVI], clock=lambda: T0)
    assert report.total_added == 3 and list(report.added) == ["scripted:Kuzey Telekom"]  # Mavi is not watched
    with uow:
        (run,) = uow.source_runs.recent("scripted")
    assert (run.ok, run.requests, run.fetched, run.new, run.duplicates, run.parse_failures) == (True, 1, 3, 3, 0, 0)


def test_one_brand_failing_fails_the_run_but_not_the_other_brand(engine: Engine) -> None:
    uow, src = SqlAlchemyUnitOfWork(engine), source()
    src.script = [SourceBlocked("HTTP 403"), 2]
    report = crawl_all(uow, [src], [KUZEY, MAVI], clock=lambda: T0)
    assert report.added["scripted:Mavi Kargo"] == 2 and "scripted:Kuzey Telekom" in report.failed
    with uow:
        mavi, kuzey = uow.source_runs.recent("scripted")  # one run per brand, newest first
        assert uow.source_runs.recent("scripted", brand="Mavi Kargo") == [mavi]
    assert (kuzey.brand, kuzey.ok, kuzey.error) == ("Kuzey Telekom", False, "SourceBlocked: HTTP 403")
    assert (mavi.brand, mavi.ok, mavi.new) == ("Mavi Kargo", True, 2)


def test_a_source_is_due_when_its_interval_is_up(engine: Engine) -> None:
    uow, src = SqlAlchemyUnitOfWork(engine), source(interval=600.0)
    assert is_due(uow, src, KUZEY, T0)
    crawl_all(uow, [src], [KUZEY], clock=lambda: T0)
    assert not is_due(uow, src, KUZEY, T0 + timedelta(minutes=5))
    assert is_due(uow, src, KUZEY, T0 + timedelta(minutes=9, seconds=30))  # a tenth early (at most 60 s) is on time
    assert is_due(uow, src, MAVI, T0 + timedelta(minutes=5))  # each brand has its own clock
    report = crawl_all(uow, [src], [KUZEY, MAVI], only_due=True, clock=lambda: T0 + timedelta(minutes=5))
    assert report.not_due == ["scripted:Kuzey Telekom"] and [r.brand for r in report.runs] == ["Mavi Kargo"]


def test_failing_n_runs_in_a_row_is_a_problem_that_began_with_the_first_failure(engine: Engine) -> None:
    uow, src = SqlAlchemyUnitOfWork(engine), source()
    src.script = [1, SourceBlocked("HTTP 403"), "unreadable", SourceBlocked("HTTP 403")]
    for when in at(0, 15, 30):
        crawl_all(uow, [src], [KUZEY], clock=lambda when=when: when)
        assert check_source(uow, src.config, when) is None
    crawl_all(uow, [src], [KUZEY], clock=lambda: at(45)[0])
    problem = check_source(uow, src.config, at(45)[0])
    assert problem is not None and problem.kind == "failing" and problem.since == at(15)[0]
    assert "failed its last 3 runs" in problem.message and "HTTP 403" in problem.message
    src.script = [1]  # recovered
    crawl_all(uow, [src], [KUZEY], clock=lambda: at(60)[0])
    assert check_source(uow, src.config, at(60)[0]) is None


def test_one_brand_failing_every_time_is_a_problem_while_another_brand_is_well(engine: Engine) -> None:
    uow, src = SqlAlchemyUnitOfWork(engine), source(max_failures=3)
    src.script = [SourceBlocked("HTTP 403"), 1] * 3  # Kuzey fails, Mavi succeeds, in turn
    for when in at(0, 15):
        crawl_all(uow, [src], [KUZEY, MAVI], clock=lambda when=when: when)
        assert check_source(uow, src.config, when) is None
    crawl_all(uow, [src], [KUZEY, MAVI], clock=lambda: at(30)[0])
    problem = check_source(uow, src.config, at(30)[0])
    assert problem is not None and problem.since == T0
    assert "failed its last 3 runs for Kuzey Telekom" in problem.message


def test_no_new_mention_for_longer_than_the_window_is_silence(engine: Engine) -> None:
    uow, src = SqlAlchemyUnitOfWork(engine), source(silence=3600.0)
    src.script = [2, 0, 0]
    for when in at(0, 30, 70):
        crawl_all(uow, [src], [KUZEY], clock=lambda when=when: when)
    assert check_source(uow, src.config, at(59)[0]) is None
    problem = check_source(uow, src.config, at(70)[0])
    assert problem is not None and problem.kind == "silent" and problem.since == T0
    assert "1h silence window" in problem.message


def test_a_never_crawled_source_has_no_problem_yet(engine: Engine) -> None:
    assert check_source(SqlAlchemyUnitOfWork(engine), source().config, T0) is None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_ops_alert_goes_to_the_ops_channel_once_per_episode(engine: Engine) -> None:
    uow, src = SqlAlchemyUnitOfWork(engine), source(max_failures=2)
    src.script = [SourceBlocked("HTTP 403 <!channel>")] * 2
    for when in at(0, 15):
        crawl_all(uow, [src], [KUZEY], clock=lambda when=when: when)
    problem = check_source(uow, src.config, at(15)[0])
    assert problem is not None
    with SlackServer(channels={"care-alerts": "C0CARE01", "kulak-ops": "C0OPS01"}) as slack:
        client = slack_client(SlackServer.DEFAULT_TOKEN, f"{slack.url}/api/")
        ops = SlackAlerter(client, "#kulak-ops")
        assert queue_ops_alerts(uow, [problem], [ops])["ops_alerts_queued"] == 1
        assert queue_ops_alerts(uow, [problem], [ops])["ops_alerts_known"] == 1  # the same episode
        assert deliver_pending(uow, {"slack": SlackAlerter(client, "#care-alerts")})["sent"] == 1
        (message,) = slack.posted()
    assert message.channel == "C0OPS01" and not slack.posted("#care-alerts")
    assert "scripted" in message.text and "&lt;!channel&gt;" in message.text and "<!channel>" not in message.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_slack_the_ops_alert_is_printed_as_plain_text(engine: Engine) -> None:
    uow, src = SqlAlchemyUnitOfWork(engine), source(max_failures=1)
    src.script = [SourceBlocked("HTTP 403 & \x1b[31mred")]
    crawl_all(uow, [src], [KUZEY], clock=lambda: T0)
    problem = check_source(uow, src.config, T0)
    assert problem is not None
    printed = io.StringIO()
    console = ConsoleAlerter(printed)
    queue_ops_alerts(uow, [problem], [console])
    assert deliver_pending(uow, {"console": console})["sent"] == 1
    text = printed.getvalue()
    assert "Source failing: scripted" in text and "HTTP 403 & [31mred" in text  # not "&amp;"
    assert "\x1b" not in text  # no terminal escape reaches the operator's screen
