"""What a source is: something that, given a brand and where it left off, returns what is new.

Each ``[[sources]]`` table in kulak.toml names a ``type``, a key of :data:`SOURCES`. The common keys become a
:class:`SourceConfig`; the type's own keys are read into its ``Options`` dataclass, checked when it is built.
"""

from __future__ import annotations

import abc
import json
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, TypeVar

from store.errors import ConfigError, NotConfigured
from store.model import Brand, CrawlState, RawMention

if TYPE_CHECKING:
    from config.settings import Settings, SourceSettings

# The counts every source reports (CrawlResult.stats); the crawl stage adds new / duplicate.
REQUESTS = "requests"  # HTTP requests sent, robots.txt included
FETCHED = "fetched"  # items read off the source, before the store drops what it already has
PARSE_FAILURES = "parse_failures"  # pages or items nobody could read: counted, reported, never silent
FAILED = "failed"  # items or pages lost to an error that was not a parse failure
NOT_MODIFIED = "not_modified"  # conditional GETs answered 304
PAGE_LIMIT = "page_limit"  # walks that stopped at max_pages with more pages offered: the rest is not read


@dataclass(frozen=True)
class SourceConfig:
    """The keys every source has, as plain values (built from a ``[[sources]]`` table or by a test)."""

    name: str
    base_url: str
    brands: frozenset[str] | None = None  # None: every brand
    delay: tuple[float, float] = (0.0, 0.0)
    concurrency: int = 1
    max_pages: int = 3
    timeout: float = 30.0
    user_agent: str = "Kulak/0.2 (social-care listener; +https://github.com/kulak-dev/kulak)"
    retries: int = 3
    backoff: float = 2.0
    max_wait: float = 300.0
    max_bytes: int = 10_000_000
    robots: bool = True
    interval: float = 900.0
    silence: float = 172_800.0
    max_failures: int = 3

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")

    def url(self, path: str) -> str:
        return f"{self.root}/{path.lstrip('/')}"


@dataclass
class CrawlResult:
    """One crawl of one brand on one source: the mentions, the new crawl state, and counts by reason."""

    mentions: list[RawMention]
    state: CrawlState
    stats: Counter[str] = field(default_factory=Counter)


class Source(Protocol):
    """A configured source. ``from_settings`` raises ``NotConfigured`` when it is off or lacks a secret."""

    kind: ClassVar[str]  # the registry key, the `type` of a [[sources]] table
    config: SourceConfig

    @property
    def name(self) -> str: ...

    def watches(self, brand: Brand) -> bool: ...

    def collect(self, brand: Brand, state: CrawlState | None) -> CrawlResult: ...


@dataclass(frozen=True)
class NoOptions:
    """A source type without keys of its own."""


class BaseSource(abc.ABC):
    """What sources share: the config, the typed options, which brands they watch, how they are built."""

    kind: ClassVar[str]  # the registry key, the `type` of a [[sources]] table
    default_base_url: ClassVar[str]
    Options: ClassVar[type[Any]] = NoOptions

    def __init__(self, config: SourceConfig, options: Any = None) -> None:
        self.config = config
        self.options = options if options is not None else self.Options()

    @property
    def name(self) -> str:
        return self.config.name

    def watches(self, brand: Brand) -> bool:
        """Whether this source crawls ``brand``: listed (or all listed) and the type knows where to look."""
        listed = self.config.brands is None or brand.name in self.config.brands
        return listed and self.has_key_for(brand)

    def has_key_for(self, brand: Brand) -> bool:
        """Whether the options say where ``brand`` lives here; search-by-query types always do."""
        return True

    @abc.abstractmethod
    def collect(self, brand: Brand, state: CrawlState | None) -> CrawlResult:
        """What is new about ``brand`` since ``state`` (None on the first crawl), and the state to keep."""

    def state_for(self, brand: Brand, state: CrawlState | None) -> CrawlState:
        return state or CrawlState(source=self.name, brand=brand.name)

    @classmethod
    def from_settings(cls, conf: SourceSettings, settings: Settings, index: int = 0) -> Self:
        from config.loader import build_section

        where = settings.path or "defaults"
        options = build_section(cls.Options, conf.options, where, f"sources[{index}]")
        brand_names = {b.name for b in settings.brands}
        for f in fields(options):
            value = getattr(options, f.name)
            if f.metadata.get("per_brand") and isinstance(value, Mapping):
                for brand in value:
                    if brand not in brand_names:
                        raise ConfigError(
                            f"no [[brands]] table is named {brand!r}", source=where, key=f"sources[{index}].{f.name}"
                        )
        if not conf.enabled:
            raise NotConfigured(f"source {conf.name!r} has enabled = false")
        return cls(source_config(conf, settings, cls.default_base_url), options)


def source_config(conf: SourceSettings, settings: Settings, default_base_url: str) -> SourceConfig:
    crawl = settings.crawl
    return SourceConfig(
        name=conf.name,
        base_url=conf.base_url or default_base_url,
        brands=frozenset(conf.brands) if conf.brands else None,
        delay=conf.delay,
        concurrency=conf.concurrency,
        max_pages=conf.max_pages,
        timeout=conf.timeout,
        user_agent=crawl.agent(),
        retries=crawl.retries,
        backoff=crawl.backoff,
        max_wait=crawl.max_wait,
        max_bytes=crawl.max_page_bytes,
        robots=crawl.robots,
        interval=conf.interval_seconds,
        silence=conf.silence_seconds,
        max_failures=conf.max_failures,
    )


def secret(env_name: str, what: str, settings: Settings | None = None) -> str:
    """A secret from the environment the settings were read from (never from the file); NotConfigured if unset."""
    value = settings.secret(env_name) if settings is not None else os.environ.get(env_name, "").strip()
    if not value:
        raise NotConfigured(f"{what} needs {env_name} set in the environment")
    return value


def cursor_of(state: CrawlState) -> dict[str, Any]:
    """The source's own bookkeeping kept in ``state.cursor`` (a JSON object); empty when there is none."""
    if not state.cursor:
        return {}
    try:
        data = json.loads(state.cursor)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def with_cursor(state: CrawlState, data: Mapping[str, Any]) -> CrawlState:
    return replace(state, cursor=json.dumps(dict(data), ensure_ascii=False, sort_keys=True))


SOURCES: dict[str, type[BaseSource]] = {}
S = TypeVar("S", bound=type[BaseSource])


def register(cls: S) -> S:
    """Class decorator: make a source type known under its ``kind`` (the `type` in kulak.toml)."""
    SOURCES[cls.kind] = cls
    return cls
