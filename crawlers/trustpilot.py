"""Trustpilot reviews of a brand's domain: a Scrapy spider reads the JSON each review page embeds, newest first."""

from __future__ import annotations

import html
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import scrapy
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from config.settings import doc
from crawlers.base import (
    FAILED,
    FETCHED,
    PARSE_FAILURES,
    REQUESTS,
    BaseSource,
    CrawlResult,
    SourceConfig,
    cursor_of,
    register,
    with_cursor,
)
from crawlers.scrapy_polite import failure_error, polite_settings
from crawlers.scrapy_run import abort_crawl, crawl_aborted, run_spider
from store.errors import NotConfigured, SourceBlocked, SourceParseError, SourceRateLimited
from store.model import Brand, CrawlState, RawMention

log = logging.getLogger(__name__)

SOURCE = "trustpilot"
WALK = f"{SOURCE}/walk"  # "complete" when the spider reached known reviews or the last page, else "partial"
SEEN_LIMIT = 200  # review ids are not ordered, so the newest ones seen are remembered instead of one id
_NEXT_DATA = re.compile(r"<script\b[^>]*\bid=[\"']__NEXT_DATA__[\"'][^>]*>(.*?)</script\s*>", re.S | re.I)


@dataclass(frozen=True)
class Review:
    """One review as the page's embedded JSON has it (text unescaped, whitespace normalised)."""

    id: str
    title: str
    text: str
    rating: int | None
    language: str | None
    published: str  # ISO-8601 with its offset, as the page gives it
    author: str
    country: str | None
    reply: str | None


@dataclass(frozen=True)
class ReviewPage:
    reviews: list[Review]
    skipped: int  # reviews missing a required field
    total_pages: int | None


