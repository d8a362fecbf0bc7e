"""Apple App Store reviews of a brand's apps, from the public customer-reviews JSON feed, newest first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar

from config.settings import doc
from crawlers.api import ApiSource
from crawlers.base import FETCHED, PARSE_FAILURES, CrawlResult, cursor_of, register, with_cursor
from crawlers.http import PoliteClient, check_status
from store.errors import SourceBlocked, SourceError, SourceParseError, SourceRateLimited
from store.model import Brand, CrawlState, RawMention

FEED_PAGES = 10  # Apple serves ten pages of the feed at most


@dataclass
class _Walk:
    """What reading one app's feed in one country gave: its mentions, and whether it reached the end."""

    mentions: list[RawMention] = field(default_factory=list)
    newest: int | None = None
    complete: bool = False


@register
class AppStoreSource(ApiSource):
    """App Store reviews of the brand's apps, from Apple's public customer-reviews feed.

    Reads each app's feed in each country until the newest review seen last time (one request when none is new)."""

    kind: ClassVar[str] = "appstore"
    default_base_url: ClassVar[str] = "https://itunes.apple.com"

    @dataclass(frozen=True)
    class Options:
        apps: dict[str, tuple[str, ...]] = doc(
            'App Store app ids of each brand\'s apps, by brand name (the digits of ".../app/id1234567890").',
            factory=dict,
            per_brand=True,
        )
        countries: tuple[str, ...] = doc('App Store countries whose reviews are read, like ["tr"].', default=("tr",))

    ends_crawl: ClassVar[tuple[type[SourceError], ...]] = (SourceBlocked, SourceRateLimited)
    options: Options

    def has_key_for(self, brand: Brand) -> bool:
        return bool(self.options.apps.get(brand.name)) and bool(self.options.countries)

    def feed_url(self, country: str, app: str, page: int) -> str:
        return self.config.url(f"/{country}/rss/customerreviews/page={page}/id={app}/sortby=mostrecent/json")

    def collect(self, brand: Brand, state: CrawlState | None) -> CrawlResult:
        state = self.state_for(brand, state)
        newest: dict[str, str] = {str(k): str(v) for k, v in (cursor_of(state).get("newest") or {}).items()}
        stats: Counter[str] = Counter()
        mentions: list[RawMention] = []
        failures = self.failures(stats)
        pairs = [(app, country) for app in self.options.apps.get(brand.name, ()) for country in self.options.countries]
        with self.open_client(stats) as client:
            for app, country in pairs:
                key = f"{country}/{app}"
                last = newest.get(key)
                try:
                    walk = self._walk(client, brand, app, country, int(last) if last else None, stats)
                except SourceError as exc:  # this feed is down; the others may not be
                    failures.add(exc, f"App Store feed {key}")
                    continue
                mentions.extend(walk.mentions)
                if walk.complete and walk.newest is not None:  # a partial walk is read again next time
                    newest[key] = str(walk.newest)
        failures.raise_if_all(len(pairs))
        mentions.sort(key=lambda m: int(m.external_id), reverse=True)
        new_state = with_cursor(state, {"newest": newest})
        if mentions and (not state.last_seen_id or int(mentions[0].external_id) > int(state.last_seen_id)):
            new_state = replace(new_state, last_seen_id=mentions[0].external_id, last_seen_at=mentions[0].published_at)
        return self.result(mentions, new_state, +stats)

    def _walk(
        self, client: PoliteClient, brand: Brand, app: str, country: str, last: int | None, stats: Counter[str]
    ) -> _Walk:
        """Pages 1.. of one feed until a review at or below ``last``, an empty page or the page limit."""
        walk = _Walk()
        ids: set[int] = set()
        for page in range(1, min(FEED_PAGES, self.config.max_pages) + 1):
            url = self.feed_url(country, app, page)
            try:
                response = client.get(url, headers={"Accept": "application/json"})
                check_status(response, f"App Store feed {country}/{app} page {page}")
                entries = feed_entries(client.json(response))
            except SourceError as exc:
                self.page_failed(exc, first=page == 1, what=f"App Store feed {country}/{app} page {page}", stats=stats)
                return walk
            if not entries:
                walk.complete = True
                return walk
            for entry in entries:
                if "im:rating" not in entry and "im:name" in entry:  # older feeds lead with the app itself
                    stats["app_entry"] += 1
                    continue
                stats[FETCHED] += 1
                mention = self._mention(brand, app, country, entry)
                if mention is None:
                    stats[PARSE_FAILURES] += 1
                    continue
                rid = int(mention.external_id)
                if last is not None and rid <= last:
                    stats["known"] += 1
                    walk.complete = True
                    return walk
                if rid in ids:  # pushed down a page by a newer review while we were paging
                    stats["duplicate"] += 1
                    continue
                ids.add(rid)
                walk.newest = max(rid, walk.newest or rid)
                walk.mentions.append(mention)
        walk.complete = True
        return walk

    def _mention(self, brand: Brand, app: str, country: str, entry: Mapping[str, Any]) -> RawMention | None:
        """One feed entry as a mention; None when its id, text or date is missing or unreadable."""
        rid, content, updated = _label(entry, "id"), _label(entry, "content"), _label(entry, "updated")
        try:
            published = datetime.fromisoformat(updated)
        except ValueError:
            return None
        if not (rid.isascii() and rid.isdigit()) or not content.strip():  # "²".isdigit() is true, int("²") fails
            return None
        rating = _label(entry, "im:rating")
        author = entry.get("author")
        return self.mention(
            brand,
            rid,
            f"https://apps.apple.com/{country}/app/id{app}?see-all=reviews",
            content.strip(),
            title=_label(entry, "title").strip(),
            author=_label(author, "name") if isinstance(author, Mapping) else "",
            language="tr" if country.lower() == "tr" else None,
            published_at=published if published.tzinfo else published.replace(tzinfo=UTC),
            payload={
                "app_id": app,
                "country": country,
                "rating": int(rating) if rating.isascii() and rating.isdigit() else None,
                "version": _label(entry, "im:version") or None,
            },
        )


def feed_entries(data: Any) -> list[Mapping[str, Any]]:
    """The feed's entries: a list, one object when there is one review, none when the key is missing."""
    feed = data.get("feed") if isinstance(data, Mapping) else None
    if not isinstance(feed, Mapping):
        raise SourceParseError("the answer has no feed object; not a customer-reviews feed")
    entry = feed.get("entry")
    if entry is None:
        return []
    rows = [entry] if isinstance(entry, Mapping) else entry
    if not isinstance(rows, list):
        raise SourceParseError(f"feed.entry is {type(entry).__name__}, not a list or an object")
    return [row if isinstance(row, Mapping) else {} for row in rows]  # a non-object entry is a bad item


def _label(node: Any, key: str) -> str:
    """``node[key]["label"]`` as a string, the feed's way of holding every value; "" when absent."""
    value = node.get(key) if isinstance(node, Mapping) else None
    label = value.get("label") if isinstance(value, Mapping) else None
    return str(label) if label is not None else ""
