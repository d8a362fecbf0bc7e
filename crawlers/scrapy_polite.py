"""Scrapy made polite: settings from a source's config, robots.txt enforced, growing retries, 429 back-off."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from crawlers.base import SourceConfig
from crawlers.robots import CACHE, allowed
from crawlers.scrapy_run import abort_crawl
from store.errors import SourceBlocked, SourceError, SourceParseError, SourceRateLimited

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from twisted.python.failure import Failure

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({500, 502, 503, 504, 522, 524, 408})
SCRAPY_TRANSIENT = (
    "DownloadTimeoutError",
    "DownloadFailedError",
    "ResponseDataLossError",
    "DownloadConnectionRefusedError",
)


def polite_settings(config: SourceConfig, *, log_level: str = "WARNING") -> dict[str, Any]:
    """Scrapy settings for one configured HTML source: robots.txt, delays, AutoThrottle, retries, size cap.

    robots.txt is read here, in the parent, through the day-long cache of :mod:`crawlers.robots` (so a quiet
    poll costs one request, not two) and enforced in the child by :class:`PoliteDownloaderMiddleware`; an
    unreachable robots.txt raises SourceBlocked here.
    """
    low, high = config.delay
    robots = CACHE.get(config) if config.robots else None
    return {
        "USER_AGENT": config.user_agent,
        "ROBOTSTXT_OBEY": False,  # the middleware below enforces the cached robots.txt instead
        "KULAK_ROBOTS_TXT": robots.body if robots else None,
        "KULAK_ROBOTS_REQUESTS": robots.requests if robots else 0,
        "CONCURRENT_REQUESTS": config.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": config.concurrency,
        # Scrapy draws each wait from DOWNLOAD_DELAY * (1 +- jitter): the middle of [min, max] and its spread.
        "DOWNLOAD_DELAY": (low + high) / 2,
        "DOWNLOAD_DELAY_JITTER": (high - low) / (high + low) if high > 0 else 0.0,
        "AUTOTHROTTLE_START_DELAY": low,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(config.concurrency),
        "DOWNLOAD_TIMEOUT": config.timeout,
        "DOWNLOAD_MAXSIZE": config.max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "REDIRECT_MAX_TIMES": 10,  # as PoliteClient: a loop ends in the errback as a SourceError
        "KULAK_RETRIES": config.retries,
        "KULAK_RETRY_BACKOFF": config.backoff,
        "KULAK_MAX_RETRY_AFTER": config.max_wait,
        "LOG_LEVEL": log_level,
    }


def failure_reason(failure: Failure) -> str:
    """A short reason for a failed request: the HTTP status, robots.txt, a size cap, or the error."""
    value = failure.value
    response = getattr(value, "response", None)  # HttpError carries the response
    if response is not None:
        return f"HTTP {response.status}"
    text = str(value)
    if "robots.txt" in text:
        return "robots.txt forbids it"
    return f"{type(value).__name__}: {text}"[:300]


def failure_error(failure: Failure, what: str) -> SourceError:
    """The SourceError a failed request means: robots.txt is a block, a page over the size cap a parse error."""
    reason = failure_reason(failure)
    if reason == "robots.txt forbids it":
        return SourceBlocked(f"{what}: robots.txt forbids it")
    # Scrapy 2.14+ cancels a body that grows past DOWNLOAD_MAXSIZE with an empty DownloadCancelledError (the
    # reason goes to a log line only); a cancelled download has no other cause while the crawl runs.
    cancelled = type(failure.value).__name__ == "DownloadCancelledError"
    if cancelled or "maxsize" in reason.lower() or "max size" in reason.lower():
        return SourceParseError(f"{what}: larger than the page size limit")
    return SourceError(f"{what} failed: {reason}")


class PoliteDownloaderMiddleware:
    """Wait between requests, back off on 429, stop on a block: what a guest on someone else's site owes.

    A request's ``meta["kulak_delay"] = (min, max)`` is the wait before sending it (none before the first).
    Settings: ``KULAK_BACKOFF`` (min, max) seconds after a 429 without ``Retry-After``; ``KULAK_BACKOFF_TRIES``
    retries after 429 before the crawl ends with ``SourceRateLimited``; ``KULAK_MAX_RETRY_AFTER`` the longest
    ``Retry-After`` worth waiting for in-crawl; ``KULAK_BLOCK_STATUSES`` statuses that end it with ``SourceBlocked``.
    """

    def __init__(
        self,
        crawler: Crawler,
        *,
        backoff: tuple[float, float] = (45.0, 75.0),
        tries: int = 2,
        max_retry_after: float = 300.0,
        block_statuses: frozenset[int] = frozenset({403}),
        retries: int = 3,
        retry_backoff: float = 2.0,
        robots_txt: str | None = None,
        user_agent: str = "",
    ) -> None:
        self.crawler = crawler
        self.robots_txt = robots_txt
        self.user_agent = user_agent
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.backoff = backoff
        self.tries = tries
        self.max_retry_after = max_retry_after
        self.block_statuses = block_statuses
        self._sent_any = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PoliteDownloaderMiddleware:
        s = crawler.settings
        low, high = s.getlist("KULAK_BACKOFF", [45.0, 75.0])
        return cls(
            crawler,
            backoff=(float(low), float(high)),
            tries=s.getint("KULAK_BACKOFF_TRIES", 2),
            max_retry_after=s.getfloat("KULAK_MAX_RETRY_AFTER", 300.0),
            block_statuses=frozenset(int(x) for x in s.getlist("KULAK_BLOCK_STATUSES", [403])),
            retries=s.getint("KULAK_RETRIES", 3),
            retry_backoff=s.getfloat("KULAK_RETRY_BACKOFF", 2.0),
            robots_txt=s.get("KULAK_ROBOTS_TXT"),
            user_agent=s.get("USER_AGENT", ""),
        )

    async def process_request(self, request: Request, spider: Any = None) -> None:
        if self.robots_txt is not None and not allowed(self.robots_txt, request.url, self.user_agent):
            from scrapy.exceptions import IgnoreRequest

            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("kulak/robots_forbidden")
            path = request.url.split("?", 1)[0]
            abort_crawl(self.crawler, SourceBlocked(f"robots.txt forbids {path}"))
            raise IgnoreRequest(f"robots.txt forbids {path}")
        low, high = request.meta.get("kulak_delay", (0.0, 0.0))
        if self._sent_any and high > 0:
            await asyncio.sleep(random.uniform(low, high))
        self._sent_any = True

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        from scrapy.exceptions import IgnoreRequest

        stats = self.crawler.stats
        assert stats is not None
        if response.status in self.block_statuses:
            stats.inc_value("kulak/blocked")
            abort_crawl(self.crawler, SourceBlocked(f"{response.url} answered HTTP {response.status}"))
            raise IgnoreRequest(f"blocked: HTTP {response.status}")
        if response.status in RETRY_STATUSES:
            return await self._retry(request, f"HTTP {response.status}") or response
        if response.status != 429:
            return response
        tries = int(request.meta.get("kulak_429_tries", 0))
        retry_after = _retry_after(response.headers.get("Retry-After"))
        if tries >= self.tries or (retry_after is not None and retry_after > self.max_retry_after):
            message = f"{response.url} answered HTTP 429 after {tries} backoff(s)"
            abort_crawl(self.crawler, SourceRateLimited(message, retry_after=retry_after))
            raise IgnoreRequest("rate limited")
        wait = retry_after if retry_after is not None else random.uniform(*self.backoff)
        log.warning("HTTP 429 from %s; backing off %.1f s (try %s of %s)", response.url, wait, tries + 1, self.tries)
        stats.inc_value("kulak/backoff")
        await asyncio.sleep(wait)
        return request.replace(dont_filter=True, meta={**request.meta, "kulak_429_tries": tries + 1})

    async def process_exception(self, request: Request, exception: BaseException, spider: Any = None) -> Request | None:
        from scrapy import exceptions as scrapy_errors
        from twisted.internet import error as tx
        from twisted.web._newclient import ResponseFailed

        transient: tuple[type[BaseException], ...] = (
            tx.TimeoutError,
            tx.TCPTimedOutError,
            tx.ConnectionRefusedError,
            tx.ConnectionLost,
            tx.ConnectionDone,
            ResponseFailed,
        )
        # Scrapy 2.14+ raises its own types for these instead of Twisted's, which older versions lack.
        transient += tuple(getattr(scrapy_errors, name) for name in SCRAPY_TRANSIENT if hasattr(scrapy_errors, name))
        if isinstance(exception, transient):
            return await self._retry(request, type(exception).__name__)
        return None

    async def _retry(self, request: Request, why: str) -> Request | None:
        """The request again after ``retry_backoff * 2**n`` seconds with jitter; None when out of tries."""
        tries = int(request.meta.get("kulak_retries", 0))
        if tries >= self.retries:
            return None
        wait = self.retry_backoff * 2**tries * random.uniform(1.0, 1.5)
        log.warning("%s from %s; trying again in %.1f s", why, request.url, wait)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("kulak/retries")
        await asyncio.sleep(wait)
        return request.replace(dont_filter=True, meta={**request.meta, "kulak_retries": tries + 1})


def _retry_after(value: bytes | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
