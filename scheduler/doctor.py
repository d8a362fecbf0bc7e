"""`kulak doctor`: check every part the operator configured and say plainly what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from classifiers.customers import read_records, to_customer
from config.loader import resolve_path
from config.settings import Settings
from crawlers.health import check_source
from scheduler.bootstrap import build_sources, identity_key
from scheduler.people import columns_of
from store import db
from store.errors import InputError, KulakError
from store.sqlalchemy import SqlAlchemyUnitOfWork

Check = tuple[str, str, str]  # (part, OK | WARN | FAIL, detail)


def _config(settings: Settings) -> Check:
    where = settings.path or "built-in defaults (no kulak.toml)"
    if not settings.brands:
        return ("config", "WARN", f"{where}: no [[brands]] configured, nothing will be collected")
    return ("config", "OK", f"{where}: {len(settings.brands)} brand(s)")


def _database(settings: Settings) -> Check:
    engine = db.make_engine(settings.database_url)
    try:
        current = db.current_revision(engine)
        if current != db.head_revision():
            return (
                "database",
                "WARN",
                f"{db.safe_url(engine)} at {current or 'empty'}; runs migrate on start, or run `kulak db upgrade`",
            )
        return ("database", "OK", f"{db.safe_url(engine)} at schema {current}")
    finally:
        engine.dispose()


def _sources(settings: Settings) -> list[Check]:
    """One row per configured source: off and why, failing N runs in a row, silent, or well."""
    off: dict[str, str] = {}
    sources = build_sources(settings, off=off)
    if not settings.sources:
        return [("sources", "WARN", "no [[sources]] configured, nothing will be collected")]
    rows: list[Check] = [
        (f"source {name}", "FAIL" if _explicitly_on(settings, name) else "WARN", f"off: {why}")
        for name, why in off.items()
    ]
    engine = db.make_engine(settings.database_url)
    try:
        if db.current_revision(engine) != db.head_revision():
            return [*rows, *((f"source {s.name}", "OK", "no runs recorded yet") for s in sources)]
        uow = SqlAlchemyUnitOfWork(engine)
        now = datetime.now(UTC)
        for source in sources:
            problem = check_source(uow, source.config, now)
            watched = [b.name for b in settings.brand_models() if source.watches(b)]
            if problem is not None:
                rows.append((f"source {source.name}", "FAIL", f"{problem.kind}: {problem.message}"))
            elif not watched:
                rows.append((f"source {source.name}", "WARN", "watches no brand (check its brands and options)"))
            else:
                rows.append((f"source {source.name}", "OK", _last_run(uow, source.name, watched)))
    finally:
        engine.dispose()
    return rows


def _explicitly_on(settings: Settings, name: str) -> bool:
    return any(conf.name == name and conf.enabled for conf in settings.sources)


def _last_run(uow: SqlAlchemyUnitOfWork, name: str, watched: list[str]) -> str:
    with uow:
        runs = uow.source_runs.recent(name, 1)
    brands = ", ".join(watched)
    if not runs:
        return f"{brands}; never crawled yet"
    run = runs[0]
    return (
        f"{brands}; last run {run.started_at:%Y-%m-%d %H:%M} UTC: {run.fetched} fetched, {run.new} new, "
        f"{run.duplicates} known, {run.failed} failed, {run.parse_failures} parse failures"
    )


def _slack(settings: Settings) -> Check:
    if not settings.slack.token:
        return ("slack", "WARN", "KULAK_SLACK_TOKEN not set: alerts are printed, not posted")
    try:
        answer = WebClient(token=settings.slack.token, base_url=settings.slack.base_url, timeout=10).auth_test()
    except SlackApiError as exc:
        return ("slack", "FAIL", f"auth.test said {exc.response.get('error', 'error')}")
    except OSError as exc:
        return ("slack", "FAIL", f"cannot reach {settings.slack.base_url}: {exc}")
    return (
        "slack",
        "OK",
        f"team {answer.get('team', '?')} as {answer.get('user', '?')}; alerts go to {settings.slack.channel}",
    )


def _customers(settings: Settings) -> Check:
    key = identity_key(settings)
    if key is None:
        return ("customers", "WARN", "KULAK_IDENTITY_KEY is not set: customers cannot be imported or matched")
    if not settings.customers.file:
        return ("customers", "WARN", "no customers.file: import with `kulak customers import FILE`")
    path = resolve_path(settings, settings.customers.file)
    columns = columns_of(settings)
    columns.check()
    good, bad = 0, []
    for where, record in read_records(path):
        try:
            to_customer(record, columns, key)
            good += 1
        except InputError as exc:
            bad.append(f"{where}: {exc}")
    if bad:
        return ("customers", "WARN", f"{path}: {good} good record(s), {len(bad)} bad; first: {bad[0]}")
    return ("customers", "OK", f"{path}: {good} record(s)")


def _actions(settings: Settings) -> Check:
    if not settings.web.port:
        return ("slack actions", "WARN", "web.port = 0: Slack buttons and /kulak are off")
    where = f"http://{settings.web.host}:{settings.web.port}/slack/actions (and /slack/commands)"
    if not settings.slack.signing_secret:
        return ("slack actions", "WARN", f"KULAK_SLACK_SIGNING_SECRET not set: {where} refuses every request")
    return ("slack actions", "OK", f"`kulak serve` answers Slack at {where}")


def _helpdesks(settings: Settings) -> list[Check]:
    from responders.helpdesk import build_helpdesks

    off: dict[str, str] = {}
    on = build_helpdesks(settings, off=off)
    rows: list[Check] = [(f"helpdesk {h.name}", "OK", "cases of routes naming it go there") for h in on]
    return rows + [(f"helpdesk {name}", "WARN", f"off: {why}") for name, why in off.items()]


def _managers(settings: Settings) -> list[Check]:
    """Where digests and crisis alerts go, and when; e-mail asked for without a server is a warning."""
    d, smtp = settings.digests, settings.smtp
    ways = [f"Slack {d.channel}"] if d.channel and settings.slack.token else []
    ways += [f"e-mail to {len(d.email_to)} address(es) via {smtp.host}"] if d.email_to and smtp.host else []
    ways += [f"HTML in {d.out_dir}"] if d.out_dir else []
    named = {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}
    times = ", ".join(f"{named[kind]} {spec}" for kind, spec in d.send_times().items() if spec)
    rows: list[Check] = []
    if d.email_to and not smtp.host:
        rows.append(("digests", "WARN", "digests.email_to is set but [smtp] host is not: no e-mail is sent"))
    elif smtp.username and not smtp.password:
        rows.append(("digests", "WARN", "smtp.username is set but KULAK_SMTP_PASSWORD is not: the login will fail"))
    state = "OK" if ways else "WARN"
    rows.append(
        (
            "digests",
            state,
            f"{', '.join(ways) or 'printed only (no Slack, e-mail or out_dir)'}; {times or 'never scheduled'}",
        )
    )
    if settings.crisis.enabled:
        where = (settings.crisis.channel or d.channel) if settings.slack.token else "printed (no Slack)"
        rows.append(("crisis alerts", "OK", f"every {settings.crisis.interval} -> {where}"))
    else:
        rows.append(("crisis alerts", "WARN", "crisis.enabled = false: spikes are not alerted"))
    return rows


CHECKS: list[Callable[[Settings], Check | list[Check]]] = [
    _config, _database, _sources, _slack, _actions, _helpdesks, _customers, _managers,
]  # fmt: skip


def run_checks(settings: Settings, console: Console | None = None) -> bool:
    console = console or Console()
    table = Table(title="kulak doctor")
    for column in ("part", "state", "detail"):
        table.add_column(column)
    ok = True
    for check in CHECKS:
        try:
            found = check(settings)
        except KulakError as exc:
            found = (check.__name__.strip("_"), "FAIL", str(exc))
        for part, state, detail in found if isinstance(found, list) else [found]:
            ok = ok and state != "FAIL"
            colour = {"OK": "green", "WARN": "yellow", "FAIL": "red"}[state]
            table.add_row(part, f"[{colour}]{state}[/{colour}]", detail.replace("[", "\\["))
    console.print(table)
    return ok
