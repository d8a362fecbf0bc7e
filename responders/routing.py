"""Decide which mentions become tickets, how urgent they are and which unit they go to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from store.model import Analysis, Brand, Mention, Ticket

if TYPE_CHECKING:
    from config.settings import Settings

PRIORITY_BY_URGENCY = {"critical": "urgent", "high": "high", "normal": "normal", "low": "low"}
SUMMARY_CHARS = 160


class TicketRouter:
    """A negative mention of one of our (non-competitor) brands opens a ticket; everything else is only recorded."""

    def __init__(
        self,
        brands: Sequence[Brand],
        *,
        default_unit: str = "care",
        units: Mapping[str, str] | None = None,
        min_sentiment_score: float = 0.0,
    ) -> None:
        self.own_brands = [b.name for b in brands if not b.competitor]
        self.default_unit = default_unit
        self.units = dict(units or {})
        self.min_sentiment_score = min_sentiment_score

    @classmethod
    def from_settings(cls, settings: Settings) -> TicketRouter:
        t = settings.tickets
        return cls(
            settings.brand_models(),
            default_unit=t.default_unit,
            units=t.units,
            min_sentiment_score=t.min_sentiment_score,
        )

    def decide(self, mention: Mention, analysis: Analysis, customer_id: int | None) -> Ticket | None:
        if analysis.sentiment.label != "negative" or analysis.sentiment.score < self.min_sentiment_score:
            return None
        brand = next((b for b in self.own_brands if b in analysis.brands), None)
        if brand is None:
            return None
        unit = next((self.units[t.label] for t in analysis.topics if t.label in self.units), self.default_unit)
        return Ticket(
            mention_id=mention.id,
            brand=brand,
            priority=PRIORITY_BY_URGENCY.get(analysis.urgency.level, "normal"),
            unit=unit,
            summary=_summary(analysis.masked_text),
            customer_id=customer_id,
        )


def _summary(masked_text: str) -> str:
    """The first words of the masked text: never the raw text, which may hold identifiers."""
    flat = " ".join(masked_text.split())
    return flat if len(flat) <= SUMMARY_CHARS else flat[: SUMMARY_CHARS - 1].rstrip() + "…"
