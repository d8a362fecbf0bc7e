"""The `kulak` command line: every command an operator, an agent or a manager runs."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TextIO

import click
import typer

from config.loader import load_settings
from config.settings import Settings
from crawlers.job import crawl_all
from scheduler import logs
from scheduler.bootstrap import App, bootstrap, build_sources
from scheduler.redact import secrets_of
from store import db
from store.errors import ConfigError, KulakError, LockHeld

log = logging.getLogger(__name__)
# Exit codes: 0 all done; 1 something failed (a crawl, a job, a delivery, bad input) and the rest was done;
# 2 the config is wrong; 3 another run holds the run lock, so this one did nothing (cron runs overlapping).
EXIT_FAILED, EXIT_CONFIG, EXIT_LOCK_HELD = 1, 2, 3
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Kulak: hear every complaint about your brands and put it in front of the right agent.",
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")
customers_app = typer.Typer(no_args_is_help=True, help="Customer records.")
app.add_typer(customers_app, name="customers")
match_app = typer.Typer(no_args_is_help=True, help="An agent's answer to a suggested customer match.")
app.add_typer(match_app, name="match")
case_app = typer.Typer(no_args_is_help=True, help="Cases (tickets).")
app.add_typer(case_app, name="case")
feedback_app = typer.Typer(no_args_is_help=True, help="Agents' corrections, for retraining.")
app.add_typer(feedback_app, name="feedback")
EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "kulak.example.toml"


class Context:
    def __init__(self, config: Path | None, log_level: str | None) -> None:
        self.config = config
        self.log_level = log_level
        self._settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            overrides = {"log.level": self.log_level} if self.log_level else {}
            self._settings = load_settings(self.config, overrides=overrides)
            log_settings = self._settings.log
            logs.configure(log_settings.level, log_settings.format, secrets_of(self._settings))
        return self._settings

    def app(self, **kwargs: Any) -> App:
        return bootstrap(self.settings(), **kwargs)


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file (default: KULAK_CONFIG or ./kulak.toml).")
    ] = None,
    log_level: Annotated[str | None, typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR.")] = None,
) -> None:
    ctx.obj = Context(config, log_level)


@app.command()
def init(
    path: Annotated[Path, typer.Option("--path", help="Where to write the starter config.")] = Path("kulak.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter kulak.toml."""
    if path.exists() and not force:
        raise ConfigError("already exists; pass --force to overwrite", source=str(path))
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    typer.echo(f"wrote {path}; edit the [[brands]] and set KULAK_SLACK_TOKEN, then run `kulak doctor`")


