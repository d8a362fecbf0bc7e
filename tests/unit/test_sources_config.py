"""[[sources]] tables become configured sources: types and options checked at start, secrets from the env."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import load_settings
from crawlers.base import SourceConfig
from scheduler.bootstrap import build_sources
from store.errors import ConfigError
from store.model import Brand

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "kulak.example.toml"


def test_the_starter_config_builds_every_source_it_switches_on(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KULAK_X_BEARER_TOKEN", "KULAK_REDDIT_CLIENT_ID", "KULAK_REDDIT_SECRET", "KULAK_GOOGLEPLAY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(EXAMPLE, env={})
    off: dict[str, str] = {}
    sources = {s.name: s for s in build_sources(settings, off=off)}
    assert set(sources) == {"sikayetvar", "eksi", "trustpilot", "news", "appstore", "mastodon", "bluesky"}
    assert set(off) == {"x", "reddit", "googleplay"} and all("enabled = false" in why for why in off.values())
    getir = settings.brand_models()[0]
    assert all(source.watches(getir) for source in sources.values())
    config = sources["trustpilot"].config
    assert config.interval == 6 * 3600 and config.base_url == "https://www.trustpilot.com"
    assert config.user_agent == "Kulak/0.2 (social-care listener; +https://github.com/kulak-dev/kulak)"


def test_a_secret_missing_from_the_environment_switches_the_source_off_and_says_which(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KULAK_X_BEARER_TOKEN", raising=False)
    path = tmp_path / "kulak.toml"
    path.write_text('[[brands]]\nname = "Kuzey Telekom"\n[[sources]]\nname = "x"\ntype = "x"\n', encoding="utf-8")
    off: dict[str, str] = {}
    assert build_sources(load_settings(path, env={}), off=off) == []
    assert "KULAK_X_BEARER_TOKEN" in off["x"]
    monkeypatch.setenv("KULAK_X_BEARER_TOKEN", "from-the-process")  # not the environment the settings came from
    assert build_sources(load_settings(path, env={})) == []
    (source,) = build_sources(load_settings(path, env={"KULAK_X_BEARER_TOKEN": "AAAA-test"}))
    assert source.name == "x" and source.watches(Brand("Kuzey Telekom"))


@pytest.mark.parametrize(
    ("table", "key", "expected"),
    [
        ('type = "myspace"', "sources[0].type", "unknown source type 'myspace'"),
        ('type = "sikayetvar"\nslug = "a"', "sources[0].slug", "unknown key"),
        ('type = "sikayetvar"\nslugs = { Nobody = "a" }', "sources[0].slugs", "'Nobody'"),
        ('type = "appstore"\ncountries = "tr"', "sources[0].countries", "expected a list"),
        ('type = "rss"\ngoogle_news = "yes"', "sources[0].google_news", "true or false"),
    ],
)
def test_a_wrong_source_table_names_the_key(tmp_path: Path, table: str, key: str, expected: str) -> None:
    path = tmp_path / "kulak.toml"
    path.write_text(f'[[brands]]\nname = "Kuzey Telekom"\n[[sources]]\nname = "s"\n{table}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        build_sources(load_settings(path, env={}))
    assert f"kulak.toml: {key}" in str(caught.value) and expected in str(caught.value)


def test_brands_limit_what_a_source_watches() -> None:
    from crawlers.catalog import source_types

    bluesky = source_types()["bluesky"](SourceConfig(name="b", base_url="http://x", brands=frozenset({"A"})))
    assert bluesky.watches(Brand("A")) and not bluesky.watches(Brand("B"))
    appstore = source_types()["appstore"](SourceConfig(name="a", base_url="http://x"))
    assert not appstore.watches(Brand("A"))  # no app id for it: nothing to read
