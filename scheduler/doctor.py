"""`kulak doctor`: check every part the operator configured and say plainly what is wrong."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.table import Table
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from classifiers.customers import load_customers
from config.loader import resolve_path
from config.settings import Settings
from scheduler.bootstrap import build_sources
from store import db
from store.errors import KulakError

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


def _sources(settings: Settings) -> Check:
    sources = build_sources(settings)
    if not sources:
        return ("sources", "WARN", "every source is switched off")
    unused = [b.name for b in settings.brand_models() if not any(b.source_key(s.name) for s in sources)]
    detail = ", ".join(s.name for s in sources)
    if unused:
        return ("sources", "WARN", f"{detail}; no source key for: {', '.join(unused)}")
    return ("sources", "OK", detail)


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
    if not settings.customers.file:
        return ("customers", "WARN", "no customers.file: mentions are not matched to customers")
    path = resolve_path(settings, settings.customers.file)
    return ("customers", "OK", f"{path}: {len(load_customers(path))} record(s)")


CHECKS: list[Callable[[Settings], Check]] = [_config, _database, _sources, _slack, _customers]


def run_checks(settings: Settings, console: Console | None = None) -> bool:
    console = console or Console()
    table = Table(title="kulak doctor")
    for column in ("part", "state", "detail"):
        table.add_column(column)
    ok = True
    for check in CHECKS:
        try:
            part, state, detail = check(settings)
        except KulakError as exc:
            part, state, detail = check.__name__.strip("_"), "FAIL", str(exc)
        ok = ok and state != "FAIL"
        colour = {"OK": "green", "WARN": "yellow", "FAIL": "red"}[state]
        table.add_row(part, f"[{colour}]{state}[/{colour}]", detail.replace("[", "\\["))
    console.print(table)
    return ok
