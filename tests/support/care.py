"""A small care desk for responder tests: scripted labels, a real database and the Slack stand-in."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from classifiers.base import MentionContext
from classifiers.identity import IdentityKey
from classifiers.job import analyze_pending, match_pending
from classifiers.matching import CustomerMatcher
from config.settings import Settings
from loopback.slack import SlackServer
from responders.alerts import Alerter
from responders.budget import AlertPolicy
from responders.job import deliver_pending, route_pending
from responders.routing import Route, TicketRouter
from responders.sla import Sla
from responders.slack import SlackAlerter, slack_client
from store.model import Analysis, Brand, Label, RawMention, Urgency
from store.sqlalchemy import SqlAlchemyUnitOfWork

KEY = IdentityKey("responder-tests-identity-key")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday, 13:00 in Istanbul
BRANDS = [Brand("Kuzey Telekom"), Brand("Deniz GSM", competitor=True)]
CHANNELS = {"care-alerts": "C0CARE01", "care-vip": "C0VIP001", "kulak-ops": "C0OPS001"}


class Scripted:
    """Labels from tags in the text: ``[network]`` a topic, ``[critical]`` the urgency, ``[question]`` the
    intent (neutral), ``[rakip]`` the competitor; otherwise a negative billing complaint about Kuzey Telekom."""

    def analyze(self, text: str, *, brand_hint: str | None = None, context: MentionContext | None = None) -> Analysis:
        topic = next((t for t in ("network", "delivery", "billing") if f"[{t}]" in text), "billing")
        urgency = next((u for u in ("critical", "high", "low") if f"[{u}]" in text), "normal")
        question = "[question]" in text
        return Analysis(
            lang="en" if "[en]" in text else "tr",
            brands=("Deniz GSM",) if "[rakip]" in text else ("Kuzey Telekom",),
            sentiment=Label("neutral" if question else "negative", 0.9),
            intent=Label("question" if question else "complaint", 0.8),
            topics=(Label(topic, 0.7),),
            urgency=Urgency(urgency, ("outage",) if urgency == "critical" else ()),
            pii=(),
            masked_text=text.replace("4111 1111 1111 1111", "[KART]"),
            analyzer="scripted",
            needs_reply=True,
        )


def post(n: int, text: str, *, source: str = "x", handle: str = "", minutes: float = 0) -> RawMention:
    return RawMention(
        source=source,
        external_id=f"p{n}",
        url=f"https://example.test/{source}/{n}",
        text=text,
        fetched_at=NOW + timedelta(minutes=minutes),
        published_at=NOW + timedelta(minutes=minutes),
        author_handle=handle or f"kisi{n}",
        brand="Kuzey Telekom",
    )


@dataclass
class Desk:
    """Kulak's responder stages wired to one database and one Slack stand-in."""

    uow: SqlAlchemyUnitOfWork
    slack: SlackServer
    routes: list[Route] = field(default_factory=list)
    policy: AlertPolicy = field(default_factory=AlertPolicy)
    helpdesks: list[Alerter] = field(default_factory=list)

    def __post_init__(self) -> None:
        client = slack_client(SlackServer.DEFAULT_TOKEN, f"{self.slack.url}/api/", max_wait=2)
        self.alerter = SlackAlerter(client, "#care-alerts")
        self.ops = SlackAlerter(client, "#kulak-ops")

    @property
    def channels(self) -> dict[str, Alerter]:
        return {"slack": self.alerter, **{h.name: h for h in self.helpdesks}}

    def router(self) -> TicketRouter:
        return TicketRouter(BRANDS, routes=self.routes, sla=Sla.from_settings(Settings()))

    def take(self, *posts: RawMention, at: datetime = NOW) -> Counter[str]:
        """Store, analyse, match and route ``posts`` at ``at``; returns the routing counts."""
        with self.uow:
            self.uow.mentions.add_many(posts)
            self.uow.commit()
        analyze_pending(self.uow, Scripted())
        match_pending(self.uow, CustomerMatcher(KEY), now=at)
        return route_pending(
            self.uow, self.router(), [self.alerter], helpdesks=self.helpdesks, policy=self.policy, now=at
        )

    def deliver(self, at: datetime | None = None) -> Counter[str]:
        return deliver_pending(self.uow, self.channels, ops=[self.ops], now=at)

    def alerts(self) -> list[Any]:
        return [m for m in self.slack.posted() if m.thread_ts is None]
