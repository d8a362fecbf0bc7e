"""robots.txt, fetched once a day per site and shared by every crawl in this process (RFC 9309 rules)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from protego import Protego

from crawlers.base import REQUESTS, SourceConfig
from crawlers.http import PoliteClient
from store.errors import SourceBlocked, SourceError, SourceParseError
from store.model import CrawlState

log = logging.getLogger(__name__)

STATE_SOURCE = "robots.txt"  # crawl_state rows under this source name hold each site's robots.txt
TTL = 24 * 3600.0  # RFC 9309: a crawler should not use a cached robots.txt for more than 24 hours
MAX_BYTES = 500 * 1024  # RFC 9309: at least the first 500 KiB must be parsed; the rest may be ignored


@dataclass(frozen=True)
class Robots:
    """A site's robots.txt as fetched: ``body`` ("" allows everything) and whether it cost a request now."""

    root: str
    body: str
    requests: int  # what reading it cost this time: 0 when it came from the cache

    def allows(self, url: str, agent: str) -> bool:
        return allowed(self.body, url, agent)


def allowed(body: str, url: str, agent: str) -> bool:
    """Whether ``agent`` may fetch ``url`` under the robots.txt ``body``."""
    if not body.strip():
        return True
    return bool(Protego.parse(body).can_fetch(url, agent))


class RobotsCache:
    """Keeps each site's robots.txt for ``ttl`` seconds; one that cannot be read raises and is not cached."""

    def __init__(self, ttl: float = TTL, clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl
        self.clock = clock  # wall time: entries outlive the process in the store (see export / load)
        self._bodies: dict[str, tuple[float, str]] = {}
        self._fresh: set[str] = set()  # roots read by this process and not yet exported
        self._lock = threading.Lock()

    def get(self, config: SourceConfig, client: httpx.Client | None = None) -> Robots:
        parts = urlsplit(config.base_url)
        root = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            hit = self._bodies.get(root)
        if hit is not None and self.clock() - hit[0] < self.ttl:
            return Robots(root, hit[1], requests=0)
        polite = PoliteClient(config, client=client)
        try:
            body = _fetch(root, polite)
        finally:
            if client is None:
                polite.close()
        with self._lock:
            self._bodies[root] = (self.clock(), body)
            self._fresh.add(root)
        return Robots(root, body, requests=polite.stats[REQUESTS])

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()
            self._fresh.clear()

    def load(self, states: Iterable[CrawlState]) -> None:
        """Take robots.txt read by earlier runs (a cron job is a new process each time) unless already newer."""
        with self._lock:
            for state in states:
                if state.last_seen_at is None or state.cursor is None:
                    continue
                at = state.last_seen_at.timestamp()
                if at > self._bodies.get(state.brand, (float("-inf"), ""))[0]:
                    self._bodies[state.brand] = (at, state.cursor)

    def export(self) -> list[CrawlState]:
        """What this process read since the last export, as crawl state rows (source ``robots.txt``, one per site)."""
        with self._lock:
            fresh, self._fresh = self._fresh, set()
            return [
                CrawlState(
                    source=STATE_SOURCE,
                    brand=root,
                    cursor=self._bodies[root][1],
                    last_seen_at=datetime.fromtimestamp(self._bodies[root][0], UTC),
                )
                for root in sorted(fresh)
                if root in self._bodies
            ]


def _fetch(root: str, client: PoliteClient) -> str:
    """The rules: a 2xx body; none (allow all) for 4xx. Unreachable after retries (5xx, no answer) is a block.

    RFC 9309 asks crawlers to assume complete disallow while robots.txt cannot be reached.
    """
    try:
        response = client.get(f"{root}/robots.txt")
    except SourceParseError:
        raise
    except SourceError as exc:
        raise SourceBlocked(f"robots.txt of {root} is unreachable, so nothing may be crawled: {exc}") from exc
    if response.status_code >= 400:
        return ""
    return response.content[:MAX_BYTES].decode(response.encoding or "utf-8", "replace")


CACHE = RobotsCache()
