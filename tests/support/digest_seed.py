"""A store seeded with a known October and November of mentions and cases, and the figures it must report.

The figures are counted here in plain Python from the generated plan, never by asking the store, so a digest
(SQL) that agrees with them is right, not merely consistent with itself.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from store.model import Analysis, Label, RawMention, Urgency
from store.sqlalchemy import SqlAlchemyUnitOfWork
from store.tables import DeliveryRow, MentionRow, TicketRow

ZONE = ZoneInfo("Europe/Istanbul")
OWN = ("Kuzey Telekom", "Mavi Kargo")
COMPETITOR = "Deniz GSM"
SOURCES = ("sikayetvar", "x", "eksisozluk")
TOPICS = ("fatura", "internet", "kargo_gecikmesi", "musteri_hizmetleri", "iade")
INTENTS = ("complaint", "question", "suggestion", "praise", "sales", "other")
SENTIMENTS = ("positive", "neutral", "negative")
PRIORITIES = ("low", "normal", "high", "urgent")
AGENTS = ("U0AYSE", "U0MEHMET", "U0ZEYNEP", "")
OCT = datetime(2026, 10, 1, tzinfo=ZONE)
NOV = datetime(2026, 11, 1, tzinfo=ZONE)
DEC = datetime(2026, 12, 1, tzinfo=ZONE)
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=ZONE)  # the digest of November is made the next morning


@dataclass(frozen=True)
class PlannedMention:
    source: str
    brands: tuple[str, ...]
    published: datetime | None
    fetched: datetime
    sentiment: str
    intent: str
    topics: tuple[str, ...]
    resolved: bool = False  # Şikayetvar's "Çözüldü"
    analysed: bool = True

    @property
    def moment(self) -> datetime:
        return self.published or self.fetched


@dataclass(frozen=True)
class PlannedCase:
    brand: str
    mention: int  # index into the mention plan
    priority: str
    created: datetime
    respond_by: datetime | None
    responded: datetime | None
    resolved: datetime | None
    closed: datetime | None
    assignee: str
    held: bool = False  # its alert was held back for the digest (DEFERRED)

    @property
    def status(self) -> str:
        if self.closed:
            return "closed"
        if self.resolved:
            return "resolved"
        if self.responded:
            return "waiting"
        return "assigned" if self.assignee else "new"


def plan(seed: int = 8) -> tuple[list[PlannedMention], list[PlannedCase]]:
    rnd = random.Random(seed)
    mentions: list[PlannedMention] = []
    for start, days, per_day in ((OCT, 31, 7), (NOV, 30, 9)):
        for day in range(days):
            for _ in range(rnd.randint(per_day - 4, per_day + 4)):
                at = start + timedelta(days=day, seconds=rnd.randrange(86_400))
                brand = rnd.choice((*OWN, COMPETITOR, OWN[0]))
                brands = (brand, COMPETITOR) if brand == OWN[0] and rnd.random() < 0.1 else (brand,)
                source = rnd.choice(SOURCES)
                topics = tuple(rnd.sample(TOPICS, rnd.choice((0, 1, 1, 2))))
                published = None if rnd.random() < 0.05 else at
                mentions.append(
                    PlannedMention(
                        source, brands, published, at + timedelta(minutes=rnd.randrange(5, 90)),
                        rnd.choices(SENTIMENTS, weights=(2, 3, 5))[0], rnd.choice(INTENTS), topics,
                        resolved=source == "sikayetvar" and rnd.random() < 0.4, analysed=rnd.random() > 0.03,
                    )
                )  # fmt: skip
    # The edges of the month: local midnight belongs to the day it starts; a fetch time stands in for no date.
    edge = dict(sentiment="negative", intent="complaint", topics=("fatura",))
    mentions += [
        PlannedMention("x", (OWN[0],), NOV, NOV + timedelta(minutes=3), **edge),  # type: ignore[arg-type]
        PlannedMention("x", (OWN[0],), NOV - timedelta(seconds=1), NOV, **edge),  # type: ignore[arg-type]
        PlannedMention("eksisozluk", (OWN[0],), None, DEC - timedelta(seconds=1), **edge),  # type: ignore[arg-type]
        PlannedMention("x", (OWN[0],), DEC, DEC + timedelta(minutes=1), **edge),  # type: ignore[arg-type]
    ]
    cases: list[PlannedCase] = []
    for index, m in enumerate(mentions):
        if m.brands[0] not in OWN or not m.analysed or m.sentiment != "negative" or rnd.random() > 0.6:
            continue
        created = m.fetched + timedelta(minutes=rnd.randrange(1, 30))
        priority = rnd.choice(PRIORITIES)
        respond_by = created + timedelta(hours={"urgent": 1, "high": 4, "normal": 8, "low": 24}[priority])
        responded = created + timedelta(minutes=rnd.randrange(10, 60 * 30)) if rnd.random() < 0.8 else None
        resolved = responded + timedelta(hours=rnd.randrange(1, 96)) if responded and rnd.random() < 0.7 else None
        closed = resolved + timedelta(days=3) if resolved and rnd.random() < 0.5 else None
        for moment in (responded, resolved, closed):
            if moment is not None and moment > NOW:
                responded, resolved, closed = (
                    x if x is None or x <= NOW else None for x in (responded, resolved, closed)
                )
        assignee = rnd.choice(AGENTS)
        cases.append(
            PlannedCase(m.brands[0], index, priority, created, respond_by, responded, resolved, closed, assignee,
                        held=rnd.random() < 0.15)
        )  # fmt: skip
    return mentions, cases


def seed(engine: Engine, mentions: list[PlannedMention], cases: list[PlannedCase]) -> list[int]:
    """Store the plan; returns the mention ids in plan order."""
    uow = SqlAlchemyUnitOfWork(engine)
    raws = [
        RawMention(
            source=m.source, external_id=f"seed-{i}", url=f"https://example.test/{m.source}/{i}",
            text=f"{m.brands[0]} hakkında bahsetme {i}", fetched_at=m.fetched, brand=m.brands[0],
            published_at=m.published, payload={"resolved": m.resolved} if m.source == "sikayetvar" else {},
        )
        for i, m in enumerate(mentions)
    ]  # fmt: skip
    with uow:
        uow.mentions.add_many(raws)
        assert uow.session is not None
        by_external = dict(uow.session.execute(select(MentionRow.external_id, MentionRow.id)).all())
        ids = [by_external[r.external_id] for r in raws]
        analysed = [(i, _analysis(m, i)) for i, m in zip(ids, mentions, strict=True) if m.analysed]
        uow.analyses.add_many(analysed)
        uow.commit()
    with Session(engine) as session:
        for case in cases:
            ticket = TicketRow(
                mention_id=ids[case.mention], brand=case.brand, priority=case.priority, unit="care",
                status=case.status, summary=f"özet [TCKN] {case.mention}", created_at=case.created,
                updated_at=case.created, assignee=case.assignee, respond_by=case.respond_by,
                responded_at=case.responded, resolved_at=case.resolved, closed_at=case.closed,
            )  # fmt: skip
            session.add(ticket)
            session.flush()
            if case.held:
                session.add(
                    DeliveryRow(
                        key=f"slack:#care:ticket:{ticket.id}", channel="slack", target="#care", ticket_id=ticket.id,
                        payload={"text": "held"}, status="deferred", created_at=case.created, kind="alert",
                    )
                )  # fmt: skip
        session.commit()
    return ids


def _analysis(m: PlannedMention, mention_id: int) -> Analysis:
    return Analysis(
        lang="tr", brands=m.brands, sentiment=Label(m.sentiment, 0.9), intent=Label(m.intent, 0.8),
        topics=tuple(Label(t, 0.7) for t in m.topics), urgency=Urgency("normal"), pii=(),
        masked_text=f"bahsetme {mention_id}", analyzer="seed",
    )  # fmt: skip


def expected(
    mentions: list[PlannedMention], cases: list[PlannedCase], brand: str, start: datetime, end: datetime
) -> dict[str, object]:
    """What the store must report for ``brand`` over [start, end), counted in Python from the plan."""
    ours = [m for m in mentions if m.analysed and brand in m.brands and start <= m.moment < end]
    feel = Counter(m.sentiment for m in ours)
    sikayetvar = [m for m in ours if m.source == "sikayetvar"]
    mine = [c for c in cases if c.brand == brand]
    cutoff = min(end, NOW)

    def within(moment: datetime | None) -> bool:
        return moment is not None and start <= moment < end

    def late(c: PlannedCase) -> bool:
        return c.responded is None or (c.respond_by is not None and c.responded > c.respond_by)

    at = min(end, NOW)
    still_open = [
        c for c in mine
        if c.created < at and (c.resolved is None or c.resolved >= at) and (c.closed is None or c.closed >= at)
    ]  # fmt: skip
    ages = Counter()
    for c in still_open:
        hours = (at - c.created).total_seconds() / 3600
        ages["<1d" if hours < 24 else "1-3d" if hours < 72 else "3-7d" if hours < 168 else ">7d"] += 1
    return {
        "volume": len(ours),
        "by_source": dict(Counter(m.source for m in ours)),
        "sentiment": {s: feel[s] for s in SENTIMENTS},
        "topics": dict(Counter(t for m in ours for t in m.topics)),
        "intents": dict(Counter(m.intent for m in ours)),
        "net": (feel["positive"] - feel["negative"]) / len(ours) if ours else None,
        "sikayetvar": (sum(m.resolved for m in sikayetvar), len(sikayetvar)),
        "opened": sum(within(c.created) for c in mine),
        "resolved": sum(within(c.resolved) for c in mine),
        "breached": sum(c.respond_by is not None and start <= c.respond_by < cutoff and late(c) for c in mine),
        "response": sorted((c.responded - c.created).total_seconds() for c in mine if within(c.responded)),  # type: ignore[operator]
        "resolution": sorted((c.resolved - c.created).total_seconds() for c in mine if within(c.resolved)),  # type: ignore[operator]
        "agents": dict(Counter(c.assignee for c in mine if c.assignee and (within(c.responded) or within(c.resolved)))),
        "held": sorted(c.mention for c in mine if c.held and within(c.created)),
        "open_by_age": {label: ages[label] for label in ("<1d", "1-3d", "3-7d", ">7d")},
    }
