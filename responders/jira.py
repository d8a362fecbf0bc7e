"""Cases as Jira Service Management issues: found by label before one is made, then internal comments and status."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from config.settings import doc
from responders.alerts import CaseView
from responders.helpdesk import Helpdesk, is_web_url, register
from responders.ticket_text import case_facts, case_of, case_tags, change_text, external_id, marker, slug, subject
from store.errors import ConfigError
from store.model import PRIORITIES, CaseChange, TicketStatus

log = logging.getLogger(__name__)

# JSM's comment property that keeps a comment away from the customer portal.
INTERNAL = {"key": "sd.public.comment", "value": {"internal": True}}


@dataclass(frozen=True)
class JiraOptions:
    email: str = doc("E-mail of the Atlassian account the API token belongs to (required).", default="")
    token_env: str = doc("Environment variable holding the API token.", default="KULAK_JIRA_TOKEN")
    project: str = doc('Key of the project issues are created in, e.g. "CARE" (required).', default="")
    issue_type: str = doc("Issue type of the issues Kulak creates.", default="Task")
    priorities: dict[str, str] = doc(
        "Kulak priority -> Jira priority name; {} leaves priority alone (projects without the field).",
        factory=lambda: {"low": "Low", "normal": "Medium", "high": "High", "urgent": "Highest"},
    )
    statuses: dict[str, str] = doc(
        'Case status -> the workflow status Kulak moves the issue to ("" or missing: no transition).',
        factory=lambda: {
            "assigned": "In Progress",
            "waiting": "Waiting for customer",
            "resolved": "Resolved",
            "closed": "Closed",
        },
    )
    internal_comments: bool = doc("Mark Kulak's comments internal (JSM); false for plain Jira projects.", default=True)


@register
class JiraIssues(Helpdesk):
    """Jira Service Management (Cloud REST v3): one issue per case (label kulak-case-{id}), internal comments."""

    kind = "jira"
    title = "Jira"
    Options = JiraOptions
    required = ("email", "project", "issue_type")

    def __init__(self, name: str, client: httpx.Client, base_url: str, options: JiraOptions, secret: str) -> None:
        super().__init__(name, client, base_url, options, secret)
        self.options: JiraOptions = options

    @classmethod
    def check(cls, options: Any, where: str, prefix: str) -> None:
        for key in options.priorities:
            if key not in PRIORITIES:
                message = f"expected one of {', '.join(PRIORITIES)}"
                raise ConfigError(message, source=where, key=f"{prefix}.priorities.{key}")
        for key in options.statuses:
            if key not in {status.value for status in TicketStatus}:
                known = ", ".join(TicketStatus)
                raise ConfigError(f"expected one of {known}", source=where, key=f"{prefix}.statuses.{key}")

    def auth(self) -> httpx.Auth:
        return httpx.BasicAuth(self.options.email, self.secret)

    def render(self, case: CaseView) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "project": {"key": self.options.project},
            "issuetype": {"name": self.options.issue_type},
            "summary": subject(case),
            "description": adf_body(case),
            "labels": case_tags(case),
        }
        priority = self.options.priorities.get(case.ticket.priority)
        if priority:
            fields["priority"] = {"name": priority}
        # JSM queues are JQL filters: a label is what a queue can select on.
        return {"op": "open", "label": external_id(case), "queue": case.ticket.queue, "fields": fields}

    def render_change(self, case: CaseView, change: CaseChange) -> list[dict[str, Any]]:
        return [
            {
                "op": "update",
                "kind": change.kind,
                "comment": change_text(change),
                "status": self.options.statuses.get(case.ticket.status.value, ""),
                "priority": self.options.priorities.get(case.ticket.priority, ""),
                "internal": self.options.internal_comments,
            }
        ]

    def open(self, payload: Mapping[str, Any], target: str, key: str) -> str:
        fields = dict(payload["fields"])
        label, project = str(payload["label"]), str(fields["project"]["key"])
        ids = {"case_id": case_of(label), "delivery": key or None}
        jql = f'project = "{_jql(project)}" AND labels = "{_jql(label)}"'
        found = self.answer(self.call("GET", "/rest/api/3/search/jql", params={"jql": jql, "fields": "summary"}))
        issues = found.get("issues") or [] if isinstance(found, dict) else []
        if issues:
            ref = str(issues[0].get("key") or issues[0]["id"])
            log.info("Jira %s already has %s as %s", self.name, label, ref, extra=ids)
            return ref
        queue = str(payload.get("queue") or target or "")
        if queue and slug(queue):
            fields["labels"] = [*fields.get("labels", []), f"kulak-queue-{slug(queue)}"]
        created = self.answer(self.call("POST", "/rest/api/3/issue", json={"fields": fields}))
        ref = str(created.get("key") or created["id"])
        log.info("Jira %s created %s for %s", self.name, ref, label, extra={"ref": ref, **ids})
        return ref

    def update(self, payload: Mapping[str, Any], ref: str, key: str) -> None:
        issue = f"/rest/api/3/issue/{quote(ref, safe='')}"
        if not (key and self._has_comment(issue, marker(key))):
            lines = [str(payload["comment"]), marker(key)] if key else [str(payload["comment"])]
            comment: dict[str, Any] = {"body": adf(lines)}
            if payload.get("internal", True):
                comment["properties"] = [INTERNAL]
            self.call("POST", f"{issue}/comment", json=comment)
        status, priority = str(payload.get("status") or ""), str(payload.get("priority") or "")
        if not status and not priority:
            return
        current = self.answer(self.call("GET", issue, params={"fields": "status,priority"})).get("fields") or {}
        if priority and (current.get("priority") or {}).get("name") != priority:
            self.call("PUT", issue, json={"fields": {"priority": {"name": priority}}})
        if status and str((current.get("status") or {}).get("name", "")).casefold() != status.casefold():
            self._transition(issue, ref, status)

    def _transition(self, issue: str, ref: str, status: str) -> None:
        data = self.answer(self.call("GET", f"{issue}/transitions"))
        for transition in data.get("transitions") or []:
            if str((transition.get("to") or {}).get("name", "")).casefold() == status.casefold():
                self.call("POST", f"{issue}/transitions", json={"transition": {"id": str(transition["id"])}})
                return
        # Workflows differ: a status the issue cannot reach from here is the team's to set, not a failed delivery.
        log.warning("Jira %s: %s has no transition to %r; status left as it is", self.name, ref, status)

    def _has_comment(self, issue: str, mark: str) -> bool:
        """Whether a recent comment carries ``mark``: the change was delivered before a crash lost the answer."""
        params = {"orderBy": "-created", "maxResults": 50}
        data = self.answer(self.call("GET", f"{issue}/comment", params=params))
        comments = data.get("comments") or [] if isinstance(data, dict) else []
        return any(mark in "".join(_texts(c.get("body"))) for c in comments if isinstance(c, dict))


def _jql(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _texts(node: Any) -> Iterator[str]:
    """Every text in an Atlassian Document Format tree."""
    if isinstance(node, dict):
        if isinstance(node.get("text"), str):
            yield node["text"]
        yield from _texts(node.get("content"))
    elif isinstance(node, list):
        for child in node:
            yield from _texts(child)


def _text(text: str, href: str = "") -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": text}
    if href:
        node["marks"] = [{"type": "link", "attrs": {"href": href}}]
    return node


def _paragraph(lines: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """One ADF paragraph of several lines; ADF forbids empty text nodes, so empty lines are dropped."""
    content: list[dict[str, Any]] = []
    for line in (line for line in lines if line):
        if content:
            content.append({"type": "hardBreak"})
        content += line
    return {"type": "paragraph", "content": content}


def adf(paragraphs: list[str]) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document: a paragraph per item, a line break per newline."""
    content = [_paragraph([[_text(line)] for line in p.splitlines() if line]) for p in paragraphs if p.strip()]
    return {"type": "doc", "version": 1, "content": content}


def adf_body(case: CaseView) -> dict[str, Any]:
    """The issue's description: the masked text, the facts (the link a live link), the suggested reply."""
    doc_ = adf([case.analysis.masked_text.strip() or "(boş metin / empty text)"])
    facts: list[list[dict[str, Any]]] = []
    for label, value in case_facts(case):
        href = value if label.startswith("Bağlantı") and is_web_url(value) else ""
        facts.append([_text(f"{label}: "), _text(value, href)])
    doc_["content"].append(_paragraph(facts))
    if case.draft.strip():
        doc_["content"] += adf(["Önerilen yanıt / Suggested reply:", case.draft.strip()])["content"]
    return doc_
