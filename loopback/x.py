"""A local stand-in for X API v2 recent search: bearer auth, since_id, next_token paging, rate limits, failures."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from loopback.api import CannedReplies, RateWindow, json_reply, with_headers, with_retry_after
from loopback.server import LoopbackServer, Recorded, Reply

SEARCH_PATH = "/2/tweets/search/recent"
PROBLEM = "https://api.twitter.com/2/problems/"
DATA_FILE = Path(__file__).with_name("data") / "x.json"
TITLES = {
    400: "Invalid Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found Error",
    429: "Too Many Requests",
}


def user(user_id: str, username: str, name: str, followers: int = 0, verified: bool = False) -> dict[str, Any]:
    """A user object as ``includes.users`` carries it."""
    metrics = {"followers_count": followers, "following_count": 150, "tweet_count": 900, "listed_count": 2}
    return {"id": user_id, "username": username, "name": name, "verified": verified, "public_metrics": metrics}


def tweet(
    tweet_id: str, text: str, author_id: str, created_at: str, lang: str = "tr", likes: int = 0, replies: int = 0
) -> dict[str, Any]:
    """A post object with the fields Kulak asks for (``created_at`` like ``2026-03-02T08:15:00.000Z``)."""
    metrics = {"retweet_count": 0, "reply_count": replies, "like_count": likes, "quote_count": 0}
    return {
        "id": tweet_id,
        "text": text,
        "author_id": author_id,
        "created_at": created_at,
        "lang": lang,
        "conversation_id": tweet_id,
        "public_metrics": metrics,
        "edit_history_tweet_ids": [tweet_id],
    }


SAMPLE_USERS = (
    user("1501", "aysekaya34", "Ayşe Kaya", followers=412),
    user("1502", "mehmet_oz", "Mehmet Öztürk", followers=87),
    user("1503", "kuzeytelekom", "Kuzey Telekom", followers=120_400, verified=True),
    user("1504", "gulsen_demir", "Gülşen Demir", followers=2_310),
)
SAMPLE_TWEETS = (
    tweet(
        "1890000000000000101",
        "@kuzeytelekom iki gündür internetim yok, arıza kaydı açtım ama kimse dönmedi.",
        "1501",
        "2026-03-02T07:05:00.000Z",
        replies=1,
    ),
    tweet(
        "1890000000000000102",
        "@aysekaya34 Merhaba Ayşe Hanım, DM üzerinden hat numaranızı iletir misiniz?",
        "1503",
        "2026-03-02T07:20:00.000Z",
    ),
    tweet(
        "1890000000000000103",
        "Kuzey Telekom faturama ödemediğim bir paket eklemiş. İade istiyorum!",
        "1502",
        "2026-03-02T08:40:00.000Z",
        likes=4,
    ),
    tweet(
        "1890000000000000104",
        "Kuzey Telekom fiber hızı gerçekten iyi, İstanbul'da sorunsuz çalışıyor.",
        "1504",
        "2026-03-02T09:10:00.000Z",
        likes=12,
    ),
    tweet(
        "1890000000000000105",
        "#KuzeyTelekom müşteri hizmetlerine ulaşmak imkânsız, 40 dakikadır bekliyorum.",
        "1501",
        "2026-03-02T10:02:00.000Z",
        likes=7,
        replies=2,
    ),
)


def load_sample(path: Path = DATA_FILE) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The fictional posts and their authors in ``loopback/data/x.json``, as ``tweet`` and ``user`` build them."""
    data = json.loads(path.read_text(encoding="utf-8"))
    tweets = [
        tweet(
            t["id"],
            t["text"],
            t["author_id"],
            t["created_at"],
            likes=int(t.get("likes", 0)),
            replies=int(t.get("replies", 0)),
        )
        for t in data["tweets"]
    ]
    users = [user(u["id"], u["username"], u["name"], followers=int(u.get("followers", 0))) for u in data["users"]]
    return tweets, users


