"""News and blogs: the brand's Google News search feed and any RSS/Atom feeds, read with conditional GETs."""

from __future__ import annotations

import logging
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from config.settings import doc
from crawlers.api import ApiSource, SeenIds
from crawlers.base import FETCHED, NOT_MODIFIED, PARSE_FAILURES, CrawlResult, cursor_of, register, with_cursor
from crawlers.feeds import Feed, FeedItem, mark_newest, parse_feed
from crawlers.http import PoliteClient, check_status
from crawlers.queries import boolean_query, terms
from crawlers.turkish_dates import fold
from store.errors import SourceError, SourceParseError
from store.model import Brand, CrawlState, RawMention

log = logging.getLogger(__name__)

SEEN_LIMIT = 500  # ids remembered per brand: more than any feed holds, so a feed never looks all-new again
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
GOOGLE_NEWS = "google-news"


def mention_key(text: str) -> str:
    """Text folded the Turkish way (I/ı/İ/i alike, ç ğ ö ş ü to ASCII) for "does it name the brand" checks."""
    return fold(unicodedata.normalize("NFC", text))


@register
class RssSource(ApiSource):
    """News and blogs: any RSS/Atom feed, and a Google News search feed built from the brand.

    Reads each feed once per crawl; a feed that has not changed costs one 304, items seen before are skipped."""

    kind: ClassVar[str] = "rss"
    default_base_url: ClassVar[str] = "https://news.google.com"

    @dataclass(frozen=True)
    class Options:
        feeds: dict[str, tuple[str, ...]] = doc(
            "Feed URLs (RSS 2.0 or Atom) read for each brand, by brand name.", factory=dict, per_brand=True
        )
        google_news: bool = doc("Also read the Google News search feed for the brand's query.", default=True)
        hl: str = doc("Google News interface language (hl=).", default="tr")
        gl: str = doc("Google News country (gl=).", default="TR")
        ceid: str = doc("Google News edition (ceid=).", default="TR:tr")
        require_mention: bool = doc(
            "Keep only items whose title or description names the brand (others are counted off_topic).",
            default=False,
        )

    options: Options

    def feed_urls(self, brand: Brand) -> list[str]:
        """The feeds read for ``brand``: the configured ones, then Google News (each once)."""
        urls = list(self.options.feeds.get(brand.name, ()))
        if self.options.google_news:
            params = {
                "q": boolean_query(brand),
                "hl": self.options.hl,
                "gl": self.options.gl,
                "ceid": self.options.ceid,
            }
            urls.append(f"{self.config.url('/rss/search')}?{urlencode(params, quote_via=quote)}")
        return list(dict.fromkeys(urls))

    def has_key_for(self, brand: Brand) -> bool:
        return bool(self.feed_urls(brand))

    def collect(self, brand: Brand, state: CrawlState | None) -> CrawlResult:
        state = self.state_for(brand, state)
        cursor = cursor_of(state)
        urls = self.feed_urls(brand)
        stored = cursor.get("validators")
        validators = {str(k): v for k, v in stored.items() if isinstance(v, dict)} if isinstance(stored, dict) else {}
        if len(urls) == 1 and urls[0] not in validators and (state.etag or state.last_modified):
            validators[urls[0]] = {"etag": state.etag or "", "last_modified": state.last_modified or ""}
        seen = SeenIds(cursor, "seen", SEEN_LIMIT)
        stats: Counter[str] = Counter()
        mentions: list[RawMention] = []
        failures = self.failures(stats)
        with self.open_client(stats) as client:
            for url in urls:
                try:
                    feed = self._fetch(client, url, validators, stats)
                except SourceParseError as exc:
                    ids = {"source": self.name, "brand": brand.name}
                    log.warning("feed %s unreadable: %s", _show(url), exc, extra=ids)
                    stats[PARSE_FAILURES] += 1
                    validators.pop(url, None)  # read it whole next time
                    continue
                except SourceError as exc:
                    failures.add(exc, f"feed {_show(url)}")
                    continue
                if feed is None:
                    continue
                for item in feed.items:
                    if item.id in seen:
                        stats["known"] += 1
                        continue
                    seen.add(item.id)
                    if self.options.require_mention and not self._names(brand, item):
                        stats["off_topic"] += 1
                        continue
                    mentions.append(self._mention(brand, item, feed, url))
        failures.raise_if_all(len(urls))
        new_state = with_cursor(state, {**seen.kept(), "validators": validators})
        # One feed: its validators also sit in the state's own columns, where the tools show them.
        only = validators.get(urls[0], {}) if len(urls) == 1 else {}
        new_state = replace(new_state, etag=only.get("etag") or None, last_modified=only.get("last_modified") or None)
        return self.result(mentions, mark_newest(new_state, mentions), stats)

    def _fetch(
        self, client: PoliteClient, url: str, validators: dict[str, dict[str, str]], stats: Counter[str]
    ) -> Feed | None:
        """One feed, conditionally; None when it answered 304. Validators are updated in place."""
        headers = {"Accept": ACCEPT}
        known = validators.get(url, {})
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        response = client.get(url, headers=headers)
        if response.status_code == 304:
            stats[NOT_MODIFIED] += 1
            return None
        check_status(response, f"feed {_show(url)}")
        feed = parse_feed(response.content, response.charset_encoding)
        stats[FETCHED] += len(feed.items) + feed.skipped
        if feed.skipped:
            stats[PARSE_FAILURES] += feed.skipped
        fresh = {"etag": response.headers.get("etag", ""), "last_modified": response.headers.get("last-modified", "")}
        if any(fresh.values()):
            validators[url] = fresh
        else:
            validators.pop(url, None)
        return feed

    @staticmethod
    def _names(brand: Brand, item: FeedItem) -> bool:
        haystack = mention_key(f"{item.title}\n{item.text}")
        needles = (mention_key(term.lstrip("@#")) for term in terms(brand))
        return any(needle and needle in haystack for needle in needles)

    def _mention(self, brand: Brand, item: FeedItem, feed: Feed, url: str) -> RawMention:
        payload: dict[str, Any] = {"feed": _feed_name(url, self.config.url("/rss/search"))}
        if item.publisher:
            payload["publisher"] = item.publisher
        if item.publisher_url:
            payload["publisher_url"] = item.publisher_url
        return self.mention(
            brand,
            item.id,
            item.link,
            item.text,
            title=item.title,
            author=item.author or item.publisher,
            language=feed.language,
            published_at=item.published,
            payload=payload,
        )


def _feed_name(url: str, search_url: str) -> str:
    """How the payload names a feed: ``google-news`` for the search feed, else its URL without the query."""
    return GOOGLE_NEWS if url.startswith(search_url + "?") else _show(url)


def _show(url: str) -> str:
    return url.split("?", 1)[0]
