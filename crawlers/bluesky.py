"""Bluesky: the public post search, newest first, stopping at the posts the last crawl already saw."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar

from config.settings import doc
from crawlers.api import ApiSource, SeenIds
from crawlers.base import FETCHED, PARSE_FAILURES, CrawlResult, cursor_of, register, with_cursor
from crawlers.feeds import parse_iso
from crawlers.http import PoliteClient, check_status
from crawlers.queries import plain_query
from store.errors import SourceError, SourceParseError
from store.model import Brand, CrawlState, RawMention

SEARCH_PATH = "/xrpc/app.bsky.feed.searchPosts"
ACCEPT_JSON = {"Accept": "application/json"}
PAGE_SIZE = 100  # the most searchPosts hands out per request
SEEN_LIMIT = 500  # post URIs remembered per brand, for posts indexed in the same instant as the newest seen


@dataclass
class _Walk:
    mentions: list[RawMention] = field(default_factory=list)
    newest_at: datetime | None = None
    complete: bool = False


@register
class BlueskySource(ApiSource):
    """Bluesky posts from the public post search, by the brand's name or a query per brand.

    Searches ``app.bsky.feed.searchPosts`` (sort=latest) and pages back with its cursor to the last post seen."""

    kind: ClassVar[str] = "bluesky"
    default_base_url: ClassVar[str] = "https://public.api.bsky.app"

    @dataclass(frozen=True)
    class Options:
        queries: dict[str, str] = doc(
            "Search query by brand name, instead of the brand's first alias.", factory=dict, per_brand=True
        )
        lang: str = doc('Only posts in this language, e.g. "tr" (empty: any language).', default="")

    options: Options

    def query_for(self, brand: Brand) -> str:
        return (self.options.queries.get(brand.name) or "").strip() or plain_query(brand)

    def collect(self, brand: Brand, state: CrawlState | None) -> CrawlResult:
        state = self.state_for(brand, state)
        seen = SeenIds(cursor_of(state), "seen", SEEN_LIMIT)
        stats: Counter[str] = Counter()
        with self.open_client(stats) as client:
            walk = self._walk(client, brand, seen, state.last_seen_at, stats)
        if walk.complete and seen.fresh:
            newest_at = max(filter(None, (walk.newest_at, state.last_seen_at)))
            state = replace(with_cursor(state, seen.kept()), last_seen_id=seen.fresh[0], last_seen_at=newest_at)
        return self.result(walk.mentions, state, stats)

    def _walk(
        self, client: PoliteClient, brand: Brand, seen: SeenIds, last_seen_at: datetime | None, stats: Counter[str]
    ) -> _Walk:
        """Newest first, page by page, until a known post, the end of the results or ``max_pages``."""
        walk = _Walk()
        params = {"q": self.query_for(brand), "sort": "latest", "limit": str(PAGE_SIZE)}
        if self.options.lang:
            params["lang"] = self.options.lang
        for page in range(self.config.max_pages):
            try:
                response = client.get(self.config.url(SEARCH_PATH), params=params, headers=ACCEPT_JSON)
                check_status(response, f"bluesky search for {brand.name}")
                data = client.json(response)
                posts = data.get("posts") if isinstance(data, Mapping) else None
                if not isinstance(posts, list):
                    raise SourceParseError("searchPosts answered without a posts list")
            except SourceError as exc:
                self.page_failed(exc, first=page == 0, what=f"bluesky page {page + 1}", stats=stats)
                return walk
            for raw in posts:
                uri = raw.get("uri") if isinstance(raw, Mapping) and isinstance(raw.get("uri"), str) else None
                indexed = parse_iso(raw.get("indexedAt")) if isinstance(raw, Mapping) else None
                if seen.before(uri) or (indexed and last_seen_at and indexed < last_seen_at):
                    stats["known"] += 1
                    walk.complete = True
                    return walk
                stats[FETCHED] += 1
                mention = self._mention(brand, raw)
                if mention is None:
                    stats[PARSE_FAILURES] += 1
                    continue
                if mention.external_id in seen:
                    continue  # a post that moved onto the next page while paging
                seen.add(mention.external_id)
                walk.mentions.append(mention)
                walk.newest_at = max(filter(None, (walk.newest_at, indexed)))
            next_cursor = data.get("cursor")
            if not posts or not isinstance(next_cursor, str) or not next_cursor:
                break
            params["cursor"] = next_cursor
        walk.complete = True
        return walk

    def _mention(self, brand: Brand, raw: Any) -> RawMention | None:
        """A post view as a mention; None when it lacks its uri, author handle, text or indexedAt."""
        if not isinstance(raw, Mapping):
            return None
        author, record = raw.get("author"), raw.get("record")
        if not isinstance(author, Mapping) or not isinstance(record, Mapping):
            return None
        uri, handle, text = raw.get("uri"), author.get("handle"), record.get("text")
        indexed = parse_iso(raw.get("indexedAt"))
        if not (isinstance(uri, str) and uri.startswith("at://") and isinstance(handle, str) and handle):
            return None
        if not isinstance(text, str) or indexed is None:
            return None
        langs = record.get("langs")
        payload: dict[str, Any] = {}
        for key, name in (("likeCount", "likes"), ("repostCount", "reposts"), ("replyCount", "replies")):
            if isinstance(raw.get(key), int):
                payload[name] = raw[key]
        if isinstance(author.get("did"), str):
            payload["did"] = author["did"]
        return self.mention(
            brand,
            uri,
            f"https://bsky.app/profile/{handle}/post/{uri.rstrip('/').rsplit('/', 1)[-1]}",
            text.strip(),
            author=str(author.get("displayName") or "").strip() or handle,
            author_handle=f"@{handle}",
            language=langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None,
            published_at=parse_iso(record.get("createdAt")) or indexed,
            payload=payload,
        )
