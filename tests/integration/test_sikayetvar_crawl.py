"""SikayetvarSource against the local stand-in site: real Scrapy in a child process, real HTTP on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest

from config.settings import Settings, SikayetvarSettings, SourcesSettings
from crawlers.base import SOURCES
from crawlers.scrapy_run import run_spider
from crawlers.sikayetvar import SikayetvarSource, SikayetvarSpider
from crawlers.turkish_dates import ISTANBUL
from loopback.sikayetvar import SampleComplaint, SikayetvarSite, slugify
from store.errors import NotConfigured, SourceBlocked, SourceError, SourceRateLimited
from store.model import Brand

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=ISTANBUL)
BRAND = Brand("Kuzey Telekom", sources=(("sikayetvar", "kuzey-telekom"),))
REPLY = "Değerli Müşterimiz, iadeniz 3 iş günü içinde kartınıza yapılacaktır. Kuzey Telekom"


def complaint(cid: int, title: str, when: datetime, brand: str = "kuzey-telekom", **extra: Any) -> SampleComplaint:
    body = extra.pop("body", f"{title}. Müşteri hizmetleri sorunumu çözmedi, iki haftadır bekliyorum.")
    fields: dict[str, Any] = {"author": "emre_t", "views": 120, "upvotes": 3, "tags": ("#fatura",), **extra}
    return SampleComplaint(cid, brand, title, slugify(title), body, published_at=when, **fields)


HANDFUL = [
    complaint(30100017, "Kuzey Telekom Yılbaşında İnternet Kesildi", datetime(2025, 12, 31, 22, 43, tzinfo=ISTANBUL)),
    complaint(30200410, "Kuzey Telekom Fatura İki Kez Kesildi", datetime(2026, 10, 4, 9, 30, tzinfo=ISTANBUL)),
    complaint(
        30200977,
        "Kuzey Telekom Modem Ücreti İade Edilmedi",
        datetime(2026, 10, 28, 14, 5, tzinfo=ISTANBUL),
        author="mehmet_y",
        body="Modemi iade ettim,\n   tutanak elimde.\n\nAma 1.200 TL   kesildi. Tüketici hakem heyetine başvuracağım.",
        views=1840,
        upvotes=23,
        tags=("#modem iadesi", "#iade"),
        resolved=True,
        rating=5,
        reply=REPLY,
    ),
    complaint(30201544, "Kuzey Telekom Mobil Veri Çekmiyor", datetime(2026, 11, 9, 21, 16, tzinfo=ISTANBUL)),
    complaint(30202318, "Kuzey Telekom Numaramı Taşıyacağım", datetime(2026, 11, 21, 23, 48, tzinfo=ISTANBUL)),
    complaint(30202400, "Mavi Kargo Paketim Gelmedi", datetime(2026, 11, 22, 8, 0, tzinfo=ISTANBUL), "mavi-kargo"),
]
KT_IDS = sorted((c.id for c in HANDFUL if c.brand_slug == "kuzey-telekom"), reverse=True)


def start_site(**options: Any) -> SikayetvarSite:
    brands = {"kuzey-telekom": "Kuzey Telekom", "mavi-kargo": "Mavi Kargo"}
    site = SikayetvarSite(HANDFUL, brands=brands, page_size=2, now=NOW, **options)
    site.start()
    return site


@pytest.fixture
def sikayetvar_site() -> Iterator[SikayetvarSite]:
    site = start_site()
    yield site
    site.stop()


def source_for(site: SikayetvarSite, **options: Any) -> SikayetvarSource:
    defaults: dict[str, Any] = {"list_delay": (0, 0), "page_delay": (0, 0), "backoff": (0.01, 0.02)}
    return SikayetvarSource(site.url, now=lambda: NOW, crawl_timeout=60, **{**defaults, **options})


def complaint_requests(site: SikayetvarSite) -> list[str]:
    return [r.path for r in site.received() if r.path.count("/") == 2]


def test_collect_reads_every_new_complaint_politely(sikayetvar_site: SikayetvarSite) -> None:
    result = source_for(sikayetvar_site).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == [str(i) for i in KT_IDS]
    m = next(m for m in result.mentions if m.external_id == "30200977")
    assert (m.source, m.brand, m.language) == ("sikayetvar", "Kuzey Telekom", "tr")
    assert m.url == sikayetvar_site.url_of(HANDFUL[2])
    assert m.title == "Kuzey Telekom Modem Ücreti İade Edilmedi"
    assert m.text == "Modemi iade ettim, tutanak elimde. Ama 1.200 TL kesildi. Tüketici hakem heyetine başvuracağım."
    assert (m.author, m.author_handle) == ("mehmet_y", "mehmet_y")
    assert m.published_at == datetime(2026, 10, 28, 14, 5, tzinfo=ISTANBUL)
    assert str(getattr(m.published_at, "tzinfo", "")) == "Europe/Istanbul"
    assert m.fetched_at == NOW
    assert m.payload == {
        "views": 1840,
        "upvotes": 23,
        "tags": ["modem iadesi", "iade"],
        "resolved": True,
        "rating": 5,
        "brand_reply": REPLY,
        "full_text": True,
        "generation": "B",
    }
    last_year = next(m for m in result.mentions if m.external_id == "30100017")
    assert last_year.published_at == datetime(2025, 12, 31, 22, 43, tzinfo=ISTANBUL)
    assert result.state.last_seen_id == "30202318"
    assert result.state.last_seen_at == datetime(2026, 11, 21, 23, 48, tzinfo=ISTANBUL)
    assert result.stats == {"seen": 5, "new": 5, "list_pages": 3, "detail_pages": 5, "video_skipped": 1}

    requests = sikayetvar_site.received()
    assert {r.headers.get("accept-language") for r in requests} == {"tr-TR"}
    assert {r.headers.get("user-agent") for r in requests} == {SikayetvarSettings().user_agent}
    pages = [r for r in requests if r.path.count("/") == 2]
    assert sorted(r.path for r in pages) == sorted(f"/kuzey-telekom/{c.slug}" for c in HANDFUL[:5])
    assert {r.headers.get("referer") for r in pages} == {f"{sikayetvar_site.url}/kuzey-telekom"}
    assert not [r for r in requests if r.path.endswith("-video") or r.path.startswith("/mavi-kargo")]


def test_the_next_crawl_asks_only_for_what_is_new(sikayetvar_site: SikayetvarSite) -> None:
    source = source_for(sikayetvar_site)
    first = source.collect(BRAND, None)
    asked_before = len(sikayetvar_site.received())

    second = source.collect(BRAND, first.state)

    assert second.mentions == []
    assert second.state.last_seen_id == first.state.last_seen_id
    assert second.stats["known"] >= 1 and second.stats["new"] == 0
    later = sikayetvar_site.received()[asked_before:]
    assert [(r.path, dict(r.query)) for r in later] == [("/kuzey-telekom", {})]  # page 1, no complaint pages

    fresh = complaint(30203001, "Kuzey Telekom Yeni Fatura Hatası", datetime(2026, 11, 23, 11, 2, tzinfo=ISTANBUL))
    sikayetvar_site.add(fresh)
    third = source.collect(BRAND, second.state)

    assert [m.external_id for m in third.mentions] == ["30203001"]
    assert third.mentions[0].published_at == datetime(2026, 11, 23, 11, 2, tzinfo=ISTANBUL)
    assert third.state.last_seen_id == "30203001"
    assert complaint_requests(sikayetvar_site)[-1] == f"/kuzey-telekom/{fresh.slug}"


@pytest.mark.parametrize("where", [None, "/kuzey-telekom/kuzey-telekom-mobil"])
def test_403_means_blocked(sikayetvar_site: SikayetvarSite, where: str | None) -> None:
    sikayetvar_site.fail_next(403, path_prefix=where)
    with pytest.raises(SourceBlocked, match="403"):
        source_for(sikayetvar_site).collect(BRAND, None)


def test_429_backs_off_for_retry_after_then_goes_on(sikayetvar_site: SikayetvarSite) -> None:
    sikayetvar_site.fail_next(429, retry_after=0.4)

    result = source_for(sikayetvar_site).collect(BRAND, None)

    assert len(result.mentions) == 5
    assert result.stats["backoff"] == 1
    (first, _), (second, again) = sikayetvar_site.arrivals[:2]
    assert again.path == "/kuzey-telekom" and second - first >= 0.35


@pytest.mark.parametrize(
    ("retry_after", "tries"),
    [(None, 3), (900.0, 1)],  # two backoffs, then give up; a Retry-After too long to wait in-crawl: give up at once
)
def test_429_that_does_not_stop_gives_up_rate_limited(
    sikayetvar_site: SikayetvarSite, retry_after: float | None, tries: int
) -> None:
    sikayetvar_site.fail_next(429, times=10, retry_after=retry_after)
    with pytest.raises(SourceRateLimited) as caught:
        source_for(sikayetvar_site).collect(BRAND, None)
    assert len(sikayetvar_site.received("/kuzey-telekom")) == tries
    assert caught.value.retry_after == retry_after


def test_paging_stops_at_max_pages(sikayetvar_site: SikayetvarSite) -> None:
    result = source_for(sikayetvar_site, max_pages=2).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == [str(i) for i in KT_IDS[:4]]
    assert sorted(r.query.get("page", ["1"])[0] for r in sikayetvar_site.received("/kuzey-telekom")) == ["1", "2"]


def test_a_failing_complaint_page_keeps_the_preview(sikayetvar_site: SikayetvarSite) -> None:
    broken = HANDFUL[2]
    sikayetvar_site.fail_next(500, times=10, path_prefix=f"/kuzey-telekom/{broken.slug}")

    result = source_for(sikayetvar_site).collect(BRAND, None)

    assert len(result.mentions) == 5
    m = next(m for m in result.mentions if m.external_id == str(broken.id))
    assert m.text == "Modemi iade ettim, tutanak elimde. Ama 1.200 TL kesildi. Tüketici hakem heyetine başvuracağım."
    assert m.payload["full_text"] is False and m.payload["brand_reply"] is None
    assert result.stats["detail_failed"] == 1 and result.stats["detail_pages"] == 4


def test_a_failing_list_page_is_a_source_error(sikayetvar_site: SikayetvarSite) -> None:
    sikayetvar_site.fail_next(503, times=10, path_prefix="/kuzey-telekom")
    with pytest.raises(SourceError) as caught:
        source_for(sikayetvar_site).collect(BRAND, None)
    assert type(caught.value) is SourceError


def test_generation_a_markup_and_previews_only() -> None:
    site = start_site(generation="A")
    try:
        result = source_for(site, fetch_details=False).collect(BRAND, None)
    finally:
        site.stop()
    assert [m.external_id for m in result.mentions] == [str(i) for i in KT_IDS]
    assert {m.payload["generation"] for m in result.mentions} == {"A"}
    assert all(m.text and not m.payload["full_text"] for m in result.mentions)
    assert complaint_requests(site) == []
    assert result.stats["video_skipped"] == 1


def test_waits_between_list_pages_and_between_complaint_pages(sikayetvar_site: SikayetvarSite) -> None:
    source_for(sikayetvar_site, list_delay=(0.3, 0.3), page_delay=(0.1, 0.1)).collect(BRAND, None)

    arrivals = sikayetvar_site.arrivals
    for (before, _), (at, request) in pairwise(arrivals):
        wanted = 0.1 if request.path.count("/") == 2 else 0.3
        assert at - before >= wanted * 0.9, request.path


def test_from_settings_and_what_switches_the_source_off() -> None:
    assert SOURCES["sikayetvar"] is SikayetvarSource
    on = Settings(sources=SourcesSettings(sikayetvar=SikayetvarSettings(base_url="http://127.0.0.1:9", max_pages=5)))
    source = SikayetvarSource.from_settings(on)
    assert (source.base_url, source.max_pages, source.page_delay) == ("http://127.0.0.1:9", 5, (1.2, 2.2))
    off = Settings(sources=SourcesSettings(sikayetvar=SikayetvarSettings(enabled=False)))
    with pytest.raises(NotConfigured, match="enabled"):
        SikayetvarSource.from_settings(off)
    with pytest.raises(NotConfigured, match="slug"):
        source.collect(Brand("Mavi Kargo"), None)


def test_run_spider_reports_what_went_wrong_as_source_errors() -> None:
    started = time.monotonic()
    run = run_spider(SikayetvarSpider, kwargs={"base_url": "http://127.0.0.1:9", "brand_slug": "x"}, timeout=0.2)
    assert isinstance(run.error, SourceError) and "timed out" in str(run.error)
    assert time.monotonic() - started < 10

    missing = run_spider("crawlers.no_such_module.Spider", timeout=60)
    assert type(missing.error) is SourceError and "ModuleNotFoundError" in str(missing.error)
    with pytest.raises(SourceError):
        missing.raise_for_error()
