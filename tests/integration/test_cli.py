"""The kulak command as an operator runs it: clear errors, JSON Lines in and out, dry runs that store nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loopback.sikayetvar import SikayetvarSite, load_sample
from loopback.slack import SlackServer
from store import db

KULAK = Path(sys.executable).with_name("kulak")


def kulak(*args: str, cwd: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KULAK_")}
    return subprocess.run(
        [str(KULAK), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, **env},
        timeout=180,
        check=False,
    )


def test_init_writes_a_starter_that_loads_and_refuses_to_overwrite(tmp_path: Path) -> None:
    made = kulak("init", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "[[brands]]" in (tmp_path / "kulak.toml").read_text(encoding="utf-8")
    upgraded = kulak("db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert db.head_revision() in upgraded.stdout and (tmp_path / "kulak.db").exists()
    again = kulak("init", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr


def test_a_bad_config_is_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "kulak.toml").write_text('[[brands]]\nname = "A"\naliases = "A"\n', encoding="utf-8")
    result = kulak("run", "--once", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "kulak.toml: brands[0].aliases: expected a list" in result.stderr


def test_analyze_answers_every_line_and_reports_bad_ones_in_place(tmp_path: Path) -> None:
    (tmp_path / "kulak.toml").write_text('[[brands]]\nname = "Kuzey Telekom"\n', encoding="utf-8")
    lines = [
        json.dumps(
            {
                "id": "a",
                "text": "Kuzey Telekom rezalet, faturamı iki kez kesti, hiç memnun değilim! "
                "0532 123 45 67 numaradan arayın.",
            }
        ),
        "{not json",
        "",
        json.dumps({"id": "c", "body": "no text field"}),
        json.dumps({"id": 4, "text": "Teşekkürler, sorunum çözüldü."}),
    ]
    result = kulak("analyze", cwd=tmp_path, stdin="\n".join(lines) + "\n")
    assert result.returncode == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", None, "c", 4]
    first = out[0]
    assert first["brands"] == ["Kuzey Telekom"] and first["sentiment"]["label"] == "negative"
    assert set(first) >= {"lang", "sentiment", "intent", "topics", "urgency", "pii", "masked_text"}
    assert first["pii"][0]["type"] == "phone" and "0532 123 45 67" not in first["masked_text"]
    assert out[1]["line"] == 2 and "not valid JSON" in out[1]["error"]
    assert out[2]["line"] == 4 and "text" in out[2]["error"]
    assert out[3]["sentiment"]["label"] == "positive"


def test_analyze_reads_a_file_and_names_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": "x", "text": "Kargom gelmedi."}) + "\n", encoding="utf-8")
    ok = kulak("analyze", "--input", str(path), cwd=tmp_path)
    assert ok.returncode == 0 and json.loads(ok.stdout)["id"] == "x"
    missing = kulak("analyze", "--input", str(tmp_path / "nope.jsonl"), cwd=tmp_path)
    assert missing.returncode == 2 and "nope.jsonl" in missing.stderr and "Traceback" not in missing.stderr


@pytest.fixture
def site_config(tmp_path: Path) -> tuple[SikayetvarSite, Path]:
    site = SikayetvarSite(load_sample())
    site.start()
    config = tmp_path / "kulak.toml"
    config.write_text(
        '[[brands]]\nname = "Mavi Kargo"\n'
        f'[store]\nsqlite_path = "{tmp_path / "kulak.db"}"\n'
        f'[[sources]]\nname = "sikayetvar"\ntype = "sikayetvar"\nbase_url = "{site.url}"\n'
        "delay = [0.0, 0.0]\nlist_delay = [0.0, 0.0]\npage_delay = [0.0, 0.0]\n",
        encoding="utf-8",
    )
    yield site, config  # type: ignore[misc]
    site.stop()


def test_crawl_dry_run_prints_json_lines_and_stores_nothing(
    tmp_path: Path, site_config: tuple[SikayetvarSite, Path]
) -> None:
    _site, config = site_config
    result = kulak("--config", str(config), "crawl", "sikayetvar", "--dry-run", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    mentions = [json.loads(line) for line in result.stdout.splitlines()]
    expected = {str(c.id) for c in load_sample() if c.brand_slug == "mavi-kargo"}
    assert {m["external_id"] for m in mentions} == expected
    assert all(m["source"] == "sikayetvar" and m["brand"] == "Mavi Kargo" and m["text"] for m in mentions)
    stored = kulak("--config", str(config), "crawl", "sikayetvar", cwd=tmp_path)
    assert stored.returncode == 0 and f"{len(expected)} new stored" in stored.stdout


def test_crawl_of_an_unknown_source_says_which_exist(tmp_path: Path) -> None:
    (tmp_path / "kulak.toml").write_text('[[sources]]\nname = "sv"\ntype = "sikayetvar"\n', encoding="utf-8")
    result = kulak("crawl", "myspace", cwd=tmp_path)
    assert result.returncode == 2 and "no [[sources]] table is named 'myspace'" in result.stderr
    assert "configured: sv" in result.stderr


def test_an_unknown_type_or_option_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "kulak.toml").write_text('[[sources]]\nname = "s"\ntype = "myspace"\n', encoding="utf-8")
    result = kulak("crawl", "--list", cwd=tmp_path)
    assert result.returncode == 2 and "sources[0].type: unknown source type 'myspace'" in result.stderr
    assert "sikayetvar" in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "kulak.toml").write_text('[[sources]]\nname = "s"\ntype = "sikayetvar"\nslug = "x"\n', encoding="utf-8")
    result = kulak("crawl", "s", cwd=tmp_path)
    assert result.returncode == 2 and "sources[0].slug: unknown key" in result.stderr


def test_crawl_list_shows_types_and_configured_sources(
    tmp_path: Path, site_config: tuple[SikayetvarSite, Path]
) -> None:
    _site, config = site_config
    text = kulak("--config", str(config), "crawl", "--list", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "sikayetvar" in text.stdout and "Mavi Kargo" in text.stdout
    info = json.loads(kulak("--config", str(config), "crawl", "--list", "--json", cwd=tmp_path).stdout)
    assert set(info["types"]) >= {"sikayetvar"}
    assert info["sources"] == [
        {
            "name": "sikayetvar",
            "type": "sikayetvar",
            "state": "on",
            "brands": ["Mavi Kargo"],
            "interval": "15m",
            "base_url": _site.url,
        }
    ]


def test_doctor_reports_a_source_that_keeps_failing(tmp_path: Path) -> None:
    config = tmp_path / "kulak.toml"
    config.write_text(
        '[[brands]]\nname = "Mavi Kargo"\n'
        f'[store]\nsqlite_path = "{tmp_path / "kulak.db"}"\n'
        "[crawl]\nretries = 0\n"
        '[[sources]]\nname = "sv"\ntype = "sikayetvar"\nbase_url = "http://127.0.0.1:9"\nmax_failures = 2\n'
        "delay = [0.0, 0.0]\ntimeout = 2.0\n",
        encoding="utf-8",
    )
    assert kulak("db", "upgrade", cwd=tmp_path).returncode == 0
    healthy = kulak("doctor", cwd=tmp_path)
    assert "source sv" in healthy.stdout and "never crawled" in healthy.stdout
    for _ in range(2):
        failed = kulak("crawl", "sv", cwd=tmp_path)
        assert failed.returncode == 1 and "failed sv:Mavi Kargo" in failed.stderr
    sick = kulak("doctor", cwd=tmp_path)
    assert sick.returncode == 1 and "failing" in sick.stdout and "failed its last 2 runs" in sick.stdout


def test_doctor_checks_slack_for_real(tmp_path: Path) -> None:
    with SlackServer() as slack:
        (tmp_path / "kulak.toml").write_text(f'[slack]\nbase_url = "{slack.url}/api/"\n', encoding="utf-8")
        good = kulak("doctor", cwd=tmp_path, KULAK_SLACK_TOKEN=SlackServer.DEFAULT_TOKEN)
        bad = kulak("doctor", cwd=tmp_path, KULAK_SLACK_TOKEN="xoxb-wrong")
    assert good.returncode == 0, good.stdout
    assert bad.returncode == 1 and "invalid_auth" in bad.stdout
    assert "xoxb-wrong" not in bad.stdout + bad.stderr


def test_doctor_says_whether_buttons_and_helpdesks_can_work(tmp_path: Path) -> None:
    (tmp_path / "kulak.toml").write_text(
        '[[helpdesks]]\nname = "zd"\ntype = "zendesk"\nbase_url = "https://acme.zendesk.com"\nemail = "a@acme.test"\n',
        encoding="utf-8",
    )
    without = kulak("doctor", cwd=tmp_path, COLUMNS="200")
    assert "KULAK_SLACK_SIGNING_SECRET not set" in without.stdout and "KULAK_ZENDESK_TOKEN" in without.stdout
    secret = "doctor-signing-secret-1"
    tokens = {"KULAK_SLACK_SIGNING_SECRET": secret, "KULAK_ZENDESK_TOKEN": "zd-token-secret"}
    ready = kulak("doctor", cwd=tmp_path, COLUMNS="200", **tokens)
    assert "answers Slack at http://127.0.0.1:8787/slack/actions" in ready.stdout
    assert "helpdesk zd" in ready.stdout and "off:" not in ready.stdout.split("helpdesk zd", 1)[1].split("\n")[0]
    assert secret not in ready.stdout + ready.stderr and "zd-token-secret" not in ready.stdout + ready.stderr


def test_doctor_says_where_digests_and_crisis_alerts_go(tmp_path: Path) -> None:
    config = tmp_path / "kulak.toml"
    config.write_text('[digests]\nemail_to = ["mudur@acme.test"]\nout_dir = "reports"\n', encoding="utf-8")
    asked = kulak("doctor", cwd=tmp_path, COLUMNS="250")
    assert "[smtp] host is not" in asked.stdout and "HTML in reports" in asked.stdout
    assert "crisis alerts" in asked.stdout and "printed (no Slack)" in asked.stdout
    config.write_text(
        '[digests]\nemail_to = ["mudur@acme.test"]\nyearly_at = "01-02 09:30"\n[smtp]\nhost = "mail.acme.test"\n'
        "[crisis]\nenabled = false\n",
        encoding="utf-8",
    )
    ready = kulak("doctor", cwd=tmp_path, COLUMNS="250")
    assert "e-mail to 1 address(es) via mail.acme.test" in ready.stdout and "yearly 01-02 09:30" in ready.stdout
    assert "spikes are not alerted" in ready.stdout and "mudur@acme.test" not in ready.stdout
