"""Secrets never leak: a real `kulak run --once` with every secret set, against services that refuse them and echo
them back in their errors; the logs, the CLI's output and every row of the database are searched for them."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from loopback.mastodon import MastodonInstance, status
from loopback.server import LoopbackServer, Recorded, Reply
from loopback.slack import SlackServer
from store import db

KULAK = Path(sys.executable).with_name("kulak")
#: Every secret Kulak reads, set to a value that cannot occur by chance.
SECRETS = {
    "KULAK_SLACK_TOKEN": "xoxb-sirri-slack-7f3a9c2e41",
    "KULAK_SLACK_SIGNING_SECRET": "sirri-signing-51c0de77aa",
    "KULAK_ZENDESK_TOKEN": "sirri-zendesk-b0a7e19f3d",
    "KULAK_FRESHDESK_API_KEY": "sirri-freshdesk-9d8e7f6a",
    "KULAK_JIRA_TOKEN": "sirri-jira-4c5d6e7f8a9b",
    "KULAK_WEBHOOK_SECRET": "sirri-webhook-0a1b2c3d4e",
    "KULAK_SMTP_PASSWORD": "sirri-smtp-pa55-w0rd-x1",
    "KULAK_X_BEARER_TOKEN": "sirri-x-bearer-AAAAZZZZ9",
    "KULAK_REDDIT_CLIENT_ID": "sirri-reddit-id-31337",
    "KULAK_REDDIT_SECRET": "sirri-reddit-secret-8080",
    "KULAK_GOOGLEPLAY_TOKEN": "ya29.sirri-play-token-42",
    "KULAK_IDENTITY_KEY": "sirri-identity-key-0123456789",
}
CONFIG = """
[[brands]]
name = "Kuzey Telekom"
hashtags = ["#KuzeyTelekom"]

[[brands]]
name = "Mavi Kargo"
hashtags = ["#MaviKargo"]

[store]
sqlite_path = "{db}"

[crawl]
retries = 0
backoff = 0.01

[analysis]
analyzer = "simple"

[[sources]]
name = "fediverse"
type = "mastodon"
base_url = "{mastodon}"
delay = [0.0, 0.0]
tags = {{ "Kuzey Telekom" = ["kuzeytelekom"], "Mavi Kargo" = ["mavikargo"] }}

[[sources]]
name = "x"
type = "x"
base_url = "{echo}"
delay = [0.0, 0.0]

[[sources]]
name = "reddit"
type = "reddit"
base_url = "{echo}"
token_url = "{echo}/api/v1/access_token"
delay = [0.0, 0.0]

[[helpdesks]]
name = "zendesk"
type = "zendesk"
base_url = "{echo}"
email = "ajan@kuzey.example"
timeout = 2

[[helpdesks]]
name = "jira"
type = "jira"
base_url = "{echo}"
email = "ajan@kuzey.example"
project = "CARE"
timeout = 2

[[routes]]
name = "kuzey-to-zendesk"
brands = ["Kuzey Telekom"]
helpdesk = "zendesk"

[[routes]]
name = "mavi-to-jira"
brands = ["Mavi Kargo"]
helpdesk = "jira"

[slack]
base_url = "{slack}/api/"

[smtp]
host = "127.0.0.1"
port = {closed}
username = "kulak"
starttls = false

[digests]
email_to = ["yonetici@kuzey.example"]
"""


class EchoingApi(LoopbackServer):
    """An API that refuses every request and, like some real ones, quotes what it was sent in its error: the
    Authorization header, the query and the body. Jira's paths answer 500, everything else 401."""

    def handle(self, request: Recorded) -> Reply:
        sent = {
            "authorization": request.headers.get("authorization", ""),
            "query": json.dumps(request.query),
            "body": request.body.decode("utf-8", "replace")[:500],
        }
        words = f"invalid credentials: {sent['authorization']} for {sent['query']} {sent['body']}"
        data = {
            "error": words,
            "title": words,
            "detail": words,
            "description": words,
            "errors": [{"message": words}],
            "errorMessages": [words],
            "details": {"base": [{"description": words}]},
        }
        return Reply.json(data, 500 if request.path.startswith("/rest/") else 401)