def parse_review_page(markup: str) -> ReviewPage:
    """The reviews on one ``/review/{domain}`` page; SourceParseError when the embedded JSON is not there."""
    found = _NEXT_DATA.search(markup)
    if found is None:
        raise SourceParseError("no __NEXT_DATA__ script on the page; has the markup changed?")
    try:
        data = json.loads(found.group(1))
        props = data["props"]["pageProps"]
        rows = props["reviews"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # RecursionError: [[[[... 100,000 deep
        raise SourceParseError(f"__NEXT_DATA__ is not the review JSON we know: {exc!r}"[:200]) from exc
    if not isinstance(rows, list):
        raise SourceParseError("__NEXT_DATA__ props.pageProps.reviews is not a list")
    reviews = [r for r in (parse_review(row) for row in rows) if r is not None]
    total = _table(_table(props, "filters"), "pagination").get("totalPages")
    return ReviewPage(reviews, len(rows) - len(reviews), total if isinstance(total, int) else None)


def parse_review(row: Any) -> Review | None:
    """One review, or None when it lacks an id, a text or a readable publication date."""
    if not isinstance(row, Mapping):
        return None
    published = _iso(_table(row, "dates").get("publishedDate"))
    text = clean(row.get("text"))
    if not isinstance(row.get("id"), (str, int)) or not str(row["id"]).strip() or not text or published is None:
        return None
    consumer = _table(row, "consumer")
    rating = row.get("rating")
    return Review(
        id=str(row["id"]).strip(),
        title=clean(row.get("title")),
        text=text,
        rating=rating if isinstance(rating, int) else None,
        language=str(row["language"]) if row.get("language") else None,
        published=published,
        author=clean(consumer.get("displayName")),
        country=str(consumer["countryCode"]) if consumer.get("countryCode") else None,
        reply=clean(_table(row, "reply").get("message")) or None,
    )


def clean(value: Any) -> str:
    """Review text as people read it: entities unescaped, runs of whitespace (newlines too) made one space."""
    return " ".join(html.unescape(value).split()) if isinstance(value, str) else ""


def _table(row: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = row.get(key)
    return value if isinstance(value, Mapping) else {}


def _iso(value: Any) -> str | None:
    try:
        when = datetime.fromisoformat(str(value))
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        when.astimezone(UTC)  # year 1 at +01:00 cannot be compared or stored: OverflowError
    except (ValueError, OverflowError):
        return None
    return when.isoformat()


class TrustpilotSpider(scrapy.Spider):
    """Page through one domain's reviews by recency until a review seen before, the last page or max_pages."""

    name = SOURCE

    def __init__(
        self,
        base_url: str,
        domain: str,
        max_pages: int = 3,
        seen: tuple[str, ...] = (),
        last_seen_at: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.reviews_url = f"{base_url.rstrip('/')}/review/{quote(domain)}"
        self.max_pages = max_pages
        self.seen = set(seen)
        self.last_seen_at = datetime.fromisoformat(last_seen_at) if last_seen_at else None
        self._ids: set[str] = set()

    async def start(self) -> Any:
        yield self._page(1)

    def count(self, reason: str, n: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"{SOURCE}/{reason}", n)

    def walk(self, outcome: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(WALK, outcome)

    def _page(self, page: int) -> Request:
        url = f"{self.reviews_url}?page={page}&sort=recency"
        return Request(url, callback=self.parse_page, errback=self.page_failed, cb_kwargs={"page": page})

    def parse_page(self, response: Response, page: int) -> Iterator[Request | dict[str, Any]]:
        self.count("pages")
        try:
            listing = parse_review_page(response.text)
        except SourceParseError as exc:
            log.warning("Trustpilot page %s unreadable: %s", response.url.split("?", 1)[0], exc)
            self.count(PARSE_FAILURES)
            self.walk("partial")
            return
        self.count(FETCHED, len(listing.reviews) + listing.skipped)
        self.count(PARSE_FAILURES, listing.skipped)
        for review in listing.reviews:
            if review.id in self.seen or (
                self.last_seen_at is not None and datetime.fromisoformat(review.published) < self.last_seen_at
            ):
                self.count("known")
                self.walk("complete")  # newest first: everything after this was read last time
                return
            if review.id in self._ids:  # pushed down a page by a newer review while we were paging
                self.count("duplicate")
                continue
            self._ids.add(review.id)
            yield asdict(review)
        last = self.max_pages if listing.total_pages is None else min(self.max_pages, listing.total_pages)
        if not listing.reviews or page >= last:
            self.walk("complete")
            return
        yield self._page(page + 1)

    def page_failed(self, failure: Failure) -> None:
        if crawl_aborted(self.crawler):
            return
        page: int = failure.request.cb_kwargs["page"]  # type: ignore[attr-defined]
        error = failure_error(failure, f"Trustpilot review page {page}")
        if isinstance(error, SourceParseError):
            self.count(PARSE_FAILURES)
            self.walk("partial")
        elif page > 1 and getattr(getattr(failure.value, "response", None), "status", None) == 404:  # past the end
            self.walk("complete")
        elif page == 1 or isinstance(error, (SourceBlocked, SourceRateLimited)):
            abort_crawl(self.crawler, error)
        else:
            log.warning("%s; keeping the reviews already read", error)
            self.count(FAILED)
            self.walk("partial")


@register
class TrustpilotSource(BaseSource):
    """Trustpilot reviews of the brand's domain, from the page's embedded JSON, read with Scrapy."""

    kind: ClassVar[str] = SOURCE
    default_base_url: ClassVar[str] = "https://www.trustpilot.com"

    @dataclass(frozen=True)
    class Options:
        domains: dict[str, str] = doc(
            'Review domain of each brand on Trustpilot, by brand name (e.g. "kuzeytelekom.com.tr").',
            factory=dict,
            per_brand=True,
        )
        languages: tuple[str, ...] = doc('Review languages to keep, like ["tr"]; empty keeps all.', factory=tuple)

    def __init__(
        self,
        config: SourceConfig,
        options: TrustpilotSource.Options | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        crawl_timeout: float | None = None,
    ) -> None:
        super().__init__(config, options)
        self.options: TrustpilotSource.Options
        self._now = now
        # Worst case: every page retried to the end and two long 429 waits; the child is killed past it.
        page = (config.delay[1] + config.timeout + config.backoff * 2**config.retries) * (config.retries + 1)
        self.crawl_timeout = crawl_timeout or 60.0 + config.max_pages * page + 2 * config.max_wait

    def has_key_for(self, brand: Brand) -> bool:
        return bool(self.options.domains.get(brand.name))

    def collect(self, brand: Brand, state: CrawlState | None) -> CrawlResult:
        domain = self.options.domains.get(brand.name)
        if not domain:
            raise NotConfigured(f"source {self.name!r} has no Trustpilot domain for {brand.name!r} (domains)")
        state = self.state_for(brand, state)
        seen = [str(x) for x in cursor_of(state).get("seen") or []]
        run = run_spider(
            TrustpilotSpider,
            kwargs={
                "base_url": self.config.base_url,
                "domain": domain,
                "max_pages": self.config.max_pages,
                "seen": tuple(seen),
                "last_seen_at": state.last_seen_at.isoformat() if state.last_seen_at else None,
            },
            settings={
                **polite_settings(self.config),
                "DEFAULT_REQUEST_HEADERS": {"Accept": "text/html,*/*;q=0.8", "Accept-Language": "tr-TR,tr;q=0.9"},
            },
            timeout=self.crawl_timeout,
            log_ids={"source": self.name, "brand": brand.name},
        ).raise_for_error()
        stats: Counter[str] = Counter(run.counts(SOURCE))
        stats[REQUESTS] = int(run.stats.get("downloader/request_count", 0))
        reviews = [Review(**item) for item in run.items]
        wanted = [r for r in reviews if not self.options.languages or r.language in self.options.languages]
        stats["other_language"] += len(reviews) - len(wanted)  # still remembered as seen below
        mentions = [self._mention(brand, r, domain) for r in wanted]
        mentions.sort(key=lambda m: m.published_at or datetime.min.replace(tzinfo=UTC), reverse=True)
        if run.stats.get(WALK) != "complete":  # read the gap again next time; the store drops duplicates
            return CrawlResult(mentions, state, +stats)
        fresh = [r.id for r in reviews]
        new_state = with_cursor(state, {"seen": list(dict.fromkeys(fresh + seen))[:SEEN_LIMIT]})
        if reviews:
            newest = max(reviews, key=lambda r: datetime.fromisoformat(r.published))
            newest_at = datetime.fromisoformat(newest.published)
            if state.last_seen_at is None or newest_at > state.last_seen_at:
                new_state = replace(new_state, last_seen_id=newest.id, last_seen_at=newest_at)
        return CrawlResult(mentions, replace(new_state, updated_at=self._now()), +stats)

    def _mention(self, brand: Brand, review: Review, domain: str) -> RawMention:
        facts = {"rating": review.rating, "country": review.country, "reply": review.reply}
        payload = {"source_name": self.name, "domain": domain, **{k: v for k, v in facts.items() if v is not None}}
        return RawMention(
            source=self.kind,
            external_id=review.id,
            url=self.config.url(f"/reviews/{quote(review.id)}"),
            text=review.text,
            fetched_at=self._now(),
            title=review.title,
            brand=brand.name,
            author=review.author,
            language=review.language,
            published_at=datetime.fromisoformat(review.published),
            payload=payload,
        )
