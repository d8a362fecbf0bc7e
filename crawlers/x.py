"""X (Twitter) API v2 recent search: posts naming a brand since the newest one seen last time."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from config.settings import doc
from crawlers.api import ApiSource
from crawlers.base import FETCHED, PARSE_FAILURES, CrawlResult, register
from crawlers.http import PoliteClient, without_credentials
from crawlers.queries import boolean_query
from store.errors import ConfigError, SourceBlocked, SourceError, SourceParseError
from store.model import Brand, CrawlState, RawMention

log = logging.getLogger(__name__)

SEARCH_PATH = "/2/tweets/search/recent"
TWEET_FIELDS = "created_at,author_id,lang,public_metrics,conversation_id"
USER_FIELDS = "username,name,public_metrics,verified"


@register
class XSource(ApiSource):
    """X (Twitter) posts from API v2 recent search, by a query built from the brand; needs a bearer token.

    Pages through recent search with ``next_token``; ``since_id`` makes a quiet poll cost one request."""

    kind: ClassVar[str] = "x"
    default_base_url: ClassVar[str] = "https://api.x.com"

    @dataclass(frozen=True)
    class Options:
        token_env: str = doc("Environment variable holding the X API bearer token.", default="KULAK_X_BEARER_TOKEN")
        lang: str = doc('Only posts in this language, e.g. "tr" (X\'s lang: operator); empty means any.', default="")
        max_results: int = doc("Posts asked for per page, 10 to 100.", default=100)

    secrets: ClassVar[Mapping[str, str]] = {"token": "token_env"}
    secret_label: ClassVar[str] = "X API"
    ends_crawl: ClassVar[tuple[type[SourceError], ...]] = (SourceBlocked,)
    options: Options
    token: str

    def check_options(self) -> None:
        if not 10 <= self.options.max_results <= 100:
            raise ConfigError(f"expected 10 to 100, got {self.options.max_results}", key="max_results")

    def query(self, brand: Brand) -> str:
        """The recent-search query: the brand's terms, no retweets, and the language filter if set."""
        extra = "-is:retweet" + (f" lang:{self.options.lang}" if self.options.lang else "")
        return boolean_query(brand, extra=extra)

    def collect(self, brand: Brand, state: CrawlState | None) -> CrawlResult:
        state = self.state_for(brand, state)
        if not self.token:
            raise SourceBlocked(f"source {self.name!r} has no X bearer token")
        params: dict[str, str] = {
            "query": self.query(brand),
            "max_results": str(self.options.max_results),
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        if state.last_seen_id:
            params["since_id"] = state.last_seen_id
        stats: Counter[str] = Counter()
        mentions: list[RawMention] = []
        newest_id: str | None = None
        complete = False
        with self.open_client(stats) as client:
            for page in range(self.config.max_pages):
                try:
                    body = self._page(client, params)
                except SourceError as exc:
                    self.page_failed(exc, first=page == 0, what=f"X search page {page + 1}", stats=stats)
                    break
                meta = _mapping(body.get("meta"))
                read = self._mentions(brand, body, stats)
                if page == 0 and (meta.get("newest_id") or read):
                    newest_id = str(meta.get("newest_id") or max((m.external_id for m in read), key=_id_order))
                mentions.extend(read)
                next_token = meta.get("next_token")
                if not next_token:
                    complete = True
                    break
                params["next_token"] = str(next_token)
            else:
                complete = True  # max_pages read: what lies further back is given up, as on the first crawl
        if complete and newest_id:
            newest_at = max((m.published_at for m in mentions if m.published_at), default=state.last_seen_at)
            state = replace(state, last_seen_id=newest_id, last_seen_at=newest_at)
        return self.result(mentions, state, stats)

    def _page(self, client: PoliteClient, params: Mapping[str, str]) -> dict[str, Any]:
        response = client.get(
            self.config.url(SEARCH_PATH), params=params, headers={"Authorization": f"Bearer {self.token}"}
        )
        if response.status_code >= 300:
            raise _api_error(response)
        body = client.json(response)
        if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
            raise SourceParseError(f"X search answered JSON of an unknown shape: {str(body)[:80]!r}")
        problems = body.get("errors")
        for problem in problems if isinstance(problems, list) else ():  # partial errors: the posts still count
            detail = problem.get("detail") if isinstance(problem, Mapping) else problem
            log.info("X search reported: %s", detail, extra={"source": self.name})
        return body

    def _mentions(self, brand: Brand, body: Mapping[str, Any], stats: Counter[str]) -> list[RawMention]:
        includes = _mapping(body.get("includes"))
        listed = includes.get("users")
        users = {str(u.get("id")): u for u in listed if isinstance(u, Mapping)} if isinstance(listed, list) else {}
        mentions = []
        for tweet in body.get("data") or ():
            stats[FETCHED] += 1
            mention = self._mention(brand, tweet, users)
            if mention is None:
                stats[PARSE_FAILURES] += 1
                continue
            mentions.append(mention)
        return mentions

    def _mention(self, brand: Brand, tweet: Any, users: Mapping[str, Mapping[str, Any]]) -> RawMention | None:
        """One post as a mention; None when it lacks an id or its text (counted by the caller)."""
        tweet_id = tweet.get("id") if isinstance(tweet, Mapping) else None
        if not isinstance(tweet_id, (str, int)) or not str(tweet_id).strip() or not isinstance(tweet.get("text"), str):
            ids = {"source": self.name, "brand": brand.name}
            log.warning("X post without id or text skipped: %s", str(tweet)[:120], extra=ids)
            return None
        tweet_id = str(tweet_id).strip()
        user = users.get(str(tweet.get("author_id")), {})
        username = str(user.get("username") or "")
        user_metrics = _mapping(user.get("public_metrics"))
        payload: dict[str, Any] = {
            "public_metrics": dict(_mapping(tweet.get("public_metrics"))),
            "followers": user_metrics.get("followers_count"),
            "conversation_id": tweet.get("conversation_id"),
            "verified": bool(user.get("verified", False)),
        }
        if tweet.get("author_id"):
            payload["author_id"] = str(tweet["author_id"])
        return self.mention(
            brand,
            tweet_id,
            f"https://x.com/{username}/status/{tweet_id}" if username else f"https://x.com/i/status/{tweet_id}",
            tweet["text"],
            author=str(user.get("name") or username),
            author_handle=f"@{username}" if username else "",
            language=tweet.get("lang") if isinstance(tweet.get("lang"), str) and tweet.get("lang") else None,
            published_at=_parse_time(tweet.get("created_at")),
            payload=payload,
        )


def _id_order(tweet_id: str) -> tuple[int, str]:
    """Post ids are growing integers written as strings: compare them as numbers."""
    return (len(tweet_id), tweet_id)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _api_error(response: httpx.Response) -> SourceError:
    """X's problem JSON ({"title","detail","type","status"}) as a SourceError that says what went wrong."""
    status = response.status_code
    reason = ""
    try:
        problem = json.loads(response.content[:8192])
    except (ValueError, RecursionError):
        problem = None
    if isinstance(problem, Mapping):
        parts = [str(problem[k]) for k in ("title", "detail") if problem.get(k)]
        errors = problem.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping) and errors[0].get("message"):
            parts.append(str(errors[0]["message"]))
        reason = without_credentials(": ".join(dict.fromkeys(parts)), response)  # an API may quote the token
    message = f"X API search: HTTP {status}" + (f" ({reason[:300]})" if reason else "")
    if status in (401, 403):
        return SourceBlocked(message + "; check the bearer token and the access tier")
    return SourceError(message)
