"""A local stand-in for Reddit's OAuth token endpoint and search API: tokens, listings, rate limits, failures."""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from loopback.api import CannedReplies, RateWindow, json_reply, with_headers, with_retry_after
from loopback.server import LoopbackServer, Recorded, Reply

TOKEN_PATH = "/api/v1/access_token"
BASE_TIME = 1_772_438_400.0  # 2026-03-02 08:00 UTC
DATA_FILE = Path(__file__).with_name("data") / "reddit.json"


def post(
    post_id: str,
    title: str,
    selftext: str = "",
    *,
    author: str = "deniz_k",
    created_utc: float = BASE_TIME,
    subreddit: str = "Turkey",
    score: int = 1,
    num_comments: int = 0,
    url: str | None = None,
) -> dict[str, Any]:
    """A post's ``data`` as a search listing child carries it (``url`` set makes it a link post)."""
    ascii_title = unicodedata.normalize("NFKD", title.lower()).encode("ascii", "ignore").decode("ascii")
    slug = "_".join(re.sub(r"[^a-z0-9 ]+", "", ascii_title).split()[:5])  # Reddit's slug: a few ASCII words
    permalink = f"/r/{subreddit}/comments/{post_id}/{slug}/"
    return {
        "id": post_id,
        "name": f"t3_{post_id}",
        "title": title,
        "selftext": selftext,
        "author": author,
        "created_utc": created_utc,
        "permalink": permalink,
        "subreddit": subreddit,
        "subreddit_name_prefixed": f"r/{subreddit}",
        "score": score,
        "num_comments": num_comments,
        "url": url or f"https://www.reddit.com{permalink}",
        "is_self": url is None,
        "over_18": False,
    }


SAMPLE_POSTS = (
    post(
        "1k0a01",
        "Kuzey Telekom faturasına itiraz eden var mı?",
        "Bu ay faturama 89 TL fazladan ek paket yansıdı. Müşteri hizmetleri iade yok diyor, ne yapabilirim?",
        created_utc=BASE_TIME,
        num_comments=6,
    ),
    post(
        "1k0a02",
        "Kuzey Telekom fiber altyapısı Kadıköy'de nasıl?",
        author="ozge_ist",
        created_utc=BASE_TIME + 1800,
        subreddit="istanbul",
        score=14,
        num_comments=11,
    ),
    post(
        "1k0a03",
        "Deniz GSM mi Kuzey Telekom mu? Çekim gücü karşılaştırması",
        "Şişli ve Beşiktaş'ta ikisini de denedim, sonuçlar aşağıda.",
        author="sinyalci",
        created_utc=BASE_TIME + 3600,
        score=31,
    ),
    post(
        "1k0a04",
        "Kuzey Telekom kesintisi hakkında haber",
        author="haberbotu",
        created_utc=BASE_TIME + 5400,
        url="https://haber.example.org/kuzey-telekom-kesinti",
    ),
    post(
        "1k0a05",
        "KuzeyTel uygulaması açılmıyor",
        "Güncellemeden beri giriş ekranında donuyor. İşe yaramıyor.",
        author="ilkay_g",
        created_utc=BASE_TIME + 7200,
        subreddit="teknoloji",
        score=3,
        num_comments=2,
    ),
)


