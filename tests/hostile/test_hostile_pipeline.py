"""The hostile corpus through every stage: a local Mastodon serves it, the real stages store, analyse, match, route
and deliver it to a local Slack, and a digest is written as HTML; what went over the wire and into files is checked."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape as html_escape
from typing import Any

import pytest
from sqlalchemy import Engine, text

from config.loader import load_settings
from loopback.mastodon import TAG_PREFIX, MastodonInstance, status
from loopback.server import Reply
from loopback.slack import SlackMessage, SlackServer
from responders.job import deliver_pending
from responders.periods import period_containing
from responders.slack_text import escape
from scheduler.bootstrap import App, bootstrap
from scheduler.digests import make_digest
from scheduler.logs import make_handler
from scheduler.pipeline import RunReport, run_once
from store import db
from store.model import CrawlState, MentionStatus, RawMention
from store.repository import AddResult
from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.conftest import throwaway_database
from tests.hostile import corpus

CHANNELS = {"care-alerts": "C0CARE01", "care-managers": "C0MGRS01", "kulak-ops": "C0OPS001"}
FIRST_ID = 114_000_000_000_000_000
CONFIG = """
[[brands]]
name = "Kuzey Telekom"
hashtags = ["#KuzeyTelekom"]

[crawl]
retries = 0
backoff = 0.01

[[sources]]
name = "fediverse"
type = "mastodon"
base_url = "{good}"
delay = [0.0, 0.0]
timeout = 5
tags = {{ "Kuzey Telekom" = ["kuzeytelekom", "kuzeydestek"] }}

[[sources]]
name = "broken-instance"
type = "mastodon"
base_url = "{broken}"
delay = [0.0, 0.0]
timeout = 5
tags = {{ "Kuzey Telekom" = ["kuzeytelekom"] }}

[slack]
channel = "#care-alerts"
base_url = "{slack}/api/"

[alerts]
budget = 1000
burst_window = "1s"
quiet_hours = []

[tickets]
needs_reply = true

[digests]
channel = "#care-managers"
top = 50
"""
#: Slack control sequences: a ping, a user or channel mention, a link with a label. None may come from user text.
#: Links to the posts themselves (the status URLs the instance gave) are Kulak's own and allowed.
LIVE_MRKDWN = re.compile(r"<[!@#][^>]*>|<(?!https://mastodon\.example/)[a-z]+:[^>|]*\|[^>]*>")


@dataclass
class Cycle:
    app: App
    report: RunReport
    slack: SlackServer
    messages: list[SlackMessage]
    html: str
    log: str
    url: str


def _statuses(now: datetime) -> list[dict[str, Any]]:
    made = []
    for n, item in enumerate(corpus.ALL):
        # Feeds read entities twice ("&amp;quot;" is a quote): a post that shows "&lt;" is escaped twice more.
        html = f"<p>{html_escape(html_escape(item.text))}</p>" if "&" in item.text else None
        made.append(status(FIRST_ID + n, item.text, now - timedelta(minutes=n + 5), acct=f"yazar{n}", html=html))
    odd = status(FIRST_ID + 90, "", now - timedelta(minutes=1), acct="kirik", html=corpus.MALFORMED_HTML)
    odd["url"] = "javascript:alert(document.domain)"  # a link no reader may get to click
    made.append(odd)
    return made


def _invalid_utf8_page(now: datetime) -> bytes:
    """A timeline whose one status carries bytes that are not UTF-8 (built by hand: json.dumps cannot)."""
    marker = "@@TEXT@@"
    good = status(FIRST_ID + 95, marker, now - timedelta(minutes=2), acct="bozuk")
    return json.dumps([good], ensure_ascii=False).encode().replace(marker.encode(), corpus.INVALID_UTF8_TEXT)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def cycle(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cycle]:
    tmp = tmp_path_factory.mktemp(f"hostile-{request.param}")
    now = datetime.now(UTC)
    for url in throwaway_database(request.param, tmp, "kulak_hostile"):
        with MastodonInstance() as good, MastodonInstance() as broken, SlackServer(channels=CHANNELS) as slack:
            good.post("kuzeytelekom", *_statuses(now))
            body = _invalid_utf8_page(now)
            headers = {"Content-Type": "application/json; charset=utf-8"}
            good.inject(Reply(200, body, headers), path=f"{TAG_PREFIX}kuzeydestek", times=5)
            for bad in corpus.MALFORMED_JSON:  # one broken body per crawl, in turn
                broken.inject(Reply(200, bad, headers))
            config = tmp / "kulak.toml"
            config.write_text(CONFIG.format(good=good.url, broken=broken.url, slack=slack.url), encoding="utf-8")
            env = {
                "KULAK_SLACK_TOKEN": SlackServer.DEFAULT_TOKEN,
                "KULAK_IDENTITY_KEY": "hostile-tests-identity-key-01",
                "KULAK_DATABASE_URL": url,
            }
            settings = load_settings(config, env=env)
            engine = db.make_engine(url)
            sink = io.StringIO()
            handler = make_handler("json", stream=sink)
            root = logging.getLogger()
            root.addHandler(handler)
            try:
                app = bootstrap(settings, engine=engine, helpdesks=[], mailers=[])
                report = run_once(app, force=True)
                period = period_containing("day", now.astimezone(UTC).date(), settings.sla.timezone)
                made = make_digest(app, period, send=True, out=tmp / "digests", now=now)
                deliver_pending(app.uow, app.outbox, ops=app.ops_alerters)
                assert made.report is not None
                html = made.report.read_text(encoding="utf-8")
                yield Cycle(app, report, slack, list(slack.messages), html, sink.getvalue(), url)
            finally:
                root.removeHandler(handler)
                engine.dispose()


def _wire(messages: list[SlackMessage]) -> list[str]:
    """Every piece of text a message carries: the fallback and each string anywhere in its blocks."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for m in messages:
        found.append(m.text)
        walk(m.blocks)
    return found


