"""Run Scrapy spiders in child processes (a Twisted reactor starts once per process) and keep them polite."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import multiprocessing
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from crawlers.base import SourceConfig
from store import errors
from store.errors import KulakError, SourceBlocked, SourceError, SourceParseError, SourceRateLimited

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from twisted.python.failure import Failure

log = logging.getLogger(__name__)

ERROR_STAT = "kulak/error"  # where abort_crawl leaves the error for the parent
BASE_SETTINGS: dict[str, Any] = {
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,  # Scrapy 2.19's code-running HTTP server: never in a service
    "LOG_LEVEL": "WARNING",
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    # PoliteDownloaderMiddleware retries 5xx and timeouts with growing waits and handles 429; Scrapy's own
    # RetryMiddleware would retry at once, so it is off.
    "RETRY_ENABLED": False,
    "DOWNLOADER_MIDDLEWARES": {"crawlers.scrapy_run.PoliteDownloaderMiddleware": 560},
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_MAX_DELAY": 60.0,
}
RETRY_STATUSES = frozenset({500, 502, 503, 504, 522, 524, 408})


def polite_settings(config: SourceConfig, *, log_level: str = "WARNING") -> dict[str, Any]:
    """Scrapy settings for one configured HTML source: robots.txt, delays, AutoThrottle, retries, size cap."""
    low, high = config.delay
    return {
        "USER_AGENT": config.user_agent,
        "ROBOTSTXT_OBEY": config.robots,
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
    if "maxsize" in reason.lower() or "max size" in reason.lower():
        return SourceParseError(f"{what}: larger than the page size limit")
    return SourceError(f"{what} failed: {reason}")


@dataclass
class SpiderRun:
    """What one spider run handed back: its items (plain dicts), Scrapy's stats, and the error that ended it."""

    items: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    error: SourceError | None = None
    seconds: float = 0.0

    def raise_for_error(self) -> SpiderRun:
        if self.error is not None:
            raise self.error
        return self

    def counts(self, prefix: str) -> dict[str, int]:
        """Integer stats under ``prefix/`` with the prefix taken off (a spider's counts by reason)."""
        start = f"{prefix}/"
        return {k[len(start) :]: v for k, v in self.stats.items() if k.startswith(start) and isinstance(v, int)}


def run_spider(
    spider: str | type[Any],
    *,
    kwargs: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
    timeout: float = 600.0,
) -> SpiderRun:
    """Crawl with ``spider`` (a class or its dotted path) in a fresh spawned process and wait for it.

    ``kwargs`` go to the spider, ``settings`` over :data:`BASE_SETTINGS`; both must pickle. Never raises for the
    crawl itself: a failure comes back as ``SpiderRun.error``, a :class:`SourceError` (``SourceBlocked``,
    ``SourceRateLimited``, ...). The child is killed after ``timeout`` seconds.
    """
    path = spider if isinstance(spider, str) else f"{spider.__module__}.{spider.__qualname__}"
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_main,
        args=(sender, path, dict(kwargs or {}), {**BASE_SETTINGS, **(settings or {})}),
        name=f"scrapy-{path.rsplit('.', 1)[-1]}",
        daemon=True,
    )
    started = time.monotonic()
    log.debug("Starting spider %s in a child process", path)
    child.start()
    sender.close()
    try:
        outcome = _wait(receiver, child, started + timeout)
    finally:
        receiver.close()
        _reap(child)
    seconds = time.monotonic() - started
    if outcome is None:
        if seconds >= timeout:
            return SpiderRun(error=SourceError(f"spider {path} timed out after {timeout:g} s"), seconds=seconds)
        return SpiderRun(error=SourceError(f"spider {path} died, exit code {child.exitcode}"), seconds=seconds)
    run = SpiderRun(outcome["items"], outcome["stats"], _translate(outcome["error"]), seconds)
    log.debug("Spider %s: %s items in %.1f s, error %s", path, len(run.items), seconds, run.error)
    return run


def abort_crawl(crawler: Any, error: KulakError) -> None:
    """Stop the crawl now and hand ``error`` to the caller of :func:`run_spider` (from a spider or middleware)."""
    if crawler.stats.get_value(ERROR_STAT) is None:
        crawler.stats.set_value(ERROR_STAT, _describe(error))
    _close(crawler, "kulak_error")


