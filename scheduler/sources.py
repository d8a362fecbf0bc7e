"""`kulak crawl --list`: the source types Kulak knows and the sources this config sets up."""

from __future__ import annotations

import json
from typing import Any

import typer

from config.settings import Settings
from crawlers.catalog import source_types
from scheduler.bootstrap import build_sources


def describe(settings: Settings) -> dict[str, Any]:
    """Types (key -> first docstring line) and configured sources (name, type, state, brands, interval, URL)."""
    types = {key: (cls.__doc__ or "").strip().splitlines()[0] for key, cls in source_types().items()}
    off: dict[str, str] = {}
    built = {s.name: s for s in build_sources(settings, off=off)}
    brands = settings.brand_models()
    configured = []
    for conf in settings.sources:
        source = built.get(conf.name)
        configured.append(
            {
                "name": conf.name,
                "type": conf.type,
                "state": "on" if source else f"off: {off.get(conf.name, 'enabled = false')}",
                "brands": [b.name for b in brands if source and source.watches(b)],
                "interval": conf.interval,
                "base_url": source.config.base_url if source else conf.base_url,
            }
        )
    return {"types": types, "sources": configured}


def list_sources(settings: Settings, *, as_json: bool = False) -> None:
    info = describe(settings)
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    typer.echo("Source types:")
    for key, doc in info["types"].items():
        typer.echo(f"  {key:<11} {doc}")
    typer.echo("Configured sources:" if info["sources"] else "No [[sources]] configured.")
    for s in info["sources"]:
        brands = ", ".join(s["brands"]) or "no brand"
        typer.echo(f"  {s['name']} ({s['type']}, every {s['interval']}) {s['state']}: {brands} at {s['base_url']}")