@dataclass
class Outputs:
    texts: dict[str, str]  # where -> what was written there
    sent_credentials: list[str]  # every Authorization header value the services received


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kulak(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KULAK_")}
    env.update(SECRETS, KULAK_LOG_FORMAT="json", KULAK_LOG_LEVEL="DEBUG")
    command = [str(KULAK), "--config", str(config), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)


def _database_text(path: Path) -> str:
    """Every value of every row of every table, as text."""
    engine = db.make_engine(f"sqlite:///{path}")
    meta = MetaData()
    meta.reflect(engine)
    lines = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                lines.append(f"{table.name}: {tuple(row)!r}")
    engine.dispose()
    return "\n".join(lines)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outputs]:
    tmp = tmp_path_factory.mktemp("secrets")
    now = datetime.now(UTC)
    with MastodonInstance() as mastodon, EchoingApi() as echo, SlackServer(token="xoxb-not-the-one-set") as slack:
        text = "#KuzeyTelekom faturam yanlış geldi, iade istiyorum, rezalet"
        mastodon.post("kuzeytelekom", status(115_000_000_000_000_001, text, now - timedelta(minutes=3)))
        other = "#MaviKargo Mavi Kargo paketimi kaybetti, kimse ilgilenmiyor, şikayetçiyim"
        mastodon.post("mavikargo", status(115_000_000_000_000_002, other, now - timedelta(minutes=2), acct="mehmet"))
        config = tmp / "kulak.toml"
        values = {"db": tmp / "kulak.db", "mastodon": mastodon.url, "echo": echo.url, "slack": slack.url}
        config.write_text(CONFIG.format(**values, closed=_closed_port()), encoding="utf-8")
        run = _kulak(config, "run", "--once")
        doctor = _kulak(config, "doctor")
        texts = {
            "run stdout": run.stdout,
            "run stderr": run.stderr,
            "doctor stdout": doctor.stdout,
            "doctor stderr": doctor.stderr,
            "database": _database_text(tmp / "kulak.db"),
            "slack messages": json.dumps([m.args for m in slack.messages], ensure_ascii=False),
        }
        sent = [r.headers.get("authorization", "") for r in (*echo.received(), *slack.received())]
        yield Outputs(texts, [s for s in sent if s])


def test_the_faults_happened_and_were_recorded(outputs: Outputs) -> None:
    """The run met every refusal it was meant to (else the search below proves nothing)."""
    database, log = outputs.texts["database"], outputs.texts["run stderr"]
    assert "invalid_auth" in database or "invalid_auth" in log  # Slack refused the token
    assert "HTTP 401" in database and "HTTP 500" in database  # Zendesk refused, Jira failed
    assert "source_runs" in database and "SourceBlocked" in database  # X and Reddit refused their credentials
    assert any(line.startswith("{") for line in log.splitlines())  # JSON lines at DEBUG
    assert outputs.sent_credentials  # the services did get credentials: they are what must not come back


@pytest.mark.parametrize("where", ["run stdout", "run stderr", "doctor stdout", "doctor stderr",
                                   "database", "slack messages"])  # fmt: skip
def test_no_secret_appears_anywhere(outputs: Outputs, where: str) -> None:
    text = outputs.texts[where]
    for name, value in SECRETS.items():
        assert value not in text, f"{name} leaked into the {where}"
        encoded = base64.b64encode(value.encode()).decode()
        assert encoded not in text, f"{name} leaked base64-encoded into the {where}"
    for credential in outputs.sent_credentials:
        secret_part = credential.split(" ", 1)[-1]
        assert secret_part not in text, f"a credential sent to a service ({secret_part[:6]}…) is in the {where}"
