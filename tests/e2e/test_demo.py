"""`kulak demo` as a newcomer runs it: every sample source lands in the database, nothing twice, no raw PII in Slack."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from loopback import appstore, bluesky, eksisozluk, googleplay, mastodon, news, reddit, sikayetvar, x
from store import db

KULAK = Path(sys.executable).with_name("kulak")
BRANDS = ("kuzey telekom", "mavi kargo", "deniz gsm")
# Contact details the samples write (loopback/data/*.json); they may reach Slack or the screen only masked.
PII = (
    "0532 123 45 67",
    "ayse.kaya.demo@example.com",
    "ayse.demir.demo@example.com",
    "0541 278 90 12",
    "0544 987 65 43",
    "kerem.demo@example.org",
    "0506 231 88 47",
    "0543 902 17 65",
    "tolga.sen.demo@example.com",
)
Run = subprocess.CompletedProcess[str]


def demo(out: Path, *args: str) -> Run:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KULAK_")}
    env = {**clean, "COLUMNS": "200", "PYTHONIOENCODING": "utf-8"}  # tables on one line a row, whatever the terminal
    return subprocess.run(
        [str(KULAK), "demo", "--out", str(out), *args],
        capture_output=True,
        text=True,
        cwd=out.parent,
        env=env,
        timeout=240,
        check=False,
    )


def expected_per_source() -> dict[str, int]:
    """Every sample post the demo's config reaches: all of them, less the feed stories that name no brand."""
    search, feeds = news.load_sample()
    on_topic = [
        item
        for feed in feeds.values()
        for item in feed.items
        if any(b in f"{item.title} {item.description}".casefold() for b in BRANDS)
    ]
    return {
        "sikayetvar": len(sikayetvar.load_sample()),
        "eksisozluk": sum(len(topic.entries) for topic in eksisozluk.load_sample()),
        "rss": len(search) + len(on_topic),
        "appstore": sum(map(len, appstore.load_sample().values())),
        "googleplay": sum(map(len, googleplay.load_sample().values())),
        "x": len(x.load_sample()[0]),
        "reddit": len(reddit.load_sample()),
        "mastodon": sum(map(len, mastodon.load_sample().values())),
        "bluesky": len(bluesky.load_sample()),
    }


def cells(stdout: str, label: str) -> list[str]:
    """The cells after the first one of the printed table row whose first cell is ``label``."""
    for line in stdout.splitlines():
        parts = [p.strip() for p in re.split(r"[│┃|]", line)]
        if len(parts) > 2 and parts[1] == label:
            return parts[2:-1]
    raise AssertionError(f"no table row {label!r} in:\n{stdout}")


def numbers(stdout: str, label: str) -> list[int]:
    return [int(c) for c in cells(stdout, label) if c.isdigit()]


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    engine = db.make_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def slack_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    out = tmp_path_factory.mktemp("demo") / "demo-out"
    return out, demo(out)


def test_the_demo_writes_its_folder(slack_run: tuple[Path, Run]) -> None:
    out, run = slack_run
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    for name in ("kulak.db", "kulak.toml", "customers.json", "slack-messages.jsonl"):
        assert (out / name).is_file(), name


def test_every_sample_source_lands_in_the_database_and_in_the_table(slack_run: tuple[Path, Run]) -> None:
    out, run = slack_run
    assert run.returncode == 0, run.stderr
    expected = expected_per_source()
    stored = dict(query(out / "kulak.db", "SELECT source, COUNT(*) FROM mentions GROUP BY source"))
    assert stored == expected
    for source, count in expected.items():
        requests, fetched, new, new_again = numbers(run.stdout, source)
        assert (new, new_again) == (count, 0), source
        assert requests >= 1 and fetched >= new, source
        assert cells(run.stdout, source)[-1] == "ok", source
    assert numbers(run.stdout, "all")[2] == sum(expected.values())
    first, second = numbers(run.stdout, "crawls")  # one per source and brand it watches, both runs
    assert first == second >= len(expected)


