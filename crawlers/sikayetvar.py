"""Şikayetvar complaints as a source: which lists to read, the spider's run, and its items as mentions."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from config.settings import doc
from crawlers.base import FETCHED, REQUESTS, BaseSource, CrawlResult, cursor_of, register, with_cursor
from crawlers.scrapy_polite import polite_settings
from crawlers.scrapy_run import run_spider
from crawlers.sikayetvar_markup import slug_of
from crawlers.sikayetvar_spider import BROKEN, KIND, SikayetvarSpider
from crawlers.turkish_dates import ISTANBUL, fold
from store.model import Brand, CrawlState, RawMention

if TYPE_CHECKING:
    from crawlers.base import SourceConfig

__all__ = ["SikayetvarSource", "SikayetvarSpider", "advance", "site_slug"]  # the spider too: callers know this module

log = logging.getLogger(__name__)

ACCEPT_LANGUAGE = "tr-TR"
SEEN_LIMIT = 300  # title slugs kept per brand: more than a crawl reads, so generation C's stop always finds one


def site_slug(name: str) -> str:
    """A name as the site's URL slug: Turkish letters to ASCII, lowercase, words joined by dashes."""
    text = unicodedata.normalize("NFKD", fold(name)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


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
        ids = {"source": self.name, "brand": brand.name}
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
            log_ids=ids,
        ).raise_for_error()
        mentions = sorted((self.to_mention(item, brand, now) for item in run.items), key=_recency, reverse=True)
        stats = Counter(run.counts(KIND))
        stats[REQUESTS] = int(run.stats.get("downloader/request_count", 0))
        stats[FETCHED] = len(mentions)
        stats["backoff"] += int(run.stats.get("kulak/backoff", 0))
        stats["retries"] += int(run.stats.get("kulak/retries", 0))
        seen_count = stats["seen"]
        log.info("Şikayetvar %s: %s new of %s seen in %.1f s", slug, len(mentions), seen_count, run.seconds, extra=ids)
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
