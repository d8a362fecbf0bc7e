"""What the API and feed stand-ins share: canned replies, a rate-limit window, and JSON in a chosen charset."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from loopback.server import Recorded, Reply

Matcher = Callable[[Recorded], bool]


def json_reply(data: Any, charset: str = "utf-8", status: int = 200) -> Reply:
    """``data`` as JSON encoded in ``charset`` and declared so (a windows-1254 body proves a source honours it)."""
    body = json.dumps(data, ensure_ascii=False).encode(charset)
    return Reply(status, body, {"Content-Type": f"application/json; charset={charset}"})


def with_headers(reply: Reply, headers: Mapping[str, str]) -> Reply:
    """A copy of ``reply`` with ``headers`` added (canned replies are shared, so they are not changed in place)."""
    return Reply(reply.status, reply.body, {**reply.headers, **headers})


def with_retry_after(reply: Reply, seconds: float | None) -> Reply:
    """``reply`` with a ``Retry-After`` header when ``seconds`` is given."""
    if seconds is not None:
        reply.headers["Retry-After"] = f"{seconds:g}"
    return reply


@dataclass
class _Canned:
    reply: Reply
    times: int
    skip: int  # matching requests to let through before this one applies
    path: str | None
    when: Matcher | None

    def matches(self, request: Recorded) -> bool:
        return self.path in (None, request.path) and (self.when is None or self.when(request))


class CannedReplies:
    """Replies queued for the next requests in place of the real answer: failures, broken bodies, rate limits.

    The first queued entry that matches a request decides: it lets ``skip`` matching requests through, then
    answers the next ``times`` of them and leaves the queue.
    """

    def __init__(self) -> None:
        self._queue: list[_Canned] = []
        self._lock = threading.Lock()

    def add(
        self, reply: Reply, times: int = 1, *, skip: int = 0, path: str | None = None, when: Matcher | None = None
    ) -> None:
        """Answer ``times`` requests (to ``path``, or any; those ``when`` accepts) with ``reply``, after ``skip``."""
        with self._lock:
            self._queue.append(_Canned(reply, times, skip, path, when))

    def take(self, request: Recorded) -> Reply | None:
        """The canned reply due for ``request``, or None when it gets the real answer."""
        with self._lock:
            for canned in self._queue:
                if not canned.matches(request):
                    continue
                if canned.skip > 0:
                    canned.skip -= 1
                    return None
                canned.times -= 1
                if canned.times <= 0:
                    self._queue.remove(canned)
                return canned.reply
        return None


class RateWindow:
    """A fixed rate-limit window on the stand-in's clock: ``limit`` requests, then 429s until it starts again."""

    def __init__(self, clock: Callable[[], float], limit: int, seconds: float) -> None:
        self.clock = clock
        self.limit = limit
        self.seconds = seconds
        self.used = 0
        self.reset_at = clock() + seconds
        self._lock = threading.Lock()

    @property
    def remaining(self) -> int:
        return self.limit - self.used

    def set(self, remaining: int, reset_in: float) -> None:
        """Pretend ``remaining`` requests are left in a window that starts again ``reset_in`` seconds from now."""
        with self._lock:
            self.used = self.limit - remaining
            self.reset_at = self.clock() + reset_in

    def spend(self) -> tuple[bool, float]:
        """Count one request: whether it came when none was left (a 429), and the clock reading it was counted at."""
        with self._lock:
            now = self.clock()
            if now >= self.reset_at:
                self.used, self.reset_at = 0, now + self.seconds
            exhausted = self.used >= self.limit
            self.used = min(self.limit, self.used + 1)
            return exhausted, now
