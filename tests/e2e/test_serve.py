"""`kulak serve` runs the pipeline on its schedule straight away and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx

from loopback.sikayetvar import SikayetvarSite, load_sample
from loopback.slack import SlackServer
from responders.slack_actions import signature

KULAK = Path(sys.executable).with_name("kulak")


@contextmanager
def serving(tmp_path: Path, *, port: int = 0, **secrets: str) -> Iterator[tuple[subprocess.Popen[str], SlackServer]]:
    """`kulak serve` as a subprocess against the sample Şikayetvar (Mavi Kargo) and the Slack stand-in, once its
    first scheduled run has alerted; killed on the way out if a test did not stop it."""
    complaints = [c for c in load_sample() if c.brand_slug == "mavi-kargo"]
    with SikayetvarSite(complaints) as site, SlackServer() as slack:
        config = tmp_path / "kulak.toml"
        config.write_text(
            '[[brands]]\nname = "Mavi Kargo"\n'
            f'[store]\nsqlite_path = "{tmp_path / "kulak.db"}"\n'
            f'[[sources]]\nname = "sikayetvar"\ntype = "sikayetvar"\nbase_url = "{site.url}"\n'
            "delay = [0.0, 0.0]\nlist_delay = [0.0, 0.0]\npage_delay = [0.0, 0.0]\n"
            f'[slack]\nbase_url = "{slack.url}/api/"\n[web]\nport = {port}\n',
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("KULAK_")}
        env.update(KULAK_SLACK_TOKEN=SlackServer.DEFAULT_TOKEN, **secrets)
        service = subprocess.Popen(
            [str(KULAK), "--config", str(config), "serve"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 120
            while not slack.posted() and time.monotonic() < deadline and service.poll() is None:
                time.sleep(0.2)
            assert slack.posted(), "the first scheduled run did not alert within two minutes"
            yield service, slack
        finally:
            if service.poll() is None:
                service.kill()
                service.wait()


def stop(service: subprocess.Popen[str]) -> str:
    """SIGTERM, then what the service wrote to stderr."""
    service.send_signal(signal.SIGTERM)
    return service.communicate(timeout=60)[1]


def test_serve_runs_at_once_and_stops_on_sigterm(tmp_path: Path) -> None:
    complaints = [c for c in load_sample() if c.brand_slug == "mavi-kargo"]
    with serving(tmp_path) as (service, slack):
        time.sleep(1.0)  # let the run finish its deliveries
        stderr = stop(service)
    assert service.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "taking no new work" in stderr and "stopped cleanly" in stderr
    posted = len([m for m in slack.posted() if m.thread_ts is None])
    assert 0 < posted < len(complaints)  # the thanks were not alerted


def test_serve_answers_slack_buttons_on_its_port(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a free port for the service's endpoint
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = "e2e-signing-secret-0001"
    with serving(tmp_path, port=port, KULAK_SLACK_SIGNING_SECRET=secret) as (service, slack):
        first = slack.posted()[0]
        payload = {
            "type": "block_actions",
            "user": {"id": "U0AYSE01"},
            "channel": {"id": first.channel},
            "actions": [{"action_id": "kulak_claim", "value": "1"}],
        }
        body = urlencode({"payload": json.dumps(payload)})
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature(secret, stamp, body.encode()),
        }
        answer = httpx.post(f"http://127.0.0.1:{port}/slack/actions", content=body, headers=headers, timeout=3)
        assert answer.status_code == 200
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            shown = slack.shared_message(first.ts)
            if shown is not None and shown.method == "chat.update" and "<@U0AYSE01>" in str(shown.blocks):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the alert was not updated after the button press")
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=3).json()["status"] == "ok"
        stderr = stop(service)
    assert service.returncode == 0, stderr
    assert secret not in stderr
