"""A Freshdesk API v2 stand-in on 127.0.0.1: tickets, private notes, conversations and the tag filter search."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from loopback.helpdesk import HelpdeskServer, basic_auth, is_json, json_object, number
from loopback.server import Recorded, Reply

PRIORITIES = (1, 2, 3, 4)
STATUSES = (2, 3, 4, 5)
REQUESTER_FIELDS = ("requester_id", "email", "phone", "twitter_id", "facebook_id", "unique_external_id")
TICKET = re.compile(r"^/api/v2/tickets/(\d+)(/notes|/conversations)?$")
TAG_QUERY = re.compile(r"^\"tag:'([^']+)'\"$")
Problem = dict[str, str]


class FreshdeskServer(HelpdeskServer):
    """Answer ``POST /api/v2/tickets``, ``PUT /api/v2/tickets/{id}``, ``POST .../notes``, ``GET .../conversations``
    and ``GET /api/v2/search/tickets?query="tag:'...'"``; Basic auth with the API key as user.

    Errors are Freshdesk's: 401 ``{"code": "invalid_credentials", "message": ...}``, 400 ``{"description":
    "Validation failed", "errors": [{"field", "message", "code"}]}``, 415 ``invalid_content_type``.
    """

    DEFAULT_KEY = "fd-test-api-key"

    def __init__(self, api_key: str = DEFAULT_KEY, groups: Iterable[int] = (43000001,)) -> None:
        super().__init__()
        self.api_key = api_key
        self.groups = set(groups)
        self.tickets: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self._next_id = 100

    def error(self, status: int, message: str) -> Reply:
        return Reply.json({"code": "error", "message": message}, status)

    def serve(self, request: Recorded) -> Reply:
        credentials = basic_auth(request)
        if credentials is None or credentials[0] != self.api_key:
            message = "You have to be logged in to perform this action."
            return Reply.json({"code": "invalid_credentials", "message": message}, 401)
        if request.method in ("POST", "PUT") and not is_json(request):
            message = "Content-Type header should have application/json"
            return Reply.json({"code": "invalid_content_type", "message": message}, 415)
        if request.path == "/api/v2/tickets" and request.method == "POST":
            return self._create(json_object(request))
        if request.path == "/api/v2/search/tickets" and request.method == "GET":
            return self._search(request.query.get("query", [""])[-1])
        found = TICKET.match(request.path)
        if found is None:
            return Reply.json({"code": "not_found", "message": "No such endpoint"}, 404)
        ticket_id, part = int(found[1]), found[2]
        with self.state:
            if ticket_id not in self.tickets:
                return Reply.json({"code": "not_found", "message": "No such ticket"}, 404)
            if part is None and request.method == "PUT":
                return self._update(ticket_id, json_object(request))
            if part is None and request.method == "GET":
                return Reply.json(self.tickets[ticket_id])
            if part == "/notes" and request.method == "POST":
                return self._note(ticket_id, json_object(request))
            if part == "/conversations" and request.method == "GET":
                per_page = number(request.query.get("per_page", ["30"])[-1]) or 30
                page = number(request.query.get("page", ["1"])[-1]) or 1
                notes = self.notes[ticket_id]
                return Reply.json(notes[(page - 1) * per_page : page * per_page])
        return Reply.json({"code": "method_not_allowed", "message": "Not allowed here"}, 405)

    def _create(self, body: dict[str, Any] | None) -> Reply:
        if body is None:
            return _invalid([{"field": "body", "message": "It should be a JSON object", "code": "invalid_value"}])
        problems = self._problems(body)
        for name in ("subject", "description"):
            if not isinstance(body.get(name), str) or not body[name].strip():
                problems.append({"field": name, "message": "It should be a/an String", "code": "missing_field"})
        if not any(body.get(name) for name in REQUESTER_FIELDS):
            message = f"Please fill at least 1 of {', '.join(REQUESTER_FIELDS)} fields"
            problems.append({"field": "requester_id", "message": message, "code": "missing_field"})
        if "email" in body and "@" not in str(body["email"]):
            message = "It should be in the 'valid email address' format"
            problems.append({"field": "email", "message": message, "code": "invalid_value"})
        if problems:
            return _invalid(problems)
        with self.state:
            self._next_id += 1
            ticket = {"id": self._next_id, "status": 2, "priority": 1, "tags": [], "group_id": None, **body}
            self.tickets[self._next_id] = ticket
            self.notes[self._next_id] = []
        return Reply.json(ticket, 201)

    def _update(self, ticket_id: int, body: dict[str, Any] | None) -> Reply:
        if body is None:
            return _invalid([{"field": "body", "message": "It should be a JSON object", "code": "invalid_value"}])
        problems = self._problems(body)
        if problems:
            return _invalid(problems)
        self.tickets[ticket_id].update(body)
        return Reply.json(self.tickets[ticket_id])

    def _note(self, ticket_id: int, body: dict[str, Any] | None) -> Reply:
        if body is None or not isinstance(body.get("body"), str) or not body["body"].strip():
            return _invalid([{"field": "body", "message": "It should be a/an String", "code": "missing_field"}])
        if not isinstance(body.get("private", True), bool):
            return _invalid([{"field": "private", "message": "It should be a/an Boolean", "code": "datatype_mismatch"}])
        notes = self.notes[ticket_id]
        note = {"id": ticket_id * 1000 + len(notes), "body": body["body"], "private": body.get("private", True)}
        notes.append(note)
        return Reply.json(note, 201)

    def _search(self, query: str) -> Reply:
        found = TAG_QUERY.match(query)
        if found is None:
            message = "The query should be in double quotes, like \"tag:'name'\""
            return _invalid([{"field": "query", "message": message, "code": "invalid_value"}])
        with self.state:
            results = [t for t in self.tickets.values() if found[1] in t.get("tags", [])]
        return Reply.json({"results": results, "total": len(results)})

    def _problems(self, body: dict[str, Any]) -> list[Problem]:
        problems: list[Problem] = []
        for name, allowed in (("priority", PRIORITIES), ("status", STATUSES)):
            if name in body and body[name] not in allowed:
                message = f"It should be one of these values: '{','.join(map(str, allowed))}'"
                problems.append({"field": name, "message": message, "code": "invalid_value"})
        if "group_id" in body and body["group_id"] not in self.groups:
            message = "There is no group matching the given group_id"
            problems.append({"field": "group_id", "message": message, "code": "invalid_value"})
        tags = body.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            problems.append({"field": "tags", "message": "It should be a/an Array", "code": "datatype_mismatch"})
        return problems


def _invalid(errors: list[Problem]) -> Reply:
    return Reply.json({"description": "Validation failed", "errors": errors}, 400)
