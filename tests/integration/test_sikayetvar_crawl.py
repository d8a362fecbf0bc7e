"""SikayetvarSource against the local stand-in site: real Scrapy in a child process, real HTTP on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from itertools import pairwise
from typing import Any
from urllib.request import urlopen

import pytest

from config.settings import BrandSettings, Settings, SourceSettings
from crawlers.base import FETCHED, PARSE_FAILURES, REQUESTS, SOURCES, SourceConfig, cursor_of
from crawlers.scrapy_run import run_spider
from crawlers.sikayetvar import SikayetvarSource, SikayetvarSpider, site_slug
from crawlers.turkish_dates import ISTANBUL
from loopback.server import Recorded
from loopback.sikayetvar import SampleComplaint, SikayetvarSite, slugify
from store.errors import ConfigError, NotConfigured, SourceBlocked, SourceError, SourceRateLimited
from store.model import Brand

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=ISTANBUL)
BRAND = Brand("Kuzey Telekom")
AGENT = "Kulak/0.2 (social-care listener; +https://example.org/kulak-test)"
REPLY = "Değerli Müşterimiz, iadeniz 3 iş günü içinde kartınıza yapılacaktır. Kuzey Telekom"
BODY = "Modemi iade ettim, tutanak elimde. Ama 1.200 TL kesildi. Tüketici hakem heyetine başvuracağım."


def complaint(cid: int, title: str, when: datetime, brand: str = "kuzey-telekom", **extra: Any) -> SampleComplaint:
    body = extra.pop("body", f"{title}. Müşteri hizmetleri sorunumu çözmedi, iki haftadır bekliyorum.")
    fields: dict[str, Any] = {"author": "emre_t", "views": 120, "upvotes": 3, "tags": ("#fatura",), **extra}
    return SampleComplaint(cid, brand, title, slugify(title), body, published_at=when, **fields)


HANDFUL = [
    complaint(30100017, "Kuzey Telekom Yılbaşında İnternet Kesildi", datetime(2025, 12, 31, 22, 43, tzinfo=ISTANBUL)),
    complaint(
        30200410, "Kuzey Telekom Fatura İki Kez Kesildi", datetime(2026, 10, 4, 9, 30, tzinfo=ISTANBUL), topic="fatura"
    ),
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
    complaint(
        30202318, "Kuzey Telekom Numaramı Taşıyacağım", datetime(2026, 11, 21, 23, 48, tzinfo=ISTANBUL), topic="fatura"
    ),
    complaint(30202400, "Mavi Kargo Paketim Gelmedi", datetime(2026, 11, 22, 8, 0, tzinfo=ISTANBUL), "mavi-kargo"),
]
KT = [c for c in reversed(HANDFUL) if c.brand_slug == "kuzey-telekom"]  # newest first, as the site lists them
KT_IDS = [str(c.id) for c in KT]
MODEM = HANDFUL[2]


def start_site(**options: Any) -> SikayetvarSite:
    brands = {"kuzey-telekom": "Kuzey Telekom", "mavi-kargo": "Mavi Kargo"}
    return SikayetvarSite(HANDFUL, brands=brands, page_size=2, now=NOW, **options).start()


@pytest.fixture
def sikayetvar_site() -> Iterator[SikayetvarSite]:
    site = start_site()
    yield site
    site.stop()


def source_for(site: SikayetvarSite, config: dict[str, Any] | None = None, **options: Any) -> SikayetvarSource:
    conf = SourceConfig(
        **{"name": "sikayetvar", "base_url": site.url, "backoff": 0.01, "user_agent": AGENT, **(config or {})}
    )
    defaults: dict[str, Any] = {"list_delay": (0, 0), "page_delay": (0, 0), "backoff": (0.1, 0.2)}
    return SikayetvarSource(
        conf, SikayetvarSource.Options(**{**defaults, **options}), now=lambda: NOW, crawl_timeout=60
    )


def pages(site: SikayetvarSite, since: int = 0) -> list[Recorded]:
    return [r for r in site.received()[since:] if r.path != "/robots.txt"]


def complaint_requests(site: SikayetvarSite) -> list[str]:
    return [r.path for r in pages(site) if r.path.count("/") == 2]


def test_collect_reads_every_new_complaint_politely(sikayetvar_site: SikayetvarSite) -> None:
    result = source_for(sikayetvar_site).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == KT_IDS
    m = next(m for m in result.mentions if m.external_id == str(MODEM.id))
    assert (m.source, m.brand, m.language) == ("sikayetvar", "Kuzey Telekom", "tr")
    assert m.url == sikayetvar_site.url_of(MODEM)
    assert m.title == "Kuzey Telekom Modem Ücreti İade Edilmedi"
    assert m.text == BODY
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
        "source_name": "sikayetvar",
    }
    last_year = next(m for m in result.mentions if m.external_id == "30100017")
    assert last_year.published_at == datetime(2025, 12, 31, 22, 43, tzinfo=ISTANBUL)
    assert result.state.last_seen_id == "30202318"
    assert result.state.last_seen_at == datetime(2026, 11, 21, 23, 48, tzinfo=ISTANBUL)
    assert cursor_of(result.state)["seen"] == [c.slug for c in KT]
    assert result.stats == {
        REQUESTS: 9,  # robots.txt, three list pages, five complaint pages
        FETCHED: 5,
        "seen": 5,
        "new": 5,
        "list_pages": 3,
        "detail_pages": 5,
        "video_skipped": 1,
    }

    requests = sikayetvar_site.received()
    assert requests[0].path == "/robots.txt"
    assert {r.headers.get("accept-language") for r in requests[1:]} == {"tr-TR"}
    assert {r.headers.get("user-agent") for r in requests} == {AGENT}
    details = [r for r in requests if r.path.count("/") == 2]
    assert sorted(r.path for r in details) == sorted(f"/kuzey-telekom/{c.slug}" for c in KT)
    assert {r.headers.get("referer") for r in details} == {f"{sikayetvar_site.url}/kuzey-telekom"}
    assert not [r for r in requests if r.path.endswith("-video") or r.path.startswith("/mavi-kargo")]


def test_the_next_crawl_asks_only_for_what_is_new(sikayetvar_site: SikayetvarSite) -> None:
    source = source_for(sikayetvar_site)
    first = source.collect(BRAND, None)
    asked_before = len(sikayetvar_site.received())

    second = source.collect(BRAND, first.state)

    assert second.mentions == []
    assert second.state.last_seen_id == first.state.last_seen_id
    assert second.stats["known"] >= 1 and second.stats["new"] == 0
    later = pages(sikayetvar_site, asked_before)
    assert [(r.path, dict(r.query)) for r in later] == [("/kuzey-telekom", {})]  # page 1, no complaint pages

    fresh = complaint(30203001, "Kuzey Telekom Yeni Fatura Hatası", datetime(2026, 11, 23, 11, 2, tzinfo=ISTANBUL))
    sikayetvar_site.add(fresh)
    third = source.collect(BRAND, second.state)

    assert [m.external_id for m in third.mentions] == ["30203001"]
    assert third.mentions[0].published_at == datetime(2026, 11, 23, 11, 2, tzinfo=ISTANBUL)
    assert third.state.last_seen_id == "30203001"
    assert cursor_of(third.state)["seen"][:2] == [fresh.slug, KT[0].slug]
    assert complaint_requests(sikayetvar_site)[-1] == f"/kuzey-telekom/{fresh.slug}"


@pytest.mark.parametrize("where", [None, "/kuzey-telekom/kuzey-telekom-mobil"])
def test_403_means_blocked(sikayetvar_site: SikayetvarSite, where: str | None) -> None:
    sikayetvar_site.fail_next(403, path_prefix=where)
    with pytest.raises(SourceBlocked, match="403"):
        source_for(sikayetvar_site).collect(BRAND, None)


def test_robots_txt_that_forbids_the_brand_is_a_block() -> None:
    site = start_site(disallow=("/kuzey-telekom",))
    try:
        with pytest.raises(SourceBlocked, match=r"robots\.txt"):
            source_for(site).collect(BRAND, None)
        assert [r.path for r in site.received()] == ["/robots.txt"]  # asked, and obeyed
        assert len(source_for(site, {"robots": False}).collect(BRAND, None).mentions) == 5  # unless told not to
    finally:
        site.stop()


def test_429_backs_off_for_retry_after_then_goes_on(sikayetvar_site: SikayetvarSite) -> None:
    sikayetvar_site.fail_next(429, retry_after=0.4)

    result = source_for(sikayetvar_site).collect(BRAND, None)

    assert len(result.mentions) == 5
    assert result.stats["backoff"] == 1
    (first, _), (second, again) = [a for a in sikayetvar_site.arrivals if a[1].path != "/robots.txt"][:2]
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


def test_500_is_retried_with_growing_waits_then_the_crawl_succeeds(sikayetvar_site: SikayetvarSite) -> None:
    sikayetvar_site.fail_next(500, times=2, path_prefix="/kuzey-telekom")

    result = source_for(sikayetvar_site, {"backoff": 0.2}).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == KT_IDS
    assert result.stats["retries"] == 2
    tries = [at for at, r in sikayetvar_site.arrivals if r.path == "/kuzey-telekom" and not r.query]
    assert len(tries) == 3
    (a, b), (_, c) = pairwise(tries)
    assert b - a >= 0.2 * 0.9 and c - b >= 0.4 * 0.9  # backoff * 2**n


def test_paging_stops_at_max_pages(sikayetvar_site: SikayetvarSite) -> None:
    result = source_for(sikayetvar_site, {"max_pages": 2}).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == KT_IDS[:4]
    assert sorted(r.query.get("page", ["1"])[0] for r in sikayetvar_site.received("/kuzey-telekom")) == ["1", "2"]


def test_a_failing_complaint_page_keeps_the_preview(sikayetvar_site: SikayetvarSite) -> None:
    sikayetvar_site.fail_next(500, times=10, path_prefix=f"/kuzey-telekom/{MODEM.slug}")

    result = source_for(sikayetvar_site).collect(BRAND, None)

    assert len(result.mentions) == 5
    m = next(m for m in result.mentions if m.external_id == str(MODEM.id))
    assert m.text == BODY
    assert m.payload["full_text"] is False and m.payload["brand_reply"] is None
    assert result.stats["detail_failed"] == 1 and result.stats["detail_pages"] == 4
    assert result.state.last_seen_id == "30202318"  # the list walk was whole: the state moves on


def test_a_complaint_page_no_parser_knows_is_a_counted_failure_that_keeps_the_preview(
    sikayetvar_site: SikayetvarSite,
) -> None:
    sikayetvar_site.malform_next("unknown", path_prefix=f"/kuzey-telekom/{MODEM.slug}")

    result = source_for(sikayetvar_site).collect(BRAND, None)

    m = next(m for m in result.mentions if m.external_id == str(MODEM.id))
    assert (m.text, m.payload["full_text"]) == (BODY, False)
    assert result.stats[PARSE_FAILURES] == 1 and result.stats["detail_empty"] == 1
    assert len(result.mentions) == 5


def test_a_failing_list_page_is_a_source_error(sikayetvar_site: SikayetvarSite) -> None:
    sikayetvar_site.fail_next(503, times=10, path_prefix="/kuzey-telekom")
    with pytest.raises(SourceError) as caught:
        source_for(sikayetvar_site).collect(BRAND, None)
    assert type(caught.value) is SourceError


@pytest.mark.parametrize("mode", ["unknown", "binary"])
def test_a_list_page_no_parser_knows_is_counted_and_the_state_kept(sikayetvar_site: SikayetvarSite, mode: str) -> None:
    source = source_for(sikayetvar_site)
    first = source.collect(BRAND, None)
    sikayetvar_site.add(
        complaint(30203001, "Kuzey Telekom Yeni Fatura", datetime(2026, 11, 23, 11, 2, tzinfo=ISTANBUL))
    )
    sikayetvar_site.malform_next(mode, path_prefix="/kuzey-telekom")

    broken = source.collect(BRAND, first.state)

    assert broken.mentions == []
    assert broken.stats[PARSE_FAILURES] == 1 and broken.stats["list_unparsed"] == 1
    assert broken.state == first.state  # nothing skipped: the next crawl reads the new complaint
    again = source.collect(BRAND, broken.state)
    assert [m.external_id for m in again.mentions] == ["30203001"]


def test_a_truncated_list_page_keeps_what_it_holds_and_the_old_state(sikayetvar_site: SikayetvarSite) -> None:
    sikayetvar_site.malform_next("truncated", path_prefix="/kuzey-telekom")  # page 1: two cards, the video, cut

    result = source_for(sikayetvar_site).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == KT_IDS[:1]  # the card the cut went through is left out
    assert result.stats[PARSE_FAILURES] == 1 and result.stats["list_truncated"] == 1
    assert result.state.last_seen_id is None and result.state.cursor is None
    assert [r.query.get("page") for r in sikayetvar_site.received("/kuzey-telekom")] == [None]  # paging stopped


def test_an_empty_brand_is_no_failure() -> None:
    site = SikayetvarSite([], brands={"kuzey-telekom": "Kuzey Telekom"}, now=NOW, generation="C").start()
    try:
        result = source_for(site).collect(BRAND, None)
    finally:
        site.stop()
    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 0 and result.stats["list_pages"] == 1


def test_generation_a_markup_and_previews_only() -> None:
    site = start_site(generation="A")
    try:
        result = source_for(site, fetch_details=False).collect(BRAND, None)
    finally:
        site.stop()
    assert [m.external_id for m in result.mentions] == KT_IDS
    assert {m.payload["generation"] for m in result.mentions} == {"A"}
    assert all(m.text and not m.payload["full_text"] for m in result.mentions)
    assert complaint_requests(site) == []
    assert result.stats["video_skipped"] == 1


def test_generation_c_list_and_complaint_pages() -> None:
    site = start_site(generation="C")
    try:
        result = source_for(site).collect(BRAND, None)
    finally:
        site.stop()

    assert [m.external_id for m in result.mentions] == [c.slug for c in KT]  # no data-id: the title slug
    m = next(m for m in result.mentions if m.external_id == MODEM.slug)
    assert (m.title, m.text, m.author) == ("Kuzey Telekom Modem Ücreti İade Edilmedi", BODY, "mehmet_y")
    assert m.published_at == datetime(2026, 10, 28, 14, 5, tzinfo=ISTANBUL)  # from the aria-label
    assert m.payload["brand_reply"] == REPLY and REPLY not in m.text
    assert (m.payload["resolved"], m.payload["rating"], m.payload["generation"]) == (True, 5, "C")
    assert (m.payload["views"], m.payload["upvotes"], m.payload["tags"]) == (1840, 23, ["modem iadesi", "iade"])
    assert result.stats[PARSE_FAILURES] == 0 and result.stats["video_skipped"] == 1
    assert result.state.last_seen_id is None
    assert result.state.last_seen_at == datetime(2026, 11, 21, 23, 48, tzinfo=ISTANBUL)
    assert cursor_of(result.state)["seen"] == [c.slug for c in KT]


def test_generation_c_stops_at_the_slugs_it_has_seen() -> None:
    site = start_site(generation="C")
    try:
        source = source_for(site)
        first = source.collect(BRAND, None)
        asked = len(site.received())
        second = source.collect(BRAND, first.state)
        assert second.mentions == [] and second.stats["known"] >= 1
        assert [(r.path, dict(r.query)) for r in pages(site, asked)] == [("/kuzey-telekom", {})]

        fresh = complaint(30203001, "Kuzey Telekom Yeni Fatura Hatası", datetime(2026, 11, 23, 11, 2, tzinfo=ISTANBUL))
        site.add(fresh)
        third = source.collect(BRAND, second.state)
    finally:
        site.stop()
    assert [m.external_id for m in third.mentions] == [fresh.slug]
    assert cursor_of(third.state)["seen"] == [fresh.slug] + [c.slug for c in KT]


def test_a_windows_1254_site_keeps_its_turkish_letters() -> None:
    site = start_site(charset="windows-1254")
    try:
        result = source_for(site).collect(BRAND, None)
        with urlopen(f"{site.url}/kuzey-telekom/{MODEM.slug}") as response:
            content_type, raw = response.headers["Content-Type"], response.read()
    finally:
        site.stop()
    assert content_type == "text/html; charset=windows-1254" and b'<meta charset="windows-1254">' in raw
    assert "Ücreti İade".encode("cp1254") in raw and "Ücreti İade".encode() not in raw
    titles = {m.title for m in result.mentions}
    assert "Kuzey Telekom Yılbaşında İnternet Kesildi" in titles
    assert "Kuzey Telekom Mobil Veri Çekmiyor" in titles
    m = next(m for m in result.mentions if m.external_id == str(MODEM.id))
    assert m.text == BODY and m.payload["brand_reply"] == REPLY
    assert m.payload["tags"] == ["modem iadesi", "iade"]


def test_sub_topic_lists_are_walked_too(sikayetvar_site: SikayetvarSite) -> None:
    source = source_for(sikayetvar_site, {"max_pages": 1}, topics={"Kuzey Telekom": ("fatura",)})

    first = source.collect(BRAND, None)

    # the brand list's first page holds the two newest; the topic list adds the older 30200410
    assert [m.external_id for m in first.mentions] == [KT_IDS[0], KT_IDS[1], "30200410"]
    assert first.stats["duplicate"] == 1  # 30202318 is on both lists, read once
    assert {r.headers.get("referer") for r in sikayetvar_site.received() if "fatura-iki" in r.path} == {
        f"{sikayetvar_site.url}/kuzey-telekom/fatura"
    }
    asked = len(sikayetvar_site.received())
    topical = complaint(30203002, "Kuzey Telekom Fatura Yine Yanlış", NOW, topic="fatura")
    sikayetvar_site.add(topical)
    second = source.collect(BRAND, first.state)
    assert [m.external_id for m in second.mentions] == ["30203002"]
    assert sorted(r.path for r in pages(sikayetvar_site, asked)) == [
        "/kuzey-telekom",
        "/kuzey-telekom/fatura",
        f"/kuzey-telekom/{topical.slug}",
    ]


def test_waits_between_list_pages_and_between_complaint_pages(sikayetvar_site: SikayetvarSite) -> None:
    source_for(sikayetvar_site, list_delay=(0.3, 0.3), page_delay=(0.1, 0.1)).collect(BRAND, None)

    arrivals = [a for a in sikayetvar_site.arrivals if a[1].path != "/robots.txt"]
    for (before, _), (at, request) in pairwise(arrivals):
        wanted = 0.1 if request.path.count("/") == 2 else 0.3
        assert at - before >= wanted * 0.9, request.path


def settings_with(**options: Any) -> Settings:
    brands = (BrandSettings(name="Kuzey Telekom"), BrandSettings(name="Mavi Kargo"))
    return Settings(brands=brands, sources=(SourceSettings(name="sv", type="sikayetvar", options=options),))


def test_from_settings_reads_the_options() -> None:
    assert SOURCES["sikayetvar"] is SikayetvarSource
    settings = settings_with(slugs={"Kuzey Telekom": "kuzey-telekom-tr"}, topics={"Kuzey Telekom": ["fatura"]})
    source = SikayetvarSource.from_settings(settings.sources[0], settings)

    assert (source.name, source.config.base_url, source.config.max_pages) == ("sv", "https://www.sikayetvar.com", 3)
    assert source.options.slugs == {"Kuzey Telekom": "kuzey-telekom-tr"}
    assert source.options.topics == {"Kuzey Telekom": ("fatura",)}
    assert (source.options.list_delay, source.options.page_delay) == ((2.0, 3.5), (1.2, 2.2))
    assert source.options.backoff == (45.0, 75.0) and source.options.fetch_details is True
    assert source.slug_of(BRAND) == "kuzey-telekom-tr"
    assert source.slug_of(Brand("Mavi Kargo")) == "mavi-kargo"  # not listed: slugified as the site does
    assert site_slug("Şişecam Ağrı İlaç A.Ş.") == slugify("Şişecam Ağrı İlaç A.Ş.") == "sisecam-agri-ilac-a-s"
    assert source.watches(Brand("Mavi Kargo"))
    settings = replace(settings, sources=(replace(settings.sources[0], brands=("Kuzey Telekom",)),))
    assert not SikayetvarSource.from_settings(settings.sources[0], settings).watches(Brand("Mavi Kargo"))


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"slug": {"Kuzey Telekom": "kuzey-telekom"}}, "sources[0].slug"),
        ({"slugs": {"Deniz GSM": "deniz-gsm"}}, "sources[0].slugs"),
        ({"topics": {"Kuzey Telekom": "fatura"}}, "sources[0].topics.Kuzey Telekom"),
        ({"list_delay": [2.0]}, "sources[0].list_delay"),
    ],
)
def test_from_settings_rejects_what_it_does_not_know(options: dict[str, Any], key: str) -> None:
    settings = settings_with(**options)
    with pytest.raises(ConfigError) as caught:
        SikayetvarSource.from_settings(settings.sources[0], settings)
    assert caught.value.key == key


def test_a_disabled_source_is_off() -> None:
    settings = settings_with()
    settings = replace(settings, sources=(replace(settings.sources[0], enabled=False),))
    with pytest.raises(NotConfigured, match="enabled"):
        SikayetvarSource.from_settings(settings.sources[0], settings)


def test_run_spider_reports_what_went_wrong_as_source_errors() -> None:
    started = time.monotonic()
    run = run_spider(SikayetvarSpider, kwargs={"lists": ("http://127.0.0.1:9/x",)}, timeout=0.2)
    assert isinstance(run.error, SourceError) and "timed out" in str(run.error)
    assert time.monotonic() - started < 10

    missing = run_spider("crawlers.no_such_module.Spider", timeout=60)
    assert type(missing.error) is SourceError and "ModuleNotFoundError" in str(missing.error)
    with pytest.raises(SourceError):
        missing.raise_for_error()
