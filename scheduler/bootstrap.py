"""The composition root: build every adapter from the settings once; tests pass their own pieces."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy import Engine

from classifiers.base import analyzer_class
from classifiers.identity import IdentityKey
from classifiers.job import TextAnalyzer
from classifiers.matching import CustomerMatcher
from config.settings import Settings
from crawlers.base import Source
from crawlers.catalog import source_types
from responders.alerts import Alerter, Channel
from responders.budget import AlertPolicy
from responders.cases import Drafter
from responders.crisis import CrisisWatch
from responders.email import SmtpMailer
from responders.routing import TicketRouter
from responders.slack import ConsoleAlerter, SlackAlerter
from store import db
from store.errors import ConfigError, NotConfigured
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
    ops_alerters: list[Alerter]
    helpdesks: list[Alerter] = field(default_factory=list)
    policy: AlertPolicy = field(default_factory=AlertPolicy)
    drafter: Drafter | None = None
    mailers: list[Channel] = field(default_factory=list)  # e-mail for digests
    crisis: CrisisWatch | None = None  # spike detection, unless switched off

    @property
    def channels(self) -> dict[str, Alerter]:
        """Every channel that carries cases, by name."""
        return {a.name: a for a in (*self.ops_alerters, *self.alerters, *self.helpdesks)}

    @property
    def outbox(self) -> dict[str, Channel]:
        """Every channel the outbox may hold deliveries for, by name: those of cases, and e-mail."""
        return {**{m.name: m for m in self.mailers}, **self.channels}


def build_sources(settings: Settings, only: str | None = None, off: dict[str, str] | None = None) -> list[Source]:
    """The configured sources that do not switch themselves off; ``off`` collects why the others are off.

    A ``type`` no module registers, or options the type does not know, is a ConfigError naming the key.
    """
    where = settings.path or "defaults"
    names = [conf.name for conf in settings.sources]
    if only is not None and only not in names:
        raise ConfigError(f"no [[sources]] table is named {only!r}; configured: {', '.join(names) or 'none'}")
    types = source_types()
    enabled: list[Source] = []
    for index, conf in enumerate(settings.sources):
        if only is not None and conf.name != only:
            continue
        cls = types.get(conf.type)
        if cls is None:
            known = ", ".join(types)
            raise ConfigError(
                f"unknown source type {conf.type!r}; known: {known}", source=where, key=f"sources[{index}].type"
            )
        try:
            enabled.append(cls.from_settings(conf, settings, index))
        except NotConfigured as exc:
            log.info("source %s is off: %s", conf.name, exc)
            if off is not None:
                off[conf.name] = str(exc)
    log.info("Enabled sources: %s", ", ".join(s.name for s in enabled) or "none")
    return enabled


def build_alerters(settings: Settings, stream: IO[str] | None = None, *, ops: bool = False) -> list[Alerter]:
    """Slack when a token is set; otherwise alerts are printed so nothing is silently dropped.

    ``ops`` builds the operators' alerters instead: the same Slack workspace, ``slack.ops_channel``.
    """
    try:
        care = SlackAlerter.from_settings(settings)
        alerter: Alerter = SlackAlerter(care.client, settings.slack.ops_channel) if ops else care
    except NotConfigured as exc:
        log.info("Slack is off (%s); alerts are printed", exc)
        alerter = ConsoleAlerter(stream or sys.stdout)
    log.info("Enabled %salerters: %s -> %s", "ops " if ops else "", alerter.name, alerter.target)
    return [alerter]


def build_helpdesks(settings: Settings) -> list[Alerter]:
    """The [[helpdesks]] that are on; routes name them."""
    from responders.helpdesk import build_helpdesks as build

    return build(settings)


def build_drafter(settings: Settings) -> Drafter | None:
    """Suggested replies, unless ``alerts.suggest_replies`` is off."""
    from responders.replies import ReplyDrafter

    try:
        return ReplyDrafter.from_settings(settings)
    except NotConfigured as exc:
        log.info("reply drafts are off: %s", exc)
        return None


def build_mailers(settings: Settings) -> list[Channel]:
    """E-mail for digests when [smtp] host and digests.email_to are set."""
    try:
        mailer = SmtpMailer.from_settings(settings)
    except NotConfigured as exc:
        log.debug("e-mail is off: %s", exc)
        return []
    log.info("Enabled mailer: %s -> %s recipients", mailer.name, len(settings.digests.email_to))
    return [mailer]


def build_crisis(settings: Settings, alerters: list[Alerter]) -> CrisisWatch | None:
    """The crisis watch, posting where care alerts go (Slack, else the console), unless crisis.enabled is off."""
    try:
        return CrisisWatch.from_settings(settings, alerters)
    except NotConfigured as exc:
        log.debug("crisis alerts are off: %s", exc)
        return None


def build_analyzer(settings: Settings) -> TextAnalyzer:
    """The analyser ``analysis.analyzer`` names, built from the settings (brands, taxonomy, models)."""
    cls = analyzer_class(settings.analysis.analyzer)
    from_settings = getattr(cls, "from_settings", None)
    analyzer: TextAnalyzer = from_settings(settings) if from_settings is not None else cls(settings.brand_models())
    return analyzer


def identity_key(settings: Settings, *, required: bool = False) -> IdentityKey | None:
    """The key customer identifiers are hashed with (``KULAK_IDENTITY_KEY``); None when unset and not required."""
    secret = settings.customers.identity_key
    if not secret:
        if required:
            raise ConfigError(
                "not set; customer identifiers are stored as keyed hashes and need a secret of 16+ characters"
                " (python -c 'import secrets; print(secrets.token_urlsafe(32))')",
                source="environment",
                key="KULAK_IDENTITY_KEY",
            )
        return None
    try:
        return IdentityKey(secret)
    except ConfigError:
        raise ConfigError("shorter than 16 bytes", source="environment", key="KULAK_IDENTITY_KEY") from None


def build_matcher(settings: Settings) -> CustomerMatcher:
    """Customer matching from ``[customers]``; without an identity key nothing can be matched (doctor says so)."""
    c = settings.customers
    return CustomerMatcher(identity_key(settings), c.number_patterns, auto_link=c.auto_link, suggest=c.suggest)


def bootstrap(
    settings: Settings,
    *,
    engine: Engine | None = None,
    sources: list[Source] | None = None,
    alerters: list[Alerter] | None = None,
    ops_alerters: list[Alerter] | None = None,
    stream: IO[str] | None = None,
    migrate: bool = True,
    analyzer: TextAnalyzer | None = None,
    helpdesks: list[Alerter] | None = None,
    mailers: list[Channel] | None = None,
) -> App:
    engine = engine or db.make_engine(settings.database_url)
    if migrate:
        db.upgrade(engine)
    alerters = build_alerters(settings, stream) if alerters is None else alerters
    return App(
        settings=settings,
        engine=engine,
        uow=SqlAlchemyUnitOfWork(engine),
        sources=build_sources(settings) if sources is None else sources,
        analyzer=build_analyzer(settings) if analyzer is None else analyzer,
        matcher=build_matcher(settings),
        router=TicketRouter.from_settings(settings),
        alerters=alerters,
        ops_alerters=build_alerters(settings, stream, ops=True) if ops_alerters is None else ops_alerters,
        helpdesks=build_helpdesks(settings) if helpdesks is None else helpdesks,
        policy=AlertPolicy.from_settings(settings),
        drafter=build_drafter(settings),
        mailers=build_mailers(settings) if mailers is None else mailers,
        crisis=build_crisis(settings, alerters),
    )
