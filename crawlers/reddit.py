"""Reddit search over app-only OAuth: posts naming a brand, newest first, down to the newest one seen before."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from config.settings import doc
from crawlers.api import ApiSource, SeenIds
from crawlers.base import FETCHED, PARSE_FAILURES, CrawlResult, cursor_of, register, with_cursor
from crawlers.http import PoliteClient, check_status
from crawlers.queries import boolean_query
from store.errors import ConfigError, SourceBlocked, SourceError, SourceParseError
from store.model import Brand, CrawlState, RawMention

log = logging.getLogger(__name__)

TIME_FILTERS = ("hour", "day", "week", "month", "year", "all")
RECENT_LIMIT = 200  # fullnames remembered: posts sharing the newest second are told apart by name
MAX_EPOCH = 253_402_300_000.0  # seconds: the year 9999, the last a datetime holds
TOKEN_MARGIN = 60.0  # seconds: a token this close to expiry is replaced before use, not after a 401


@register
class RedditSource(ApiSource):
    """Reddit posts from search (app-only OAuth), by a query built from the brand; needs an app id and secret.

    Searches Reddit (or some subreddits) with ``sort=new``; a poll with nothing new costs one search request."""

    kind: ClassVar[str] = "reddit"
    default_base_url: ClassVar[str] = "https://oauth.reddit.com"

    @dataclass(frozen=True)
    class Options:
        token_url: str = doc(
            "Where the app-only OAuth token is asked for.", default="https://www.reddit.com/api/v1/access_token"
        )
        subreddits: tuple[str, ...] = doc(
            "Search only these subreddits (names without r/); empty means all of Reddit.", factory=tuple
        )
        time_filter: str = doc("How far back search looks (t=): hour, day, week, month, year or all.", default="day")
        user_agent: str = doc(
            'User-Agent for Reddit, which wants "platform:app-id:version (by /u/name)"; empty: crawl.user_agent.',
            default="",
        )
        client_id_env: str = doc(
            "Environment variable holding the Reddit app's client id.", default="KULAK_REDDIT_CLIENT_ID"
        )
        secret_env: str = doc("Environment variable holding the Reddit app's secret.", default="KULAK_REDDIT_SECRET")

    secrets: ClassVar[Mapping[str, str]] = {"client_id": "client_id_env", "client_secret": "secret_env"}
    secret_label: ClassVar[str] = "Reddit API"
    ends_crawl: ClassVar[tuple[type[SourceError], ...]] = (SourceBlocked,)
    options: Options
    client_id: str
    client_secret: str
    _token: str | None = None  # kept in memory only, across crawls, until it expires
    _token_expires = 0.0

    def check_options(self) -> None:
        if self.options.time_filter not in TIME_FILTERS:
            expected = ", ".join(TIME_FILTERS)
            raise ConfigError(f"expected one of {expected}, got {self.options.time_filter!r}", key="time_filter")

    @property
    def user_agent(self) -> str:
        return self.options.user_agent or self.config.user_agent

    def search_path(self) -> str:
        subs = [s.strip().removeprefix("r/").removeprefix("/r/") for s in self.options.subreddits]
        subs = [s for s in subs if s]
        return f"/r/{'+'.join(subs)}/search" if subs else "/search"

    def collect(self, brand: Brand, state: CrawlState | None) -> CrawlResult:
        state = self.state_for(brand, state)
        if not (self.client_id and self.client_secret):
            raise SourceBlocked(f"source {self.name!r} has no Reddit client id and secret")
        cursor = cursor_of(state)
        seen = SeenIds(cursor, "recent", RECENT_LIMIT)
        last_created = _float(cursor.get("last_created_utc"))
        if last_created is None and state.last_seen_at is not None:
            last_created = state.last_seen_at.timestamp()
        path = self.search_path()
        params = {"q": boolean_query(brand), "sort": "new", "limit": "100", "t": self.options.time_filter}
        params["raw_json"] = "1"  # else Reddit sends &amp; &lt; &gt; escaped inside the JSON strings
        if path != "/search":
            params["restrict_sr"] = "1"
        stats: Counter[str] = Counter()
        mentions: list[RawMention] = []
        fresh: list[tuple[str, float]] = []
        complete = False
        with self.open_client(stats) as client:
            for page in range(self.config.max_pages):
                try:
                    listing = self._page(client, path, params)
                except SourceError as exc:
                    self.page_failed(exc, first=page == 0, what=f"Reddit search page {page + 1}", stats=stats)
                    break
                reached = False
                for child in listing["children"]:
                    stats[FETCHED] += 1
                    post = child.get("data") if isinstance(child, Mapping) else None
                    name = _fullname(post)
                    if name is not None and (seen.before(name) or name == state.last_seen_id):
                        stats["known"] += 1
                        # posts of the newest second seen may come in any order: step over, stop only below it
                        seen_at = _float(post.get("created_utc")) if isinstance(post, Mapping) else None
                        if last_created is None or seen_at is None or seen_at < last_created:
                            reached = True
                            break
                        continue
                    mention = self._mention(brand, post, name)
                    if mention is None or mention.published_at is None:
                        stats[PARSE_FAILURES] += 1
                        continue
                    created = mention.published_at.timestamp()
                    if last_created is not None and created < last_created:
                        stats["known"] += 1
                        reached = True
                        break
                    mentions.append(mention)
                    seen.add(mention.external_id)
                    fresh.append((mention.external_id, created))
                after = listing.get("after")
                if reached or not after:
                    complete = True
                    break
                params["after"] = str(after)
            else:
                complete = True  # max_pages read: older posts are given up, as on the first crawl
        if complete and fresh:
            newest_name, newest = max(fresh, key=lambda f: f[1])
            state = with_cursor(state, {**seen.kept(), "last_created_utc": newest})
            state = replace(state, last_seen_id=newest_name, last_seen_at=datetime.fromtimestamp(newest, UTC))
        return self.result(mentions, state, stats)

    def _page(self, client: PoliteClient, path: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        """One search page's ``data`` (``after``, ``children``); a 401 gets one fresh token, then SourceBlocked."""
        response = self._search(client, path, params, fresh=False)
        if response.status_code == 401:
            log.info("Reddit answered 401 to a token it gave; asking for a new one", extra={"source": self.name})
            self._token = None
            response = self._search(client, path, params, fresh=True)
            if response.status_code == 401:
                raise SourceBlocked("Reddit search: HTTP 401 even with a fresh token; is the app still allowed?")
        check_status(response, "Reddit search")
        body = client.json(response)
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, Mapping) or not isinstance(data.get("children"), list):
            raise SourceParseError(f"Reddit search answered JSON that is not a listing: {str(body)[:80]!r}")
        return data

    def _search(self, client: PoliteClient, path: str, params: Mapping[str, str], *, fresh: bool) -> httpx.Response:
        token = self._access_token(client, fresh=fresh)
        return client.get(
            self.config.url(path), params=params, headers={"Authorization": f"bearer {token}", **self._agent()}
        )

    def _access_token(self, client: PoliteClient, *, fresh: bool = False) -> str:
        """The app-only token, fetched again when it is about to expire (or ``fresh`` after a 401)."""
        if self._token and not fresh and self._clock() < self._token_expires:
            return self._token
        response = client.post(
            self.options.token_url,
            auth=(self.client_id, self.client_secret),
            data={"grant_type": "client_credentials"},
            headers=self._agent(),
        )
        if response.status_code in (401, 403):
            raise SourceBlocked(
                f"Reddit token: HTTP {response.status_code}; check {self.options.client_id_env} "
                f"and {self.options.secret_env}"
            )
        check_status(response, "Reddit token")
        try:
            body = client.json(response)
        except SourceParseError as exc:
            raise SourceError(f"Reddit token endpoint did not answer JSON: {exc}") from exc
        token = body.get("access_token") if isinstance(body, Mapping) else None
        if not isinstance(token, str) or not token:
            reason = body.get("error") if isinstance(body, Mapping) else None
            raise SourceBlocked(f"Reddit gave no token ({reason or 'no access_token in the answer'})")
        lifetime = _float(body.get("expires_in")) or 3600.0
        self._token = token
        self._token_expires = self._clock() + max(0.0, lifetime - TOKEN_MARGIN)
        return token

    def _agent(self) -> dict[str, str]:
        return {"User-Agent": self.user_agent}

    def _mention(self, brand: Brand, post: Any, name: str | None) -> RawMention | None:
        """One post as a mention; None when it lacks its name, title, permalink or time (counted by the caller)."""
        if not isinstance(post, Mapping) or name is None:
            return None
        title, permalink, created = post.get("title"), post.get("permalink"), _float(post.get("created_utc"))
        if not isinstance(title, str) or not isinstance(permalink, str) or created is None:
            ids = {"source": self.name, "brand": brand.name}
            log.warning("Reddit post %s lacks a title, permalink or created_utc; skipped", name, extra=ids)
            return None
        author = str(post.get("author") or "")
        url = f"https://www.reddit.com{permalink}"
        payload: dict[str, Any] = {
            "subreddit": post.get("subreddit"),
            "score": post.get("score"),
            "num_comments": post.get("num_comments"),
        }
        link = post.get("url")
        if isinstance(link, str) and link and link != url:
            payload["link"] = link  # a link post: the page it points at
        selftext = post.get("selftext")
        return self.mention(
            brand,
            name,
            url,
            selftext.strip() if isinstance(selftext, str) and selftext.strip() else title,
            title=title,
            author=f"u/{author}" if author and author != "[deleted]" else "",
            author_handle=f"u/{author}" if author and author != "[deleted]" else "",
            published_at=datetime.fromtimestamp(created, UTC),
            payload=payload,
        )


def _fullname(post: Any) -> str | None:
    """``t3_<id>``: the post's ``name``, or built from its ``id``."""
    if not isinstance(post, Mapping):
        return None
    if isinstance(post.get("name"), str) and post["name"].strip():
        return str(post["name"]).strip()
    return f"t3_{post['id'].strip()}" if isinstance(post.get("id"), str) and post["id"].strip() else None


def _float(value: Any) -> float | None:
    """A number of seconds, from 0 to what a datetime can hold (epochs, lifetimes); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):  # OverflowError: an integer too large for a float
        return None
    return number if 0 <= number < MAX_EPOCH else None  # also refuses nan and inf
