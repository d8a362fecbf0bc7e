"""Is each source well? Failed N runs in a row, or silent past its window: what doctor and the ops alert say."""

from __future__ import annotations

from datetime import datetime, timedelta

from crawlers.base import SourceConfig
from store.model import SourceProblem, SourceRun
from store.repository import UnitOfWork

HISTORY = 500  # runs looked at (of every brand) to find where a failure streak began


def check_source(uow: UnitOfWork, config: SourceConfig, now: datetime) -> SourceProblem | None:
    """The source's problem, if it has one; ``since`` is where it began, so one episode is one alert."""
    with uow:
        runs = uow.source_runs.recent(config.name, max(HISTORY, config.max_failures))
        first = uow.source_runs.first_started(config.name)
        last_new = uow.source_runs.last_new_at(config.name)
    streak = _longest_streak(runs)
    if len(streak) >= config.max_failures:
        latest = streak[0]
        why = latest.error or f"{latest.parse_failures} page(s) it could not read and nothing else"
        which = f" for {latest.brand}" if latest.brand else ""
        return SourceProblem(
            source=config.name,
            kind="failing",
            message=f"failed its last {len(streak)} runs{which}; the latest: {why}",
            since=streak[-1].started_at,
        )
    if first is None:
        return None
    quiet_since = last_new or first
    window = timedelta(seconds=config.silence)
    if now - quiet_since > window:
        what = f"since {quiet_since:%Y-%m-%d %H:%M} UTC" if last_new else "since its first run"
        return SourceProblem(
            source=config.name,
            kind="silent",
            message=f"no new mention {what}, longer than its {_span(window)} silence window",
            since=quiet_since,
        )
    return None


def _longest_streak(runs: list[SourceRun]) -> list[SourceRun]:
    """The longest run of unhealthy crawls, newest first, that one brand of the source is on now: each brand is
    crawled on its own schedule, and one brand failing every time is a problem even when the others are well."""
    streaks: dict[str | None, list[SourceRun]] = {}
    ended: set[str | None] = set()
    for run in runs:  # newest first
        if run.brand in ended:
            continue
        if run.healthy:
            ended.add(run.brand)
            continue
        streaks.setdefault(run.brand, []).append(run)
    return max(streaks.values(), key=len, default=[])


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
