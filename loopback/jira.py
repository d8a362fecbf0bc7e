"""A Jira Cloud REST v3 stand-in on 127.0.0.1: issues, comments, transitions, priority and label search by JQL."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from loopback.helpdesk import HelpdeskServer, basic_auth, is_json, json_object
from loopback.server import Recorded, Reply

PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
WORKFLOW = ("Open", "In Progress", "Waiting for customer", "Resolved", "Closed")
ISSUE = re.compile(r"^/rest/api/3/issue/([^/]+)(/comment|/transitions)?$")
CLAUSE = re.compile(r'^\s*(project|labels)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([\w-]+))\s*$', re.I)


class JiraServer(HelpdeskServer):
    """Answer ``POST /rest/api/3/issue``, ``GET/PUT /rest/api/3/issue/{key}``, its ``/comment`` and
    ``/transitions``, and ``GET /rest/api/3/search/jql`` (``project = "X" AND labels = "y"``); Basic auth
    ``{email}:{token}``.

    Errors are Jira's: ``{"errorMessages": [...], "errors": {"field": "text"}}`` with 400, 401 or 404. The workflow
    lets every status reach every other; descriptions and comments must be Atlassian Document Format.
    """

    DEFAULT_EMAIL = "bot@kuzeytelekom.example"
    DEFAULT_TOKEN = "jira-test-token"

    def __init__(
        self,
        email: str = DEFAULT_EMAIL,
        token: str = DEFAULT_TOKEN,
        projects: Iterable[str] = ("CARE",),
        issue_types: Iterable[str] = ("Task", "Service Request"),
    ) -> None:
        super().__init__()
        self.email = email
        self.token = token
        self.projects = set(projects)
        self.issue_types = set(issue_types)
        self.issues: dict[str, dict[str, Any]] = {}  # by key
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self._next_id = 10000

    def error(self, status: int, message: str) -> Reply:
        return _error(status, message)

    def serve(self, request: Recorded) -> Reply:
        if basic_auth(request) != (self.email, self.token):
            return _error(401, "Client must be authenticated to access this resource.")
        if request.method in ("POST", "PUT") and not is_json(request):
            return _error(415, "Unsupported Media Type")
        if request.path == "/rest/api/3/issue" and request.method == "POST":
            return self._create(json_object(request))
        if request.path == "/rest/api/3/search/jql" and request.method == "GET":
            return self._search(request.query.get("jql", [""])[-1])
        found = ISSUE.match(request.path)
        if found is None:
            return _error(404, "No such resource")
        with self.state:
            issue = self._find(unquote(found[1]))
            if issue is None:
                return _error(404, "Issue does not exist or you do not have permission to see it.")
            key, part, body = issue["key"], found[2], json_object(request)
            if part is None and request.method == "GET":
                return Reply.json(issue)
            if part is None and request.method == "PUT":
                return self._edit(issue, body)
            if part == "/comment" and request.method == "GET":
                newest_first = request.query.get("orderBy", [""])[-1] == "-created"
                comments = list(reversed(self.comments[key])) if newest_first else list(self.comments[key])
                return Reply.json({"comments": comments, "startAt": 0, "maxResults": 50, "total": len(comments)})
            if part == "/comment" and request.method == "POST":
                return self._comment(key, body)
            if part == "/transitions" and request.method == "GET":
                return Reply.json({"transitions": self._transitions(issue)})
            if part == "/transitions" and request.method == "POST":
                return self._transition(issue, body)
        return _error(405, "Method not allowed")

    def _find(self, ref: str) -> dict[str, Any] | None:
        return self.issues.get(ref) or next((i for i in self.issues.values() if i["id"] == ref), None)

    def _create(self, body: dict[str, Any] | None) -> Reply:
        fields = body.get("fields") if body is not None else None
        if not isinstance(fields, dict):
            return _error(400, "Fields are required.")
        problems: dict[str, str] = {}
        project = (fields.get("project") or {}).get("key")
        if project not in self.projects:
            problems["project"] = "valid project is required"
        if (fields.get("issuetype") or {}).get("name") not in self.issue_types:
            problems["issuetype"] = "valid issue type is required"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            problems["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 254:
            problems["summary"] = "Summary must be less than 255 characters."
        if "description" in fields and not is_adf(fields["description"]):
            problems["description"] = (
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            )
        problems.update(_field_problems(fields))
        if problems:
            return _error(400, errors=problems)
        with self.state:
            self._next_id += 1
            key = f"{project}-{self._next_id - 10000}"
            issue = {
                "id": str(self._next_id),
                "key": key,
                "fields": {
                    **fields,
                    "status": {"name": WORKFLOW[0]},
                    "priority": fields.get("priority", {"name": "Medium"}),
                },
            }
            self.issues[key] = issue
            self.comments[key] = []
        return Reply.json({"id": issue["id"], "key": key, "self": f"{self.url}/rest/api/3/issue/{issue['id']}"}, 201)

    def _edit(self, issue: dict[str, Any], body: dict[str, Any] | None) -> Reply:
        fields = body.get("fields") if body is not None else None
        if not isinstance(fields, dict):
            return _error(400, "Fields are required.")
        problems = _field_problems(fields)
        if problems:
            return _error(400, errors=problems)
        issue["fields"].update(fields)
        return Reply(204)

    def _comment(self, key: str, body: dict[str, Any] | None) -> Reply:
        if body is None or not is_adf(body.get("body")):
            return _error(400, errors={"comment": "Comment body can not be empty!"})
        comments = self.comments[key]
        comment = {"id": str(len(comments) + 1), "body": body["body"], "properties": body.get("properties", [])}
        comments.append(comment)
        return Reply.json(comment, 201)

    def _transitions(self, issue: dict[str, Any]) -> list[dict[str, Any]]:
        current = issue["fields"]["status"]["name"]
        return [
            {"id": str(11 + i), "name": f"To {name}", "to": {"id": str(i + 1), "name": name}}
            for i, name in enumerate(WORKFLOW)
            if name != current
        ]

    def _transition(self, issue: dict[str, Any], body: dict[str, Any] | None) -> Reply:
        wanted = str(((body or {}).get("transition") or {}).get("id", ""))
        for transition in self._transitions(issue):
            if transition["id"] == wanted:
                issue["fields"]["status"] = {"name": transition["to"]["name"]}
                return Reply(204)
        return _error(400, f"Transition id '{wanted}' is not valid for this issue.")

    def _search(self, jql: str) -> Reply:
        wanted: dict[str, str] = {}
        for clause in re.split(r"\s+AND\s+", jql, flags=re.I):
            found = CLAUSE.match(clause)
            if found is None:
                return _error(400, f"Error in the JQL Query: cannot read {clause.strip()!r}.")
            value = found[2].replace('\\"', '"').replace("\\\\", "\\") if found[2] is not None else found[3]
            wanted[found[1].lower()] = value
        with self.state:
            issues = [
                {"id": i["id"], "key": i["key"], "fields": {"summary": i["fields"].get("summary")}}
                for i in self.issues.values()
                if wanted.get("project", i["fields"]["project"]["key"]) == i["fields"]["project"]["key"]
                and ("labels" not in wanted or wanted["labels"] in i["fields"].get("labels", []))
            ]
        return Reply.json({"issues": issues, "isLast": True})


def _field_problems(fields: dict[str, Any]) -> dict[str, str]:
    problems: dict[str, str] = {}
    if "priority" in fields and (fields["priority"] or {}).get("name") not in PRIORITIES:
        problems["priority"] = "The priority selected is invalid."
    labels = fields.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(label, str) and label for label in labels):
        problems["labels"] = "Labels must be a list of strings."
    else:
        spaced = next((label for label in labels if " " in label), None)
        if spaced is not None:
            problems["labels"] = f"The label '{spaced}' contains spaces which is invalid."
    return problems


def is_adf(node: Any) -> bool:
    """Whether ``node`` is an Atlassian Document Format document whose text nodes all hold text."""
    if not isinstance(node, dict) or node.get("type") != "doc" or node.get("version") != 1:
        return False
    return isinstance(node.get("content"), list) and all(_adf_node(child) for child in node["content"])


def _adf_node(node: Any) -> bool:
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        return False
    if node["type"] == "text":
        return isinstance(node.get("text"), str) and bool(node["text"])
    content = node.get("content", [])
    return isinstance(content, list) and all(_adf_node(child) for child in content)


def _error(status: int, message: str = "", errors: dict[str, str] | None = None) -> Reply:
    return Reply.json({"errorMessages": [message] if message else [], "errors": errors or {}}, status)
