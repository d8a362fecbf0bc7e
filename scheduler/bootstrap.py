"""The composition root: build every adapter from the settings once; tests pass their own pieces."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import IO

from sqlalchemy import Engine

import crawlers.sikayetvar  # noqa: F401 - registers the source
from classifiers.base import analyzer_class
from classifiers.job import TextAnalyzer
from classifiers.matching import CustomerMatcher
from config.settings import Settings
from crawlers.base import SOURCES, Source
from responders.alerts import Alerter
from responders.routing import TicketRouter
from responders.slack import ConsoleAlerter, SlackAlerter
from store import db
from store.errors import NotConfigured
from store.repository import UnitOfWork
from store.sqlalchemy import SqlAlchemyUnitOfWork

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    engine: Engine
    uow: UnitOfWork
    sources: list[Source]
    analyzer: TextAnalyzer
    matcher: CustomerMatcher
    router: TicketRouter
    alerters: list[Alerter]


def build_sources(settings: Settings, only: str | None = None) -> list[Source]:
    """Every registered source that does not switch itself off; one "Enabled sources" line says which."""
    if only is not None and only not in SOURCES:
        raise NotConfigured(f"unknown source {only!r}; known: {', '.join(sorted(SOURCES))}")
    enabled: list[Source] = []
    for name, cls in sorted(SOURCES.items()):
        if only is not None and name != only:
            continue
        try:
            enabled.append(cls.from_settings(settings))
        except NotConfigured as exc:
            log.info("source %s is off: %s", name, exc)
    log.info("Enabled sources: %s", ", ".join(s.name for s in enabled) or "none")
    return enabled


def build_alerters(settings: Settings, stream: IO[str] | None = None) -> list[Alerter]:
    """Slack when a token is set; otherwise alerts are printed so nothing is silently dropped."""
    try:
        alerter: Alerter = SlackAlerter.from_settings(settings)
    except NotConfigured as exc:
        log.info("Slack is off (%s); alerts are printed", exc)
        alerter = ConsoleAlerter(stream or sys.stdout)
    log.info("Enabled alerters: %s -> %s", alerter.name, alerter.target)
    return [alerter]


def bootstrap(
    settings: Settings,
    *,
    engine: Engine | None = None,
    sources: list[Source] | None = None,
    alerters: list[Alerter] | None = None,
    stream: IO[str] | None = None,
    migrate: bool = True,
) -> App:
    engine = engine or db.make_engine(settings.database_url)
    if migrate:
        db.upgrade(engine)
    brands = settings.brand_models()
    return App(
        settings=settings,
        engine=engine,
        uow=SqlAlchemyUnitOfWork(engine),
        sources=build_sources(settings) if sources is None else sources,
        analyzer=analyzer_class("simple")(brands),
        matcher=CustomerMatcher(),
        router=TicketRouter.from_settings(settings),
        alerters=build_alerters(settings, stream) if alerters is None else alerters,
    )
