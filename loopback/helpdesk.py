"""What the helpdesk stand-ins share: injected 429s and outages, Basic auth, JSON bodies, a lock for their state."""

from __future__ import annotations

import base64
import binascii
import json
import threading
from typing import Any

from loopback.api import CannedReplies
from loopback.server import LoopbackServer, Recorded, Reply


class HelpdeskServer(LoopbackServer):
    """A stand-in that answers in its API's own error shapes; subclasses implement :meth:`serve`.

    ``rate_limit_next`` and ``fail_next`` make the next requests answer 429 (with ``Retry-After``) or an outage,
    whatever they ask for, as a busy or broken helpdesk does; ``revoke_after`` answers 401 once a number of
    requests went through (a token revoked mid-run) until ``restore``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.state = threading.Lock()  # guards what subclasses store: requests arrive on several threads
        self._canned = CannedReplies()
        self._good_left: int | None = None  # requests served before the credentials stop working; None: no limit

    def rate_limit_next(self, times: int = 1, retry_after: float = 1) -> None:
        """Answer the next ``times`` requests with HTTP 429 and ``Retry-After: retry_after``."""
        reply = self.error(429, "Too many requests")
        reply.headers["Retry-After"] = f"{retry_after:g}"
        self._canned.add(reply, times)

    def fail_next(self, times: int = 1, status: int = 503) -> None:
        """Answer the next ``times`` requests with HTTP ``status`` (an outage)."""
        self._canned.add(self.error(status, "Service unavailable"), times)

    def revoke_after(self, requests: int = 0) -> None:
        """Serve ``requests`` more requests, then answer every one 401 (the token was revoked)."""
        with self.state:
            self._good_left = requests

    def restore(self) -> None:
        """Accept the credentials again."""
        with self.state:
            self._good_left = None

    def handle(self, request: Recorded) -> Reply:
        canned = self._canned.take(request)
        if canned is not None:
            return canned
        with self.state:
            revoked = self._good_left is not None and self._good_left <= 0
            if self._good_left is not None and not revoked:
                self._good_left -= 1
        return self.error(401, "Unauthorized") if revoked else self.serve(request)

    def serve(self, request: Recorded) -> Reply:
        return self.error(404, "Not found")

    def error(self, status: int, message: str) -> Reply:
        """An error in the API's shape; subclasses override it."""
        return Reply.json({"error": message}, status)


def basic_auth(request: Recorded) -> tuple[str, str] | None:
    """The user and password of a ``Basic`` Authorization header, None when there is none or it is garbled."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def is_json(request: Recorded) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


def json_object(request: Recorded) -> dict[str, Any] | None:
    """The body as a JSON object, None when it is not one."""
    try:
        data = json.loads(request.body or b"null")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None
