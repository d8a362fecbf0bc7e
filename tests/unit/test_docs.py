"""Every setting is documented where it is defined, in the README and in the starter config."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from config.settings import setting_keys
from crawlers.catalog import source_types
from responders.helpdesk import helpdesk_types

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
EXAMPLE = (REPO / "config" / "kulak.example.toml").read_text(encoding="utf-8")
KEYS = list(setting_keys())


def test_there_are_settings_to_check() -> None:
    assert len(KEYS) > 20


@pytest.mark.parametrize(("key", "field"), KEYS, ids=[k for k, _ in KEYS])
def test_setting_is_documented(key: str, field: object) -> None:
    metadata = field.metadata  # type: ignore[attr-defined]
    assert metadata["doc"].strip(), f"{key} has no doc line in config/settings.py"
    assert f"`{key}`" in README, f"README's configuration table does not list `{key}`"
    secret = metadata.get("secret_env")
    if secret:
        assert secret in README and secret in EXAMPLE, f"{secret} must be named in README and the starter config"
    else:
        leaf = key.rsplit(".", 1)[-1]
        pattern = rf"^#?\s*{re.escape(leaf)}\s*=|^\[{re.escape(key)}\]"
        assert re.search(pattern, EXAMPLE, re.M), f"starter config lacks {key}"


def test_readme_lists_no_setting_that_does_not_exist() -> None:
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z_\[\].]+)` \|", section, re.M))
    assert listed == {k for k, _ in KEYS}


TYPES = source_types()
REQUIRED_TYPES = {"sikayetvar", "eksisozluk", "trustpilot", "x", "reddit", "appstore", "googleplay", "rss"}


def test_every_source_type_the_issue_names_is_registered() -> None:
    assert set(TYPES) >= REQUIRED_TYPES | {"mastodon", "bluesky"}


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_source_type_and_its_keys_are_documented(kind: str) -> None:
    cls = TYPES[kind]
    assert (cls.__doc__ or "").strip(), f"{cls.__name__} has no docstring (kulak crawl --list shows it)"
    head = f"#### `{kind}`"
    assert head in README, f"README's Sources section has no {head} part"
    section = README.split(head, 1)[1].split("\n#### ", 1)[0]
    for f in dataclasses.fields(cls.Options):
        assert f.metadata.get("doc", "").strip(), f"{kind} option {f.name} has no doc line"
        assert f"`{f.name}`" in section, f"README's {kind} part does not list `{f.name}`"
    assert f'type = "{kind}"' in EXAMPLE, f"the starter config has no {kind} source"


HELPDESKS = helpdesk_types()


def test_every_helpdesk_the_issue_names_is_registered() -> None:
    assert set(HELPDESKS) == {"zendesk", "freshdesk", "jira", "webhook"}


@pytest.mark.parametrize("kind", sorted(HELPDESKS))
def test_helpdesk_type_and_its_keys_are_documented(kind: str) -> None:
    section = README.split("## Helpdesks", 1)[1].split("\n## ", 1)[0]
    head = f"#### `{kind}`"
    assert head in section, f"README's Helpdesks section has no {head} part"
    part = section.split(head, 1)[1].split("\n#### ", 1)[0]
    for f in dataclasses.fields(HELPDESKS[kind].Options):
        assert f.metadata.get("doc", "").strip(), f"{kind} option {f.name} has no doc line"
        assert f"`{f.name}`" in part, f"README's {kind} part does not list `{f.name}`"
    assert f'type = "{kind}"' in EXAMPLE, f"the starter config has no {kind} example"
