"""`kulak demo`: the whole job, offline, against a sample Şikayetvar and a Slack stand-in on loopback."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from config.loader import load_settings
from loopback.sikayetvar import SikayetvarSite
from loopback.slack import SlackServer
from scheduler.bootstrap import bootstrap
from scheduler.pipeline import RunReport, run_once
from store.repository import UnitOfWork

HERE = Path(__file__).resolve().parent


@dataclass
class DemoResult:
    first: RunReport
    second: RunReport
    slack_messages: int
    folder: Path


def _write_config(out: Path, site_url: str, slack_url: str) -> Path:
    template = (HERE / "kulak.toml.in").read_text(encoding="utf-8")
    text = (
        template.replace("{db}", str((out / "kulak.db").resolve()))
        .replace("{site}", site_url)
        .replace("{slack}", slack_url)
    )
    path = out / "kulak.toml"
    path.write_text(text, encoding="utf-8")
    shutil.copyfile(HERE / "customers.json", out / "customers.json")
    return path


def run_demo(out: Path, *, use_slack: bool = True, console: Console | None = None) -> DemoResult:
    if console is None:
        console = Console()
        console.width = max(console.width, 120) if not console.is_terminal else console.width
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("kulak.db*"):
        old.unlink()
    started = time.monotonic()
    with SikayetvarSite() as site, SlackServer() as slack:
        config = _write_config(out, site.url, f"{slack.url}/api/")
        env = {"KULAK_SLACK_TOKEN": SlackServer.DEFAULT_TOKEN} if use_slack else {}
        settings = load_settings(config, env=env)
        console.print(f"[bold]Kulak demo[/bold]: crawling the sample Şikayetvar at {site.url} ...")
        app = bootstrap(settings, stream=console.file)
        first = run_once(app)
        console.print("Second run, to show nothing is stored or sent twice ...")
        second = run_once(app, force=True)
        messages = slack.posted()
        with (out / "slack-messages.jsonl").open("w", encoding="utf-8") as f:
            for m in messages:
                f.write(
                    json.dumps(
                        {"channel": m.channel, "ts": m.ts, "text": m.text, "blocks": m.blocks}, ensure_ascii=False
                    )
                    + "\n"
                )
        _print_tickets(console, app.uow)
        app.engine.dispose()
    _print_summary(console, first, second, len(messages), use_slack)
    console.print(
        f"Done in {time.monotonic() - started:.1f}s. Wrote [bold]{out.resolve()}[/bold]: kulak.db "
        "(SQLite), kulak.toml, customers.json" + (", slack-messages.jsonl" if use_slack else "")
    )
    return DemoResult(first, second, len(messages), out)


def _print_tickets(console: Console, uow: UnitOfWork) -> None:
    table = Table(title="Tickets opened")
    for column in ("#", "brand", "priority", "unit", "customer"):
        table.add_column(column, no_wrap=True, min_width=len(column))
    table.add_column("summary (masked)", no_wrap=True, overflow="ellipsis", max_width=56)
    with uow:
        for ticket in uow.tickets.listed():
            customer = uow.customers.get(ticket.customer_id) if ticket.customer_id else None
            table.add_row(
                str(ticket.id),
                ticket.brand,
                ticket.priority,
                ticket.unit,
                customer.name if customer else "-",
                ticket.summary[:70].replace("[", "\\["),
            )
    console.print(table)


def _print_summary(console: Console, first: RunReport, second: RunReport, slack_messages: int, use_slack: bool) -> None:
    table = Table(title="Summary")
    table.add_column("")
    table.add_column("first run", justify="right")
    table.add_column("second run", justify="right")
    a, b = first.summary(), second.summary()
    for key in a:
        table.add_row(key.replace("_", " "), str(a[key]), str(b[key]))
    table.add_row(
        "customers loaded", str(first.customers["customers_loaded"]), str(second.customers["customers_loaded"])
    )
    console.print(table)
    where = "the local Slack stand-in received" if use_slack else "alerts printed above:"
    console.print(f"{where} {slack_messages if use_slack else a['alerts_sent']} message(s)")
