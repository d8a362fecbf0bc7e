"""A local stand-in for Bluesky's public AppView post search (app.bsky.feed.searchPosts), with failures."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from loopback.api import CannedReplies, json_reply
from loopback.server import LoopbackServer, Recorded, Reply

SEARCH_PATH = "/xrpc/app.bsky.feed.searchPosts"
DEFAULT_LIMIT, MAX_LIMIT = 25, 100
DATA_FILE = Path(__file__).with_name("data") / "bluesky.json"


def post_view(
    rkey: str,
    text: str,
    indexed_at: datetime,
    *,
    handle: str = "ayse.bsky.social",
    display_name: str = "Ayşe Yılmaz",
    langs: tuple[str, ...] = ("tr",),
    created_at: datetime | None = None,
    likes: int = 3,
) -> dict[str, Any]:
    """A post as searchPosts returns it (``did`` derived from the handle, so it stays stable)."""
    did = "did:plc:" + "".join(c for c in handle if c.isalnum())[:24]
    return {
        "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        "cid": f"bafyrei{rkey}",
        "author": {"did": did, "handle": handle, "displayName": display_name},
        "record": {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": _stamp(created_at or indexed_at),
            "langs": list(langs),
        },
        "indexedAt": _stamp(indexed_at),
        "likeCount": likes,
        "repostCount": 1,
        "replyCount": 0,
    }


def _stamp(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def load_sample(path: Path = DATA_FILE) -> list[dict[str, Any]]:
    """The fictional posts in ``loopback/data/bluesky.json``, as ``post_view`` builds them."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        post_view(
            row["rkey"],
            row["text"],
            datetime.fromisoformat(row["indexed_at"]),
            handle=row["handle"],
            display_name=row["display_name"],
            likes=int(row.get("likes", 0)),
        )
        for row in data["posts"]
    ]


class BlueskyAppView(LoopbackServer):
    """Serves searchPosts: posts whose text holds every word of ``q``, newest ``indexedAt`` first.

    The ``cursor`` is an offset (opaque to clients, as on Bluesky); ``lang`` filters on ``record.langs``.
    ``charset`` encodes the JSON in another charset; :meth:`inject` cans replies.
    """

    def __init__(self, posts: list[dict[str, Any]] | None = None, *, charset: str = "utf-8") -> None:
        super().__init__()
        self.posts: list[dict[str, Any]] = list(posts or [])
        self.charset = charset
        self._canned = CannedReplies()
        self._state_lock = threading.Lock()

    def add(self, *posts: dict[str, Any]) -> None:
        with self._state_lock:
            self.posts.extend(posts)

    def inject(self, reply: Reply, *, times: int = 1, when: Callable[[Recorded], bool] | None = None) -> None:
        """Answer the next ``times`` requests (those ``when`` accepts) with ``reply``."""
        self._canned.add(reply, times, when=when)

    def handle(self, request: Recorded) -> Reply:
        injected = self._canned.take(request)
        if injected is not None:
            return injected
        with self._state_lock:
            posts = list(self.posts)
        if request.path != SEARCH_PATH:
            return Reply.json({"error": "MethodNotImplemented", "message": "Method Not Implemented"}, status=501)
        query = _one(request, "q") or ""
        if not query.strip():
            return _invalid('Error: Params must have the property "q"')
        try:
            limit = int(_one(request, "limit") or DEFAULT_LIMIT)
            offset = int(_one(request, "cursor") or 0)
        except ValueError:
            return _invalid("Error: limit and cursor must be numbers here")
        if not 1 <= limit <= MAX_LIMIT:
            return _invalid("Error: limit must be between 1 and 100")
        words = query.casefold().split()
        lang = _one(request, "lang")
        hits = [
            p
            for p in posts
            if all(w in p["record"].get("text", "").casefold() for w in words)
            and (not lang or lang in p["record"].get("langs", []))
        ]
        hits.sort(key=lambda p: str(p.get("indexedAt", "")), reverse=True)
        page = hits[offset : offset + limit]
        body: dict[str, Any] = {"posts": page, "hitsTotal": len(hits)}
        if offset + limit < len(hits):
            body["cursor"] = str(offset + limit)
        return json_reply(body, self.charset)


def _one(request: Recorded, name: str) -> str | None:
    values = request.query.get(name)
    return values[0] if values else None


def _invalid(message: str) -> Reply:
    return Reply.json({"error": "InvalidRequest", "message": message}, status=400)