def test_every_hostile_mention_is_stored_once_verbatim_and_analysed(cycle: Cycle) -> None:
    with cycle.app.uow as uow:
        counts = uow.mentions.count_by_status()
        rows = uow.session.execute(text("SELECT text, url FROM mentions")).all()  # type: ignore[attr-defined]
    texts = [row[0] for row in rows]
    for item in corpus.ALL:
        expected = " ".join(item.text.replace("\x00", "").split())  # as Mastodon's HTML reads: blanks squeezed
        assert texts.count(expected) == 1, f"{item.name} stored {texts.count(expected)} times"
    assert max(len(t) for t in texts) == len(" ".join(corpus.HUGE.text.split()))  # 100 KB kept: readers get it cut
    assert "'; DROP TABLE mentions; --" in "".join(texts)  # verbatim, and the table is still there
    assert not any("\x00" in t for t in texts)
    assert set(counts) == {"routed"}, counts  # analysed, matched and routed, none failed
    assert cycle.report.analyzed["failed"] == 0 and cycle.report.failed_jobs == []


def test_no_user_text_reaches_slack_as_a_live_ping_link_or_mention(cycle: Cycle) -> None:
    alerts = [m for m in cycle.messages if m.channel == "C0CARE01"]
    with cycle.app.uow as uow:
        assert uow.tickets.count() == len(corpus.ALL) + 2  # each post is a case, its alert sent or folded
    shown = "\n".join(m.text for m in alerts)
    for item in (*corpus.SLACK_MRKDWN, *corpus.HTML):
        head = " ".join(item.text.split())[:40]
        assert escape(head) in shown, f"{item.name} never reached the agents"
    for piece in _wire(cycle.messages):
        live = [x for x in LIVE_MRKDWN.findall(piece) if not x.startswith("<!date^")]
        assert live == [], f"a live Slack control sequence reached Slack: {live[:3]}"
    wire = "\n".join(_wire(cycle.messages))
    assert "&lt;!channel&gt;" in wire and "&lt;@U012ABCDEF&gt;" in wire
    assert "&lt;https://evil.example|click me&gt;" in wire
    assert "&amp;lt;!channel&amp;gt;" in wire  # pre-escaped entities stay literal text
    assert "javascript:" not in "".join(str(m.blocks) for m in alerts if "<javascript" in str(m.blocks))


def test_bidi_overrides_never_reach_a_reader(cycle: Cycle) -> None:
    wire = "\n".join(_wire(cycle.messages))
    for ch in corpus.BIDI_CONTROLS:
        assert ch not in wire, f"U+{ord(ch):04X} reached Slack"
        assert ch not in cycle.html, f"U+{ord(ch):04X} reached the HTML digest"
    assert "etarif" in wire  # the words stay, only their reordering goes


def test_every_slack_message_is_within_slacks_limits(cycle: Cycle) -> None:
    # The stand-in refuses what Slack would (msg_too_long, invalid_blocks): nothing may have been refused.
    with cycle.app.uow as uow:
        outbox = uow.deliveries.count_by_status()
    assert set(outbox) == {"sent"}, outbox
    huge = [m for m in cycle.messages if "Uzun şikâyet" in m.text]
    assert huge and all(len(m.text) <= 4000 for m in huge)
    assert all(len(json.dumps(m.blocks)) < 40_000 for m in cycle.messages)