def test_the_second_run_stores_and_sends_nothing(slack_run: tuple[Path, Run]) -> None:
    out, run = slack_run
    assert run.returncode == 0, run.stderr
    stored = sum(expected_per_source().values())
    assert numbers(run.stdout, "mentions new") == [stored, 0]
    assert numbers(run.stdout, "mentions known")[0] == 0  # no source handed the same post over twice
    assert numbers(run.stdout, "crawl failures") == [0, 0]
    opened, opened_again = numbers(run.stdout, "tickets opened")
    assert opened > 0 and opened_again == 0
    sent, sent_again = numbers(run.stdout, "alerts sent")
    folded, folded_again = numbers(run.stdout, "alerts folded")
    # a backlog arrives at once: similar cases share one alert, each of them a line in its thread
    assert sent + folded == opened and sent > 0 and sent_again == folded_again == 0
    assert numbers(run.stdout, "alerts failed") == [0, 0]
    lines = [json.loads(line) for line in (out / "slack-messages.jsonl").read_text(encoding="utf-8").splitlines()]
    notes = [m for m in lines if m.get("thread_ts")]  # similar cases and later mentions, in the alert's thread
    assert len(lines) - len(notes) == sent and len(notes) >= folded
    assert f"the local Slack stand-in received {len(lines)} message(s)" in run.stdout
    (tickets,) = query(out / "kulak.db", "SELECT COUNT(*) FROM tickets")[0]
    alerts = query(out / "kulak.db", "SELECT COUNT(*) FROM deliveries WHERE status = 'sent' AND kind = 'alert'")
    assert tickets == opened and alerts[0][0] == sent


def test_slack_gets_contact_details_only_masked(slack_run: tuple[Path, Run]) -> None:
    out, run = slack_run
    assert run.returncode == 0, run.stderr
    raw = " ".join(str(t) for (t,) in query(out / "kulak.db", "SELECT text FROM mentions"))
    missing = [p for p in PII if p not in raw]
    assert not missing, f"the samples no longer carry {missing}: update PII"
    sent = (out / "slack-messages.jsonl").read_text(encoding="utf-8")
    fields = [f["text"] for line in sent.splitlines() for b in json.loads(line)["blocks"] for f in b.get("fields", [])]
    sources = {f.split("\n", 1)[1] for f in fields if f.startswith("*Kaynak / Source*")}
    assert {"x", "bluesky"} <= sources, sources  # alerts come from the new sources too
    cased = "SELECT DISTINCT m.source FROM tickets t JOIN mentions m ON m.id = t.mention_id"
    assert {"eksisozluk", "appstore", "x", "bluesky"} <= {s for (s,) in query(out / "kulak.db", cased)}
    for value in PII:
        assert value not in sent and value.replace(" ", "") not in sent, value
        assert value not in run.stdout, value
    assert "[TELEFON]" in sent and "[E-POSTA]" in sent


def test_no_slack_prints_the_alerts_instead(tmp_path: Path) -> None:
    run = demo(tmp_path / "demo-out", "--no-slack")
    assert run.returncode == 0, run.stdout + run.stderr
    opened = numbers(run.stdout, "tickets opened")[0]
    sent = numbers(run.stdout, "alerts sent")[0]
    assert opened > 0 and sent + numbers(run.stdout, "alerts folded")[0] == opened
    assert f"alerts printed above: {sent} message(s)" in run.stdout
    printed = re.findall(r"Kaynak / Source: (\w+)", run.stdout)
    assert len(printed) == sent
    assert {"sikayetvar", "mastodon", "reddit"} <= set(printed)
    assert "[TELEFON]" in run.stdout and not any(p in run.stdout for p in PII)
    assert (tmp_path / "demo-out" / "slack-messages.jsonl").read_text(encoding="utf-8") == ""
