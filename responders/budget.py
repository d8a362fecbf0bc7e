"""How many alerts a channel gets: bursts of similar cases share one alert, quiet hours and the hourly budget
hold back what is not urgent (the next digest lists it); urgent cases always go out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from responders.sla import parse_clock, seconds, zone
from store.errors import ConfigError
from store.model import PRIORITIES, Analysis, Delivery, Ticket
from store.repository import UnitOfWork

if TYPE_CHECKING:
    from config.settings import Settings

SEND, FOLD, DEFER = "send", "fold", "defer"


@dataclass(frozen=True)
class Decision:
    action: str  # send | fold | defer
    reason: str = ""
    parent: Delivery | None = None  # the alert a folded case joins


def group_key(ticket: Ticket, analysis: Analysis) -> str | None:
    """What makes two cases "similar" for a burst: the brand, the main topic and the intent. A case without a
    topic is like no other: nothing says what its problem is."""
    if not analysis.topics:
        return None
    return f"{ticket.brand}|{analysis.topics[0].label}|{analysis.intent.label}"


class RecentAlerts:
    """The latest alert of each burst group as a batch of routing knows it: asked of the store once a group, then
    kept current with the alerts the batch queues. A bad day's hundreds of similar cases cost a look-up a group,
    not one a case."""

    def __init__(self) -> None:
        # (channel, target, group) -> (the earliest ``since`` asked for, the latest alert created since then)
        self._latest: dict[tuple[str, str, str], tuple[datetime, Delivery | None]] = {}

    def last_in_group(self, uow: UnitOfWork, channel: str, target: str, group: str, since: datetime) -> Delivery | None:
        key = (channel, target, group)
        held = self._latest.get(key)
        if held is None or since < held[0]:  # a wider window than was asked for: the store knows
            held = self._latest[key] = (since, uow.deliveries.last_in_group(channel, target, group, since))
        latest = held[1]
        return latest if latest is not None and latest.created_at is not None and latest.created_at >= since else None

    def queued(self, alert: Delivery) -> None:
        """``alert`` was just queued (so it comes after every alert the store held, at the same moment)."""
        if alert.group_key is None or alert.created_at is None:
            return
        key = (alert.channel, alert.target, alert.group_key)
        held = self._latest.get(key)
        if held is None or alert.created_at < held[0]:
            return  # the store is asked when the group comes up
        latest = held[1]
        if latest is None or latest.created_at is None or alert.created_at >= latest.created_at:
            self._latest[key] = (held[0], alert)


def rank(priority: str) -> int:
    return PRIORITIES.index(priority) if priority in PRIORITIES else 1


@dataclass(frozen=True)
class AlertPolicy:
    budget: int = 30  # alerts per channel and hour
    burst_seconds: float = 1800.0
    quiet: tuple[time, time] | None = None
    quiet_min_priority: str = "high"
    tz: ZoneInfo | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertPolicy:
        a = settings.alerts
        if a.budget < 1:
            raise ConfigError("expected at least 1", key="alerts.budget")
        if a.quiet_min_priority not in PRIORITIES:
            raise ConfigError(f"expected one of {', '.join(PRIORITIES)}", key="alerts.quiet_min_priority")
        quiet = None
        if a.quiet_hours:
            if len(a.quiet_hours) != 2:
                raise ConfigError('expected ["start", "end"], e.g. ["22:00", "08:00"]', key="alerts.quiet_hours")
            quiet = (
                parse_clock(a.quiet_hours[0], "alerts.quiet_hours"),
                parse_clock(a.quiet_hours[1], "alerts.quiet_hours"),
            )
        return cls(
            budget=a.budget,
            burst_seconds=seconds(a.burst_window, "alerts.burst_window"),
            quiet=quiet,
            quiet_min_priority=a.quiet_min_priority,
            tz=zone(settings.sla.timezone),
        )

    def is_quiet(self, now: datetime) -> bool:
        if self.quiet is None:
            return False
        start, end = self.quiet
        clock = now.astimezone(self.tz).time() if self.tz else now.time()
        return start <= clock < end if start <= end else clock >= start or clock < end

    def decide(
        self,
        uow: UnitOfWork,
        channel: str,
        target: str,
        ticket: Ticket,
        group: str | None,
        now: datetime,
        recent: RecentAlerts | None = None,
    ) -> Decision:
        """Send an alert for this new case, fold it into a recent similar alert, or defer it to the digest.

        ``recent``, when given, answers which alert a group's last was (a batch of routing keeps one)."""
        if ticket.priority == "urgent":
            return Decision(SEND)
        since = now - timedelta(seconds=self.burst_seconds)
        parent = None
        if group and recent is not None:
            parent = recent.last_in_group(uow, channel, target, group, since)
        elif group:
            parent = uow.deliveries.last_in_group(channel, target, group, since)
        if parent is not None:
            return Decision(FOLD, "burst", parent)
        if self.is_quiet(now) and rank(ticket.priority) < rank(self.quiet_min_priority):
            return Decision(DEFER, "quiet hours")
        used = uow.deliveries.alerts_since(channel, target, now - timedelta(hours=1))
        if used >= self.budget and rank(ticket.priority) < rank("high"):
            return Decision(DEFER, f"alert budget of {self.budget} an hour used")
        return Decision(SEND)
