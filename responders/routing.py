"""Decide which mentions open cases and where each goes: routing rules from config, first match wins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from responders.sla import Sla, seconds
from store.errors import ConfigError
from store.model import PRIORITIES, Analysis, Brand, Customer, Mention, Ticket

if TYPE_CHECKING:
    from config.settings import RouteSettings, Settings

PRIORITY_BY_URGENCY = {"critical": "urgent", "high": "high", "normal": "normal", "low": "low"}
SUMMARY_CHARS = 160


@dataclass(frozen=True)
class Route:
    """A routing rule: conditions (empty = any) and where a matching case goes."""

    name: str
    brands: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    intents: frozenset[str] = frozenset()
    urgency: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    vip: bool | None = None
    segments: frozenset[str] = frozenset()
    channel: str = ""
    alert: bool = True
    helpdesk: str = ""
    queue: str = ""
    unit: str = ""
    priority: str = ""
    sla_seconds: float | None = None

    @classmethod
    def from_settings(cls, conf: RouteSettings, index: int) -> Route:
        key = f"routes[{index}]"
        if conf.priority and conf.priority not in PRIORITIES:
            raise ConfigError(f"expected one of {', '.join(PRIORITIES)}", key=f"{key}.priority")
        return cls(
            name=conf.name or f"route {index + 1}",
            brands=frozenset(conf.brands),
            topics=frozenset(conf.topics),
            intents=frozenset(conf.intents),
            urgency=frozenset(conf.urgency),
            languages=frozenset(conf.languages),
            sources=frozenset(conf.sources),
            vip=conf.vip,
            segments=frozenset(conf.segments),
            channel=conf.channel,
            alert=conf.alert,
            helpdesk=conf.helpdesk,
            queue=conf.queue,
            unit=conf.unit,
            priority=conf.priority,
            sla_seconds=seconds(conf.sla, f"{key}.sla") if conf.sla else None,
        )

    def matches(self, brand: str, analysis: Analysis, source: str, customer: Customer | None) -> bool:
        topics = {t.label for t in analysis.topics}
        checks = (
            not self.brands or brand in self.brands,
            not self.topics or bool(topics & self.topics),
            not self.intents or analysis.intent.label in self.intents,
            not self.urgency or analysis.urgency.level in self.urgency,
            not self.languages or analysis.lang in self.languages,
            not self.sources or source in self.sources,
            self.vip is None or (customer is not None and customer.vip) == self.vip,
            not self.segments or (customer is not None and customer.segment in self.segments),
        )
        return all(checks)


DEFAULT_ROUTE = Route(name="default")


class TicketRouter:
    """A negative mention of one of our (non-competitor) brands, or one that needs an answer, opens a case; the
    first route that matches says where it goes. Competitors are tracked, never ticketed or alerted."""

    def __init__(
        self,
        brands: Sequence[Brand],
        *,
        routes: Sequence[Route] = (),
        sla: Sla | None = None,
        default_unit: str = "care",
        min_sentiment_score: float = 0.0,
        needs_reply: bool = True,
        source_types: Mapping[str, str] | None = None,
    ) -> None:
        self.own_brands = [b.name for b in brands if not b.competitor]
        self.routes = list(routes)
        self.sla = sla
        self.default_unit = default_unit
        self.min_sentiment_score = min_sentiment_score
        self.needs_reply = needs_reply
        self.source_types = dict(source_types or {})

    @classmethod
    def from_settings(cls, settings: Settings) -> TicketRouter:
        t = settings.tickets
        return cls(
            settings.brand_models(),
            routes=[Route.from_settings(conf, i) for i, conf in enumerate(settings.routes)],
            sla=Sla.from_settings(settings),
            default_unit=t.default_unit,
            min_sentiment_score=t.min_sentiment_score,
            needs_reply=t.needs_reply,
            source_types={s.name: s.type for s in settings.sources},
        )

    def wants_case(self, analysis: Analysis) -> bool:
        negative = analysis.sentiment.label == "negative" and analysis.sentiment.score >= self.min_sentiment_score
        return negative or (self.needs_reply and analysis.needs_reply)

    def route_for(self, brand: str, analysis: Analysis, source: str, customer: Customer | None) -> Route:
        return next((r for r in self.routes if r.matches(brand, analysis, source, customer)), DEFAULT_ROUTE)

    def decide(
        self, mention: Mention, analysis: Analysis, customer: Customer | None, *, now: datetime | None = None
    ) -> Ticket | None:
        if not self.wants_case(analysis):
            return None
        brand = next((b for b in self.own_brands if b in analysis.brands), None)
        if brand is None:
            return None
        raw = mention.raw
        route = self.route_for(brand, analysis, raw.source, customer)
        priority = route.priority or PRIORITY_BY_URGENCY.get(analysis.urgency.level, "normal")
        opened = now or datetime.now(UTC)
        respond_by = reply_by = None
        if self.sla is not None:
            respond_by = self.sla.respond_by(priority, opened, route.sla_seconds)
            kinds = [self.source_types.get(raw.source, raw.source)]
            reply_by = self.sla.reply_by(kinds, raw.published_at or raw.fetched_at)
        return Ticket(
            mention_id=mention.id,
            brand=brand,
            priority=priority,
            unit=route.unit or self.default_unit,
            summary=_summary(analysis.masked_text),
            customer_id=customer.id if customer is not None else None,
            route=route.name,
            channel=route.channel if route.alert else "-",
            helpdesk=route.helpdesk,
            queue=route.queue,
            respond_by=respond_by,
            reply_by=reply_by,
            created_at=opened,
        )


def _summary(masked_text: str) -> str:
    """The first words of the masked text: never the raw text, which may hold identifiers."""
    flat = " ".join(masked_text.split())
    return flat if len(flat) <= SUMMARY_CHARS else flat[: SUMMARY_CHARS - 1].rstrip() + "…"
