"""A receiver for Kulak's signed webhook on 127.0.0.1: checks signature and age, drops repeated deliveries."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from loopback.helpdesk import HelpdeskServer, is_json, json_object
from loopback.server import Recorded, Reply
from responders.webhook import TOLERANCE, verify_signature

EVENTS = ("case.opened", "case.changed")


class WebhookReceiver(HelpdeskServer):
    """Take ``POST`` s signed with ``secret``: 401 for a forged signature or a timestamp over five minutes old,
    the first answer again (``"duplicate": true``) for an ``X-Kulak-Delivery`` seen before, else
    ``{"id": "case-N"}`` (or 202 with no body when ``answer_ids`` is false).
    """

    DEFAULT_SECRET = "whsec-kulak-test-secret"

    def __init__(
        self, secret: str = DEFAULT_SECRET, *, clock: Callable[[], float] = time.time, answer_ids: bool = True
    ) -> None:
        super().__init__()
        self.secret = secret
        self.clock = clock
        self.answer_ids = answer_ids
        self.events: list[dict[str, Any]] = []  # each accepted delivery once
        self._answers: dict[str, str] = {}  # delivery id -> the id it was given
        self._cases = 0

    def serve(self, request: Recorded) -> Reply:
        if request.method != "POST":
            return self.error(405, "POST only")
        if not is_json(request):
            return self.error(415, "expected application/json")
        timestamp = request.headers.get("x-kulak-timestamp", "")
        signature = request.headers.get("x-kulak-signature", "")
        delivery = request.headers.get("x-kulak-delivery", "")
        now = self.clock()
        if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE:
            return self.error(401, "stale or missing timestamp")
        if not verify_signature(self.secret, timestamp, request.body, signature, now):
            return self.error(401, "signature does not match")
        event = json_object(request)
        if not delivery or event is None or event.get("event") not in EVENTS or event.get("id") != delivery:
            return self.error(400, "expected a case event whose id is the X-Kulak-Delivery header")
        with self.state:
            if delivery in self._answers:
                return Reply.json({"id": self._answers[delivery], "duplicate": True})
            if event["event"] == "case.opened":
                self._cases += 1
                answer = f"case-{self._cases}"
            else:
                answer = str(event.get("ref") or delivery)
            self._answers[delivery] = answer
            self.events.append(event)
        return Reply.json({"id": answer}) if self.answer_ids else Reply(202)
