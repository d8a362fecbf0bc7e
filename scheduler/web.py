"""The HTTP endpoint of `kulak serve`: Slack buttons and /kulak (signed, answered at once), /healthz and /metrics."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from responders.actions import apply_action
from responders.job import deliver_pending
from responders.slack import SlackAlerter
from responders.slack_actions import MAX_BODY, Interaction, answer, read_command, read_interactions, verify
from responders.slack_text import escaped_clip
from scheduler.bootstrap import App
from scheduler.metrics import JOBS, label
from store.errors import DeliveryError, InputError, StoreError
from store.sqlalchemy import SqlAlchemyUnitOfWork

log = logging.getLogger(__name__)
STOP = object()
#: A stage's lag is how long the oldest mention waiting for it has waited (since it was fetched).
STAGES = (("analyze", "new"), ("match", "analyzed"), ("route", "matched"))


class KulakWeb:
    """Serve Slack's interactivity and slash-command requests and a health check on one port.

    A button press is verified and acknowledged at once (Slack wants an answer within 3 seconds); a worker
    thread then applies it to the store and sends the case's updates (the refreshed alert, the thread note).
    """

    def __init__(
        self, app: App, host: str = "127.0.0.1", port: int = 0, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.app = app
        self.secret = app.settings.slack.signing_secret or ""
        self.clock = clock
        # A unit of work holds one session at a time: the worker keeps its own, each request gets a new one, and the
        # scheduler's runs use app.uow on yet another thread.
        self.uow = SqlAlchemyUnitOfWork(app.engine)
        self.work: queue.Queue[Any] = queue.Queue()
        self.handled = 0  # interactions applied or refused, for tests and /healthz
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self._server.server_address[0]
        return f"http://{host if isinstance(host, str) else host.decode()}:{self.port}"

    def start(self) -> KulakWeb:
        if not self.secret:
            log.warning("KULAK_SLACK_SIGNING_SECRET is not set: Slack buttons and /kulak are refused")
        for target, name in ((self._server.serve_forever, "kulak-web"), (self._work, "kulak-actions")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("listening for Slack actions on %s", self.url)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking requests, finish the actions already acknowledged, then return."""
        self._server.shutdown()
        self._server.server_close()
        self.work.put(STOP)
        for thread in self._threads:
            thread.join(timeout)

    # -- requests ------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # every answer has a Content-Length: connections can be kept open
            disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/metrics":
                    status, text = web.metrics()
                    return self._send(status, text, "text/plain; version=0.0.4; charset=utf-8")
                if path != "/healthz":
                    return self._send(404, {"error": "not found"})
                return self._send(*web.health())

            def do_POST(self) -> None:
                declared = (self.headers.get("Content-Length") or "0").strip()
                if not (declared.isascii() and declared.isdigit()):  # "-1" would read until the client hangs up
                    self.close_connection = True
                    return self._send(400, {"error": "missing or malformed Content-Length"})
                if int(declared) > MAX_BODY:
                    self.close_connection = True  # the body is never read: it must not pass for the next request
                    return self._send(413, {"error": "request too large"})
                body = self.rfile.read(int(declared))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, reply = web.post(self.path.split("?")[0], headers, body)
                return self._send(status, reply)

            def _send(self, status: int, reply: Any, kind: str = "application/json; charset=utf-8") -> None:
                if isinstance(reply, str):
                    data = reply.encode()
                else:
                    data = b"" if reply is None else json.dumps(reply, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                if self.close_connection:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                log.debug("web: " + format, *args)

        return Handler

    def post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if path not in ("/slack/actions", "/slack/commands"):
            return 404, {"error": "not found"}
        if not self.secret:
            return 503, {"error": "Slack signing secret not configured"}
        try:
            verify(self.secret, headers, body, self.clock())
        except InputError as exc:
            log.warning("refused a Slack request: %s", exc)
            return 401, {"error": "invalid signature"}
        try:
            if path == "/slack/commands":
                return 200, answer(SqlAlchemyUnitOfWork(self.app.engine), read_command(body))
            for interaction in read_interactions(body):
                self.work.put(interaction)
        except InputError as exc:
            log.warning("refused a Slack payload: %s", exc)
            return 400, {"error": str(exc)}
        return 200, None

    def _state(self) -> dict[str, Any]:
        """What the store says about the pipeline now: backlog per stage and the last good run per source."""
        uow = SqlAlchemyUnitOfWork(self.app.engine)
        now = datetime.now(UTC)
        with uow:
            oldest = uow.mentions.oldest_fetched()
            pending = uow.deliveries.oldest_pending()
            return {
                "mentions": uow.mentions.count_by_status(),
                "outbox": uow.deliveries.count_by_status(),
                "deliveries": uow.deliveries.by_channel(),
                "lag": {
                    **{stage: (now - oldest[status]).total_seconds() for stage, status in STAGES if status in oldest},
                    **({"deliver": (now - pending).total_seconds()} if pending is not None else {}),
                },
                "last_success": uow.source_runs.last_success(),
            }

    def health(self) -> tuple[int, dict[str, Any]]:
        """/healthz: 200 with each stage's lag (seconds its oldest waiting item has waited) and each source's last
        good run; 503 when the database cannot be read."""
        try:
            state = self._state()
        except StoreError as exc:
            return 503, {"status": "database unavailable", "error": str(exc)[:200]}
        return 200, {
            "status": "ok",
            "outbox": state["outbox"],
            "stage_lag_seconds": {k: round(v, 1) for k, v in state["lag"].items()},
            "last_success": {k: v.isoformat() for k, v in state["last_success"].items()},
            "actions_handled": self.handled,
        }

    def metrics(self) -> tuple[int, str]:
        """/metrics in Prometheus text format."""
        try:
            state = self._state()
        except StoreError:
            return 503, "# database unavailable\n"
        lines = ["# TYPE kulak_mentions gauge"]
        lines += [f'kulak_mentions{{status="{s}"}} {n}' for s, n in sorted(state["mentions"].items())]
        lines.append("# TYPE kulak_deliveries gauge")
        deliveries = sorted(state["deliveries"].items())
        lines += [f'kulak_deliveries{{channel="{label(c)}",status="{s}"}} {n}' for (c, s), n in deliveries]
        lines.append("# TYPE kulak_stage_lag_seconds gauge")
        lines += [f'kulak_stage_lag_seconds{{stage="{k}"}} {v:.1f}' for k, v in sorted(state["lag"].items())]
        lines.append("# TYPE kulak_source_last_success_timestamp_seconds gauge")
        lines += [
            f'kulak_source_last_success_timestamp_seconds{{source="{label(k)}"}} {v.timestamp():.0f}'
            for k, v in sorted(state["last_success"].items())
        ]
        lines += [
            "# TYPE kulak_slack_actions_handled_total counter",
            f"kulak_slack_actions_handled_total {self.handled}",
        ]
        lines += JOBS.render()
        return 200, "\n".join(lines) + "\n"

    # -- the worker ------------------------------------------------------------
    def _work(self) -> None:
        while True:
            item = self.work.get()
            if item is STOP:
                return
            try:
                self.handle(item)
            except StoreError:
                log.exception("a Slack action could not be saved; the agent is asked to try again")
                self._tell(item, "Kaydedilemedi, tekrar deneyin / could not be saved, please try again")
            finally:
                self.handled += 1

    def handle(self, interaction: Interaction) -> None:
        channels = self.app.channels
        with self.uow:
            try:
                outcome = apply_action(self.uow, interaction.action, channels, drafter=self.app.drafter)
            except InputError as exc:
                self.uow.rollback()
                # The reason may quote what the payload carried: escaped, so it cannot ping or link.
                self._tell(interaction, f"Yapılamadı / not done: {escaped_clip(str(exc), 500)}")
                return
            self.uow.commit()
        log.info("case #%s: %s by %s", outcome.ticket.id, interaction.action.kind, interaction.user)
        deliver_pending(self.uow, self.app.outbox, ops=self.app.ops_alerters)

    def _tell(self, interaction: Interaction, text: str) -> None:
        """A message only the agent who pressed the button sees."""
        slack = next((a for a in self.app.alerters if isinstance(a, SlackAlerter)), None)
        if slack is None or not interaction.channel:
            return
        try:
            slack.whisper(interaction.channel, interaction.user, text)
        except DeliveryError as exc:
            log.warning("could not tell %s: %s", interaction.user, exc)
