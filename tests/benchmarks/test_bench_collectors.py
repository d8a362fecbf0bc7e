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
