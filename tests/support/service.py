"""`kulak serve` as real subprocesses against a local Mastodon that publishes while they run, and a local Slack."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

from loopback.mastodon import MastodonInstance, status
from loopback.slack import SlackServer

KULAK = Path(sys.executable).with_name("kulak")
TAG = "KuzeyTelekom"
# Made-up complaints; each post gets its own author, so each opens its own case and its own alert.
PROBLEMS = (
    "faturama habersiz ek paket yansıttı, iade istiyorum",
    "fiber bağlantım üç gündür kopuyor, arıza kaydım kapatılmış",
    "modem değişimi için randevu verildi ama teknisyen gelmedi, berbat bir hizmet",
    "numara taşıma işlemim bir haftadır tamamlanmadı",
    "mobil internet paketim bitmeden hızım düşürüldü",
    "taahhüt cezası yanlış hesaplanmış, müşteri hizmetleri çözmedi",
    "yurt dışında roaming açık olduğu halde hat çalışmadı, çok kötü bir deneyim",
    "iptal talebime rağmen bu ay yine fatura kesildi",
    "mağazada aldığım telefonun kutusundan şarj aleti çıkmadı",
    "çağrı merkezine ulaşmak için kırk dakika bekledim",
    "evime taşınma sonrası nakil başvurum unutulmuş",
    "kampanyalı tarifem sözleşme bitmeden değiştirildi",
    "uygulamaya giriş yaparken sürekli hata kodu alıyorum",
    "eSIM aktivasyonu iki gündür bekliyor, hattım kapalı",
    "otomatik ödeme talimatım iki kez çekim yaptı",
    "televizyon yayınında maç sırasında görüntü donuyor",
    "kurumsal hattımın faturası şahsi adresime gönderilmiş",
    "hediye edilen internet paketi hesabıma tanımlanmadı",
    "arıza için gelen teknisyen kabloyu yarım bıraktı",
    "cihaz kampanyasındaki taksit tutarı söylenenden yüksek",
    "hat dondurma isteğim kabul edildi ama ücret kesilmeye devam ediyor",
)
CONFIG = """
[[brands]]
name = "Kuzey Telekom"
aliases = ["Kuzey Telekom"]
hashtags = ["#{tag}"]

[store]
{store}

[crawl]
contact_url = "https://example.org/kulak-e2e"
retries = 0
backoff = 0.1
max_wait = 5.0

[[sources]]
name = "mastodon"
type = "mastodon"
base_url = "{mastodon}"
delay = [0.0, 0.0]
timeout = 10.0
interval = "{interval}"
max_pages = 10
tags = {{ "Kuzey Telekom" = ["{tag}"] }}

[slack]
base_url = "{slack}/api/"

[alerts]
budget = 100000
burst_window = "0s"  # every case its own alert: each post is timed by its alert

[schedule]
stage_interval = "{stages}"
check_interval = "30s"
stop_timeout = "{stop_timeout}"

[web]
port = 0
"""


class Publisher:
    """Posts new complaints on the local Mastodon, one author each, and remembers when each appeared."""

    def __init__(self, instance: MastodonInstance) -> None:
        self.instance = instance
        self.published: dict[str, float] = {}  # status id -> time.time() it appeared
        self._ids = count(114_000_000_000_000_000)

    def publish(self, n: int = 1) -> list[str]:
        made = []
        for _ in range(n):
            number = next(self._ids)
            problem = PROBLEMS[number % len(PROBLEMS)]
            text = f"Kuzey Telekom {problem}, çözüm bekliyorum #{TAG} (no {number % 100_000})"
            post = status(number, text, datetime.now(UTC), acct=f"musteri{number % 100_000}", display_name="Müşteri")
            self.instance.post(TAG, post)
            self.published[str(number)] = time.time()
            made.append(str(number))
        return made


def write_config(
    path: Path,
    mastodon: str,
    slack: str,
    *,
    database: str,
    interval: str = "2s",
    stages: str = "2s",
    stop_timeout: str = "20s",
) -> Path:
    """kulak.toml for the service tests: ``database`` is a SQLite path, or "" for KULAK_DATABASE_URL's."""
    store = f'sqlite_path = "{database}"' if database else ""
    text = CONFIG.format(
        tag=TAG,
        store=store,
        mastodon=mastodon,
        slack=slack,
        interval=interval,
        stages=stages,
        stop_timeout=stop_timeout,
    )
    path.write_text(text, encoding="utf-8")
    return path


def start(
    config: Path, cwd: Path, *, worker: str = "main", log: Path | None = None, **env: str
) -> subprocess.Popen[str]:
    """`kulak serve` with JSON logs (to ``log`` when given), its Slack token set, as worker ``worker``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KULAK_")}
    environ.update(
        KULAK_SLACK_TOKEN=SlackServer.DEFAULT_TOKEN,
        KULAK_LOG_FORMAT="json",
        KULAK_SCHEDULE__WORKER=worker,
        **env,
    )
    stderr: Any = log.open("w", encoding="utf-8") if log is not None else subprocess.PIPE
    return subprocess.Popen(
        [str(KULAK), "--config", str(config), "serve"],
        env=environ,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
    )


def stop(service: subprocess.Popen[str], timeout: float = 60) -> tuple[int, float]:
    """SIGTERM; the exit status and how long the service took to exit."""
    started = time.monotonic()
    service.send_signal(signal.SIGTERM)
    service.wait(timeout=timeout)
    return service.returncode, time.monotonic() - started


def wait_for(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(interval)


def alert_times(slack: SlackServer) -> dict[str, float]:
    """Status id -> time.time() its alert reached Slack (from the alert's link back to the post)."""
    found: dict[str, float] = {}
    for request in slack.received("/api/chat.postMessage"):
        args = request.form() if "form" in request.headers.get("content-type", "") else request.json()
        if isinstance(args, dict) and not args.get("thread_ts"):
            wire = json.dumps(args, ensure_ascii=False)
            for status_id in re.findall(r"/@musteri\d+/(\d+)", wire):
                found.setdefault(status_id, request.received_at)
    return found


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
