"""Ekşi Sözlük topics: a Scrapy spider that reads each topic from its last page backwards, and the source around it."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote_plus, urlsplit

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
from crawlers.eksisozluk_markup import TopicPage, parse_topic_page, topic_path
from crawlers.queries import plain_query
from crawlers.scrapy_polite import failure_error, polite_settings
from crawlers.scrapy_run import abort_crawl, crawl_aborted, run_spider
from crawlers.turkish_dates import ISTANBUL
from store.errors import ConfigError, NotConfigured, SourceBlocked, SourceParseError
from store.model import Brand, CrawlState, RawMention

log = logging.getLogger(__name__)

SOURCE = "eksisozluk"
HEADERS = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", "Accept-Language": "tr-TR,tr;q=0.9"}
Item = dict[str, Any]


@dataclass
class _Walk:
    """One topic's walk in progress: from its last page towards page 1, until an entry seen last time."""

    path: str
    last_id: int | None
    requests: int = 0
    page_count: int | None = None
    held: TopicPage | None = None  # the page answered first when it was not the last: read when the walk gets there
    reached_known: bool = False
    newest: int | None = None


class EksiSozlukSpider(scrapy.Spider):
    """Walk each topic newest page first; a brand without topics is searched and the site's redirect followed.

    ``topics``: ``[{"path": "slug--id", "last_id": int | None, "page": int | None}]``, ``page`` being the page
    count seen last time (asked for first, so a topic with nothing new costs one request). ``known``: the same
    bookkeeping by path, for topics a search leads to. Items are entries (``kind`` "entry") and one report per
    topic walked (``kind`` "topic", ``complete`` when it reached a known entry, page 1 or ``max_pages``).
    """

    name = SOURCE

    def __init__(
        self,
        base_url: str,
        topics: Sequence[Mapping[str, Any]] = (),
        searches: Sequence[str] = (),
        known: Mapping[str, Mapping[str, Any]] | None = None,
        max_pages: int = 3,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.root = base_url.rstrip("/")
        self.topics = list(topics)
        self.searches = list(searches)
        self.known = dict(known or {})
        self.max_pages = max(1, max_pages)
        self._seen: set[int] = set()

    async def start(self) -> Any:
        for topic in self.topics:
            yield self._page_request(_Walk(topic["path"], topic.get("last_id")), int(topic.get("page") or 1))
        for query in self.searches:
            url = f"{self.root}/?q={quote_plus(query)}"
            yield Request(url, callback=self.parse_search, errback=self.failed, cb_kwargs={"query": query})

    def count(self, reason: str, n: int = 1) -> None:
        if n:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(f"{SOURCE}/{reason}", n)

    def _page_request(self, walk: _Walk, page: int) -> Request:
        url = f"{self.root}/{walk.path}" + (f"?p={page}" if page > 1 else "")
        return Request(url, callback=self.parse_page, errback=self.failed, cb_kwargs={"walk": walk})

    def parse_search(self, response: Response, query: str) -> Iterator[Request | Item]:
        path = topic_path(response.url)
        yield {"kind": "search", "query": query, "topic": path}
        if path is None:  # the site redirects a query to its topic; staying on the search page means there is none
            log.info("Ekşi Sözlük has no topic for the search %r", query)
            self.count("no_topic")
        else:
            yield from self.parse_page(response, _Walk(path, self.known.get(path, {}).get("last_id")))

    def parse_page(self, response: Response, walk: _Walk) -> Iterator[Request | Item]:
        walk.requests += 1
        self.count("pages")
        try:
            page = parse_topic_page(response.text, response.url)
        except SourceParseError as exc:
            log.warning("Ekşi Sözlük: %s; has the markup changed?", exc)
            self.count(PARSE_FAILURES)
            yield self.report(walk, complete=False)
            return
        self.count(PARSE_FAILURES, page.unparsed)
        if walk.page_count is None:
            walk.page_count = page.page_count
            if page.current_page < page.page_count:  # newest entries are on the last page: start there
                walk.held = page
                yield self._page_request(walk, page.page_count)
                return
        yield from self.read(walk, page)
        following = page.current_page - 1
        if walk.held is not None and following == walk.held.current_page and not walk.reached_known:
            yield from self.read(walk, walk.held)
            following -= 1
        if walk.reached_known or following < 1:
            yield self.report(walk, complete=True)
        elif walk.requests >= self.max_pages:
            self.count("max_pages")
            yield self.report(walk, complete=True)
        else:
            yield self._page_request(walk, following)

    def read(self, walk: _Walk, page: TopicPage) -> Iterator[Item]:
        """The page's entries newest first, up to the first one seen last time."""
        for entry in reversed(page.entries):
            if entry.id in self._seen:  # pushed onto the next page while we were walking
                self.count("duplicate")
                continue
            self._seen.add(entry.id)
            if walk.last_id is not None and entry.id <= walk.last_id:
                self.count("known")
                walk.reached_known = True
                continue
            self.count("new")
            walk.newest = max(walk.newest or 0, entry.id)
            # datetimes travel as ISO strings (run_spider makes items plain JSON values)
            yield {"kind": "entry", "topic": walk.path, "topic_id": page.topic_id, "title": page.title, **asdict(entry)}

    def report(self, walk: _Walk, *, complete: bool) -> Item:
        return dict(kind="topic", path=walk.path, complete=complete, newest_id=walk.newest, page_count=walk.page_count)

    def failed(self, failure: Failure) -> Iterator[Item]:
        if crawl_aborted(self.crawler):
            return
        request: Request = failure.request  # type: ignore[attr-defined]
        error = failure_error(failure, f"Ekşi Sözlük {urlsplit(request.url).path}")
        walk: _Walk | None = request.cb_kwargs.get("walk")
        if isinstance(error, SourceBlocked):
            abort_crawl(self.crawler, error)
        elif isinstance(error, SourceParseError):  # over the size cap: a page nobody can read
            log.warning("%s", error)
            self.count(PARSE_FAILURES)
            if walk is not None:
                yield self.report(walk, complete=False)
        elif walk is not None and walk.page_count is not None:  # a later page: keep what was read, walk again later
            log.warning("%s", error)
            self.count(FAILED)
            yield self.report(walk, complete=False)
        elif walk is not None and "HTTP 404" in str(error):
            log.warning("Ekşi Sözlük topic %s is gone (HTTP 404); check the eksisozluk topics option", walk.path)
            self.count("topic_missing")
            yield self.report(walk, complete=False)
        else:
            abort_crawl(self.crawler, error)


@dataclass(frozen=True)
class EksiSozlukOptions:
    """The eksisozluk source type's own keys."""

    topics: dict[str, tuple[str, ...]] = doc(
        'Brand name -> its topic paths on Ekşi Sözlük, like ["kuzey-telekom--123456"].', factory=dict, per_brand=True
    )
    search: bool = doc("When a brand has no topics, search its name and follow the site to its topic.", default=True)


@register
class EksiSozlukSource(BaseSource):
    """Ekşi Sözlük entries from the brand's topics (or the topic its name leads to), newest first, read with Scrapy."""

    kind: ClassVar[str] = SOURCE
    default_base_url: ClassVar[str] = "https://eksisozluk.com"
    Options: ClassVar[type[Any]] = EksiSozlukOptions
    options: EksiSozlukOptions

    def __init__(
        self,
        config: SourceConfig,
        options: EksiSozlukOptions | None = None,
        *,
        now: Callable[[], datetime] | None = None,
        crawl_timeout: float | None = None,
        log_level: str = "WARNING",
    ) -> None:
        super().__init__(config, options)
        self.now = now or (lambda: datetime.now(ISTANBUL))
        self.crawl_timeout = crawl_timeout
        self.log_level = log_level
        self._topics: dict[str, tuple[str, ...]] = {}
        for brand, paths in self.options.topics.items():
            found = tuple(topic_path(p) for p in paths)
            if None in found:
                raise ConfigError(
                    f"expected topic paths like 'kuzey-telekom--123456', got {list(paths)}", key=f"topics.{brand}"
                )
            self._topics[brand] = tuple(p for p in found if p)

    def has_key_for(self, brand: Brand) -> bool:
        return bool(self._topics.get(brand.name)) or self.options.search

    def scrapy_settings(self) -> dict[str, Any]:
        return {**polite_settings(self.config, log_level=self.log_level), "DEFAULT_REQUEST_HEADERS": HEADERS}

    def collect(self, brand: Brand, state: CrawlState | None) -> CrawlResult:
        state = self.state_for(brand, state)
        cursor = cursor_of(state)
        walked = _topic_states(cursor.get("topics"))
        found = {str(k): str(v) for k, v in _mapping(cursor.get("search")).items() if v}
        paths, searches = self._topics.get(brand.name, ()), []
        if not paths and self.options.search:
            query = plain_query(brand)
            paths, searches = ((found[query],), []) if query in found else ((), [query])
        if not paths and not searches:
            raise NotConfigured(f"brand {brand.name!r} has no eksisozluk topics and search is off")
        now = self.now()
        c, walks = self.config, len(paths) + len(searches)
        timeout = self.crawl_timeout or 60 + walks * (c.max_pages + 2) * (c.delay[1] + c.timeout) + 2 * c.max_wait
        topics = [{"path": p, **walked.get(p, {})} for p in paths]
        kwargs = {"base_url": c.root, "topics": topics, "searches": searches, "known": walked, "max_pages": c.max_pages}
        where = {"source": self.name, "brand": brand.name}
        run = run_spider(
            EksiSozlukSpider, kwargs=kwargs, settings=self.scrapy_settings(), timeout=timeout, log_ids=where
        )
        run.raise_for_error()
        mentions: list[RawMention] = []
        for item in run.items:
            if item["kind"] == "entry":
                mentions.append(self.to_mention(item, brand, now))
            elif item["kind"] == "search" and item["topic"]:
                found[item["query"]] = item["topic"]
            elif item["kind"] == "topic" and item["complete"]:  # a partial walk keeps the old mark: read again
                ids = [i for i in (walked.get(item["path"], {}).get("last_id"), item["newest_id"]) if i is not None]
                marks = {"last_id": max(ids) if ids else None, "page": item["page_count"]}
                walked[item["path"]] = {k: v for k, v in marks.items() if v is not None}
        mentions.sort(key=lambda m: int(m.external_id), reverse=True)
        state = with_cursor(state, {"topics": walked, "search": found})
        newest = max((s["last_id"] for s in walked.values() if s.get("last_id")), default=None)
        if newest is not None and str(newest) != state.last_seen_id:
            at = next((m.published_at for m in mentions if m.external_id == str(newest)), state.last_seen_at)
            state = replace(state, last_seen_id=str(newest), last_seen_at=at)
        stats = Counter(run.counts(SOURCE))
        stats[REQUESTS] += int(run.stats.get("downloader/request_count", 0))
        stats[FETCHED] += len(mentions)
        stats.update({k: int(run.stats.get(f"kulak/{k}", 0)) for k in ("backoff", "retries")})
        log.info("Ekşi Sözlük %s: %s new entries in %.1f s", brand.name, len(mentions), run.seconds, extra=where)
        return CrawlResult(mentions=mentions, state=replace(state, updated_at=now), stats=+stats)

    def to_mention(self, item: Mapping[str, Any], brand: Brand, fetched_at: datetime) -> RawMention:
        """An entry (the spider's item) as the store's RawMention; payload ``edited_at`` is ISO 8601 or None."""
        return RawMention(
            source=SOURCE,
            external_id=str(item["id"]),
            url=self.config.url(f"entry/{item['id']}"),
            text=item["text"],
            fetched_at=fetched_at,
            title=item["title"],
            brand=brand.name,
            author=item["author"],
            author_handle=item["author"],
            language="tr",
            published_at=datetime.fromisoformat(item["published_at"]).astimezone(ISTANBUL),
            payload={**{k: item[k] for k in ("favorites", "topic_id", "edited_at")}, "source_name": self.name},
        )


def _mapping(data: Any) -> Mapping[str, Any]:
    return data if isinstance(data, Mapping) else {}


def _topic_states(data: Any) -> dict[str, dict[str, int]]:
    """The per-topic bookkeeping from the cursor, whatever an older version or a hand edit left there."""
    marks = {str(path): _mapping(m) for path, m in _mapping(data).items()}
    return {
        path: {k: v for k, v in m.items() if k in ("last_id", "page") and isinstance(v, int)}
        for path, m in marks.items()
    }
