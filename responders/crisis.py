"""The crisis watch: spikes of a brand against the same hour of earlier weeks, as incidents with one alert each."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from config.settings import Settings, parse_duration
from responders.alerts import Channel
from responders.crisis_stats import Limits, Signal, assess, brand_words, clusters, top_terms
from responders.crisis_text import alert_payload, closed_note, growth_note
from store.errors import NotConfigured
from store.model import Brand, Crisis, Delivery
from store.repository import CrisisExample, UnitOfWork

log = logging.getLogger(__name__)
GROWTH = 1.5  # the thread hears again once the incident's figure is this many times what it last reported
TEXTS = 2000  # masked texts read from each side (window, baseline) for the top terms
REPEATS = 5000  # near-duplicate pairs read from the window
TOP = 5  # terms, topics in an alert
CLUSTERS = 3
HISTORY = 300  # checks of an incident remembered in its detail
Window = tuple[datetime, datetime]


class CrisisWatch:
    """Check each brand's window against its baseline; open an incident (one alert) on a spike, post in its thread
    when it grows, close it once calm long enough. Competitors are never watched."""

    def __init__(
        self,
        channel: str,
        target: str,
        brands: Sequence[Brand],
        *,
        window: timedelta = timedelta(hours=1),
        baseline_weeks: int = 4,
        limits: Limits | None = None,
        calm_for: timedelta = timedelta(hours=2),
        examples: int = 3,
        language: str = "tr",
        timezone: str = "Europe/Istanbul",
    ) -> None:
        self.channel, self.target = channel, target
        self.brands = tuple(b for b in brands if not b.competitor)
        self.window, self.baseline_weeks, self.limits = window, baseline_weeks, limits or Limits()
        self.calm_for, self.examples = calm_for, examples
        self.language, self.zone = language, ZoneInfo(timezone)
        self.own_words = {b.name: brand_words((b.name, *b.aliases, *b.handles, *b.hashtags)) for b in self.brands}

    @classmethod
    def from_settings(cls, settings: Settings, alerters: Sequence[Channel]) -> CrisisWatch:
        crisis = settings.crisis
        if not crisis.enabled:
            raise NotConfigured("crisis.enabled is false")
        if not alerters:
            raise NotConfigured("no alerter to post crisis alerts through")
        alerter = alerters[0]
        target = (crisis.channel or settings.digests.channel) if alerter.name == "slack" else alerter.target
        if not target:
            raise NotConfigured("no channel for crisis alerts: set crisis.channel or digests.channel")
        brands = [b for b in settings.brand_models() if not b.competitor]
        if not brands:
            raise NotConfigured("no brand to watch (competitors are never alerted)")
        watch = cls(
            alerter.name,
            target,
            brands,
            window=timedelta(seconds=parse_duration(crisis.window)),
            baseline_weeks=crisis.baseline_weeks,
            limits=Limits(crisis.significance, crisis.min_mentions),
            calm_for=timedelta(seconds=parse_duration(crisis.calm_for)),
            examples=crisis.examples,
            language=settings.digests.language,
            timezone=settings.sla.timezone,
        )
        log.info("Enabled crisis watch: %d brands -> %s %s", len(brands), alerter.name, target)
        return watch

    def windows(self, now: datetime, listening_since: datetime | None) -> list[Window]:
        """The window ending ``now``, then the same stretch 1..baseline_weeks weeks earlier that Kulak heard whole."""
        found = [(now - self.window, now)]
        for weeks in range(1, self.baseline_weeks + 1):
            start, end = now - timedelta(weeks=weeks) - self.window, now - timedelta(weeks=weeks)
            if listening_since is not None and start >= listening_since:
                found.append((start, end))
        return found

    def check(self, uow: UnitOfWork, now: datetime | None = None) -> Counter[str]:
        """One pass over every watched brand in one transaction; counts what it did."""
        moment = now or datetime.now(UTC)
        counts: Counter[str] = Counter()
        with uow:
            since = uow.reports.listening_since()
            for brand in self.brands:
                counts["checked"] += 1
                windows = self.windows(moment, since)
                if len(windows) == 1:
                    counts["no_baseline"] += 1  # Kulak has not listened a week yet: nothing to compare with
                    continue
                signals = assess(uow.crises.counts(brand.name, windows), self.limits)
                counts[self._decide(uow, brand, windows, signals, moment)] += 1
            uow.commit()
        return +counts

    def _decide(
        self, uow: UnitOfWork, brand: Brand, windows: list[Window], signals: list[Signal], now: datetime
    ) -> str:
        spiking = [s for s in signals if s.spiking]
        incident = uow.crises.open_for(brand.name)
        if incident is None:
            return self._open(uow, brand, windows, signals, now) if spiking else "normal"
        lead = next((s for s in signals if (s.scope, s.metric) == (incident.scope, incident.metric)), None)
        figures = self._figures(incident, signals, lead, now)
        if not spiking:  # the lead stays as it was at the last spike: a closed alert shows its incident, not the calm
            calm_since = incident.calm_since or now
            incident = replace(incident, calm_since=calm_since, updated_at=now, detail=figures)
            if now - calm_since < self.calm_for:
                uow.crises.save(incident)
                return "calming"
            return self._close(uow, incident, now)
        detail = {
            **figures,
            **self._drivers(uow, brand, windows, signals),
            **({"lead": lead.to_json()} if lead else {}),
        }
        observed = lead.observed if lead is not None else 0
        incident = replace(incident, calm_since=None, updated_at=now, peak=max(incident.peak, observed), detail=detail)
        alerted = dict(detail.get("alerted") or {})
        new_scopes = sorted({s.scope for s in spiking} - set(alerted.get("scopes") or []))
        previous = int(alerted.get("peak") or 0)
        if observed < GROWTH * previous and not new_scopes:
            uow.crises.save(incident)
            return "ongoing"
        updates = int(alerted.get("updates") or 0) + 1
        alerted = {"peak": max(previous, observed), "scopes": sorted({*alerted.get("scopes", []), *new_scopes}),
                   "updates": updates}  # fmt: skip
        incident = replace(incident, detail={**detail, "alerted": alerted})
        uow.crises.save(incident)
        note = growth_note(incident, previous, new_scopes, self.language, self.zone)
        self._follow_up(uow, incident, f"grew:{updates}", note, now)
        log.warning("crisis #%s of %s grew: %s", incident.id, brand.name, observed, extra={"crisis_id": incident.id})
        return "updated"

    def _open(self, uow: UnitOfWork, brand: Brand, windows: list[Window], signals: list[Signal], now: datetime) -> str:
        spiking = [s for s in signals if s.spiking]
        lead = spiking[0]  # assess sorts the strongest first
        detail = {
            **self._figures(None, signals, lead, now),
            **self._drivers(uow, brand, windows, signals),
            "lead": lead.to_json(),
            "alerted": {"peak": lead.observed, "scopes": sorted({s.scope for s in spiking}), "updates": 0},
        }
        incident = uow.crises.add(
            Crisis(brand.name, lead.scope, lead.metric, now, now, peak=lead.observed, expected=lead.expected,
                   detail=detail)
        )  # fmt: skip
        key = f"crisis:{incident.id}"
        incident = replace(incident, alert_key=key)
        uow.crises.save(incident)
        payload = alert_payload(incident, self._shown(uow, incident), self.language, self.zone)
        uow.deliveries.enqueue(Delivery(key, self.channel, self.target, payload, kind="crisis", created_at=now))
        uow.audit.record("crisis", "crisis_opened", brand.name, crisis_id=incident.id, scope=lead.scope,
                         metric=lead.metric, observed=lead.observed, expected=round(lead.expected, 3))  # fmt: skip
        ids = {"crisis_id": incident.id, "delivery": key}
        log.warning("crisis #%s opened for %s: %s %s %s", incident.id, brand.name, lead.metric, lead.scope,
                    lead.observed, extra=ids)  # fmt: skip
        return "opened"

    def _close(self, uow: UnitOfWork, incident: Crisis, now: datetime) -> str:
        incident = replace(incident, status="closed", closed_at=now)
        uow.crises.save(incident)
        calm = (now - (incident.calm_since or now)).total_seconds()
        self._follow_up(uow, incident, "closed", closed_note(incident, calm, self.language, self.zone), now)
        uow.audit.record("crisis", "crisis_closed", incident.brand, crisis_id=incident.id, peak=incident.peak)
        log.info("crisis #%s of %s closed", incident.id, incident.brand, extra={"crisis_id": incident.id})
        return "closed"

    def _follow_up(self, uow: UnitOfWork, incident: Crisis, tag: str, note: Mapping[str, Any], now: datetime) -> None:
        """A note in the alert's thread and the alert itself redrawn; keys fixed by the incident and the step, so a
        check run twice queues each once."""
        parent = incident.alert_key or f"crisis:{incident.id}"
        refresh = {"op": "update", **alert_payload(incident, self._shown(uow, incident), self.language, self.zone)}
        for key, payload in ((f"{parent}:{tag}", note), (f"{parent}:{tag}:alert", refresh)):
            change = Delivery(key, self.channel, self.target, payload, kind="change", parent_key=parent, created_at=now)
            uow.deliveries.enqueue(change)

    def _figures(
        self, incident: Crisis | None, signals: list[Signal], lead: Signal | None, now: datetime
    ) -> dict[str, Any]:
        """The latest figures of the brand, kept in the incident's detail at every check."""
        detail = dict(incident.detail) if incident is not None else {}
        brand = {s.metric: s for s in signals if s.scope == "brand"}
        volume, negative = brand.get("volume"), brand.get("negative")
        figures = {
            "mentions": volume.observed if volume else 0,
            "expected": round(volume.expected, 3) if volume else 0.0,
            "negatives": negative.observed if negative else 0,
            "expected_negatives": round(negative.expected, 3) if negative else 0.0,
        }
        row = [now.isoformat(), lead.observed if lead else 0, figures["mentions"], figures["negatives"]]
        history = [r for r in detail.get("history", []) if r[0] != row[0]]  # a check run again replaces its row
        detail.update(checked_at=now.isoformat(), figures=figures, history=[*history, row][-HISTORY:])
        return detail

    def _drivers(self, uow: UnitOfWork, brand: Brand, windows: list[Window], signals: list[Signal]) -> dict[str, Any]:
        """What drives the spike: its scopes, top terms, topics, near-duplicate clusters and example mentions."""
        (start, end), baseline = windows[0], windows[1:]
        repo = uow.crises
        terms = top_terms(
            repo.texts(brand.name, [windows[0]], TEXTS), repo.texts(brand.name, baseline, TEXTS),
            self.own_words[brand.name], limit=TOP,
        )  # fmt: skip
        topics = sorted(
            (s for s in signals if s.metric == "volume" and s.scope.startswith("topic:") and s.observed),
            key=lambda s: (-s.observed, s.scope),
        )[:TOP]
        pairs = repo.repeats(brand.name, start, end, REPEATS)
        inside = {mention for mention, _ in pairs}
        groups = clusters(pairs)[:CLUSTERS]
        grouped = {m: i for i, g in enumerate(groups) for m in g}
        lead = next(s for s in signals if s.spiking)
        picked: list[int] = []
        seen: set[object] = set()
        for example in repo.examples(brand.name, start, end, lead.scope, self.examples * 10):
            # one example per near-duplicate group and per text: three copies of one post say less than three posts
            same = grouped.get(example.mention_id, " ".join(example.text.split()))
            if same not in seen and len(picked) < self.examples:
                seen.add(same)
                picked.append(example.mention_id)
        return {
            "window": {"start": start.isoformat(), "end": end.isoformat(),
                       "minutes": self.window.total_seconds() / 60, "weeks": len(baseline)},
            "signals": [s.to_json() for s in signals if s.spiking],
            "terms": [[term, n] for term, n in terms],
            "topics": [[s.scope.partition(":")[2], s.observed, round(s.expected, 3)] for s in topics],
            # each group's size (with the post they repeat) and its first copy in the window as its example
            "clusters": [[len(g), next(m for m in g if m in inside)] for g in groups],
            "examples": picked,
        }  # fmt: skip

    @staticmethod
    def _shown(uow: UnitOfWork, incident: Crisis) -> Mapping[int, CrisisExample]:
        detail = incident.detail
        ids = [int(i) for i in detail.get("examples") or []] + [int(g[1]) for g in detail.get("clusters") or []]
        return uow.crises.shown(ids)
