"""The polite httpx client every API and feed source shares: waits, retries, rate limits, size caps, counts."""

from __future__ import annotations

import base64
import json
import logging
import random
import time
import weakref
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from crawlers.base import REQUESTS, SourceConfig
from crawlers.bounds import Deadline, Inflater
from store.errors import SourceBlocked, SourceError, SourceParseError, SourceRateLimited

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({500, 502, 503, 504, 522, 524, 408})
# Header pairs (remaining, reset). The reset comes as epoch seconds (X, Bluesky), seconds from now (Reddit)
# or an ISO 8601 time (Mastodon); all are read.
RATE_HEADERS = (
    ("x-rate-limit-remaining", "x-rate-limit-reset"),
    ("x-ratelimit-remaining", "x-ratelimit-reset"),
    ("ratelimit-remaining", "ratelimit-reset"),
)
# Only what Inflater undoes a bounded step at a time: a few hundred bytes of brotli can be gigabytes.
ACCEPT_ENCODING = "gzip, deflate"
DEADLINE_FACTOR = 3.0  # a whole answer within this many `timeout`s: a trickle of bytes resets every read timeout
MAX_REDIRECTS = 10


class PoliteClient:
    """An ``httpx.Client`` wrapper that behaves as a guest on someone else's API.

    - waits ``config.delay`` between requests (not before the first);
    - retries timeouts, connection errors and 5xx ``config.retries`` times, ``backoff * 2**n`` plus jitter;
    - on 429 waits ``Retry-After`` or the rate-limit reset (up to ``config.max_wait``), then tries again;
      a longer wait, or a 429 that will not go away, ends the crawl with :class:`SourceRateLimited`;
    - when the rate-limit headers say nothing is left, waits for the reset before the next request;
    - refuses bodies over ``config.max_bytes`` with :class:`SourceParseError`, counting the bytes as they are
      inflated (a gzip bomb stops at the cap), and answers that take over ``DEADLINE_FACTOR * timeout`` in all;
    - follows at most ``MAX_REDIRECTS`` redirects, each counted as a request; a loop is a :class:`SourceError`;
    - counts requests in ``stats["requests"]`` and waits in ``stats["waited"]``.

    Other 4xx are handed back to the caller, who knows what they mean there (401: refresh the token).
    """

    def __init__(
        self,
        config: SourceConfig,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.client = client or httpx.Client(
            timeout=config.timeout,
            follow_redirects=True,
            headers={"User-Agent": config.user_agent},
        )
        self.client.headers.setdefault("User-Agent", config.user_agent)
        self.client.headers["Accept-Encoding"] = ACCEPT_ENCODING
        self._streams: weakref.WeakSet[Any] = weakref.WeakSet()  # connections this client opened, for Deadline
        self.sleep = sleep
        self.clock = clock
        self.stats: Counter[str] = Counter()
        self._sent_any = False
        self._resume_at = 0.0  # epoch seconds before which the rate limit says to hold off

    def close(self) -> None:
        self.client.close()

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send, politely; the response (any status but 429/5xx) with its body read, or a SourceError."""
        attempt = 0
        limited = 0
        while True:
            self._pause()
            try:
                response = self._send(method, url, **kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if attempt >= self.config.retries:
                    raise SourceError(f"{method} {_show(url)} failed after {attempt + 1} tries: {exc!r}") from exc
                self._back_off(attempt, f"{type(exc).__name__} on {_show(url)}")
                attempt += 1
                continue
            except httpx.RequestError as exc:  # not a passing fault: retrying would meet it again
                raise SourceError(f"{method} {_show(url)} failed: {type(exc).__name__}: {exc}") from exc
            self._note_rate_limit(response)
            if response.status_code == 429:
                wait = self._retry_after(response)
                if limited >= max(1, self.config.retries) or (wait is not None and wait > self.config.max_wait):
                    raise SourceRateLimited(f"{_show(url)} answered HTTP 429", retry_after=wait)
                wait = self.config.backoff * 2**limited if wait is None else wait
                log.warning("HTTP 429 from %s; waiting %.1f s", _show(url), wait, extra={"source": self.config.name})
                self._wait(wait)
                limited += 1
                continue
            if response.status_code in RETRY_STATUSES:
                if attempt >= self.config.retries:
                    raise SourceError(f"{_show(url)} answered HTTP {response.status_code} {attempt + 1} times")
                self._back_off(attempt, f"HTTP {response.status_code} from {_show(url)}")
                attempt += 1
                continue
            return response

    def json(self, response: httpx.Response) -> Any:
        """The body as JSON, decoded by its declared charset (UTF-8 if none); SourceParseError when it is not.

        Bytes the charset cannot decode become U+FFFD: one broken post must not make its whole page unreadable.
        """
        try:
            text = response.content.decode(response.charset_encoding or "utf-8", errors="replace")
            return json.loads(text, parse_constant=_not_json)  # NaN would reach the store, and PostgreSQL refuses it
        except (ValueError, LookupError, RecursionError) as exc:  # RecursionError: arrays nested 100,000 deep
            head = response.content[:60].decode("utf-8", "replace")
            raise SourceParseError(f"{_show(str(response.url))} did not answer JSON: {head!r}") from exc

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One answer with its body read, redirects followed here (each hop counted, its body never read)."""
        follow = kwargs.pop("follow_redirects", self.client.follow_redirects)
        auth = kwargs.pop("auth", httpx.USE_CLIENT_DEFAULT)
        limit = self.config.timeout * DEADLINE_FACTOR
        with Deadline(limit, self._streams) as deadline:
            kwargs["extensions"] = {**(kwargs.get("extensions") or {}), "trace": deadline.trace}
            request = self.client.build_request(method, url, **kwargs)
            for _ in range(MAX_REDIRECTS + 1):
                self.stats[REQUESTS] += 1
                try:
                    response = self.client.send(request, stream=True, auth=auth, follow_redirects=False)
                    try:
                        if follow and response.next_request is not None:
                            request, auth = response.next_request, None
                            continue
                        if response.extensions.get("network_stream") is not None:  # reused: opened before
                            self._streams.add(response.extensions["network_stream"])
                        response._content = self._read(response, url)  # httpx's slot: .content/.text/.json work
                    finally:
                        response.close()
                except httpx.TransportError as exc:
                    if deadline.fired:  # the cut-off connection, not the server, ended this request
                        raise httpx.ReadTimeout(f"no whole answer within {limit:g} s") from exc
                    raise
                if deadline.fired:  # a body without a length ends when the connection does: this one is cut short
                    raise httpx.ReadTimeout(f"no whole answer within {limit:g} s")
                return response
        raise SourceError(f"{method} {_show(url)} redirected more than {MAX_REDIRECTS} times")

    def _read(self, response: httpx.Response, url: str) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.config.max_bytes:
            raise SourceParseError(f"{_show(url)} is {declared} bytes, over the {self.config.max_bytes} limit")
        body = Inflater(response.headers.get("content-encoding", ""), self.config.max_bytes, _show(url))
        for chunk in response.iter_raw():
            body.feed(chunk)
        return body.finish()

    def _pause(self) -> None:
        now = self.clock()
        if self._resume_at > now:
            wait = self._resume_at - now
            if wait > self.config.max_wait:
                raise SourceRateLimited(f"rate limit spent for {wait:.0f} s", retry_after=wait)
            log.info("rate limit spent; waiting %.1f s for the reset", wait, extra={"source": self.config.name})
            self._wait(wait)
        elif self._sent_any and self.config.delay[1] > 0:
            self._wait(random.uniform(*self.config.delay))
        self._sent_any = True

    def _wait(self, seconds: float) -> None:
        self.stats["waited"] += 1
        self.sleep(max(0.0, seconds))

    def _back_off(self, attempt: int, why: str) -> None:
        wait = self.config.backoff * 2**attempt * random.uniform(1.0, 1.5)
        log.warning("%s; trying again in %.1f s", why, wait, extra={"source": self.config.name})
        self.stats["retries"] += 1
        self._wait(wait)

    def _note_rate_limit(self, response: httpx.Response) -> None:
        for remaining_name, reset_name in RATE_HEADERS:
            remaining = _number(response.headers.get(remaining_name))
            reset = self._reset_epoch(response.headers.get(reset_name))
            if remaining is None or reset is None:
                continue
            if remaining < 1:
                self._resume_at = max(self._resume_at, reset)

    def _reset_epoch(self, value: str | None) -> float | None:
        """A reset header as epoch seconds: X and Bluesky send an epoch, Reddit seconds from now, Mastodon a time."""
        if value is None:
            return None
        reset = _number(value)
        if reset is not None:
            return reset if reset > 1_000_000_000 else self.clock() + reset
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return when.timestamp() if when.tzinfo else when.replace(tzinfo=UTC).timestamp()

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = response.headers.get("retry-after")
        if value:
            seconds = _number(value)
            if seconds is not None:
                return max(0.0, seconds)
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - self.clock())
            except (TypeError, ValueError):
                pass
        for _, reset_name in RATE_HEADERS:
            reset = self._reset_epoch(response.headers.get(reset_name))
            if reset is not None:
                return max(0.0, reset - self.clock())
        return None


