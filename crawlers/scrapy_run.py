"""Run Scrapy spiders in child processes: a Twisted reactor starts once per process, a service runs for months."""

from __future__ import annotations

import importlib
import json
import logging
import multiprocessing
import os
import pickle
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from store import errors
from store.errors import KulakError, SourceError

if TYPE_CHECKING:
    from twisted.python.failure import Failure

log = logging.getLogger(__name__)

ERROR_STAT = "kulak/error"  # where abort_crawl leaves the error for the parent
ORPHAN_CHECK = 0.5  # seconds between a child's looks at whether its parent still lives
EXIT_ORPHANED = 70
BASE_SETTINGS: dict[str, Any] = {
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,  # Scrapy 2.19's code-running HTTP server: never in a service
    "LOG_LEVEL": "WARNING",
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    # PoliteDownloaderMiddleware retries 5xx and timeouts with growing waits and handles 429; Scrapy's own
    # RetryMiddleware would retry at once, so it is off.
    "RETRY_ENABLED": False,
    "DOWNLOADER_MIDDLEWARES": {"crawlers.scrapy_polite.PoliteDownloaderMiddleware": 560},
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_MAX_DELAY": 60.0,
}


# The parent's root level and its stderr handlers' (formatter, filters), as the child rebuilds them.
LogSetup = tuple[int, list[tuple[logging.Formatter | None, list[Any]]]]


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
    log_ids: Mapping[str, Any] | None = None,
) -> SpiderRun:
    """Crawl with ``spider`` (a class or its dotted path) in a fresh spawned process and wait for it.

    ``kwargs`` go to the spider, ``settings`` over :data:`BASE_SETTINGS`; both must pickle. Never raises for the
    crawl itself: a failure comes back as ``SpiderRun.error``, a :class:`SourceError` (``SourceBlocked``,
    ``SourceRateLimited``, ...). The child is killed after ``timeout`` seconds. The child writes its log lines
    as this process does (format, redaction), each carrying ``log_ids`` (``source``, ``brand``) like ``extra=``.
    """
    path = spider if isinstance(spider, str) else f"{spider.__module__}.{spider.__qualname__}"
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_main,
        args=(
            sender,
            path,
            dict(kwargs or {}),
            {**BASE_SETTINGS, **(settings or {})},
            _stderr_logging(log_ids),
            os.getpid(),
        ),
        name=f"scrapy-{path.rsplit('.', 1)[-1]}",
        daemon=True,
    )
    started = time.monotonic()
    log.debug("Starting spider %s in a child process", path, extra=log_ids)
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
    stats = dict(outcome["stats"])
    robots_requests = int((settings or {}).get("KULAK_ROBOTS_REQUESTS") or 0)
    if robots_requests:  # robots.txt was read in this process for the crawl: it counts as one of its requests
        stats["downloader/request_count"] = int(stats.get("downloader/request_count", 0)) + robots_requests
        stats["kulak/robots_requests"] = robots_requests
    run = SpiderRun(outcome["items"], stats, _translate(outcome["error"]), seconds)
    log.debug("Spider %s: %s items in %.1f s, error %s", path, len(run.items), seconds, run.error, extra=log_ids)
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


class _Ids(logging.Filter):
    """Puts fixed ids on every record that lacks them, as ``extra=`` would."""

    def __init__(self, ids: Mapping[str, Any]) -> None:
        super().__init__()
        self.ids = dict(ids)

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in self.ids.items():
            record.__dict__.setdefault(key, value)
        return True


def _stderr_logging(ids: Mapping[str, Any] | None = None) -> LogSetup | None:
    """How this process writes log lines to stderr (root level, each handler's formatter and filters), so the
    child writes its own lines the same way: same format, same ids, same redaction. None when this process has
    no plain stderr handler or its pieces do not pickle; the child then uses Scrapy's own handler."""
    root = logging.getLogger()
    first = [_Ids(ids)] if ids else []
    handlers = [
        (h.formatter, [*first, *h.filters])
        for h in root.handlers
        if type(h) is logging.StreamHandler and h.stream is sys.stderr
    ]
    if not handlers:
        return None
    try:
        pickle.dumps(handlers)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None
    return root.level, handlers


def _install_logging(setup: LogSetup, settings: dict[str, Any]) -> dict[str, Any]:
    """Put the parent's stderr handlers on the child's root logger; the settings tell Scrapy to add none."""
    parent_level, handlers = setup
    level = max(parent_level, logging.getLevelName(str(settings.get("LOG_LEVEL", "WARNING")).upper()))
    root = logging.getLogger()
    root.setLevel(level)
    for formatter, filters in handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(level)
        handler.setFormatter(formatter)
        for f in filters:
            handler.addFilter(f)
        root.addHandler(handler)
    return {**settings, "LOG_INSTALL_ROOT_HANDLER": False}


def _child_main(
    sender: Connection,
    path: str,
    kwargs: dict[str, Any],
    settings: dict[str, Any],
    log_setup: LogSetup | None = None,
    parent: int | None = None,
) -> None:
    """Entry point of the child process: crawl, then send one outcome dict back."""
    if parent is not None:
        threading.Thread(target=_orphan_watch, args=(parent,), name="parent-watch", daemon=True).start()
    try:
        if log_setup is not None:
            settings = _install_logging(log_setup, settings)
        outcome = _crawl(path, kwargs, settings)
    except BaseException as exc:  # whatever happens, the parent must hear about it
        outcome = {"items": [], "stats": {}, "error": _describe(exc)}
    sender.send(outcome)
    sender.close()


def _orphan_watch(parent: int) -> None:
    """End the child once its parent is gone (killed with SIGKILL, say): nobody is left to take its items, and a
    crawl of a slow site would otherwise run on for minutes against it."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK)
    os._exit(EXIT_ORPHANED)


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
