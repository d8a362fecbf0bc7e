"""Which mentions open cases and which route each takes: first match wins, competitors never."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from responders.routing import Route, TicketRouter
from store.model import Analysis, Brand, Customer, Label, Mention, MentionStatus, RawMention, Urgency

WHEN = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ANALYSIS = Analysis(
    lang="tr",
    brands=("Yıldız Bank",),
    sentiment=Label("negative", 0.9),
    intent=Label("complaint", 0.8),
    topics=(Label("card", 0.7), Label("fraud_security", 0.4)),
    urgency=Urgency("high"),
    pii=(),
    masked_text="Kartımdan [KART] izinsiz çekim yapıldı",
    analyzer="test",
    needs_reply=True,
)
MENTION = Mention(1, MentionStatus.MATCHED, RawMention("x", "1", "https://x.test/1", "...", WHEN))
VIP = Customer("C1", "Ayşe Yılmaz", vip=True, segment="premium", id=7)
ROUTES = [
    Route("vip", vip=True, channel="#vip", priority="urgent"),
    Route("fraud-en", topics=frozenset({"fraud_security"}), languages=frozenset({"en"}), unit="fraud-en"),
    Route("fraud", topics=frozenset({"fraud_security"}), unit="fraud", sources=frozenset({"x"})),
    Route("premium", segments=frozenset({"premium"}), unit="premium"),
]


def route(analysis: Analysis = ANALYSIS, customer: Customer | None = None, **router: object) -> str | None:
    brands = [Brand("Yıldız Bank"), Brand("Deniz GSM", competitor=True)]
    found = TicketRouter(brands, routes=ROUTES, **router).decide(MENTION, analysis, customer, now=WHEN)  # type: ignore[arg-type]
    return None if found is None else f"{found.route}/{found.unit}/{found.priority}"


def test_the_first_route_whose_conditions_all_hold_wins() -> None:
    assert route(customer=VIP) == "vip/care/urgent"
    assert route() == "fraud/fraud/high"  # any of the case's topics matches; "fraud-en" wants English
    assert route(replace(ANALYSIS, lang="en")) == "fraud-en/fraud-en/high"
    not_vip = replace(VIP, vip=False)
    assert route(replace(ANALYSIS, topics=(Label("loan", 0.5),)), not_vip) == "premium/premium/high"
    assert route(replace(ANALYSIS, topics=())) == "default/care/high"


@pytest.mark.parametrize(
    ("change", "opens"),
    [
        ({"brands": ("Deniz GSM",)}, False),  # a competitor is tracked, never ticketed
        ({"brands": ()}, False),
        ({"sentiment": Label("positive", 0.9), "needs_reply": False}, False),  # thanks: recorded only
        ({"sentiment": Label("neutral", 0.9), "intent": Label("question", 0.8)}, True),  # needs an answer
    ],
)
def test_which_mentions_open_cases(change: dict[str, object], opens: bool) -> None:
    assert (route(replace(ANALYSIS, **change)) is not None) is opens  # type: ignore[arg-type]


def test_questions_can_be_left_to_the_digest_and_weak_negatives_ignored() -> None:
    question = replace(ANALYSIS, sentiment=Label("neutral", 0.9), intent=Label("question", 0.8))
    assert route(question, needs_reply=False) is None
    weak = replace(ANALYSIS, sentiment=Label("negative", 0.4), needs_reply=False)
    assert route(weak, min_sentiment_score=0.5) is None
    assert route(replace(weak, needs_reply=True), min_sentiment_score=0.5) is not None  # a complaint to answer
