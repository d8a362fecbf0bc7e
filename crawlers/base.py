"""What a source is: something that, given a brand and where it left off, returns what is new."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

from store.model import Brand, CrawlState, RawMention

if TYPE_CHECKING:
    from config.settings import Settings


@dataclass
class CrawlResult:
    """One crawl of one brand on one source: the mentions, the new crawl state, and counts by reason."""

    mentions: list[RawMention]
    state: CrawlState
    stats: Counter[str] = field(default_factory=Counter)


class Source(Protocol):
    """A source of mentions. ``from_settings`` raises ``NotConfigured`` when the source is off."""

    name: ClassVar[str]

    @classmethod
    def from_settings(cls, settings: Settings) -> Source: ...

    def collect(self, brand: Brand, state: CrawlState | None) -> CrawlResult: ...


SOURCES: dict[str, type[Source]] = {}


def register(cls: type[Source]) -> type[Source]:
    """Class decorator: make a source known under its ``name``."""
    SOURCES[cls.name] = cls
    return cls