def load_sample(path: Path = DATA_FILE) -> list[dict[str, Any]]:
    """The fictional posts in ``loopback/data/reddit.json``, as ``post`` builds them."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        post(
            row["id"],
            row["title"],
            row.get("selftext", ""),
            author=row["author"],
            created_utc=datetime.fromisoformat(row["created"]).timestamp(),
            subreddit=row["subreddit"],
            score=int(row.get("score", 1)),
            num_comments=int(row.get("num_comments", 0)),
        )
        for row in data["posts"]
    ]


class RedditApi(LoopbackServer):
    """Serves ``POST /api/v1/access_token`` and ``GET [/r/a+b]/search`` like Reddit, newest post first.

    The query is not evaluated (every post matches); tests assert on the query the source sent. Tokens last
    ``expires_in`` seconds by ``clock``; ``expire_tokens`` makes every token given so far answer 401.
    """

    def __init__(
        self,
        posts: Iterable[Mapping[str, Any]] | None = None,
        *,
        client_id: str = "kulak-app-id",
        client_secret: str = "kulak-app-secret",
        clock: Callable[[], float] = time.time,
        expires_in: int = 86_400,
        rate_limit: int = 100,
        window: float = 600.0,
        charset: str = "utf-8",
    ) -> None:
        super().__init__()
        self.posts: list[dict[str, Any]] = [dict(p) for p in (SAMPLE_POSTS if posts is None else posts)]
        self.client_id = client_id
        self.client_secret = client_secret
        self.clock = clock
        self.expires_in = expires_in
        self.charset = charset
        self.rate = RateWindow(clock, rate_limit, window)
        self.revoked = False  # every API call answers 401, whatever the token: the app was banned
        self.tokens: dict[str, float] = {}  # token -> expiry (clock seconds)
        self._canned = CannedReplies()
        self._state = threading.Lock()

    # -- what tests use --------------------------------------------------
    def add(self, data: Mapping[str, Any]) -> None:
        with self._state:
            self.posts.append(dict(data))

    def expire_tokens(self) -> None:
        with self._state:
            self.tokens = dict.fromkeys(self.tokens, 0.0)

    def set_rate(self, remaining: int, reset_in: float) -> None:
        self.rate.set(remaining, reset_in)

    def fail_next(
        self, status: int, times: int = 1, *, retry_after: float | None = None, skip: int = 0, token: bool = False
    ) -> None:
        """Answer ``times`` API (or, with ``token``, token endpoint) requests after ``skip`` with ``status``."""
        reply = Reply.json({"message": _REASONS.get(status, "Error"), "error": status}, status)
        self.serve_next(with_retry_after(reply, retry_after), times, skip=skip, token=token)

    def serve_next(self, reply: Reply, times: int = 1, *, skip: int = 0, token: bool = False) -> None:
        self._canned.add(reply, times, skip=skip, when=lambda request: (request.path == TOKEN_PATH) == token)

    def token_requests(self) -> list[Recorded]:
        return self.received(TOKEN_PATH)

    def search_requests(self) -> list[Recorded]:
        return [r for r in self.received() if r.path.endswith("/search")]

    # -- serving ---------------------------------------------------------
    def handle(self, request: Recorded) -> Reply:
        is_token = request.path == TOKEN_PATH
        scripted = self._canned.take(request)
        if scripted is not None:
            return scripted if is_token else with_headers(scripted, self._spend()[0])
        if is_token:
            return self._token(request)
        if not request.path.endswith("/search") or request.method != "GET":
            return Reply.json({"message": "Not Found", "error": 404}, 404)
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        with self._state:
            valid = scheme.lower() == "bearer" and self.tokens.get(token, 0.0) > self.clock() and not self.revoked
        rate, exhausted = self._spend()
        if not valid:
            return with_headers(Reply.json({"message": "Unauthorized", "error": 401}, 401), rate)
        if exhausted:
            return with_headers(Reply.json({"message": "Too Many Requests", "error": 429}, 429), rate)
        return with_headers(self._search(request), rate)

    def _token(self, request: Recorded) -> Reply:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.method != "POST" or request.headers.get("authorization") != f"Basic {expected}":
            return Reply.json({"message": "Unauthorized", "error": 401}, 401)
        if request.form().get("grant_type") != ["client_credentials"]:
            return Reply.json({"error": "unsupported_grant_type"})
        token = f"-{secrets.token_urlsafe(18)}"
        with self._state:
            self.tokens[token] = self.clock() + self.expires_in
        return Reply.json({"access_token": token, "token_type": "bearer", "expires_in": self.expires_in, "scope": "*"})

    def _spend(self) -> tuple[dict[str, str], bool]:
        """Reddit's headers after this request (reset in seconds from now), and whether none was left."""
        exhausted, now = self.rate.spend()
        headers = {
            "x-ratelimit-used": str(self.rate.used),
            "x-ratelimit-remaining": f"{float(self.rate.remaining):.1f}",
            "x-ratelimit-reset": str(max(0, round(self.rate.reset_at - now))),
        }
        return headers, exhausted

    def _search(self, request: Recorded) -> Reply:
        args = {k: v[-1] for k, v in request.query.items()}
        parts = [p for p in request.path.split("/") if p]
        wanted = {s.casefold() for s in parts[1].split("+")} if len(parts) == 3 and parts[0] == "r" else set()
        restrict = bool(wanted) and args.get("restrict_sr") in ("1", "true", "on")
        limit = min(100, int(args["limit"])) if args.get("limit", "").isdigit() else 25
        with self._state:
            found = sorted(
                (p for p in self.posts if not restrict or str(p.get("subreddit", "")).casefold() in wanted),
                key=lambda p: float(p.get("created_utc") or 0),
                reverse=True,
            )
        start = 0
        if args.get("after"):
            names = [p.get("name") for p in found]
            start = names.index(args["after"]) + 1 if args["after"] in names else len(found)
        chunk = found[start : start + limit] if args.get("q") else []
        more = bool(chunk) and start + len(chunk) < len(found)
        listing = {
            "kind": "Listing",
            "data": {
                "after": chunk[-1].get("name") if more else None,
                "dist": len(chunk),
                "modhash": "",
                "geo_filter": "",
                "children": [{"kind": "t3", "data": p} for p in chunk],
                "before": None,
            },
        }
        return json_reply(listing, self.charset)


_REASONS = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
