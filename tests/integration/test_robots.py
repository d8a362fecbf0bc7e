"""robots.txt: read once a day per site, its rules enforced in the Scrapy child, an unreachable one blocks."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from crawlers.base import SourceConfig
from crawlers.job import crawl_all
from crawlers.robots import RobotsCache, allowed
from loopback.server import LoopbackServer, Recorded, Reply
from store.errors import SourceBlocked
from store.model import Brand
from store.sqlalchemy import SqlAlchemyUnitOfWork

AGENT = "Kulak/0.2 (social-care listener; +https://example.org/ops)"


class Site(LoopbackServer):
    def __init__(self, status: int = 200, body: str = "User-agent: *\nDisallow: /private/\n") -> None:
        super().__init__()
        self.status, self.body = status, body

    def handle(self, request: Recorded) -> Reply:
        return Reply(self.status, self.body.encode(), {"Content-Type": "text/plain; charset=utf-8"})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def config(site: Site) -> SourceConfig:
    return SourceConfig(name="s", base_url=f"{site.url}/some/brand", user_agent=AGENT, retries=1, backoff=0.01)


def test_read_once_then_served_from_the_cache_until_a_day_has_passed() -> None:
    clock = Clock()
    cache = RobotsCache(clock=clock)
    with Site() as site:
        first = cache.get(config(site))
        again = cache.get(config(site))
        clock.now += 24 * 3600
        later = cache.get(config(site))
        assert (first.requests, again.requests, later.requests) == (1, 0, 1)
        assert [r.path for r in site.received()] == ["/robots.txt", "/robots.txt"]
        assert site.received()[0].headers["user-agent"] == AGENT
        assert not first.allows(f"{site.url}/private/x", AGENT) and first.allows(f"{site.url}/brand", AGENT)


def test_no_robots_txt_allows_everything_and_an_unreachable_one_blocks() -> None:
    with Site(status=404) as missing:
        assert RobotsCache().get(config(missing)).allows(f"{missing.url}/anything", AGENT)
    cache = RobotsCache()
    with Site(status=503) as broken:
        with pytest.raises(SourceBlocked, match="unreachable"):
            cache.get(config(broken))
        assert len(broken.received()) == 2  # tried again once (crawl.retries) before giving up
        broken.status = 200
        assert cache.get(config(broken)).requests == 1  # the failure was not cached


@pytest.mark.parametrize(
    ("rules", "path", "expected"),
    [
        ("User-agent: *\nDisallow: /\n", "/kuzey-telekom", False),
        ("User-agent: Kulak\nDisallow: /\n\nUser-agent: *\nAllow: /\n", "/kuzey-telekom", False),
        ("User-agent: SomeBot\nDisallow: /\n", "/kuzey-telekom", True),
        ("User-agent: *\nDisallow: /uye/\nAllow: /\n", "/uye/ayse", False),
        ("", "/anything", True),
    ],
)
def test_rules_are_read_for_our_user_agent(rules: str, path: str, expected: bool) -> None:
    assert allowed(rules, f"https://www.sikayetvar.com{path}", AGENT) is expected


def test_the_next_process_takes_robots_txt_from_the_store(engine: Engine) -> None:
    from crawlers.robots import CACHE
    from crawlers.sikayetvar import SikayetvarSource
    from loopback.sikayetvar import SikayetvarSite, load_sample

    complaints = [c for c in load_sample() if c.brand_slug == "mavi-kargo"]
    brand = Brand("Mavi Kargo")
    uow = SqlAlchemyUnitOfWork(engine)
    with SikayetvarSite(complaints) as site:
        config = SourceConfig(name="sv", base_url=site.url, user_agent=AGENT, delay=(0.0, 0.0))
        options = SikayetvarSource.Options(list_delay=(0, 0), page_delay=(0, 0))
        source = SikayetvarSource(config, options, crawl_timeout=60)
        first = crawl_all(uow, [source], [brand])
        CACHE.clear()  # what a new cron process starts with
        before = len(site.received())
        second = crawl_all(uow, [source], [brand])
        quiet = [r.path for r in site.received()[before:]]
        root = site.url
    assert first.total_added == len(complaints) and second.total_added == 0
    assert quiet == ["/mavi-kargo"]  # a quiet poll is one request, robots.txt came from the store
    assert second.runs[0].requests == 1
    with uow:
        (kept,) = uow.crawl_state.for_source("robots.txt")
    assert kept.brand == root and "User-agent" in (kept.cursor or "")