@app.command()
def doctor(ctx: typer.Context) -> None:
    """Check the config, the database, the sources and Slack; exit 1 if anything is wrong."""
    from scheduler.doctor import run_checks

    if not run_checks(ctx.obj.settings()):
        raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply pending migrations."""
    settings = ctx.obj.settings()
    engine = db.make_engine(settings.database_url)
    before = db.current_revision(engine)
    db.upgrade(engine)
    typer.echo(f"database {db.safe_url(engine)}: {before or 'empty'} -> {db.current_revision(engine)}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo's database, config and Slack log.")] = Path(
        "demo-out"
    ),
    no_slack: Annotated[
        bool, typer.Option("--no-slack", help="Print alerts instead of posting to the local Slack stand-in.")
    ] = False,
) -> None:
    """Run the whole job offline against local sample sites and a local Slack stand-in."""
    from scheduler.demo import run_demo

    logs.configure("WARNING")
    run_demo(out, use_slack=not no_slack)


@app.command()
def crawl(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Argument(help="Name of a configured source ([[sources]] name).")] = None,
    list_sources: Annotated[bool, typer.Option("--list", help="List source types and configured sources.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Collect but store nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the collected mentions as JSON Lines.")] = False,
    brand: Annotated[str | None, typer.Option("--brand", help="Only this brand.")] = None,
) -> None:
    """Crawl one configured source now, for every brand it watches (or one), whatever its interval."""
    settings = ctx.obj.settings()
    if list_sources:
        from scheduler.sources import list_sources as show

        show(settings, as_json=as_json)
        return
    if source is None:
        raise ConfigError("name a configured source (see `kulak crawl --list`)", key="sources")
    brands = [b for b in settings.brand_models() if brand is None or b.name.casefold() == brand.casefold()]
    if brand is not None and not brands:
        raise ConfigError(f"no brand named {brand!r} in the config", key="brands")
    off: dict[str, str] = {}
    sources = build_sources(settings, only=source, off=off)
    if not sources:
        raise ConfigError(f"source {source!r} is off: {off.get(source, 'enabled = false')}", key="sources")
    if brand is not None and not sources[0].watches(brands[0]):
        raise ConfigError(f"source {source!r} does not watch {brands[0].name!r} (see its brands and options)")
    kulak = ctx.obj.app(sources=sources, alerters=[], ops_alerters=[])
    printed: list[int] = []

    def emit(result: Any) -> None:
        if as_json:
            for mention in result.mentions:
                sys.stdout.write(json.dumps(mention.to_json(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        printed.append(len(result.mentions))

    report = crawl_all(kulak.uow, sources, brands, dry_run=dry_run, on_result=emit)
    verb = "collected (dry run, nothing stored)" if dry_run else f"collected, {report.total_added} new stored"
    requests, unreadable = sum(r.requests for r in report.runs), sum(r.parse_failures for r in report.runs)
    detail = f"; {requests} requests, {unreadable} parse failures" if report.runs else ""
    typer.echo(f"{sum(printed)} mentions {verb}{detail}", err=as_json)
    for pair, error in report.failed.items():
        typer.echo(f"failed {pair}: {error}", err=True)
    if report.failed:
        raise typer.Exit(1)


@app.command()
def run(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit (for cron).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Crawl every source, due or not.")] = False,
) -> None:
    """Run the whole pipeline: once (for cron) or on the schedule (like `kulak serve`)."""
    if not once:
        serve(ctx)
        return
    from scheduler.pipeline import run_once
    from store.locks import RunLock

    kulak = ctx.obj.app()
    with RunLock(kulak.engine):  # LockHeld: another run is at work; main() exits 3 and this one does nothing
        report = run_once(kulak, force=force)
    typer.echo(json.dumps(report.summary()))
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def serve(ctx: typer.Context) -> None:
    """Run every job on its schedule (crawls per source and brand, the stages, the daily purge) and serve Slack's
    buttons, /healthz and /metrics, until SIGTERM or SIGINT."""
    from scheduler.service import serve_forever

    raise typer.Exit(serve_forever(ctx.obj.app()))


@app.command()
def analyze(
    ctx: typer.Context,
    input_path: Annotated[Path | None, typer.Option("--input", "-i", help="JSON Lines file (default: stdin).")] = None,
) -> None:
    """Analyse JSON Lines of {"id", "text"}; write one JSON line per input line."""
    from scheduler.analyze import analyze_stream

    settings = ctx.obj.settings()
    stream: TextIO
    if input_path is not None:
        try:
            stream = input_path.open(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read input: {exc.strerror or exc}", source=str(input_path)) from None
    else:
        stream = sys.stdin
    with stream:
        bad = analyze_stream(settings, stream, sys.stdout)
    if bad:
        typer.echo(f'{bad} input line(s) were not valid; see their "error" fields', err=True)
        raise typer.Exit(1)


@app.command("train")
def train_cmd(
    task: Annotated[str, typer.Argument(help="sentiment, intent or topic.")],
    data: Annotated[Path, typer.Option("--data", help="CSV with columns text,label.")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the model to.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
) -> None:
    """Train a model from a labelled CSV (topics: several labels split by "|")."""
    from scheduler.modelling import train_command

    train_command(task, data, out, sys.stdout, as_json=as_json)


@app.command("eval")
def eval_cmd(
    task: Annotated[str, typer.Argument(help="sentiment, intent or topic.")],
    data: Annotated[Path, typer.Option("--data", help="CSV with columns text,label.")],
    model: Annotated[Path | None, typer.Option("--model", help="Model directory (default: the shipped one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Measure a model on a labelled CSV: accuracy, macro-F1, per-label figures, docs/second."""
    from scheduler.modelling import eval_command

    eval_command(task, data, model, sys.stdout, as_json=as_json)


