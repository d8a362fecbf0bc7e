"""Şikayetvar complaints: a Scrapy spider for the brand lists and complaint pages, and the source that runs it."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import scrapy
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawlers.base import CrawlResult, register
from crawlers.scrapy_run import abort_crawl, crawl_aborted, run_spider
from crawlers.sikayetvar_markup import Card, Detail, parse_detail_page, parse_list_page
from crawlers.turkish_dates import ISTANBUL, parse_turkish_datetime
from store.errors import NotConfigured, SourceError
from store.model import Brand, CrawlState, RawMention

if TYPE_CHECKING:
    from config.settings import Settings

log = logging.getLogger(__name__)

SOURCE = "sikayetvar"
ACCEPT_LANGUAGE = "tr-TR"


class SikayetvarSpider(scrapy.Spider):
    """Read one brand's list newest first, stop at what the last crawl saw, open each new complaint."""

    name = SOURCE

    def __init__(
        self,
        base_url: str,
        brand_slug: str,
        max_pages: int = 3,
        last_seen_id: int | None = None,
        fetch_details: bool = True,
        now: str | None = None,
        list_delay: tuple[float, float] = (0.0, 0.0),
        page_delay: tuple[float, float] = (0.0, 0.0),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.brand_url = f"{base_url.rstrip('/')}/{brand_slug}"
        self.max_pages = max_pages
        self.last_seen_id = last_seen_id
        self.fetch_details = fetch_details
        self.now = datetime.fromisoformat(now) if now else datetime.now(ISTANBUL)
        self.list_delay = list_delay
        self.page_delay = page_delay
        self._ids: set[int] = set()

    async def start(self) -> Any:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[Request]:
        yield self._list_request(1)

    def count(self, reason: str, n: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"{SOURCE}/{reason}", n)

    def _list_request(self, page: int) -> Request:
        return Request(
            self.brand_url if page == 1 else f"{self.brand_url}?page={page}",
            callback=self.parse_list,
            errback=self.list_failed,
            cb_kwargs={"page": page},
            headers={"Referer": self.brand_url} if page > 1 else {},
            meta={"kulak_delay": self.list_delay},
        )

    def parse_list(self, response: Response, page: int) -> Iterator[Request | dict[str, Any]]:
        listing = parse_list_page(response.text, response.url)
        self.count("list_pages")
        self.count("video_skipped", listing.video_skipped)
        self.count("card_unparsed", listing.unparsed)
        reached_known = False
        for card in listing.cards:
            if card.id in self._ids:  # pushed down a page by a newer complaint while we were paging
                self.count("duplicate")
                continue
            self._ids.add(card.id)
            self.count("seen")
            if self.last_seen_id is not None and card.id <= self.last_seen_id:
                self.count("known")
                reached_known = True
                continue
            self.count("new")
            if self.fetch_details:
                yield Request(
                    card.url,
                    callback=self.parse_detail,
                    errback=self.detail_failed,
                    cb_kwargs={"card": card},
                    headers={"Referer": self.brand_url},
                    meta={"kulak_delay": self.page_delay},
                    priority=1,  # read a page's complaints before turning the page, as a person would
                )
            else:
                yield self.item(card, None)
        if not listing.cards:
            self.count("empty_page")
            if page == 1:  # a brand without complaints, or markup we no longer recognise
                log.warning("No complaint cards on %s; has the markup changed?", response.url)
            return
        last_page = self.max_pages if listing.last_page is None else min(self.max_pages, listing.last_page)
        if not reached_known and page < last_page:
            yield self._list_request(page + 1)

    def parse_detail(self, response: Response, card: Card) -> Iterator[dict[str, Any]]:
        detail = parse_detail_page(response.text)
        if not detail.body:
            self.count("detail_empty")
            yield self.item(card, None)
            return
        self.count("detail_pages")
        yield self.item(card, detail)

    def detail_failed(self, failure: Failure) -> Iterator[dict[str, Any]]:
        if crawl_aborted(self.crawler):  # blocked or rate limited: the whole crawl is off
            return
        card: Card = failure.request.cb_kwargs["card"]  # type: ignore[attr-defined]
        log.warning("Complaint page %s failed (%s); keeping the list preview", card.url, _reason(failure))
        self.count("detail_failed")
        yield self.item(card, None)

    def list_failed(self, failure: Failure) -> None:
        if not crawl_aborted(self.crawler):
            url = failure.request.url  # type: ignore[attr-defined]
            abort_crawl(self.crawler, SourceError(f"list page {url} failed: {_reason(failure)}"))

    def item(self, card: Card, detail: Detail | None) -> dict[str, Any]:
        published = parse_turkish_datetime(card.date_text, self.now) if card.date_text else None
        if published is None:
            self.count("date_unparsed")
        return {
            "external_id": str(card.id),
            "url": card.url,
            "title": (detail.title if detail and detail.title else card.title),
            "text": detail.body if detail else card.preview,
            "full_text": detail is not None,
            "author": card.author,
            "published_at": published.isoformat() if published else None,
            "date_text": card.date_text,
            "views": card.views,
            "upvotes": card.upvotes,
            "tags": list(card.tags),
            "resolved": detail.resolved if detail else card.resolved,
            "rating": detail.rating if detail else None,
            "brand_reply": detail.reply if detail else None,
            "generation": card.generation,
        }


@register
class SikayetvarSource:
    """Şikayetvar for one brand at a time, through :class:`SikayetvarSpider` in a child process."""

    name: ClassVar[str] = SOURCE

    def __init__(
        self,
        base_url: str = "https://www.sikayetvar.com",
        *,
        max_pages: int = 3,
        list_delay: tuple[float, float] = (2.0, 3.5),
        page_delay: tuple[float, float] = (1.2, 2.2),
        backoff: tuple[float, float] = (45.0, 75.0),
        fetch_details: bool = True,
        timeout: float = 30.0,
        user_agent: str = "Mozilla/5.0 (compatible; Kulak/0.1; social-care listener)",
        crawl_timeout: float | None = None,
        now: Callable[[], datetime] | None = None,
        log_level: str = "WARNING",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_pages = max_pages
        self.list_delay = list_delay
        self.page_delay = page_delay
        self.backoff = backoff
        self.fetch_details = fetch_details
        self.timeout = timeout
        self.user_agent = user_agent
        # Worst case: every page full of new complaints, each waited for, plus two backoffs per kind.
        self.crawl_timeout = crawl_timeout or 120.0 + max_pages * (list_delay[1] + 25 * page_delay[1]) + 4 * backoff[1]
        self.now = now or (lambda: datetime.now(ISTANBUL))
        self.log_level = log_level

    @classmethod
    def from_settings(cls, settings: Settings) -> SikayetvarSource:
        conf = settings.sources.sikayetvar
        if not conf.enabled:
            raise NotConfigured("Şikayetvar is off: sources.sikayetvar.enabled is false")
        return cls(
            conf.base_url,
            max_pages=conf.max_pages,
            list_delay=conf.list_delay,
            page_delay=conf.page_delay,
            backoff=conf.backoff,
            fetch_details=conf.fetch_details,
            timeout=conf.timeout,
            user_agent=conf.user_agent,
        )

    def scrapy_settings(self) -> dict[str, Any]:
        return {
            "USER_AGENT": self.user_agent,
            "DEFAULT_REQUEST_HEADERS": {
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                "Accept-Language": ACCEPT_LANGUAGE,
            },
            "CONCURRENT_REQUESTS": 1,  # one request at a time, so the waits in between mean something
            "DOWNLOAD_DELAY": 0,  # PoliteDownloaderMiddleware draws the waits
            "DOWNLOAD_TIMEOUT": self.timeout,
            "KULAK_BACKOFF": list(self.backoff),
            "KULAK_BACKOFF_TRIES": 2,
            "LOG_LEVEL": self.log_level,
        }

    def collect(self, brand: Brand, state: CrawlState | None) -> CrawlResult:
        slug = brand.source_key(SOURCE)
        if not slug:
            raise NotConfigured(f"brand {brand.name!r} names no sikayetvar slug (sources.sikayetvar)")
        state = state or CrawlState(source=SOURCE, brand=brand.name)
        last_seen = int(state.last_seen_id) if state.last_seen_id and state.last_seen_id.isdigit() else None
        now = self.now()
        run = run_spider(
            SikayetvarSpider,
            kwargs={
                "base_url": self.base_url,
                "brand_slug": slug,
                "max_pages": self.max_pages,
                "last_seen_id": last_seen,
                "fetch_details": self.fetch_details,
                "now": now.isoformat(),
                "list_delay": self.list_delay,
                "page_delay": self.page_delay,
            },
            settings=self.scrapy_settings(),
            timeout=self.crawl_timeout,
        ).raise_for_error()
        mentions = sorted((to_mention(item, brand, now) for item in run.items), key=_id_of, reverse=True)
        stats = Counter(run.counts(SOURCE))
        stats["backoff"] += int(run.stats.get("kulak/backoff", 0))
        newest = mentions[0] if mentions else None
        if newest is not None and (last_seen is None or _id_of(newest) > last_seen):
            state = replace(state, last_seen_id=newest.external_id, last_seen_at=newest.published_at)
        log.info("Şikayetvar %s: %s new of %s seen in %.1f s", slug, len(mentions), stats["seen"], run.seconds)
        return CrawlResult(mentions=mentions, state=replace(state, updated_at=now), stats=+stats)


def to_mention(item: dict[str, Any], brand: Brand, fetched_at: datetime) -> RawMention:
    """A scraped complaint (the spider's item) as the store's RawMention."""
    published = item.get("published_at")
    return RawMention(
        source=SOURCE,
        external_id=str(item["external_id"]),
        url=item["url"],
        text=item["text"],
        fetched_at=fetched_at,
        title=item["title"],
        brand=brand.name,
        author=item["author"],
        author_handle=item["author"],
        language="tr",
        published_at=datetime.fromisoformat(published).astimezone(ISTANBUL) if published else None,
        payload={
            key: item.get(key)
            for key in ("views", "upvotes", "tags", "resolved", "rating", "brand_reply", "full_text", "generation")
        },
    )


def _id_of(mention: RawMention) -> int:
    return int(mention.external_id)


def _reason(failure: Failure) -> str:
    response = getattr(failure.value, "response", None)  # HttpError carries the response
    return f"HTTP {response.status}" if response is not None else repr(failure.value)
