"""What the API and feed sources share: injected HTTP plumbing, secrets from the environment, failure rules."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self

import httpx

from crawlers.base import FAILED, PARSE_FAILURES, BaseSource, CrawlResult, SourceConfig, secret
from crawlers.http import PoliteClient
from store.errors import SourceError, SourceParseError
from store.model import Brand, CrawlState, RawMention

if TYPE_CHECKING:
    from config.settings import Settings, SourceSettings


def utc_now() -> datetime:
    return datetime.now(UTC)


class ApiSource(BaseSource):
    """A source read over HTTP with a :class:`PoliteClient`; tests inject the client, the sleep and the clocks.

    Subclasses name their secrets in :attr:`secrets`; each is a keyword of the constructor (tests pass plain values)
    and is read from the environment variable its Options field names when built by :meth:`from_settings`.
    """

    secrets: ClassVar[Mapping[str, str]] = {}  # attribute -> the Options field naming its environment variable
    secret_label: ClassVar[str] = ""  # how a missing secret's message names the API, e.g. "X API"
    # Errors that end the whole crawl wherever they come from (a page, one feed of several); others are counted.
    ends_crawl: ClassVar[tuple[type[SourceError], ...]] = ()

    def __init__(
        self,
        config: SourceConfig,
        options: Any = None,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        now: Callable[[], datetime] = utc_now,
        **secret_values: str,
    ) -> None:
        super().__init__(config, options)
        unknown = set(secret_values) - set(self.secrets)
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments: {', '.join(sorted(unknown))}")
        for attribute in self.secrets:
            setattr(self, attribute, secret_values.get(attribute, ""))
        self._client = client
        self._sleep = sleep
        self._clock = clock
        self._now = now
        self._log = logging.getLogger(type(self).__module__)  # records stay under the source's own module
        self.check_options()

    def check_options(self) -> None:
        """Raise ConfigError when the options contradict what the API accepts; most types have nothing to check."""

    @classmethod
    def from_settings(cls, conf: SourceSettings, settings: Settings, index: int = 0) -> Self:
        source = super().from_settings(conf, settings, index)
        what = f"source {conf.name!r} ({cls.secret_label})"
        for attribute, env_field in cls.secrets.items():
            setattr(source, attribute, secret(getattr(source.options, env_field), what, settings))
        return source

    @contextmanager
    def open_client(self, stats: Counter[str]) -> Iterator[PoliteClient]:
        """A polite client for one crawl; its request counts join ``stats``. A lent ``httpx.Client`` stays open."""
        client = PoliteClient(self.config, client=self._client, sleep=self._sleep, clock=self._clock)
        try:
            yield client
        except SourceError as exc:  # the crawl failed, but what it sent still counts in its run row
            stats.update(client.stats)
            exc.counts = exc.counts if exc.counts is not None else stats
            raise
        finally:
            if self._client is None:
                client.close()
        stats.update(client.stats)

    def page_failed(self, exc: SourceError, *, first: bool, what: str, stats: Counter[str]) -> None:
        """The paging rule, for a page that failed; the caller stops paging unless this raises.

        An unreadable page is counted and what was read is kept. The first page failing, or an error in
        :attr:`ends_crawl`, ends the crawl; a later page is counted and the old state makes the next crawl read the gap.
        """
        if isinstance(exc, SourceParseError):
            self._log.warning("%s unreadable: %s", what, exc, extra={"source": self.name})
            stats[PARSE_FAILURES] += 1
            return
        if first or isinstance(exc, self.ends_crawl):
            raise exc
        self._log.warning("%s failed; the gap is read next time: %s", what, exc, extra={"source": self.name})
        stats[FAILED] += 1

    def failures(self, stats: Counter[str]) -> Failures:
        return Failures(stats, self._log, self.ends_crawl, source=self.name)

    def mention(
        self,
        brand: Brand,
        external_id: str,
        url: str,
        text: str,
        *,
        payload: Mapping[str, Any],
        title: str = "",
        author: str = "",
        author_handle: str = "",
        language: str | None = None,
        published_at: datetime | None = None,
    ) -> RawMention:
        """A mention from this source about ``brand``, fetched now; the payload names the configured source first."""
        return RawMention(
            source=self.kind,
            external_id=external_id,
            url=url,
            text=text,
            fetched_at=self._now(),
            title=title,
            brand=brand.name,
            author=author,
            author_handle=author_handle,
            language=language,
            published_at=published_at,
            payload={"source_name": self.name, **payload},
        )

    def result(self, mentions: Iterable[RawMention], state: CrawlState, stats: Counter[str]) -> CrawlResult:
        return CrawlResult(list(mentions), replace(state, updated_at=self._now()), stats)


@dataclass
class Failures:
    """The feeds or timelines of one crawl that failed: each is logged and counted, the others still read."""

    stats: Counter[str]
    log: logging.Logger
    ends_crawl: tuple[type[SourceError], ...] = ()
    errors: list[SourceError] = field(default_factory=list)
    source: str = ""  # the configured source's name, for the log lines

    def add(self, exc: SourceError, what: str) -> None:
        if isinstance(exc, self.ends_crawl):
            raise exc
        self.log.warning("%s failed: %s", what, exc, extra={"source": self.source} if self.source else None)
        self.stats[FAILED] += 1
        self.errors.append(exc)

    def raise_if_all(self, tried: int) -> None:
        """Nothing could be read at all: the crawl stage records the first failure."""
        if self.errors and len(self.errors) == tried:
            self.errors[0].counts = self.stats  # the requests of every failed try, for the run row
            raise self.errors[0]


class SeenIds:
    """A bounded list of item ids kept in the cursor, newest first, that tells items read before from new ones."""

    def __init__(self, cursor: Mapping[str, Any], key: str, limit: int) -> None:
        stored = cursor.get(key)
        self.key = key
        self.limit = limit
        self.old: list[str] = [str(x) for x in stored] if isinstance(stored, list) else []
        self.fresh: list[str] = []
        self._old = set(self.old)
        self._fresh: set[str] = set()

    def before(self, item_id: object) -> bool:
        """Whether an earlier crawl saw ``item_id``."""
        return item_id in self._old

    def __contains__(self, item_id: object) -> bool:
        """Whether an earlier crawl or this one saw ``item_id``."""
        return item_id in self._old or item_id in self._fresh

    def add(self, item_id: str) -> None:
        self.fresh.append(item_id)
        self._fresh.add(item_id)

    def kept(self) -> dict[str, list[str]]:
        """The cursor entry to store: this crawl's ids ahead of the older ones, at most ``limit``."""
        return {self.key: (self.fresh + self.old)[: self.limit]}
