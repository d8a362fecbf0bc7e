"""A digest of a seeded store reports exactly the figures counted from the seed plan, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from responders.digest import DigestScope, build_digest, percentile
from responders.digest_model import BrandDigest
from responders.periods import period_containing
from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.support.digest_seed import COMPETITOR, NOV, NOW, OCT, OWN, expected, plan, seed

ZONE = "Europe/Istanbul"


@pytest.fixture
def seeded(engine: Engine) -> tuple[Engine, list[int]]:
    mentions, cases = plan()
    return engine, seed(engine, mentions, cases)


def _digest(engine: Engine) -> dict[str, BrandDigest]:
    scope = DigestScope(brands=OWN, competitors=(COMPETITOR,), complaint_sources=("sikayetvar",), top=3)
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        digest = build_digest(uow, scope, period_containing("month", date(2026, 11, 5), ZONE), now=NOW)
    assert digest.period.label == "2026-11" and digest.previous.label == "2026-10"
    return {b.brand: b for b in digest.brands}


@pytest.mark.parametrize("brand", OWN)
def test_every_figure_matches_the_plan(seeded: tuple[Engine, list[int]], brand: str) -> None:
    engine, _ = seeded
    mentions, cases = plan()
    now, before = (
        expected(mentions, cases, brand, NOV, NOW.replace(day=1, hour=0)),
        expected(mentions, cases, brand, OCT, NOV),
    )
    got = _digest(engine)[brand]
    assert now["volume"] > 50 and before["volume"] > 40, "the seed should give a month of mentions"
    assert (got.volume.now, got.volume.before) == (now["volume"], before["volume"])
    assert {c.label: (c.now, c.before) for c in got.by_source} == {
        k: (now["by_source"].get(k, 0), before["by_source"].get(k, 0))  # type: ignore[union-attr]
        for k in set(now["by_source"]) | set(before["by_source"])  # type: ignore[arg-type]
    }
    assert [c.label for c in got.sentiment] == ["positive", "neutral", "negative"]
    assert {c.label: c.now for c in got.sentiment} == now["sentiment"]
    assert {c.label: c.before for c in got.sentiment} == before["sentiment"]
    assert got.net_sentiment.now == pytest.approx(now["net"]) and got.net_sentiment.before == pytest.approx(
        before["net"]
    )
    topics_now: dict[str, int] = now["topics"]  # type: ignore[assignment]
    ranked = sorted(topics_now.items(), key=lambda kv: (-kv[1], -before["topics"].get(kv[0], 0), kv[0]))  # type: ignore[union-attr]
    assert [(c.label, c.now) for c in got.topics] == ranked[:3]
    assert {c.label: c.now for c in got.intents if c.now} == now["intents"]
    assert (got.cases_opened.now, got.cases_opened.before) == (now["opened"], before["opened"])
    assert (got.cases_resolved.now, got.cases_resolved.before) == (now["resolved"], before["resolved"])
    assert (got.sla_breaches.now, got.sla_breaches.before) == (now["breached"], before["breached"])
    response: list[float] = now["response"]  # type: ignore[assignment]
    assert got.first_response.count == len(response) > 0
    assert got.first_response.median == pytest.approx(percentile(response, 0.5))
    assert got.first_response.p90 == pytest.approx(percentile(response, 0.9))
    resolution: list[float] = now["resolution"]  # type: ignore[assignment]
    assert (got.resolution.count, got.resolution.median) == (
        len(resolution),
        pytest.approx(percentile(resolution, 0.5)),
    )
    assert got.resolution_before.count == len(before["resolution"])  # type: ignore[arg-type]
    assert {c.label: c.now for c in got.agents} == now["agents"]
    assert {c.label: c.now for c in got.open_by_age} == now["open_by_age"]
    assert got.sikayetvar_resolved is not None
    solved, total = now["sikayetvar"]  # type: ignore[misc]
    assert (got.sikayetvar_resolved.count_now, got.sikayetvar_resolved.now) == (total, pytest.approx(solved / total))
    assert len(got.held) == len(now["held"])  # type: ignore[arg-type]
    assert sum(n for _, n in got.timeline) == now["volume"] and len(got.timeline) == 30


def test_share_of_voice_counts_a_mention_for_each_brand_it_names(seeded: tuple[Engine, list[int]]) -> None:
    engine, _ = seeded
    mentions, cases = plan()
    end = NOW.replace(day=1, hour=0)
    got = _digest(engine)[OWN[0]]
    mine, theirs = (expected(mentions, cases, b, NOV, end)["volume"] for b in (OWN[0], COMPETITOR))
    assert [s.label for s in got.share_of_voice] == [OWN[0], COMPETITOR]
    assert got.share_of_voice[0].count_now == mine and got.share_of_voice[1].count_now == theirs
    assert got.share_of_voice[0].now == pytest.approx(mine / (mine + theirs))  # type: ignore[operator]


def test_month_edges_follow_local_midnight(seeded: tuple[Engine, list[int]]) -> None:
    """The seed puts a mention at 00:00 on 1 November and one a second before (Istanbul time), one with only a
    fetch time on 30 November and one at 00:00 on 1 December: exactly two of them are November's."""
    engine, _ = seeded
    mentions, _ = plan()
    edges = mentions[-4:]
    in_november = [m for m in edges if NOV <= m.moment < NOW.replace(day=1, hour=0)]
    assert len(in_november) == 2
    got = _digest(engine)[OWN[0]]
    assert got.timeline[0][0] == "11-01" and got.timeline[-1][0] == "11-30"


def test_the_most_urgent_open_case_comes_first(seeded: tuple[Engine, list[int]]) -> None:
    engine, _ = seeded
    _, cases = plan()
    got = _digest(engine)[OWN[0]]
    open_cases = [c for c in cases if c.brand == OWN[0] and c.status in ("new", "assigned", "waiting")]
    rank = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    best = min(rank[c.priority] for c in open_cases)
    assert got.urgent and rank[got.urgent[0].priority] == best
    assert [rank[u.priority] for u in got.urgent] == sorted(rank[u.priority] for u in got.urgent)
    assert all(u.url.startswith("https://example.test/") for u in got.urgent)
