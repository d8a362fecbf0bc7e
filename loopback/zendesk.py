"""A Zendesk Support API stand-in on 127.0.0.1: tickets, comments, external-id lookup and Idempotency-Key."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from loopback.helpdesk import HelpdeskServer, basic_auth, is_json, json_object
from loopback.server import Recorded, Reply

PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
TICKET = re.compile(r"^/api/v2/tickets/(\d+)(/comments)?\.json$")
Problems = dict[str, list[dict[str, str]]]


class ZendeskServer(HelpdeskServer):
    """Answer ``/api/v2/tickets.json`` (create, list by ``external_id``), ``/api/v2/tickets/{id}.json`` (show,
    update) and ``/api/v2/tickets/{id}/comments.json``; Basic auth ``{email}/token:{token}``.

    Errors are Zendesk's: 401 ``{"error": "Couldn't authenticate you"}``, 422 ``RecordInvalid`` with ``details``
    per field, 404 ``RecordNotFound``. An ``Idempotency-Key`` on a create replays the first answer (header
    ``x-idempotency-lookup: hit``) when the body is the same, and answers 400 ``IdempotentRequestError`` when not.
    """

    DEFAULT_EMAIL = "agent@kuzeytelekom.example"
    DEFAULT_TOKEN = "zd-test-token"

    def __init__(
        self, email: str = DEFAULT_EMAIL, token: str = DEFAULT_TOKEN, groups: Iterable[int] = (360001,)
    ) -> None:
        super().__init__()
        self.email = email
        self.token = token
        self.groups = set(groups)
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self._keys: dict[str, tuple[dict[str, Any] | None, Reply]] = {}
        self._next_id = 500

    def expire_keys(self) -> None:
        """Forget every Idempotency-Key, as Zendesk does after its window (two hours)."""
        with self.state:
            self._keys.clear()

    def error(self, status: int, message: str) -> Reply:
        if status == 429:
            return Reply.json({"error": "APIRateLimitExceeded", "description": message}, status)
        return Reply.json({"error": message}, status)

    def serve(self, request: Recorded) -> Reply:
        if basic_auth(request) != (f"{self.email}/token", self.token):
            return Reply.json({"error": "Couldn't authenticate you"}, 401)
        if request.method in ("POST", "PUT") and not is_json(request):
            return Reply.json({"error": "UnsupportedMediaType", "description": "Content-Type must be JSON"}, 415)
        if request.path == "/api/v2/tickets.json":
            if request.method == "GET":
                return self._list(request)
            if request.method == "POST":
                return self._create_once(request)
        found = TICKET.match(request.path)
        if found is None:
            return Reply.json({"error": "InvalidEndpoint", "description": "Not found"}, 404)
        ticket_id = int(found[1])
        with self.state:
            if ticket_id not in self.tickets:
                return Reply.json({"error": "RecordNotFound", "description": "Not found"}, 404)
            if found[2] and request.method == "GET":
                comments = list(self.comments[ticket_id])
                if request.query.get("sort_order", [""])[-1] == "desc":
                    comments.reverse()
                return Reply.json({"comments": comments, "count": len(comments), "next_page": None})
            if not found[2] and request.method == "GET":
                return Reply.json({"ticket": self.tickets[ticket_id]})
            if not found[2] and request.method == "PUT":
                return self._update(ticket_id, json_object(request))
        return Reply.json({"error": "InvalidEndpoint", "description": "Not found"}, 404)

    def _list(self, request: Recorded) -> Reply:
        wanted = request.query.get("external_id", [None])[-1]
        with self.state:
            tickets = [t for t in self.tickets.values() if wanted is None or t["external_id"] == wanted]
        return Reply.json({"tickets": tickets, "count": len(tickets), "next_page": None, "previous_page": None})

    def _create_once(self, request: Recorded) -> Reply:
        body, key = json_object(request), request.headers.get("idempotency-key", "")
        with self.state:  # held throughout, so two racing requests with one key cannot both create
            if key in self._keys:
                first, answer = self._keys[key]
                if first != body:
                    description = "The request does not match the earlier one made with this Idempotency-Key"
                    return Reply.json({"error": "IdempotentRequestError", "description": description}, 400)
                return Reply(answer.status, answer.body, {**answer.headers, "x-idempotency-lookup": "hit"})
            answer = self._create(body)
            if key:
                answer.headers["x-idempotency-lookup"] = "miss"
                self._keys[key] = (copy.deepcopy(body), answer)
            return answer

    def _create(self, body: dict[str, Any] | None) -> Reply:
        ticket = body.get("ticket") if body is not None else None
        if not isinstance(ticket, dict):
            return _invalid({"ticket": [{"description": "Ticket: is required", "error": "BlankValue"}]})
        comment = ticket.get("comment")
        text = comment.get("body") if isinstance(comment, dict) else ticket.get("description")
        problems = self._problems(ticket)
        if not isinstance(text, str) or not text.strip():
            problems["description"] = [{"description": "Description: cannot be blank", "error": "BlankValue"}]
        if problems:
            return _invalid(problems)
        self._next_id += 1
        stored = {
            "id": self._next_id,
            "subject": ticket.get("subject", ""),
            "description": text,
            "priority": ticket.get("priority"),
            "status": ticket.get("status", "new"),
            "tags": list(ticket.get("tags", [])),
            "external_id": ticket.get("external_id"),
            "group_id": ticket.get("group_id"),
            "requester": ticket.get("requester"),
        }
        self.tickets[self._next_id] = stored
        public = comment.get("public", True) if isinstance(comment, dict) else True
        self.comments[self._next_id] = [{"id": self._next_id * 100, "body": text, "public": public}]
        return Reply.json({"ticket": stored}, 201)

    def _update(self, ticket_id: int, body: dict[str, Any] | None) -> Reply:
        current = self.tickets[ticket_id]
        changes = body.get("ticket") if body is not None else None
        if not isinstance(changes, dict):
            return _invalid({"ticket": [{"description": "Ticket: is required", "error": "BlankValue"}]})
        if current["status"] == "closed":
            return _invalid({"status": [{"description": "Status: closed prevents ticket update", "error": "Closed"}]})
        problems = self._problems(changes)
        comment = changes.get("comment")
        if comment is not None and (not isinstance(comment, dict) or not str(comment.get("body", "")).strip()):
            problems["comment"] = [{"description": "Comment: body cannot be blank", "error": "BlankValue"}]
        if problems:
            return _invalid(problems)
        for name in ("status", "priority", "group_id", "tags", "subject"):
            if name in changes:
                current[name] = changes[name]
        if isinstance(comment, dict):
            comments = self.comments[ticket_id]
            public = comment.get("public", True)
            comments.append({"id": ticket_id * 100 + len(comments), "body": comment["body"], "public": public})
        return Reply.json({"ticket": current, "audit": {"ticket_id": ticket_id}})

    def _problems(self, ticket: dict[str, Any]) -> Problems:
        problems: Problems = {}
        if "priority" in ticket and ticket["priority"] not in PRIORITIES:
            problems["priority"] = [{"description": "Priority: is not valid", "error": "InvalidValue"}]
        if "status" in ticket and ticket["status"] not in STATUSES:
            problems["status"] = [{"description": "Status: is not valid", "error": "InvalidValue"}]
        if "group_id" in ticket and ticket["group_id"] not in self.groups:
            problems["group"] = [{"description": "Group: is invalid", "error": "InvalidValue"}]
        tags = ticket.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) and " " not in t for t in tags):
            problems["tags"] = [{"description": "Tags: must be a list of words", "error": "InvalidValue"}]
        return problems


def _invalid(details: Problems) -> Reply:
    return Reply.json({"error": "RecordInvalid", "description": "Record validation errors", "details": details}, 422)
