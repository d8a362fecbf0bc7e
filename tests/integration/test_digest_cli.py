"""`kulak digest` as a manager runs it: its figures agree with `kulak stats`, and with the seed they came from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from store import db
from tests.integration.test_cli import kulak
from tests.support.digest_seed import COMPETITOR, NOV, OCT, OWN, expected, plan, seed

CONFIG = f"""[[brands]]
name = "{OWN[0]}"

[[brands]]
name = "{OWN[1]}"

[[brands]]
name = "{COMPETITOR}"
competitor = true

[[sources]]
name = "sikayetvar"
type = "sikayetvar"

[digests]
language = "en"
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("digest-cli")
    (where / "kulak.toml").write_text(CONFIG, encoding="utf-8")
    engine = db.make_engine(f"sqlite:///{where / 'kulak.db'}")
    db.upgrade(engine)
    seed(engine, *plan())
    engine.dispose()
    return where


def run_json(workdir: Path, *args: str) -> Any:
    done = kulak(*args, "--json", cwd=workdir)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_digest_figures_agree_with_stats_queries_and_the_seed(workdir: Path) -> None:
    digest = run_json(workdir, "digest", "--period", "month", "--at", "2026-11-15")
    assert digest["period"]["label"] == "2026-11" and digest["language"] == "en"
    assert [b["brand"] for b in digest["brands"]] == list(OWN)  # the competitor gets no digest of its own
    mentions, cases = plan()
    for brand in digest["brands"]:
        name = brand["brand"]
        truth = expected(mentions, cases, name, NOV, NOV.replace(month=12))
        by_source = run_json(
            workdir, "stats", "mentions", "--brand", name, "--from", "2026-11-01", "--to", "2026-12-01"
        )
        assert by_source["total"] == brand["volume"]["now"] == truth["volume"]
        assert by_source["counts"] == {c["label"]: c["now"] for c in brand["by_source"] if c["now"]}
        topics = run_json(workdir, "stats", "mentions", "--brand", name, "--by", "topic", "--period", "month",
                          "--at", "2026-11-02")  # fmt: skip
        assert all(topics["counts"][c["label"]] == c["now"] for c in brand["topics"])
        assert [c["now"] for c in brand["topics"]] == sorted(topics["counts"].values(), reverse=True)[:5]
        care = run_json(workdir, "stats", "cases", "--brand", name, "--period", "month", "--at", "2026-11-30")
        assert care["opened"] == brand["cases_opened"]["now"] == truth["opened"]
        assert care["resolved"] == brand["cases_resolved"]["now"] == truth["resolved"]
        assert care["sla_breaches"] == brand["sla_breaches"]["now"]
        assert care["first_response"] == brand["first_response"] and care["resolution"] == brand["resolution"]
        assert care["agents"] == {c["label"]: c["now"] for c in brand["agents"] if c["now"]}
        october = run_json(workdir, "stats", "cases", "--brand", name, "--from", "2026-10-01", "--to", "2026-11-01")
        assert (
            october["opened"] == brand["cases_opened"]["before"] == expected(mentions, cases, name, OCT, NOV)["opened"]
        )


def test_the_html_report_is_written_where_asked(workdir: Path) -> None:
    done = kulak("digest", "--period", "week", "--at", "2026-11-18", "--out", "out", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert "week 2026-W47" in done.stdout and f"{OWN[0]}:" in done.stdout
    report = workdir / "out" / "week-2026-W47.html"
    assert report.exists() and OWN[1] in report.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("digest", "--period", "fortnight"), "unknown period 'fortnight'"),
        (("digest", "--brand", "Nobody"), "no brand named 'Nobody'"),
        (("digest", "--at", "23.11.2026"), "--at expects a date"),
        (("stats", "mentions", "--brand", OWN[0], "--by", "mood"), "cannot count mentions by 'mood'"),
        (("stats", "cases", "--brand", OWN[0], "--from", "2026-11-05"), "--from and --to go together"),
    ],
)
def test_bad_input_is_one_clear_line(workdir: Path, args: tuple[str, ...], message: str) -> None:
    done = kulak(*args, cwd=workdir)
    assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr
