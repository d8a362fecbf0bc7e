"""Config: layering, typed checks, and errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import load_settings
from config.settings import CrawlSettings, parse_duration
from store.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "kulak.example.toml"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "kulak.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_the_shipped_example_loads_into_typed_settings() -> None:
    settings = load_settings(EXAMPLE, env={})
    brand = settings.brand_models()[0]
    assert brand.name == "Getir" and brand.ambiguous and brand.context == ("sipariş", "kurye")
    first = settings.sources[0]
    assert (first.name, first.type, first.interval_seconds) == ("sikayetvar", "sikayetvar", 900.0)
    assert first.options == {"slugs": {"Getir": "getir"}}  # the type's own keys, checked when it is built
    assert {s.type for s in settings.sources} == {
        "sikayetvar",
        "eksisozluk",
        "trustpilot",
        "x",
        "reddit",
        "appstore",
        "googleplay",
        "rss",
        "mastodon",
        "bluesky",
    }
    assert [(r.name, r.vip, r.unit) for r in settings.routes[:2]] == [
        ("vip", True, "vip-care"),
        ("billing", None, "finance"),
    ]
    assert settings.routes[1].topics == ("billing", "refund") and settings.sla.first_response["urgent"] == "1h"
    assert settings.database_url == "sqlite:///kulak.db"


def test_no_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, env={})
    assert settings.brands == () and settings.sources == () and settings.crawl == CrawlSettings()
    assert settings.path is None


def test_environment_overrides_the_file_and_carries_the_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, '[slack]\nchannel = "#from-file"\n[crawl]\nretries = 2\n')
    env = {
        "KULAK_SLACK__CHANNEL": "#from-env",
        "KULAK_CRAWL__RETRIES": "5",
        "KULAK_SLACK_TOKEN": "xoxb-secret",
        "KULAK_DATABASE_URL": "postgresql+psycopg://u@h/db",
    }
    settings = load_settings(path, env=env, overrides={"log.level": "DEBUG"})
    assert settings.slack.channel == "#from-env"
    assert settings.crawl.retries == 5
    assert settings.slack.token == "xoxb-secret"
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.log.level == "DEBUG"


def test_config_path_comes_from_kulak_config(tmp_path: Path) -> None:
    path = write(tmp_path, '[slack]\nchannel = "#x"\n')
    assert load_settings(None, env={"KULAK_CONFIG": str(path)}).slack.channel == "#x"


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        ('[slak]\nchannel = "#x"\n', "slak", "unknown key"),
        ('[[brands]]\nname = "A"\naliases = "A"\n', "brands[0].aliases", "expected a list"),
        ('[[brands]]\nname = "A"\nambiguous = "yes"\n', "brands[0].ambiguous", "expected true or false"),
        ('[[sources]]\nname = "a"\ntype = "x"\ndelay = [3.0]\n', "sources[0].delay", "list of 2 values"),
        ('[[sources]]\nname = "a"\ntype = "x"\ndelay = [3.0, 1.0]\n', "sources[0].delay", "min <= max"),
        ('[[sources]]\ntype = "x"\n', "sources[0].name", "needs a name"),
        ('[[sources]]\nname = "a"\n', "sources[0].type", "needs a type"),
        ('[[sources]]\nname = "a"\ntype = "x"\n[[sources]]\nname = "a"\ntype = "rss"\n', "sources[1].name", "twice"),
        ('[[sources]]\nname = "a"\ntype = "x"\ninterval = "often"\n', "sources[0].interval", "a duration"),
        ('[[sources]]\nname = "a"\ntype = "x"\nsilence = "5"\n', "sources[0].silence", "a duration"),
        ('[[sources]]\nname = "a"\ntype = "x"\nmax_pages = 0\n', "sources[0].max_pages", "at least 1"),
        ('[[sources]]\nname = "a"\ntype = "x"\nbrands = ["Nobody"]\n', "sources[0].brands[0]", "Nobody"),
        ('[[sources]]\nname = "a"\ntype = "x"\ninterval = 10\n', "sources[0].interval", "expected a string"),
        ("[crawl]\nmax_page_bytes = 10\n", "crawl", "max_page_bytes"),
        ('[slack]\ntoken = "xoxb-1"\n', "slack.token", "KULAK_SLACK_TOKEN"),
        ('[[brands]]\nname = "A"\n[[brands]]\nname = "a"\n', "brands[1].name", "used twice"),
        ('[[brands]]\nname = "A"\nambiguous = true\n', "brands[0].context", "needs context"),
        ('[[brands]]\nname = "A"\nhandles = ["getir"]\n', "brands[0].handles[0]", "starting with @"),
        ('[log]\nlevel = "LOUD"\n', "log.level", "DEBUG, INFO"),
        ('[schedule]\nstage_interval = "soon"\n', "schedule.stage_interval", "duration"),
        ('[schedule]\ncheck_interval = "0s"\n', "schedule.check_interval", "above zero"),
        ("[schedule]\njitter = 2.0\n", "schedule.jitter", "fraction"),
        ('[schedule]\npurge_at = "25:00"\n', "schedule.purge_at", "HH:MM"),
        ('[schedule]\nworker = "Makine 1"\n', "schedule.worker", "lowercase"),
        ("[schedule]\nthreads = 0\n", "schedule.threads", "at least 1"),
        ('[customers]\ncolumns = { mail = "eposta" }\n', "customers.columns.mail", "unknown customer field"),
        ('[customers]\nnumber_patterns = { order = "KT-(" }\n', "customers.number_patterns.order", "regular expr"),
        ("[customers]\nauto_link = 0.4\nsuggest = 0.6\n", "customers.auto_link", "suggest <= auto_link"),
        ('[customers]\nidentity_key = "abcdefghijklmnopq"\n', "customers.identity_key", "KULAK_IDENTITY_KEY"),
        ("[cases]\nwindow_hours = -1\n", "cases.window_hours", "0 or more"),
    ],
)
def test_a_wrong_config_names_file_key_and_expectation(tmp_path: Path, body: str, key: str, expected: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    message = str(caught.value)
    assert str(path) in message and key in message and expected in message


def test_broken_toml_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[brands\n"), env={})
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml", env={})


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("10m", 600), ("1.5h", 5400), ("2d", 172800), ("3M", 180)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "m", "10w", "-5m", "1e3s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
