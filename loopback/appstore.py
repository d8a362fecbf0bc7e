"""A local stand-in for Apple's customer-reviews JSON feed: paged, newest first, with the feed's odd shapes."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from loopback.api import CannedReplies, json_reply, with_retry_after
from loopback.server import LoopbackServer, Recorded, Reply

PATH = re.compile(
    r"^/(?P<country>[a-z]{2})/rss/customerreviews/page=(?P<page>\d+)/id=(?P<app>\d+)/sortby=mostrecent/json$"
)
DATA_FILE = Path(__file__).with_name("data") / "appstore.json"


def entry_json(
    rid: int,
    content: str,
    updated: datetime,
    *,
    title: str = "Berbat",
    rating: int = 1,
    version: str = "5.12.0",
    author: str = "mehmetk34",
) -> dict[str, Any]:
    """One review entry in the feed's shape: every value wrapped in ``{"label": ...}``."""
    return {
        "author": {
            "uri": {"label": f"https://itunes.apple.com/tr/reviews/id{rid % 10_000_000}"},
            "name": {"label": author},
            "label": "",
        },
        "updated": {"label": updated.isoformat()},
        "im:rating": {"label": str(rating)},
        "im:version": {"label": version},
        "id": {"label": str(rid)},
        "title": {"label": title},
        "content": {"label": content, "attributes": {"type": "text"}},
        "link": {"attributes": {"rel": "related", "href": f"https://itunes.apple.com/tr/review?id={rid}"}},
        "im:voteSum": {"label": "0"},
        "im:contentType": {"attributes": {"term": "Application", "label": "Uygulama"}},
        "im:voteCount": {"label": "0"},
    }


def load_sample(path: Path = DATA_FILE) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The fictional reviews in ``loopback/data/appstore.json`` by (country, app id), as ``entry_json`` builds them."""
    data = json.loads(path.read_text(encoding="utf-8"))
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for key, rows in data["reviews"].items():
        country, app = key.split("/")
        found[(country, app)] = [
            entry_json(
                int(r["id"]),
                r["content"],
                datetime.fromisoformat(r["updated"]),
                title=r["title"],
                rating=int(r["rating"]),
                version=r["version"],
                author=r["author"],
            )
            for r in rows
        ]
    return found


class AppStoreFeed(LoopbackServer):
    """Serves ``/{country}/rss/customerreviews/page={n}/id={app}/sortby=mostrecent/json``, ``page_size`` a page.

    ``reviews`` maps (country, app id) to entries (``entry_json`` dicts, any order); they are served by id,
    highest first. ``pages`` replaces a page's reply outright ((country, app, page) -> Reply); ``charset``
    encodes every body.
    """

    def __init__(
        self,
        reviews: Mapping[tuple[str, str], Iterable[Mapping[str, Any]]],
        *,
        page_size: int = 50,
        charset: str = "utf-8",
    ) -> None:
        super().__init__()
        self.reviews = {key: [dict(e) for e in rows] for key, rows in reviews.items()}
        self.page_size = page_size
        self.charset = charset
        self.pages: dict[tuple[str, str, int], Reply] = {}
        self._canned = CannedReplies()
        self._guard = threading.Lock()

    def add(self, country: str, app: str, entry: Mapping[str, Any]) -> None:
        with self._guard:
            self.reviews.setdefault((country, app), []).append(dict(entry))

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        error = Reply(status, b"<html><body>Error</body></html>", {"Content-Type": "text/html"})
        self._canned.add(with_retry_after(error, retry_after), times)

    def feed_pages(self) -> list[tuple[str, str, int]]:
        """(country, app, page) of every feed request, in order."""
        found = (PATH.match(r.path) for r in self.received())
        return [(m["country"], m["app"], int(m["page"])) for m in found if m]

    def handle(self, request: Recorded) -> Reply:
        match = PATH.match(request.path)
        if match is None:
            return Reply(404, b"", {"Content-Type": "text/html"})
        failure = self._canned.take(request)
        if failure is not None:
            return failure
        country, app, page = match["country"], match["app"], int(match["page"])
        if not 1 <= page <= 10:
            return Reply(400, b"<html><body>Bad Request</body></html>", {"Content-Type": "text/html"})
        override = self.pages.get((country, app, page))
        if override is not None:
            return override
        with self._guard:
            rows = sorted(self.reviews.get((country, app), []), key=_id_of, reverse=True)
        chunk = rows[(page - 1) * self.page_size : page * self.page_size]
        return self.feed_reply(country, app, page, chunk)

    def feed_reply(self, country: str, app: str, page: int, entries: list[dict[str, Any]]) -> Reply:
        """The feed document Apple sends: ``entry`` a list, a lone object, or absent when there are none."""
        self_url = f"https://itunes.apple.com/{country}/rss/customerreviews/page={page}/id={app}/sortby=mostrecent/json"
        feed: dict[str, Any] = {
            "author": {"name": {"label": "iTunes Store"}, "uri": {"label": "http://www.apple.com/tr/itunes/"}},
            "updated": {"label": "2026-11-23T01:14:07-07:00"},
            "rights": {"label": "Telif Hakkı 2008 Apple Inc."},
            "title": {"label": "iTunes Store: Müşteri Yorumları"},
            "icon": {"label": "http://itunes.apple.com/favicon.ico"},
            "link": [{"attributes": {"rel": "self", "href": self_url}}],
            "id": {"label": self_url},
        }
        if len(entries) == 1:
            feed["entry"] = entries[0]
        elif entries:
            feed["entry"] = entries
        return json_reply({"feed": feed}, self.charset)


def _id_of(entry: Mapping[str, Any]) -> int:
    label = (entry.get("id") or {}).get("label", "")
    return int(label) if str(label).isdigit() else 0
