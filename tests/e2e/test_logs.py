"""`kulak run --once` with KULAK_LOG_FORMAT=json: every stderr line is JSON with its ids, nothing secret in it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from loopback.sikayetvar import ISTANBUL, SampleComplaint, SikayetvarSite, slugify
from loopback.slack import SlackServer

KULAK = Path(sys.executable).with_name("kulak")
IDENTITY_KEY = "e2e-logs-identity-key-0042"
PHONE, EMAIL = "0542 318 27 64", "deniz.ay@ornek.com.tr"
# Customer rows whose vip cell holds an identifier (columns pasted one place off): the import reports them, and
# the report names the bad value, so these reach the log unless it is masked.
BAD_VIP_EMAIL, BAD_VIP_PHONE = "ali.k@ornek.com.tr", "0533 765 43 21"
CUSTOMERS = f"""external_id,name,email,phone,handles,segment,vip
KT-1,Deniz Ay,{EMAIL},{PHONE},,bireysel,hayır
KT-2,Ali Kaya,,,,bireysel,{BAD_VIP_EMAIL}
KT-3,Burak Şahin,,,,bireysel,{BAD_VIP_PHONE}
"""


def complaint(number: int, brand_slug: str, title: str, body: str, hours_ago: int) -> SampleComplaint:
    return SampleComplaint(
        id=31_000_000 + number,
        brand_slug=brand_slug,
        title=title,
        slug=slugify(title),
        body=body,
        author=f"musteri{number}",
        published_at=datetime.now(ISTANBUL).replace(microsecond=0) - timedelta(hours=hours_ago),
    )


COMPLAINTS = [
    complaint(
        1,
        "kuzey-telekom",
        "Kuzey Telekom Faturamı İki Kez Tahsil Etti",
        f"Kuzey Telekom bu ay faturamı iki kez tahsil etti ve üç gündür kimse dönmedi. Bana {PHONE} numarasından"
        f" ya da {EMAIL} adresinden ulaşın, paramı geri istiyorum.",
        3,
    ),
    complaint(
        2,
        "mavi-kargo",
        "Mavi Kargo Paketim Bir Haftadır Şubede Bekliyor",
        "Mavi Kargo gönderim bir haftadır şubede bekliyor, kurye hiç gelmedi, çağrı merkezi de cevap vermiyor.",
        2,
    ),
]
CONFIG = """
[[brands]]
name = "Kuzey Telekom"

[[brands]]
name = "Mavi Kargo"

[store]
sqlite_path = "{db}"

[crawl]
retries = 1
backoff = 0.0

[[sources]]
name = "sikayetvar"
type = "sikayetvar"
base_url = "{site}"
delay = [0.0, 0.0]
list_delay = [0.0, 0.0]
page_delay = [0.0, 0.0]

[slack]
channel = "#care-alerts"
base_url = "{slack}/api/"

[customers]
file = "customers.csv"
"""


def test_json_logs_carry_ids_and_no_secret_or_identifier(tmp_path: Path) -> None:
    with SikayetvarSite(COMPLAINTS) as site, SlackServer() as slack:
        # The Mavi Kargo complaint page fails for good: its spider, in a child process, logs a warning.
        site.fail_next(500, times=10, path_prefix=f"/mavi-kargo/{COMPLAINTS[1].slug}")
        config = tmp_path / "kulak.toml"
        config.write_text(CONFIG.format(db=tmp_path / "kulak.db", site=site.url, slack=slack.url), encoding="utf-8")
        (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KULAK_")}
        env.update(
            KULAK_SLACK_TOKEN=SlackServer.DEFAULT_TOKEN,
            KULAK_IDENTITY_KEY=IDENTITY_KEY,
            KULAK_LOG_FORMAT="json",
            KULAK_LOG_LEVEL="DEBUG",
        )
        run = subprocess.run(
            [str(KULAK), "--config", str(config), "run", "--once"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        posted = slack.posted()
    assert run.returncode in (0, 1), run.stderr  # 1: the bad customer records count as bad input
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["mentions_new"] == len(COMPLAINTS)
    assert any("Kuzey Telekom" in m.text for m in posted), "the complaint did not reach Slack"

    records: list[dict[str, Any]] = []
    for number, line in enumerate(run.stderr.splitlines(), start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"stderr line {number} is not JSON: {line[:200]!r}") from None
        assert isinstance(record, dict) and {"at", "level", "logger", "message"} <= set(record), line[:200]
        records.append(record)

    crawl = [r for r in records if r["logger"].startswith("crawlers.")]
    assert crawl, "no crawl lines were logged"
    for record in crawl:
        assert record.get("source") == "sikayetvar", record
        assert record.get("brand") in {"Kuzey Telekom", "Mavi Kargo"}, record
    summaries = {r["brand"] for r in crawl if r["logger"] == "crawlers.sikayetvar"}
    assert summaries == {"Kuzey Telekom", "Mavi Kargo"}
    from_child = [r for r in crawl if r["logger"] == "crawlers.sikayetvar_spider"]
    assert [r["brand"] for r in from_child] == ["Mavi Kargo"] and from_child[0]["level"] == "WARNING"

    skipped = [r["message"] for r in records if "customer record skipped" in r["message"]]
    assert len(skipped) == 2 and "[E-POSTA]" in skipped[0] + skipped[1] and "[TELEFON]" in skipped[0] + skipped[1]
    for secret in (SlackServer.DEFAULT_TOKEN, IDENTITY_KEY, PHONE, EMAIL, BAD_VIP_EMAIL, BAD_VIP_PHONE):
        assert secret not in run.stderr, f"{secret[:4]}… appears in the log"


def test_the_last_error_of_a_run_is_a_json_line_too(tmp_path: Path) -> None:
    config = tmp_path / "kulak.toml"
    config.write_text(f'[store]\nsqlite_path = "{tmp_path / "kulak.db"}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KULAK_")}

    def show_missing_case(log_format: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KULAK), "--config", str(config), "case", "show", "999"],
            capture_output=True,
            text=True,
            env={**env, "KULAK_LOG_FORMAT": log_format},
            timeout=120,
            check=False,
        )

    as_json = show_missing_case("json")
    assert as_json.returncode == 1
    [line] = [json.loads(line) for line in as_json.stderr.splitlines()]
    assert line["level"] == "ERROR" and "999" in line["message"]
    as_text = show_missing_case("text")
    assert as_text.returncode == 1 and as_text.stderr.startswith("kulak: ") and "999" in as_text.stderr
