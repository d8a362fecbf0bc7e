"""A local stand-in for a Mastodon instance's public hashtag timelines, with Link paging and failures."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode

from loopback.api import CannedReplies, json_reply
from loopback.server import LoopbackServer, Recorded, Reply

TAG_PREFIX = "/api/v1/timelines/tag/"
DEFAULT_LIMIT, MAX_LIMIT = 20, 40
DATA_FILE = Path(__file__).with_name("data") / "mastodon.json"


def status(
    status_id: int | str,
    text: str,
    created_at: datetime,
    *,
    acct: str = "ayse",
    display_name: str = "Ayşe Yılmaz",
    followers: int = 120,
    language: str | None = "tr",
    host: str = "mastodon.example",
    html: str | None = None,
) -> dict[str, Any]:
    """A status as the API returns it; ``text`` becomes a ``<p>`` unless ``html`` gives the content as is."""
    return {
        "id": str(status_id),
        "created_at": created_at.isoformat().replace("+00:00", "Z"),
        "content": html if html is not None else f"<p>{escape(text)}</p>",
        "spoiler_text": "",
        "url": f"https://{host}/@{acct.split('@')[0]}/{status_id}",
        "uri": f"https://{host}/users/{acct.split('@')[0]}/statuses/{status_id}",
        "language": language,
        "visibility": "public",
        "replies_count": 0,
        "reblogs_count": 1,
        "favourites_count": 2,
        "reblog": None,
        "account": {"id": "1", "acct": acct, "display_name": display_name, "followers_count": followers},
    }


def load_sample(path: Path = DATA_FILE) -> dict[str, list[dict[str, Any]]]:
    """The fictional statuses in ``loopback/data/mastodon.json`` by hashtag, as ``status`` builds them."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        tag: [
            status(
                row["id"],
                row["text"],
                datetime.fromisoformat(row["created_at"]),
                acct=row["acct"],
                display_name=row["display_name"],
                followers=int(row.get("followers", 0)),
            )
            for row in rows
        ]
        for tag, rows in data["tags"].items()
    }


class MastodonInstance(LoopbackServer):
    """Serves ``/api/v1/timelines/tag/{tag}`` newest first with ``since_id``/``max_id``/``min_id``/``limit``.

    Like Mastodon, a non-empty page carries ``Link: <…?max_id=…>; rel="next", <…?min_id=…>; rel="prev"``
    (without ``since_id``). ``charset`` encodes the JSON in another charset; :meth:`inject` cans replies.
    """

    def __init__(self, charset: str = "utf-8") -> None:
        super().__init__()
        self.timelines: dict[str, list[dict[str, Any]]] = {}
        self.charset = charset
        self._canned = CannedReplies()
        self._state_lock = threading.Lock()

    def post(self, tag: str, *statuses: dict[str, Any]) -> None:
        """Publish statuses under ``tag`` (case does not matter, as on Mastodon)."""
        with self._state_lock:
            self.timelines.setdefault(tag.casefold(), []).extend(statuses)

    def inject(
        self, reply: Reply, *, path: str | None = None, times: int = 1, when: Callable[[Recorded], bool] | None = None
    ) -> None:
        """Answer the next ``times`` requests (to ``path``, or any path; those ``when`` accepts) with ``reply``."""
        self._canned.add(reply, times, path=path, when=when)

    def handle(self, request: Recorded) -> Reply:
        injected = self._canned.take(request)
        if injected is not None:
            return injected
        if not request.path.startswith(TAG_PREFIX):
            return Reply.json({"error": "Record not found"}, status=404)
        tag = unquote(request.path[len(TAG_PREFIX) :]).casefold()
        with self._state_lock:
            timeline = sorted(self.timelines.get(tag, []), key=lambda s: (len(s["id"]), s["id"]), reverse=True)
        try:
            limit = min(MAX_LIMIT, int(_one(request, "limit") or DEFAULT_LIMIT))
        except ValueError:
            return Reply.json({"error": "limit must be a number"}, status=422)
        since, max_id, min_id = _one(request, "since_id"), _one(request, "max_id"), _one(request, "min_id")
        page = [
            s
            for s in timeline
            if (not since or _key(s["id"]) > _key(since))
            and (not max_id or _key(s["id"]) < _key(max_id))
            and (not min_id or _key(s["id"]) > _key(min_id))
        ]
        page = page[-limit:] if min_id else page[:limit]  # min_id pages forward from the oldest
        reply = json_reply(page, self.charset)
        if page:
            base = f"{self.url}{request.path}"
            keep = {"limit": str(limit)} if _one(request, "limit") else {}
            next_url = f"{base}?{urlencode({**keep, 'max_id': page[-1]['id']})}"
            prev_url = f"{base}?{urlencode({**keep, 'min_id': page[0]['id']})}"
            reply.headers["Link"] = f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'
        return reply


def _one(request: Recorded, name: str) -> str | None:
    values = request.query.get(name)
    return values[0] if values else None


def _key(status_id: str) -> tuple[int, str]:
    return (len(status_id), status_id)
