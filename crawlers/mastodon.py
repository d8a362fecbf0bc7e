"""Mastodon: the public hashtag timelines of one or more instances, read newest first since the last status seen."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, urlsplit

from config.settings import doc
from crawlers.api import ApiSource
from crawlers.base import FETCHED, PAGE_LIMIT, PARSE_FAILURES, CrawlResult, cursor_of, register, with_cursor
from crawlers.feeds import html_to_text, mark_newest, parse_iso
from crawlers.http import PoliteClient, check_status
from crawlers.queries import hashtags
from store.errors import SourceError, SourceParseError
from store.model import Brand, CrawlState, RawMention

PAGE_SIZE = 40  # the most a tag timeline hands out per request


def newer(a: str, b: str) -> bool:
    """Whether status id ``a`` is newer than ``b``: ids are numeric strings that grow, longer is newer."""
    return (len(a), a) > (len(b), b)


@dataclass
class _Walk:
    """One instance+tag timeline walk: the newest id met and whether it ran to the end."""

    newest: str | None = None
    complete: bool = False


@register
class MastodonSource(ApiSource):
    """Mastodon posts from the brand's hashtag timelines on one or more instances.

    Reads ``/api/v1/timelines/tag/{tag}`` on each instance; ``since_id`` per instance and tag lives in the cursor."""

    kind: ClassVar[str] = "mastodon"
    default_base_url: ClassVar[str] = "https://mastodon.social"

    @dataclass(frozen=True)
    class Options:
        instances: tuple[str, ...] = doc(
            "More instances (base URLs) whose tag timelines are read besides base_url.", factory=tuple
        )
        tags: dict[str, tuple[str, ...]] = doc(
            "Hashtags without # to follow, by brand name (default: the brand's hashtags).", factory=dict, per_brand=True
        )

    options: Options

    def instance_roots(self) -> list[str]:
        return list(dict.fromkeys([self.config.root, *(u.strip().rstrip("/") for u in self.options.instances)]))

    def tags_for(self, brand: Brand) -> list[str]:
        tags = self.options.tags.get(brand.name) or tuple(hashtags(brand))
        return list(dict.fromkeys(t.strip().lstrip("#").casefold() for t in tags if t.strip().lstrip("#")))

    def collect(self, brand: Brand, state: CrawlState | None) -> CrawlResult:
        state = self.state_for(brand, state)
        stored = cursor_of(state).get("since_id")
        since = {str(k): str(v) for k, v in stored.items()} if isinstance(stored, dict) else {}
        stats: Counter[str] = Counter()
        mentions: dict[str, RawMention] = {}
        failures = self.failures(stats)
        streams = [(root, tag) for root in self.instance_roots() for tag in self.tags_for(brand)]
        with self.open_client(stats) as client:
            for root, tag in streams:
                key = f"{urlsplit(root).netloc}/{tag}"
                try:
                    walk = self._walk(client, brand, root, tag, since.get(key), mentions, stats)
                except SourceError as exc:
                    failures.add(exc, f"mastodon {urlsplit(root).netloc} #{tag}")
                    continue
                if walk.complete and walk.newest:
                    since[key] = walk.newest
        failures.raise_if_all(len(streams))  # no timeline could be read: the crawl stage records it
        new_state = mark_newest(with_cursor(state, {"since_id": since}), mentions.values())
        return self.result(mentions.values(), new_state, stats)

    def _walk(
        self,
        client: PoliteClient,
        brand: Brand,
        root: str,
        tag: str,
        since_id: str | None,
        mentions: dict[str, RawMention],
        stats: Counter[str],
    ) -> _Walk:
        """Page back from the newest status until ``since_id``, the last page or ``max_pages``."""
        walk = _Walk()
        url = f"{root}/api/v1/timelines/tag/{quote(tag, safe='')}"
        params: dict[str, str] = {"limit": str(PAGE_SIZE)}
        if since_id:
            params["since_id"] = since_id
        for page in range(self.config.max_pages):
            try:
                response = client.get(url, params=params, headers={"Accept": "application/json"})
                check_status(response, f"mastodon {urlsplit(root).netloc} #{tag}")
                statuses = client.json(response)
                if not isinstance(statuses, list):
                    raise SourceParseError(f"#{tag} timeline is not a list of statuses")
            except SourceError as exc:
                self.page_failed(exc, first=page == 0, what=f"mastodon #{tag} page {page + 1}", stats=stats)
                return _Walk(walk.newest, complete=False)
            for raw in statuses:
                status_id = raw.get("id") if isinstance(raw, Mapping) else None
                if isinstance(status_id, str) and since_id and not newer(status_id, since_id):
                    stats["known"] += 1  # the server ignored since_id (a next link drops it): stop here
                    return _Walk(walk.newest, complete=True)
                if isinstance(status_id, str) and (walk.newest is None or newer(status_id, walk.newest)):
                    walk.newest = status_id
                stats[FETCHED] += 1
                mention = self._mention(brand, root, tag, raw)
                if mention is None:
                    stats[PARSE_FAILURES] += 1
                elif mention.external_id in mentions:
                    stats["repeated"] += 1  # the same status under two of the brand's tags
                else:
                    mentions[mention.external_id] = mention
            next_url = response.links.get("next", {}).get("url")
            if len(statuses) < PAGE_SIZE or not next_url:
                break
            # httpx replaces a URL's query with ``params``, so the link's own query is carried over by hand;
            # Mastodon's next link drops since_id, which is put back to stop the server at the known status.
            parts = urlsplit(next_url)
            url, params = parts._replace(query="").geturl(), dict(parse_qsl(parts.query))
            if since_id:
                params.setdefault("since_id", since_id)
        else:
            stats[PAGE_LIMIT] += 1  # a timeline that keeps offering pages: the crawl stage says so
        walk.complete = True
        return walk

    def _mention(self, brand: Brand, root: str, tag: str, raw: Any) -> RawMention | None:
        """A status as a mention; None when it lacks an id, a date or an account."""
        if not isinstance(raw, Mapping):
            return None
        account = raw.get("account")
        if not isinstance(account, Mapping):
            return None
        status_id, acct = raw.get("id"), account.get("acct")
        created = parse_iso(raw.get("created_at"))
        if not (isinstance(status_id, str) and status_id and created and isinstance(acct, str) and acct):
            return None
        host = urlsplit(root).netloc
        payload: dict[str, Any] = {"instance": host, "tag": tag}
        if isinstance(account.get("followers_count"), int):
            payload["followers_count"] = account["followers_count"]
        for key in ("replies_count", "reblogs_count", "favourites_count"):
            if isinstance(raw.get(key), int):
                payload[key.removesuffix("_count")] = raw[key]
        links = (raw.get("url"), raw.get("uri"))
        url = next((u for u in links if isinstance(u, str) and u.startswith(("https://", "http://"))), None)
        return self.mention(
            brand,
            f"{host}:{status_id}",
            url or f"{root}/@{acct}/{status_id}",
            html_to_text(raw.get("content")),
            title=html_to_text(raw.get("spoiler_text")),  # the content warning, when there is one
            author=str(account.get("display_name") or "").strip() or acct,
            author_handle=f"@{acct}",
            language=raw.get("language") if isinstance(raw.get("language"), str) else None,
            published_at=created,
            payload=payload,
        )
