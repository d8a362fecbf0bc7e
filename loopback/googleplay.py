"""A local stand-in for the Play Developer API's reviews list: bearer auth, token paging, Google's error bodies."""

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

PATH = re.compile(r"^/androidpublisher/v3/applications/(?P<package>[A-Za-z0-9_.]+)/reviews$")
DATA_FILE = Path(__file__).with_name("data") / "googleplay.json"


def review_json(
    rid: str,
    text: str,
    modified: datetime,
    *,
    author: str = "Mehmet Kaya",
    rating: int = 1,
    language: str = "tr_TR",
    version: str = "7.4.2",
    reply: str | None = None,
    replied: datetime | None = None,
) -> dict[str, Any]:
    """One review as ``reviews.list`` returns it (int64 seconds as strings, the way Google's JSON has them)."""
    user = {
        "userComment": {
            "text": text,
            "lastModified": {"seconds": str(int(modified.timestamp())), "nanos": 412000000},
            "starRating": rating,
            "reviewerLanguage": language,
            "device": "a52q",
            "androidOsVersion": 34,
            "appVersionCode": 70402,
            "appVersionName": version,
            "thumbsUpCount": 0,
            "thumbsDownCount": 0,
            "deviceMetadata": {"productName": "a52q (Galaxy A52)", "manufacturer": "Samsung"},
        }
    }
    comments: list[dict[str, Any]] = [user]
    if reply is not None:
        when = replied or modified
        comments.append(
            {"developerComment": {"text": reply, "lastModified": {"seconds": str(int(when.timestamp())), "nanos": 0}}}
        )
    return {"reviewId": rid, "authorName": author, "comments": comments}


def google_error(code: int, message: str, status: str) -> Reply:
    return Reply.json({"error": {"code": code, "message": message, "status": status}}, status=code)


def load_sample(path: Path = DATA_FILE) -> dict[str, list[dict[str, Any]]]:
    """The fictional reviews in ``loopback/data/googleplay.json`` by package, as ``review_json`` builds them."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        package: [
            review_json(
                r["id"],
                r["text"],
                datetime.fromisoformat(r["modified"]),
                author=r["author"],
                rating=int(r["rating"]),
                version=r["version"],
                reply=r.get("reply"),
            )
            for r in rows
        ]
        for package, rows in data["reviews"].items()
    }


class PlayDeveloperApi(LoopbackServer):
    """Serves ``GET /androidpublisher/v3/applications/{package}/reviews?token=T``, newest lastModified first.

    Answers 401 unless ``Authorization: Bearer {token}``; ``page_size`` reviews a page, the rest behind an opaque
    ``tokenPagination.nextPageToken``. ``pages`` replaces a page's reply ((package, page) -> Reply).
    """

    def __init__(
        self,
        reviews: Mapping[str, Iterable[Mapping[str, Any]]],
        *,
        token: str = "ya29.test-access-token",
        page_size: int = 10,
        charset: str = "utf-8",
    ) -> None:
        super().__init__()
        self.reviews = {package: [dict(r) for r in rows] for package, rows in reviews.items()}
        self.token = token
        self.page_size = page_size
        self.charset = charset
        self.pages: dict[tuple[str, int], Reply] = {}
        self._canned = CannedReplies()
        self._guard = threading.Lock()

    def add(self, package: str, review: Mapping[str, Any]) -> None:
        with self._guard:
            self.reviews.setdefault(package, []).append(dict(review))

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        self._canned.add(with_retry_after(google_error(status, "Backend Error", "UNAVAILABLE"), retry_after), times)

    def review_pages(self) -> list[tuple[str, str | None]]:
        """(package, page token or None) of every reviews request, in order."""
        found = ((PATH.match(r.path), r) for r in self.received())
        return [(m["package"], r.query.get("token", [None])[0]) for m, r in found if m]

    def handle(self, request: Recorded) -> Reply:
        match = PATH.match(request.path)
        if match is None:
            return google_error(404, "Not Found", "NOT_FOUND")
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return google_error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                "other valid authentication credential.",
                "UNAUTHENTICATED",
            )
        failure = self._canned.take(request)
        if failure is not None:
            return failure
        package = match["package"]
        if package not in self.reviews:
            return google_error(404, "Package not found: " + package, "NOT_FOUND")
        token = request.query.get("token", [""])[0]
        page = _page_of(token)
        if page is None:
            return google_error(400, "Invalid pagination token", "INVALID_ARGUMENT")
        override = self.pages.get((package, page))
        if override is not None:
            return override
        with self._guard:
            rows = sorted(self.reviews[package], key=_modified, reverse=True)
        chunk = rows[(page - 1) * self.page_size : page * self.page_size]
        data: dict[str, Any] = {"reviews": chunk} if chunk else {}
        if page * self.page_size < len(rows):
            data["tokenPagination"] = {"nextPageToken": f"CgwI{page + 1}Eo2Qk"}
        return json_reply(data, self.charset)


def _page_of(token: str) -> int | None:
    """The page an opaque token stands for ("" is page 1)."""
    if not token:
        return 1
    found = re.fullmatch(r"CgwI(\d+)Eo2Qk", token)
    return int(found.group(1)) if found else None


def _modified(review: Mapping[str, Any]) -> int:
    for comment in review.get("comments") or []:
        user = comment.get("userComment") if isinstance(comment, Mapping) else None
        if isinstance(user, Mapping):
            return int((user.get("lastModified") or {}).get("seconds") or 0)
    return 0
