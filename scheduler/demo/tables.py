"""What the demo prints at the end: its tickets, the mentions each source brought, the two runs side by side."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from crawlers.job import CrawlReport
from scheduler.pipeline import RunReport
from store.repository import UnitOfWork


def print_tickets(console: Console, uow: UnitOfWork) -> None:
    # The summary takes whatever width the other columns leave, so ids and names are never cut short.
    table = Table(title="Tickets opened", expand=True)
    for column in ("#", "source", "brand", "priority", "unit", "customer"):
        table.add_column(column, no_wrap=True)
    table.add_column("summary (masked)", no_wrap=True, overflow="ellipsis", ratio=1)
    with uow:
        for ticket in uow.tickets.listed(limit=500):
            customer = uow.customers.get(ticket.customer_id) if ticket.customer_id else None
            table.add_row(
                str(ticket.id),
                uow.mentions.get(ticket.mention_id).raw.source,
                ticket.brand,
                ticket.priority,
                ticket.unit,
                customer.name if customer else "-",
                ticket.summary[:70].replace("[", "\\["),
            )
    console.print(table)


def _by_source(counts: dict[str, int], name: str) -> int:
    """The sum over one source of counts kept by "source:brand"."""
    return sum(n for pair, n in counts.items() if pair.startswith(f"{name}:"))


def print_sources(console: Console, names: Sequence[str], first: CrawlReport, second: CrawlReport) -> None:
    """One row per configured source: what the first run read and stored, and what the second run added."""
    table = Table(title="Mentions by source")
    table.add_column("source")
    for column in ("requests", "fetched", "new", "new (2nd run)"):
        table.add_column(column, justify="right")
    table.add_column("status")
    totals = [0, 0, 0, 0]
    for name in names:
        runs = [run for run in first.runs if run.source == name]  # one per brand the source watches
        if not runs:
            table.add_row(name, "-", "-", "-", "-", "off (see the log above)")
            continue
        # New is counted from what the store added: a source's own "new" statistic means something else.
        requests, fetched = sum(r.requests for r in runs), sum(r.fetched for r in runs)
        row = [requests, fetched, _by_source(first.added, name), _by_source(second.added, name)]
        totals = [t + n for t, n in zip(totals, row, strict=True)]
        errors = [f"{r.brand}: {r.error}" for r in runs if not r.ok]
        status = "ok" if not errors else f"failed: {'; '.join(errors)}"[:60]
        if parse_failures := sum(r.parse_failures for r in runs):
            status += f", {parse_failures} parse failure(s)"
        table.add_row(name, *map(str, row), status.replace("[", "\\["))
    table.add_section()
    table.add_row("all", *map(str, totals), "")
    console.print(table)


def print_summary(console: Console, first: RunReport, second: RunReport, slack_messages: int, use_slack: bool) -> None:
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
