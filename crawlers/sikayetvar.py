"""Şikayetvar complaints: a Scrapy spider for brand and sub-topic lists and complaint pages, and its source."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import scrapy
from scrapy.http import Request, Response, TextResponse
from twisted.python.failure import Failure

from config.settings import doc
from crawlers.base import FETCHED, PARSE_FAILURES, REQUESTS, BaseSource, CrawlResult, cursor_of, register, with_cursor
from crawlers.scrapy_run import abort_crawl, crawl_aborted, failure_error, failure_reason, polite_settings, run_spider
from crawlers.sikayetvar_markup import Card, Detail, parse_detail_page, parse_list_page, slug_of
from crawlers.turkish_dates import ISTANBUL, fold, parse_site_datetime
from store.errors import SourceParseError
from store.model import Brand, CrawlState, RawMention

if TYPE_CHECKING:
    from crawlers.base import SourceConfig

log = logging.getLogger(__name__)

KIND = "sikayetvar"
ACCEPT_LANGUAGE = "tr-TR"
SEEN_LIMIT = 300  # title slugs kept per brand: more than a crawl reads, so generation C's stop always finds one
BROKEN = "walk_broken"  # a list page could not be read to its end: keep the old state so the gap is read again


def site_slug(name: str) -> str:
    """A name as the site's URL slug: Turkish letters to ASCII, lowercase, words joined by dashes."""
    text = unicodedata.normalize("NFKD", fold(name)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


class SikayetvarSpider(scrapy.Spider):
    """Read a brand's list (and its sub-topic lists) newest first, stop at what was seen, open each new complaint."""

    name = KIND

    def __init__(
        self,
        lists: tuple[str, ...],
        max_pages: int = 3,
        last_seen_id: int | None = None,
        seen: tuple[str, ...] = (),
        fetch_details: bool = True,
        now: str | None = None,
        list_delay: tuple[float, float] = (0.0, 0.0),
        page_delay: tuple[float, float] = (0.0, 0.0),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lists = lists  # the brand's list URL, then its sub-topic lists
        self.max_pages = max_pages
        self.last_seen_id = last_seen_id
        self.seen = frozenset(seen)
        self.fetch_details = fetch_details
        self.now = datetime.fromisoformat(now) if now else datetime.now(ISTANBUL)
        self.list_delay = list_delay
        self.page_delay = page_delay
        self._keys: set[str] = set()

    async def start(self) -> AsyncIterator[Request]:
        for list_url in self.lists:
            yield self._list_request(list_url, 1)

    def count(self, reason: str, n: int = 1) -> None:
        assert self.crawler.stats is not None
        if n:
            self.crawler.stats.inc_value(f"{KIND}/{reason}", n)

    def parse_failed(self, reason: str, n: int = 1, *, walk: bool = False) -> None:
        """What nobody could read, by reason and in the total; ``walk``: a list page, so the walk is not whole."""
        self.count(reason, n)
        self.count(PARSE_FAILURES, n)
        self.count(BROKEN, int(walk))

    def _list_request(self, list_url: str, page: int) -> Request:
        return Request(
            list_url if page == 1 else f"{list_url}?page={page}",
            callback=self.parse_list,
            errback=self.list_failed,
            cb_kwargs={"list_url": list_url, "page": page},
            headers={"Referer": list_url} if page > 1 else {},
            meta={"kulak_delay": self.list_delay},
        )

    def is_known(self, card: Card) -> bool:
        older = card.id is not None and self.last_seen_id is not None and card.id <= self.last_seen_id
        return older or card.slug in self.seen

    def parse_list(self, response: Response, list_url: str, page: int) -> Iterator[Request | dict[str, Any]]:
        listing = parse_list_page(_html(response), response.url)
        self.count("list_pages")
        self.count("video_skipped", listing.video_skipped)
        self.parse_failed("card_unparsed", listing.unparsed)
        if not listing.understood:
            log.warning("No parser knows list page %s (no cards, no empty-list marker)", _bare(response.url))
            self.parse_failed("list_unparsed", walk=True)
            return
        reached_known = False
        for card in listing.cards:
            if card.key in self._keys:  # pushed down a page by a newer complaint, or listed under a topic too
                self.count("duplicate")
                continue
            self._keys.add(card.key)
            self.count("seen")
            if self.is_known(card):
                self.count("known")
                reached_known = True
                continue
            self.count("new")
            if not self.fetch_details:
                yield self.item(card, None)
                continue
            yield Request(
                card.url,
                callback=self.parse_detail,
                errback=self.detail_failed,
                cb_kwargs={"card": card},
                headers={"Referer": list_url},
                meta={"kulak_delay": self.page_delay},
                priority=1,  # read a page's complaints before turning the page, as a person would
            )
        if listing.truncated:
            log.warning("List page %s is cut short; kept %s cards", _bare(response.url), len(listing.cards))
            self.parse_failed("list_truncated", walk=True)
            return
        more = listing.has_next is not False and (listing.last_page is None or page < listing.last_page)
        if listing.cards and more and not reached_known and page < self.max_pages:
            yield self._list_request(list_url, page + 1)

    def parse_detail(self, response: Response, card: Card) -> Iterator[dict[str, Any]]:
        detail = parse_detail_page(_html(response))
        if not detail.body:
            log.warning("No parser knows complaint page %s; keeping the list preview", _bare(response.url))
            self.parse_failed("detail_empty")
            yield self.item(card, None)
            return
        self.count("detail_pages")
        yield self.item(card, detail)

    def detail_failed(self, failure: Failure) -> Iterator[dict[str, Any]]:
        if crawl_aborted(self.crawler):  # blocked or rate limited: the whole crawl is off
            return
        card: Card = failure.request.cb_kwargs["card"]  # type: ignore[attr-defined]
        log.warning("Complaint page %s failed (%s); keeping the list preview", card.url, failure_reason(failure))
        too_large = isinstance(failure_error(failure, card.url), SourceParseError)
        self.count("detail_failed")
        self.count(PARSE_FAILURES, int(too_large))
        yield self.item(card, None)

    def list_failed(self, failure: Failure) -> None:
        if crawl_aborted(self.crawler):
            return
        error = failure_error(failure, f"list page {_bare(failure.request.url)}")  # type: ignore[attr-defined]
        if isinstance(error, SourceParseError):  # too large to read: counted, the rest of the walk goes on
            log.warning("%s", error)
            self.parse_failed("list_too_large", walk=True)
            return
        abort_crawl(self.crawler, error)

    def item(self, card: Card, detail: Detail | None) -> dict[str, Any]:
        date_text = card.date_text or (detail.date_text if detail else "")
        published = parse_site_datetime(date_text, self.now) if date_text else None
        if published is None:
            self.count("date_unparsed")
        return {  # RawMention's fields, as plain values that cross the process boundary
            "external_id": card.key,
            "url": card.url,
            "title": detail.title if detail and detail.title else card.title,
            "text": detail.body if detail else card.preview,
            "author": card.author,
            "published_at": published.isoformat() if published else None,
            "payload": {
                "views": card.views,
                "upvotes": card.upvotes,
                "tags": list(card.tags),
                "resolved": (detail.resolved or card.resolved) if detail else card.resolved,
                "rating": detail.rating if detail else None,
                "brand_reply": detail.reply if detail else None,
                "full_text": detail is not None,
                "generation": card.generation,
            },
        }


@register
class SikayetvarSource(BaseSource):
    """Şikayetvar complaints: brand and sub-topic lists, then each new complaint's page, read with Scrapy."""

    kind: ClassVar[str] = KIND
    default_base_url: ClassVar[str] = "https://www.sikayetvar.com"

    @dataclass(frozen=True)
    class Options:
        slugs: dict[str, str] = doc(
            "Brand name -> its page's slug (/{slug}); unlisted brands: the name slugified as the site does.",
            factory=dict,
            per_brand=True,
        )
        topics: dict[str, tuple[str, ...]] = doc(
            "Brand name -> sub-topic slugs whose lists (/{slug}/{topic}) are read too.", factory=dict, per_brand=True
        )
        list_delay: tuple[float, float] = doc("Seconds before each list page, [min, max].", default=(2.0, 3.5))
        page_delay: tuple[float, float] = doc("Seconds before each complaint page, [min, max].", default=(1.2, 2.2))
        backoff: tuple[float, float] = doc("Seconds to wait after a 429 without Retry-After.", default=(45.0, 75.0))
        fetch_details: bool = doc("Open each new complaint for its full text and reply (else previews).", default=True)

    def __init__(
        self,
        config: SourceConfig,
        options: SikayetvarSource.Options | None = None,
        *,
        now: Callable[[], datetime] | None = None,
        crawl_timeout: float | None = None,
        log_level: str = "WARNING",
    ) -> None:
        super().__init__(config, options)
        self.options: SikayetvarSource.Options
        self.now = now or (lambda: datetime.now(ISTANBUL))
        self.crawl_timeout = crawl_timeout
        self.log_level = log_level

    def slug_of(self, brand: Brand) -> str:
        return self.options.slugs.get(brand.name) or site_slug(brand.name)

    def timeout_for(self, lists: int) -> float:
        """Worst case: every page of every list full of new complaints, each waited for, plus the backoffs."""
        o, c = self.options, self.config
        pages = lists * c.max_pages * (o.list_delay[1] + 25 * o.page_delay[1])
        return self.crawl_timeout or 120.0 + pages + 4 * o.backoff[1] + 2 * c.max_wait

    def scrapy_settings(self) -> dict[str, Any]:
        return {
            **polite_settings(self.config, log_level=self.log_level),
            "DEFAULT_REQUEST_HEADERS": {
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                "Accept-Language": ACCEPT_LANGUAGE,
            },
            "KULAK_BACKOFF": list(self.options.backoff),
            "KULAK_BACKOFF_TRIES": 2,
        }

    def collect(self, brand: Brand, state: CrawlState | None) -> CrawlResult:
        state = self.state_for(brand, state)
        slug = self.slug_of(brand)
        brand_url = self.config.url(slug)
        lists = (brand_url, *(f"{brand_url}/{t.strip('/')}" for t in self.options.topics.get(brand.name, ())))
        seen = [str(s) for s in cursor_of(state).get("seen") or []]
        last_seen = int(state.last_seen_id) if state.last_seen_id and state.last_seen_id.isdigit() else None
        now = self.now()
        run = run_spider(
            SikayetvarSpider,
            kwargs={
                "lists": lists,
                "max_pages": self.config.max_pages,
                "last_seen_id": last_seen,
                "seen": tuple(seen),
                "fetch_details": self.options.fetch_details,
                "now": now.isoformat(),
                "list_delay": self.options.list_delay,
                "page_delay": self.options.page_delay,
            },
            settings=self.scrapy_settings(),
            timeout=self.timeout_for(len(lists)),
        ).raise_for_error()
        mentions = sorted((self.to_mention(item, brand, now) for item in run.items), key=_recency, reverse=True)
        stats = Counter(run.counts(KIND))
        stats[REQUESTS] = int(run.stats.get("downloader/request_count", 0))
        stats[FETCHED] = len(mentions)
        stats["backoff"] += int(run.stats.get("kulak/backoff", 0))
        stats["retries"] += int(run.stats.get("kulak/retries", 0))
        log.info("Şikayetvar %s: %s new of %s seen in %.1f s", slug, len(mentions), stats["seen"], run.seconds)
        if stats[BROKEN]:  # what was read is kept, the state is not: the next crawl reads the gap again
            return CrawlResult(mentions=mentions, state=state, stats=+stats)
        return CrawlResult(mentions=mentions, state=advance(state, mentions, last_seen, seen, now), stats=+stats)

    def to_mention(self, item: dict[str, Any], brand: Brand, fetched_at: datetime) -> RawMention:
        """A scraped complaint (the spider's item) as the store's RawMention."""
        when = item["published_at"]
        published = datetime.fromisoformat(when).astimezone(ISTANBUL) if when else None
        fields = {**item, "published_at": published, "payload": {**item["payload"], "source_name": self.name}}
        return RawMention(
            KIND, fetched_at=fetched_at, brand=brand.name, author_handle=item["author"], language="tr", **fields
        )


def advance(
    state: CrawlState, mentions: list[RawMention], last_seen: int | None, seen: list[str], now: datetime
) -> CrawlState:
    """The state after a complete walk: the highest numeric id, and the newest title slugs (generation C)."""
    ids = [(int(m.external_id), m) for m in mentions if m.external_id.isdigit()]
    newest_id = max(ids, key=lambda pair: pair[0], default=None)
    if newest_id is not None and (last_seen is None or newest_id[0] > last_seen):
        state = replace(state, last_seen_id=str(newest_id[0]), last_seen_at=newest_id[1].published_at)
    elif not ids and mentions and (newest := mentions[0].published_at) is not None:
        state = replace(state, last_seen_at=max(newest, state.last_seen_at or newest))
    recent = list(dict.fromkeys([slug_of(m.url) for m in mentions] + seen))[:SEEN_LIMIT]
    if recent:
        state = with_cursor(state, {**cursor_of(state), "seen": recent})
    return replace(state, updated_at=now)


def _recency(mention: RawMention) -> tuple[datetime, int]:
    published = mention.published_at or datetime.min.replace(tzinfo=ISTANBUL)
    return published, int(mention.external_id) if mention.external_id.isdigit() else 0


def _html(response: Response) -> str:
    """The page's text, decoded by its declared charset; "" for a body that is not text (an image, a PDF)."""
    return response.text if isinstance(response, TextResponse) else ""


def _bare(url: str) -> str:
    """A URL without its query string, for logs."""
    return url.split("?", 1)[0]
