"""robots.txt: read once a day per site, its rules enforced in the Scrapy child, an unreachable one blocks."""

from __future__ import annotations

import pytest

from crawlers.base import SourceConfig
from crawlers.robots import RobotsCache, allowed
from loopback.server import LoopbackServer, Recorded, Reply
from store.errors import SourceBlocked

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
