"""Collectors: Şikayetvar parse throughput on saved pages, and requests per new mention on a steady-state poll."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from parsel import Selector

from crawlers.sikayetvar_markup import parse_detail_page, parse_list_page
from loopback.sikayetvar import ISTANBUL, SikayetvarSite, load_sample

ROUNDS = 5
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=ISTANBUL)


def median_seconds(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def saved_pages(tmp_path: Path) -> tuple[list[str], list[str]]:
    """List and complaint pages as the stand-in serves them (generations A, B and C), saved to disk and read back."""
    lists: list[str] = []
    details: list[str] = []
    complaints = load_sample()
    for generation in ("A", "B", "C"):
        site = SikayetvarSite(complaints, page_size=6, now=NOW, generation=generation)
        with site, httpx.Client(base_url=site.url) as client:
            for slug in sorted({c.brand_slug for c in complaints}):
                for page in (1, 2):
                    lists.append(client.get(f"/{slug}", params={"page": page}).text)
            for complaint in complaints:
                details.append(client.get(f"/{complaint.brand_slug}/{complaint.slug}").text)
    for i, html in enumerate(lists + details):
        (tmp_path / f"page-{i}.html").write_text(html, encoding="utf-8")
    n = len(lists)
    pages = [(tmp_path / f"page-{i}.html").read_text(encoding="utf-8") for i in range(n + len(details))]
    return pages[:n], pages[n:]


def test_sikayetvar_parse_throughput(tmp_path: Path) -> None:
    lists, details = saved_pages(tmp_path)
    url = "https://www.sikayetvar.com/kuzey-telekom"
    assert all(parse_list_page(html, url).cards for html in lists[::2])  # every first page has cards

    def ours() -> None:
        for html in lists:
            parse_list_page(html, url)
        for html in details:
            parse_detail_page(html)

    def baseline() -> None:  # lxml parse plus one selection: the least any parser of these pages must do
        for html in lists + details:
            Selector(text=html).css("article")

    pages = len(lists) + len(details)
    ours_s, base_s = median_seconds(ours), median_seconds(baseline)
    ratio = ours_s / base_s
    print(
        f"\nŞikayetvar parsing: {pages / ours_s:,.0f} pages/s ({len(lists)} list + {len(details)} complaint pages, "
        f"generations A/B/C); baseline parse+select {pages / base_s:,.0f} pages/s; ratio {ratio:.1f}x"
    )
    assert ratio < 12, f"parsing is {ratio:.1f}x the bare parse"


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def poll_costs(
    rounds: list[int], add: Callable[[int, int], None], poll: Callable[[], int], sent: Callable[[], int]
) -> list[tuple[int, int, int]]:
    """(new items published, mentions collected, requests sent) for each steady-state poll after a first crawl."""
    poll()
    costs = []
    for i, k in enumerate(rounds):
        for j in range(k):
            add(i, j)
        before = sent()
        collected = poll()
        costs.append((k, collected, sent() - before))
    return costs


def report(name: str, costs: list[tuple[int, int, int]]) -> float:
    new = sum(c for _, c, _ in costs)
    requests = sum(r for _, _, r in costs)
    quiet = [r for k, _, r in costs if k == 0]
    per_new = requests / new if new else float("nan")
    print(f"{name}: quiet poll {max(quiet)} request(s); {requests} requests for {new} new mentions = {per_new:.2f}/new")
    assert all(k == c for k, c, _ in costs), f"{name} missed or repeated mentions: {costs}"
    return per_new


POLLS = [0, 1, 3, 0, 5]


def test_requests_per_new_mention_on_steady_state_polls() -> None:
    from dataclasses import replace as changed

    from crawlers.base import SourceConfig
    from crawlers.rss import RssSource
    from crawlers.sikayetvar import SikayetvarSource
    from crawlers.x import XSource
    from loopback.news import NewsItem, NewsSite
    from loopback.x import XApi, tweet
    from store.model import Brand

    brand = Brand("Kuzey Telekom", aliases=("Kuzey Telekom",))
    complaints = [c for c in load_sample() if c.brand_slug == "kuzey-telekom"]
    with SikayetvarSite(complaints, now=NOW) as site:
        config = SourceConfig(name="sikayetvar", base_url=site.url, backoff=0.01)
        options = SikayetvarSource.Options(list_delay=(0, 0), page_delay=(0, 0))
        source = SikayetvarSource(config, options, now=lambda: NOW, crawl_timeout=60)
        state = [None]

        def poll_sv() -> int:
            result = source.collect(brand, state[0])
            state[0] = result.state  # type: ignore[assignment]
            return len(result.mentions)

        def add_sv(i: int, j: int) -> None:
            base = complaints[j % len(complaints)]
            site.add(changed(base, id=90_000_000 + 100 * i + j, slug=f"{base.slug}-{i}-{j}", published_at=later(i)))

        sv = report("Şikayetvar", poll_costs(POLLS, add_sv, poll_sv, lambda: len(site.received())))

    with XApi(tweets=[]) as api:
        x = XSource(SourceConfig(name="x", base_url=api.url, delay=(0, 0)), token=api.token)
        x_state = [None]

        def poll_x() -> int:
            result = x.collect(brand, x_state[0])
            x_state[0] = result.state  # type: ignore[assignment]
            return len(result.mentions)

        def add_x(i: int, j: int) -> None:
            api.add(
                tweet(
                    str(1_900_000_000_000_000_000 + 100 * i + j),
                    "Kuzey Telekom yine çekmiyor",
                    "1501",
                    "2026-11-23T09:00:00.000Z",
                )
            )

        xs = report("X", poll_costs(POLLS, add_x, poll_x, lambda: len(api.received())))

    with NewsSite([]) as news:
        rss = RssSource(SourceConfig(name="news", base_url=news.url, delay=(0, 0)))
        rss_state = [None]

        def poll_rss() -> int:
            result = rss.collect(brand, rss_state[0])
            rss_state[0] = result.state  # type: ignore[assignment]
            return len(result.mentions)

        def add_rss(i: int, j: int) -> None:
            news.add(NewsItem(f"Kuzey Telekom haber {i}-{j}", f"https://haber.example/{i}-{j}", f"g-{i}-{j}", later(i)))

        rs = report("Google News RSS", poll_costs(POLLS, add_rss, poll_rss, lambda: len(news.received())))
    assert sv < 2.0 and xs <= 1.0 and rs <= 1.0