class XApi(LoopbackServer):
    """Serves ``GET /2/tweets/search/recent`` like X: newest first, ``since_id``, ``next_token``, rate headers.

    The query is not evaluated (every stored post matches); tests assert on the query the source sent.
    ``clock`` should be the same fake clock the source uses, so ``x-rate-limit-reset`` epochs line up.
    """

    def __init__(
        self,
        tweets: Iterable[Mapping[str, Any]] | None = None,
        users: Iterable[Mapping[str, Any]] | None = None,
        *,
        token: str = "test-bearer-token",
        clock: Callable[[], float] = time.time,
        rate_limit: int = 450,
        window: float = 900.0,
        charset: str = "utf-8",
    ) -> None:
        super().__init__()
        self.tweets: list[dict[str, Any]] = [dict(t) for t in (SAMPLE_TWEETS if tweets is None else tweets)]
        self.users: dict[str, dict[str, Any]] = {u["id"]: dict(u) for u in (SAMPLE_USERS if users is None else users)}
        self.token = token
        self.charset = charset
        self.rate = RateWindow(clock, rate_limit, window)
        self._canned = CannedReplies()
        self._pages: dict[str, int] = {}  # next_token -> offset into the matching posts
        self._state = threading.Lock()

    # -- what tests use --------------------------------------------------
    def add(self, post: Mapping[str, Any], author: Mapping[str, Any] | None = None) -> None:
        with self._state:
            self.tweets.append(dict(post))
            if author is not None:
                self.users[author["id"]] = dict(author)

    def set_rate(self, remaining: int, reset_in: float) -> None:
        """Pretend ``remaining`` requests are left in a window that resets ``reset_in`` seconds from now."""
        self.rate.set(remaining, reset_in)

    def fail_next(self, status: int, times: int = 1, *, retry_after: float | None = None, skip: int = 0) -> None:
        """Answer ``times`` search requests, after letting ``skip`` through, with X's problem JSON for ``status``."""
        reply = problem(status, f"The stand-in was told to answer HTTP {status}.")
        self.serve_next(with_retry_after(reply, retry_after), times, skip=skip)

    def serve_next(self, reply: Reply, times: int = 1, *, skip: int = 0) -> None:
        """Answer ``times`` search requests, after letting ``skip`` through, with ``reply`` (a broken body...)."""
        self._canned.add(reply, times, skip=skip)

    def search_requests(self) -> list[Recorded]:
        return self.received(SEARCH_PATH)

    # -- serving ---------------------------------------------------------
    def handle(self, request: Recorded) -> Reply:
        if request.path != SEARCH_PATH:
            return problem(404, f"Sorry, that page does not exist: {request.path}", kind="resource-not-found")
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return problem(401, "Unauthorized", kind="about:blank")
        rate, exhausted = self._spend()
        scripted = self._canned.take(request)
        if scripted is not None:
            return with_headers(scripted, rate)
        if exhausted:
            return with_headers(problem(429, "Too Many Requests", kind="about:blank"), rate)
        return with_headers(self._search(request), rate)

    def _spend(self) -> tuple[dict[str, str], bool]:
        """The rate headers after this request, and whether it came when nothing was left (a 429)."""
        exhausted, _ = self.rate.spend()
        headers = {
            "x-rate-limit-limit": str(self.rate.limit),
            "x-rate-limit-remaining": str(self.rate.remaining),
            "x-rate-limit-reset": str(int(self.rate.reset_at)),
        }
        return headers, exhausted

    def _search(self, request: Recorded) -> Reply:
        args = {k: v[-1] for k, v in request.query.items()}
        if not args.get("query"):
            return problem(400, "One or more parameters to your request was invalid.", message="query is required")
        size = args.get("max_results", "10")
        if not size.isdigit() or not 10 <= int(size) <= 100:
            message = f"The `max_results` query parameter value [{size}] is not between 10 and 100"
            return problem(400, "One or more parameters to your request was invalid.", message=message)
        since = args.get("since_id", "")
        if since and not since.isdigit():
            return problem(400, "One or more parameters to your request was invalid.", message="since_id is invalid")
        with self._state:
            found = sorted(
                (t for t in self.tweets if not since or int(t.get("id") or 0) > int(since)),
                key=lambda t: int(t.get("id") or 0),
                reverse=True,
            )
            offset = self._pages.get(args.get("next_token", ""), 0)
            if args.get("next_token") and args["next_token"] not in self._pages:
                return problem(400, "One or more parameters to your request was invalid.", message="bad next_token")
            chunk = found[offset : offset + int(size)]
            meta: dict[str, Any] = {"result_count": len(chunk)}
            if chunk:
                meta.update(newest_id=chunk[0].get("id"), oldest_id=chunk[-1].get("id"))
            if offset + len(chunk) < len(found):
                token = hashlib.sha1(f"{since}:{offset + len(chunk)}".encode()).hexdigest()[:24]
                self._pages[token] = offset + len(chunk)
                meta["next_token"] = token
            authors = [self.users[a] for a in dict.fromkeys(str(t.get("author_id")) for t in chunk) if a in self.users]
        body: dict[str, Any] = {"meta": meta}
        if chunk:  # X leaves data (and includes) out when nothing matched
            body["data"] = chunk
            body["includes"] = {"users": authors}
        return json_reply(body, self.charset)


def problem(status: int, detail: str, *, kind: str = "invalid-request", message: str | None = None) -> Reply:
    """X's error body: ``{"title","detail","type","status"}`` (and ``errors`` for parameter problems)."""
    body: dict[str, Any] = {
        "title": TITLES.get(status, "Service Unavailable" if status >= 500 else "Error"),
        "detail": detail,
        "type": kind if kind == "about:blank" else PROBLEM + kind,
        "status": status,
    }
    if message:
        body["errors"] = [{"parameters": {}, "message": message}]
    return Reply.json(body, status)
