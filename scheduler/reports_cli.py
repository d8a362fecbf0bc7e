"""`kulak digest` and `kulak stats`: the managers' reports, and the queries that check their figures."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from responders.digest import digest_json, durations
from responders.digest_model import Digest, Period
from responders.periods import KINDS, period_containing
from scheduler.digests import choose_period, make_digest, scope_of
from store.errors import InputError
from store.reports import MENTION_DIMENSIONS

stats_app = typer.Typer(no_args_is_help=True, help="Counts from the store, as digests count them.")
PeriodOpt = Annotated[str, typer.Option("--period", help=f"One of {', '.join(KINDS)}.")]
AtOpt = Annotated[
    str | None, typer.Option("--at", help="A date (YYYY-MM-DD) in the period wanted; default: the last complete one.")
]


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} expects a date like 2026-11-23, got {text[:30]!r}") from None


def _span(ctx: typer.Context, period: str, at: str | None, start: str | None, end: str | None) -> Period:
    """The period asked for: --from/--to (end excluded) or --period with --at."""
    settings = ctx.obj.settings()
    zone = settings.sla.timezone
    first, last = _date(start, "--from"), _date(end, "--to")
    if first is None and last is None:
        return choose_period(settings, period, _date(at, "--at"), datetime.now(UTC))
    if first is None or last is None or last <= first:
        raise InputError("--from and --to go together, and --to (excluded) must come after --from")
    begin, stop = period_containing("day", first, zone), period_containing("day", last, zone)
    return Period("custom", begin.start, stop.start, f"{first}..{last}")


def digest(
    ctx: typer.Context,
    period: PeriodOpt = "day",
    brand: Annotated[str | None, typer.Option("--brand", help="Only this brand (default: digests.brands).")] = None,
    at: AtOpt = None,
    send: Annotated[bool, typer.Option("--send", help="Send it: Slack and e-mail, as configured.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the HTML report into this directory.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as one JSON object.")] = False,
) -> None:
    """Make the reputation digest of a day, week, month or year (the last complete one unless --at says which)."""
    from responders.job import deliver_pending
    from scheduler.cli import lean_app

    kulak = lean_app(ctx)
    chosen = choose_period(kulak.settings, period, _date(at, "--at"), datetime.now(UTC))
    made = make_digest(kulak, chosen, brand=brand, send=send, out=out)
    if as_json:
        typer.echo(json.dumps(digest_json(made.digest), ensure_ascii=False))
    else:
        typer.echo(_summary(made.digest))
    if made.report is not None:
        typer.echo(f"report: {made.report}", err=as_json)
    if send:
        sent = deliver_pending(kulak.uow, kulak.outbox, ops=kulak.ops_alerters)
        typer.echo(f"queued {made.queued}; outbox: {json.dumps(dict(sent))}", err=as_json)
        if sent.get("rejected") or sent.get("updates_rejected"):
            raise typer.Exit(1)


def _summary(digest: Digest) -> str:
    lines = [f"{digest.period.kind} {digest.period.label} (against {digest.previous.label})"]
    for b in digest.brands:
        net = "—" if b.net_sentiment.now is None else f"{b.net_sentiment.now:+.2f}"
        lines.append(
            f"{b.brand}: {b.volume.now} mentions ({b.volume.delta:+d}), net sentiment {net},"
            f" {b.cases_opened.now} cases opened, {b.cases_resolved.now} resolved, {b.sla_breaches.now} SLA breaches"
        )
    return "\n".join(lines)


@stats_app.command("mentions")
def stats_mentions(
    ctx: typer.Context,
    brand: Annotated[str, typer.Option("--brand", help="The brand.")],
    by: Annotated[str, typer.Option("--by", help=f"Count by one of {', '.join(MENTION_DIMENSIONS)}.")] = "source",
    period: PeriodOpt = "day",
    at: AtOpt = None,
    start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Day after the last (YYYY-MM-DD).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Analysed mentions of a brand in a period, in all and by one dimension."""
    from scheduler.cli import lean_app

    kulak = lean_app(ctx)
    scope_of(kulak.settings, brand)  # an unknown brand is an error, not an empty answer
    span = _span(ctx, period, at, start, end)
    with kulak.uow as uow:
        total = uow.reports.mention_total(brand, span.start, span.end)
        grouped = uow.reports.mentions_by(brand, span.start, span.end, by)
    _print({**_head(brand, span), "total": total, "by": by, "counts": grouped}, as_json)


@stats_app.command("cases")
def stats_cases(
    ctx: typer.Context,
    brand: Annotated[str, typer.Option("--brand", help="The brand.")],
    period: PeriodOpt = "day",
    at: AtOpt = None,
    start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Day after the last (YYYY-MM-DD).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Care performance of a brand in a period: cases opened and resolved, SLA breaches, response times."""
    from scheduler.cli import lean_app

    kulak = lean_app(ctx)
    scope_of(kulak.settings, brand)
    span = _span(ctx, period, at, start, end)
    now = datetime.now(UTC)
    with kulak.uow as uow:
        figures = uow.reports.cases(brand, span.start, span.end, now)
        response = durations(uow.reports.response_seconds(brand, span.start, span.end))
        resolution = durations(uow.reports.resolution_seconds(brand, span.start, span.end))
        agents = uow.reports.handled_by_agent(brand, span.start, span.end)
        ages = uow.reports.open_by_age(brand, min(span.end, now))
    data = {
        **_head(brand, span),
        "opened": figures.opened,
        "resolved": figures.resolved,
        "sla_breaches": figures.breached,
        "first_response": vars(response),
        "resolution": vars(resolution),
        "agents": agents,
        "open_by_age": ages,
    }
    _print(data, as_json)


def _head(brand: str, span: Period) -> dict[str, Any]:
    return {"brand": brand, "period": span.label, "from": span.start.isoformat(), "to": span.end.isoformat()}


def _print(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    for key, value in data.items():
        typer.echo(f"{key}: {json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value}")
