"""The Şikayetvar spider, on its own so the child process run_spider starts imports the crawl and not the source."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import scrapy
from scrapy.http import Request, Response, TextResponse
from twisted.python.failure import Failure

from crawlers.base import PAGE_LIMIT, PARSE_FAILURES
from crawlers.scrapy_polite import failure_error, failure_reason
from crawlers.scrapy_run import abort_crawl, crawl_aborted
from crawlers.sikayetvar_markup import Card, Detail, parse_detail_page, parse_list_page
from crawlers.turkish_dates import ISTANBUL, parse_site_datetime
from store.errors import SourceParseError

log = logging.getLogger(__name__)

KIND = "sikayetvar"
BROKEN = "walk_broken"  # a list page could not be read to its end: keep the old state so the gap is read again
# DONT_FILTER: every request skips Scrapy's duplicate filter, which would drop a redirect back to a URL already
# asked for without a word (callback and errback never called: a silent 0, or a complaint lost). A redirect loop
# then ends at REDIRECT_MAX_TIMES in the errback; repeated cards are told apart by ``_keys`` instead.


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
            dont_filter=True,  # see DONT_FILTER
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
                dont_filter=True,  # see DONT_FILTER
            )
        if listing.truncated:
            log.warning("List page %s is cut short; kept %s cards", _bare(response.url), len(listing.cards))
            self.parse_failed("list_truncated", walk=True)
            return
        more = listing.has_next is not False and (listing.last_page is None or page < listing.last_page)
        if listing.cards and more and not reached_known:
            if page < self.max_pages:
                yield self._list_request(list_url, page + 1)
            else:
                self.count(PAGE_LIMIT)  # the list goes on past max_pages: the crawl stage says so

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


def _html(response: Response) -> str:
    """The page's text, decoded by its declared charset; "" for a body that is not text (an image, a PDF)."""
    return response.text if isinstance(response, TextResponse) else ""


def _bare(url: str) -> str:
    """A URL without its query string, for logs."""
    return url.split("?", 1)[0]