def check_status(response: httpx.Response, what: str) -> None:
    """Raise for what a non-2xx status means to a source: 401/403 blocked, anything else a SourceError."""
    status = response.status_code
    if status < 300 or status == 304:
        return
    detail = _error_detail(response)
    if status in (401, 403):
        raise SourceBlocked(f"{what}: HTTP {status}{detail}")
    raise SourceError(f"{what}: HTTP {status}{detail}")


def _error_detail(response: httpx.Response) -> str:
    """A short reason from an API error body ({"detail"}, {"message"}, {"error"}), if there is one."""
    try:
        body = json.loads(response.content[:4096])
    except (ValueError, RecursionError):
        return ""
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        body = body["error"]  # Google's shape: {"error": {"code", "message", "status"}}
    if isinstance(body, Mapping):
        for key in ("detail", "message", "error_description", "error", "title"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return f" ({without_credentials(value, response)[:200]})"
    return ""


def without_credentials(text: str, response: httpx.Response) -> str:
    """``text`` with the credentials the request carried hidden: some APIs quote what they were sent in an error,
    and the error is logged and stored (crawl health)."""
    try:
        sent = response.request.headers.get("authorization", "")
    except RuntimeError:  # a response built without a request
        return text
    scheme, _, credential = sent.partition(" ")
    hidden = [sent, credential]
    if scheme.lower() == "basic":  # user:password, base64-encoded; either half may be quoted back
        try:
            user, _, password = base64.b64decode(credential, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            user = password = ""
        hidden += [f"{user}:{password}", user, password]
    for value in sorted(hidden, key=len, reverse=True):
        if len(value) >= 6:  # shorter ones would blank ordinary words
            text = text.replace(value, "***")
    return text


def _not_json(constant: str) -> Any:
    """JSON has no NaN or Infinity (RFC 8259), though Python's reader takes them."""
    raise ValueError(f"{constant} is not JSON")


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def _show(url: str) -> str:
    """A URL fit for logs and errors: without its query string, which may carry tokens."""
    return url.split("?", 1)[0]