@customers_app.command("import")
def customers_import(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="CSV, JSON or JSONL file; columns mapped by [customers] columns.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Import or update customer records; bad records are reported by line and the rest are imported."""
    from scheduler.people import import_file, print_import

    kulak = ctx.obj.app(sources=[], alerters=[], ops_alerters=[], analyzer=_NO_ANALYZER)
    report = import_file(kulak.settings, kulak.uow, path)
    print_import(report, sys.stdout, as_json=as_json)
    if report.errors:
        raise typer.Exit(1)


@app.command()
def forget(
    ctx: typer.Context,
    customer: Annotated[str | None, typer.Option("--customer", help="Customer id to erase.")] = None,
    author: Annotated[str | None, typer.Option("--author", help="Author handle to erase.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Only the author's mentions on this source.")] = None,
) -> None:
    """Erase a person under KVKK: their record, their mentions and every mention text naming them."""
    from scheduler.people import forget as erase

    kulak = ctx.obj.app(sources=[], alerters=[], ops_alerters=[], analyzer=_NO_ANALYZER)
    erased = erase(kulak.settings, kulak.uow, customer=customer, author=author, source=source)
    typer.echo(
        f"erased {erased.customers} customer record(s), {erased.identifiers} identifier(s), "
        f"{erased.mentions} mention(s), {erased.tickets} case(s), {erased.deliveries} outbox row(s)"
    )


@app.command()
def purge(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Delete what is past its [retention] time (KVKK): raw payloads, mention texts, closed cases, old outbox rows."""
    from scheduler.retention import print_purge
    from scheduler.retention import purge as purge_expired

    kulak = ctx.obj.app(sources=[], alerters=[], ops_alerters=[], analyzer=_NO_ANALYZER, helpdesks=[])
    retention = kulak.settings.retention
    counts = purge_expired(kulak.uow, retention, datetime.now(UTC), dry_run=dry_run)
    print_purge(counts, retention, sys.stdout, as_json=as_json, dry_run=dry_run)


def _decide(ctx: typer.Context, mention_id: int, customer: str, actor: str, *, confirm: bool) -> None:
    from scheduler.people import decide_match

    kulak = ctx.obj.app(sources=[], alerters=[], ops_alerters=[], analyzer=_NO_ANALYZER)
    decide_match(kulak.uow, mention_id, customer, confirm=confirm, actor=actor)
    typer.echo(f"mention {mention_id}: customer {customer} {'confirmed' if confirm else 'rejected'}")


@match_app.command("confirm")
def match_confirm(
    ctx: typer.Context,
    mention_id: Annotated[int, typer.Argument(help="Mention id.")],
    customer: Annotated[str, typer.Argument(help="Customer id of the suggested candidate.")],
    actor: Annotated[str, typer.Option("--by", help="Who decided (kept in the audit log).")] = "operator",
) -> None:
    """Confirm a suggested customer: the mention and its case are linked to them."""
    _decide(ctx, mention_id, customer, actor, confirm=True)


@match_app.command("reject")
def match_reject(
    ctx: typer.Context,
    mention_id: Annotated[int, typer.Argument(help="Mention id.")],
    customer: Annotated[str, typer.Argument(help="Customer id of the suggested candidate.")],
    actor: Annotated[str, typer.Option("--by", help="Who decided (kept in the audit log).")] = "operator",
) -> None:
    """Reject a suggested customer."""
    _decide(ctx, mention_id, customer, actor, confirm=False)


@case_app.command("show")
def case_show(ctx: typer.Context, ticket_id: Annotated[int, typer.Argument(help="Ticket (case) id.")]) -> None:
    """Print a case with its mentions (masked) and timeline as JSON."""
    from scheduler.people import case_report

    kulak = ctx.obj.app(sources=[], alerters=[], ops_alerters=[], analyzer=_NO_ANALYZER)
    typer.echo(json.dumps(case_report(kulak.uow, ticket_id), ensure_ascii=False, indent=2))


@case_app.command("act")
def case_act(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(help="Ticket (case) id.")],
    action: Annotated[
        str,
        typer.Argument(
            help="claim, contacted, resolve, reopen, escalate, not_relevant, confirm_customer, wrong_customer,"
            " fix_sentiment or fix_topic (what the Slack buttons do)."
        ),
    ],
    value: Annotated[str, typer.Option("--value", help="Customer id, or the corrected label.")] = "",
    actor: Annotated[str, typer.Option("--by", help="Who acted (kept in the audit log and feedback).")] = "operator",
) -> None:
    """Act on a case without Slack: the same state changes, feedback and channel updates as the buttons."""
    from responders.actions import Action, apply_action
    from responders.job import deliver_pending

    kulak = ctx.obj.app(sources=[], analyzer=_NO_ANALYZER)
    with kulak.uow:
        wanted = Action(action, ticket_id, actor, value)
        outcome = apply_action(kulak.uow, wanted, kulak.channels, drafter=kulak.drafter)
        kulak.uow.commit()
    deliver_pending(kulak.uow, kulak.outbox, ops=kulak.ops_alerters)
    typer.echo(outcome.message)


@feedback_app.command("export")
def feedback_export(
    ctx: typer.Context,
    task: Annotated[str, typer.Argument(help="sentiment or topic.")],
    out: Annotated[Path, typer.Option("--out", help="CSV file to write (text,label).")],
) -> None:
    """Write agents' corrections as a `kulak train` CSV: masked text and the label they chose."""
    from scheduler.people import export_feedback

    kulak = ctx.obj.app(sources=[], alerters=[], ops_alerters=[], analyzer=_NO_ANALYZER, helpdesks=[])
    typer.echo(f"{export_feedback(kulak.uow, task, out)} correction(s) written to {out}")


class _NoAnalyzer:
    """Commands that never analyse text skip loading the models."""

    def analyze(self, text: str, **_: Any) -> Any:
        raise AssertionError("this command does not analyse text")


_NO_ANALYZER = _NoAnalyzer()


def lean_app(ctx: typer.Context) -> App:
    """The app without crawlers or models, for commands that read the store and send through the outbox."""
    kulak: App = ctx.obj.app(sources=[], analyzer=_NO_ANALYZER)
    return kulak


def _reports() -> None:
    from scheduler.reports_cli import digest, stats_app

    app.command()(digest)
    app.add_typer(stats_app, name="stats")


_reports()


def _say_fatal(text: str) -> None:
    """The last word of a run on stderr: a JSON log line when logs are JSON (so stderr stays parseable)."""
    if logs.writes_json():
        log.error("%s", text)
    else:
        typer.echo(text, err=True)


def main() -> None:
    """Console entry point: a KulakError is a clear message and an exit code, never a traceback."""
    try:
        code = app(standalone_mode=False)  # click hands back the exit code of typer.Exit here
    except LockHeld as exc:
        _say_fatal(f"kulak: {exc}; not starting")
        sys.exit(EXIT_LOCK_HELD)
    except KulakError as exc:
        _say_fatal(f"kulak: {type(exc).__name__}: {exc}")
        sys.exit(EXIT_CONFIG if isinstance(exc, ConfigError) else EXIT_FAILED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