def crawl_aborted(crawler: Any) -> bool:
    """Whether :func:`abort_crawl` already ended this crawl (errbacks then have nothing left to do)."""
    return crawler.stats.get_value(ERROR_STAT) is not None


def _wait(receiver: Connection, child: Any, deadline: float) -> dict[str, Any] | None:
    while time.monotonic() < deadline:
        if receiver.poll(min(0.05, max(0.0, deadline - time.monotonic()))):
            try:
                outcome: dict[str, Any] = receiver.recv()
            except EOFError:
                return None
            return outcome
        if not child.is_alive() and not receiver.poll():
            return None
    return None


def _reap(child: Any) -> None:
    child.join(5)
    if child.is_alive():
        child.terminate()
        child.join(5)
    if child.is_alive():
        child.kill()
        child.join()


def _describe(exc: BaseException) -> dict[str, Any]:
    return {"type": type(exc).__name__, "message": str(exc), "retry_after": getattr(exc, "retry_after", None)}


def _translate(described: Mapping[str, Any] | None) -> SourceError | None:
    """The child's error as a store error; anything that is not a SourceError already becomes one."""
    if not described:
        return None
    cls = getattr(errors, str(described["type"]), None)
    message = str(described["message"])
    if cls is errors.SourceRateLimited:
        return errors.SourceRateLimited(message, retry_after=described.get("retry_after"))
    if isinstance(cls, type) and issubclass(cls, SourceError):
        return cls(message)
    return SourceError(f"{described['type']}: {message}")


def _jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: dates as ISO strings, anything else unknown as its ``str``."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, date) else str(v)))


def _close(crawler: Any, reason: str) -> None:
    from scrapy.utils.defer import deferred_from_coro

    engine = crawler.engine
    if hasattr(engine, "close_spider_async"):  # Scrapy >= 2.14
        deferred_from_coro(engine.close_spider_async(reason=reason))
    else:
        engine.close_spider(crawler.spider, reason)


def _child_main(sender: Connection, path: str, kwargs: dict[str, Any], settings: dict[str, Any]) -> None:
    """Entry point of the child process: crawl, then send one outcome dict back."""
    try:
        outcome = _crawl(path, kwargs, settings)
    except BaseException as exc:  # whatever happens, the parent must hear about it
        outcome = {"items": [], "stats": {}, "error": _describe(exc)}
    sender.send(outcome)
    sender.close()


def _crawl(path: str, kwargs: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    from itemadapter import ItemAdapter
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    module, _, name = path.rpartition(".")
    spidercls = getattr(importlib.import_module(module), name)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spidercls)
    items: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []

    def on_item(item: Any, response: Any, spider: Any) -> None:
        items.append(_jsonable(ItemAdapter(item).asdict()))

    def on_error(failure: Any, response: Any, spider: Any) -> None:
        # An exception escaped a callback: the spider is broken or the markup changed; stop rather than guess.
        if not failures:
            failures.append(_describe(failure.value))
            _close(crawler, "spider_error")

    crawler.signals.connect(on_item, signal=signals.item_scraped)
    crawler.signals.connect(on_error, signal=signals.spider_error)

    def on_start_failure(failure: Failure) -> None:
        failures.append(_describe(failure.value or SourceError("the crawl did not start")))

    process.crawl(crawler, **kwargs).addErrback(on_start_failure)
    process.start(install_signal_handlers=False)
    stats = _jsonable(crawler.stats.get_stats() if crawler.stats else {})
    error = stats.get(ERROR_STAT) or (failures[0] if failures else None)
    reason = stats.get("finish_reason")
    if error is None and reason not in (None, "finished"):
        error = {"type": "SourceError", "message": f"spider closed early: {reason}", "retry_after": None}
    return {"items": items, "stats": stats, "error": error}


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
    ) -> None:
        self.crawler = crawler
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
        )

    async def process_request(self, request: Request, spider: Any = None) -> None:
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
        from twisted.internet import error as tx
        from twisted.web._newclient import ResponseFailed

        transient = (tx.TimeoutError, tx.TCPTimedOutError, tx.ConnectionRefusedError, tx.ConnectionLost, ResponseFailed)
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
