"""`kulak demo`: the whole job, offline, against sample sites and APIs and a Slack stand-in on loopback."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from config.loader import load_settings
from loopback.slack import SlackMessage, SlackServer
from scheduler.bootstrap import bootstrap
from scheduler.demo import standins
from scheduler.demo.tables import print_sources, print_summary, print_tickets
from scheduler.pipeline import RunReport, run_once

HERE = Path(__file__).resolve().parent
# The demo's own key for hashing its made-up customers' identifiers. A real deployment sets KULAK_IDENTITY_KEY to
# a secret of its own; this one is public and protects nothing.
DEMO_IDENTITY_KEY = "kulak-demo-identity-key-public"


@dataclass
class DemoResult:
    first: RunReport
    second: RunReport
    slack_messages: int
    folder: Path


def _write_config(out: Path, urls: Mapping[str, str]) -> Path:
    """kulak.toml from the template, with the database in ``out`` and each ``{name}`` replaced by its URL."""
    text = (HERE / "kulak.toml.in").read_text(encoding="utf-8").replace("{db}", str((out / "kulak.db").resolve()))
    for name, url in urls.items():
        text = text.replace(f"{{{name}}}", url)
    path = out / "kulak.toml"
    path.write_text(text, encoding="utf-8")
    shutil.copyfile(HERE / "customers.json", out / "customers.json")
    return path


def _write_messages(path: Path, messages: list[SlackMessage]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for m in messages:
            record = {"channel": m.channel, "ts": m.ts, "thread_ts": m.thread_ts, "text": m.text, "blocks": m.blocks}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def run_demo(out: Path, *, use_slack: bool = True, console: Console | None = None) -> DemoResult:
    if console is None:
        console = Console()
        console.width = max(console.width, 120) if not console.is_terminal else console.width
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("kulak.db*"):
        old.unlink()
    started = time.monotonic()
    stand_ins = standins.build()
    with standins.running(stand_ins), SlackServer() as slack:
        config = _write_config(out, {**stand_ins.urls, "slack": f"{slack.url}/api/"})
        env = {
            **stand_ins.secrets,
            "KULAK_IDENTITY_KEY": DEMO_IDENTITY_KEY,
            **({"KULAK_SLACK_TOKEN": SlackServer.DEFAULT_TOKEN} if use_slack else {}),
        }
        settings = load_settings(config, env=env)
        names = [conf.name for conf in settings.sources]
        console.print(
            f"[bold]Kulak demo[/bold]: crawling {len(names)} sample sources on 127.0.0.1 ({', '.join(names)}) ..."
        )
        app = bootstrap(settings, stream=console.file)
        first = run_once(app)
        console.print("Second run, to show nothing is stored or sent twice ...")
        second = run_once(app, force=True)
        messages = slack.posted()
        _write_messages(out / "slack-messages.jsonl", messages)
        print_tickets(console, app.uow)
        app.engine.dispose()
    print_sources(console, names, first.crawl, second.crawl)
    print_summary(console, first, second, len(messages), use_slack)
    console.print(
        f"Done in {time.monotonic() - started:.1f}s. Wrote [bold]{out.resolve()}[/bold]: kulak.db "
        "(SQLite), kulak.toml, customers.json" + (", slack-messages.jsonl" if use_slack else "")
    )
    return DemoResult(first, second, len(messages), out)
