"""Every source type Kulak ships, loaded on demand so that importing one stage does not import them all."""

from __future__ import annotations

import importlib

from crawlers.base import SOURCES, BaseSource

# Modules that register a source type when imported (``@register``); a new source adds its module here.
MODULES = (
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
)


def source_types() -> dict[str, type[BaseSource]]:
    """Registry key (a ``type`` in kulak.toml) -> source class, every shipped module imported."""
    for module in MODULES:
        importlib.import_module(f"crawlers.{module}")
    return dict(sorted(SOURCES.items()))
