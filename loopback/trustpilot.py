"""A local stand-in for trustpilot.com: review pages that embed their reviews as Next.js JSON, with failures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loopback.server import LoopbackServer, Recorded, Reply

ROBOTS_OPEN = "User-agent: *\nAllow: /\n"


def review_json(
    rid: str,
    text: str,
    published: datetime,
    *,
    title: str = "",
    rating: int = 1,
    language: str = "tr",
    author: str = "Ayşe Yılmaz",
    country: str = "TR",
    reply: str | None = None,
) -> dict[str, Any]:
    """One review in the shape Trustpilot's ``__NEXT_DATA__`` gives it."""
    stamp = published.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "id": rid,
        "filtered": False,
        "pending": False,
        "text": text,
        "rating": rating,
        "labels": {"verification": {"isVerified": False}},
        "title": title,
        "likes": 0,
        "dates": {"experiencedDate": stamp, "publishedDate": stamp, "updatedDate": None},
        "report": None,
        "hasUnhandledReports": False,
        "consumer": {
            "id": f"c{rid[-6:]}",
            "displayName": author,
            "imageUrl": "",
            "numberOfReviews": 1,
            "countryCode": country,
            "hasImage": False,
            "isVerified": False,
        },
        "reply": {"message": reply, "publishedDate": stamp, "updatedDate": None} if reply else None,
        "consumersReviewCountOnSameDomain": 1,
        "language": language,
        "location": None,
    }


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: float | None


class TrustpilotSite(LoopbackServer):
    """Serves ``/review/{domain}?page=N&sort=recency`` newest first, ``page_size`` reviews a page, and robots.txt.

    ``domains`` maps a review domain to its reviews (``review_json`` dicts, any order). ``pages`` replaces a
    page's reply outright ((domain, page) -> Reply) for malformed bodies; ``charset`` encodes every page.
    """

    def __init__(
        self,
        domains: Mapping[str, Iterable[Mapping[str, Any]]],
        *,
        page_size: int = 20,
        robots: str = ROBOTS_OPEN,
        charset: str = "utf-8",
    ) -> None:
        super().__init__()
        self.domains = {d: [dict(r) for r in rows] for d, rows in domains.items()}
        self.page_size = page_size
        self.robots = robots
        self.charset = charset
        self.pages: dict[tuple[str, int], Reply] = {}
        self.arrivals: list[tuple[float, Recorded]] = []  # (time.monotonic(), request), to check the waits
        self._failures: list[_Failure] = []
        self._lock2 = threading.Lock()

    def add(self, domain: str, review: Mapping[str, Any]) -> None:
        with self._lock2:
            self.domains.setdefault(domain, []).append(dict(review))

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` review-page requests with ``status``."""
        with self._lock2:
            self._failures.append(_Failure(status, times, retry_after))

    def review_pages(self) -> list[tuple[str, dict[str, list[str]]]]:
        """(path, query) of every review-page request, in order."""
        return [(r.path, dict(r.query)) for r in self.received() if r.path.startswith("/review/")]

    def handle(self, request: Recorded) -> Reply:
        with self._lock2:
            self.arrivals.append((time.monotonic(), request))
        if request.path == "/robots.txt":
            return Reply(200, self.robots.encode("utf-8"), {"Content-Type": "text/plain"})
        parts = [p for p in request.path.split("/") if p]
        if len(parts) != 2 or parts[0] != "review" or parts[1] not in self.domains:
            return Reply.html(_layout("Sayfa bulunamadı", None), 404)
        failure = self._take_failure()
        if failure is not None:
            reply = Reply.html("<h1>Too many requests</h1>" if failure.status == 429 else "<h1>Error</h1>")
            reply.status = failure.status
            if failure.retry_after is not None:
                reply.headers["Retry-After"] = f"{failure.retry_after:g}"
            return reply
        page_arg = request.query.get("page", ["1"])[0]
        page = int(page_arg) if page_arg.isdigit() and int(page_arg) > 0 else 1
        override = self.pages.get((parts[1], page))
        if override is not None:
            return override
        with self._lock2:
            rows = sorted(self.domains[parts[1]], key=_published, reverse=True)
        total_pages = max(1, -(-len(rows) // self.page_size))
        if page > total_pages:
            return Reply.html(_layout("Sayfa bulunamadı", None), 404)
        chunk = rows[(page - 1) * self.page_size : page * self.page_size]
        data = {
            "props": {
                "pageProps": {
                    "businessUnit": {"identifyingName": parts[1], "displayName": parts[1]},
                    "reviews": chunk,
                    "filters": {
                        "pagination": {
                            "currentPage": page,
                            "perPage": self.page_size,
                            "totalCount": len(rows),
                            "totalPages": total_pages,
                        }
                    },
                },
                "__N_SSP": True,
            },
            "page": "/review/[businessUnit]",
            "query": {"businessUnit": parts[1], "page": str(page), "sort": "recency"},
        }
        return Reply.html(_layout(f"{parts[1]} yorumları", data, self.charset), charset=self.charset)

    def _take_failure(self) -> _Failure | None:
        with self._lock2:
            if not self._failures:
                return None
            failure = self._failures[0]
            failure.times -= 1
            if failure.times <= 0:
                self._failures.pop(0)
            return failure


def _published(row: Mapping[str, Any]) -> str:
    dates = row.get("dates") or {}
    return str(dates.get("publishedDate") or "")


def page_markup(title: str, next_data: Any, charset: str = "utf-8") -> str:
    """A review page around ``next_data`` (any JSON value), for tests that build odd pages themselves."""
    return _layout(title, next_data, charset)


def _layout(title: str, next_data: Any, charset: str = "utf-8") -> str:
    script = ""
    if next_data is not None:
        # Next.js escapes "</" so a review cannot close the script element early.
        payload = json.dumps(next_data, ensure_ascii=False).replace("</", "<\\/")
        script = f'<script id="__NEXT_DATA__" type="application/json">{payload}</script>'
    return f"""<!DOCTYPE html>
<html lang="tr"><head><meta charset="{charset}"><title>{title} | Trustpilot</title>
<link rel="preload" href="/_next/static/css/app.css" as="style"></head>
<body><div id="__next"><header><a href="/">Trustpilot</a><a href="/categories">Kategoriler</a></header>
<main><h1>{title}</h1><section class="styles_reviewsContainer__x1"></section></main>
<footer>© Trustpilot A/S</footer></div>
{script}
</body></html>
"""