def test_the_html_digest_runs_no_user_markup(cycle: Cycle) -> None:
    html = cycle.html
    body = html.split("<body", 1)[1]
    assert "&lt;script&gt;" in body  # the complaint about a script is shown, as text
    for item in (*corpus.SLACK_MRKDWN, *corpus.HTML):
        for live in item.live:
            assert live not in body, f"{item.name}: {live!r} is live in the HTML report"
    assert "onerror=&#34;alert(1)&#34;" in body or "onerror=&quot;alert(1)&quot;" in body  # as text, quoted
    assert 'href="javascript:' not in body.lower()


def test_broken_source_bodies_are_parse_errors_and_lose_nothing_else(cycle: Cycle) -> None:
    runs = {run.source: run for run in cycle.report.crawl.runs}
    broken, good = runs["broken-instance"], runs["fediverse"]
    assert broken.parse_failures == 1 and broken.new == 0
    assert "did not answer JSON" in cycle.log and "broken-instance" in cycle.log
    assert good.ok and good.new == len(corpus.ALL) + 2  # the corpus, the malformed-HTML status, the bad bytes one


def test_invalid_utf8_is_decoded_with_replacement_characters(cycle: Cycle) -> None:
    with cycle.app.uow as uow:
        rows = uow.session.execute(text("SELECT text FROM mentions WHERE author_handle = '@bozuk'")).all()  # type: ignore[attr-defined]
    (row,) = rows
    assert "\ufffd" in row[0] and row[0].startswith("Kuzey Telekom fatura") and "geldi" in row[0]


def test_malformed_html_in_a_status_becomes_its_text(cycle: Cycle) -> None:
    with cycle.app.uow as uow:
        rows = uow.session.execute(text("SELECT text FROM mentions WHERE author_handle = '@kirik'")).all()  # type: ignore[attr-defined]
    (row,) = rows
    assert "kapanmayan" in row[0] and "faturam yanlış" in row[0] and "<" not in row[0]


def test_nul_bytes_and_overlong_fields_do_not_fail_a_batch(engine: Engine) -> None:
    """One post with a NUL byte or a 400-character author name must not cost the others (PostgreSQL refuses both)."""
    now = datetime.now(UTC)
    posts = [
        RawMention("x", "nul", "https://x.example/1", "Kuzey\x00 Telekom", now, title="t\x00", author="A\x00"),
        RawMention("x", "long", "https://x.example/2", "Kuzey Telekom", now, author="Ş" * 400, language="tr-TR-x-" * 5),
        RawMention("x", "plain", "https://x.example/3", "Kuzey Telekom faturam", now),
    ]
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert uow.mentions.add_many(posts).added == 3
        uow.commit()
    with uow:
        stored = {m.raw.external_id: m.raw for m in uow.mentions.with_status(MentionStatus.NEW)}
    assert stored["nul"].text == "Kuzey Telekom" and stored["nul"].author == "A"
    assert len(stored["long"].author) == 300 and stored["plain"].text == "Kuzey Telekom faturam"


def test_a_feed_item_whose_id_is_a_long_link_is_stored_once_with_its_page(engine: Engine) -> None:
    """A news feed's item id is its link, which can run past the id column (PostgreSQL refused it, and the page)."""
    now = datetime.now(UTC)
    link = "https://haber.example/rss/articles/" + "CBMiK2h0dHBzOi8v" * 20  # 355 characters
    other = link[:-1] + "x"  # the same first 200 characters, another item
    posts = [
        RawMention("rss", link, link, "Kuzey Telekom zam yaptı", now),
        RawMention("rss", other, other, "Kuzey Telekom kesinti", now),
        RawMention("rss", "kisa", "https://haber.example/1", "Kuzey Telekom yeni tarife", now),
    ]
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert uow.mentions.add_many(posts).added == 3
        uow.commit()
    with uow:  # the next crawl brings the same items: nothing new
        assert uow.mentions.add_many(posts) == AddResult(0, 3)
        uow.commit()
    with uow:
        ids = [m.raw.external_id for m in uow.mentions.with_status(MentionStatus.NEW)]
        uow.crawl_state.save(CrawlState("rss", "Kuzey Telekom", last_seen_id=link, last_seen_at=now))
        uow.commit()
    assert len(ids) == 3 and "kisa" in ids and all(len(i) <= 200 for i in ids)
    assert all(i.startswith(link[:100]) for i in ids if i != "kisa")  # still readable where people see it
    with uow:
        (state,) = uow.crawl_state.for_source("rss")
    assert state.last_seen_id is not None and state.last_seen_id.startswith(link[:100])
