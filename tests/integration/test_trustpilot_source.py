"""TrustpilotSource against the local stand-in site: real Scrapy in a child process, real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from config.settings import BrandSettings, Settings, SourceSettings
from crawlers.base import FAILED, FETCHED, PARSE_FAILURES, REQUESTS, SOURCES, SourceConfig, cursor_of
from crawlers.trustpilot import TrustpilotSource
from loopback.server import Recorded, Reply
from loopback.trustpilot import TrustpilotSite, page_markup, review_json
from store.errors import ConfigError, SourceBlocked
from store.model import Brand, CrawlState

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DOMAIN = "kuzeytelekom.com.tr"
BRAND = Brand("Kuzey Telekom")
AGENT = "Kulak/test (+https://example.org/kulak)"
REPLY = "Merhaba Zeynep Hanım, yaşadığınız sorun için üzgünüz. Bize DM üzerinden ulaşabilir misiniz?"


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


REVIEWS = [
    review_json("6741a0000000000000000005", "Fiber internetim üç gündür kesik, kimse aramadı.", at(22), rating=1),
    review_json(
        "6741a0000000000000000004",
        "Faturama   izinsiz\n\npaket eklenmiş &amp; iptal ettiremiyorum.",
        at(21),
        title="İzinsiz ücret",
        rating=2,
        author="Zeynep Şahin",
        reply=REPLY,
    ),
    review_json("6741a0000000000000000003", "Mağazadaki çalışan çok ilgiliydi, teşekkürler.", at(19), rating=5),
    review_json("6741a0000000000000000002", "Modem iadesi için ödeme iki kez çekildi.", at(15), rating=1),
    review_json("6741a0000000000000000001", "Çekim gücü Ağrı'da çok zayıf.", at(10), rating=2),
]
IDS = [r["id"] for r in REVIEWS]


@pytest.fixture
def site() -> Iterator[TrustpilotSite]:
    with TrustpilotSite({DOMAIN: REVIEWS}, page_size=2) as server:
        yield server


def source_for(site: TrustpilotSite, languages: tuple[str, ...] = (), **config: Any) -> TrustpilotSource:
    settings: dict[str, Any] = {"name": "tp", "base_url": site.url, "backoff": 0.05, "user_agent": AGENT, **config}
    options = TrustpilotSource.Options(domains={"Kuzey Telekom": DOMAIN}, languages=languages)
    return TrustpilotSource(SourceConfig(**settings), options, now=lambda: NOW, crawl_timeout=60)


def test_registered_and_built_from_settings() -> None:
    assert SOURCES["trustpilot"] is TrustpilotSource
    brands = (BrandSettings(name="Kuzey Telekom"),)

    def settings(**options: Any) -> Settings:
        return Settings(brands=brands, sources=(SourceSettings(name="tp", type="trustpilot", options=options),))

    conf = settings(domains={"Kuzey Telekom": DOMAIN}, languages=["tr"])
    source = TrustpilotSource.from_settings(conf.sources[0], conf)
    assert source.options == TrustpilotSource.Options(domains={"Kuzey Telekom": DOMAIN}, languages=("tr",))
    assert source.config.base_url == "https://www.trustpilot.com"
    assert source.watches(BRAND) and not source.watches(Brand("Mavi Kargo"))
    for wrong in ({"domain": {"Kuzey Telekom": DOMAIN}}, {"domains": {"Deniz GSM": "denizgsm.com.tr"}}):
        with pytest.raises(ConfigError):
            bad = settings(**wrong)
            TrustpilotSource.from_settings(bad.sources[0], bad)


def test_first_crawl_pages_through_every_review(site: TrustpilotSite) -> None:
    result = source_for(site).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS
    m = result.mentions[1]
    assert (m.source, m.brand, m.language, m.author) == ("trustpilot", "Kuzey Telekom", "tr", "Zeynep Şahin")
    assert (m.title, m.text) == ("İzinsiz ücret", "Faturama izinsiz paket eklenmiş & iptal ettiremiyorum.")
    assert m.url == f"{site.url}/reviews/6741a0000000000000000004"
    assert m.published_at == at(21) and m.fetched_at == NOW
    assert m.payload == {"source_name": "tp", "domain": DOMAIN, "rating": 2, "country": "TR", "reply": REPLY}
    assert result.state.last_seen_id == IDS[0] and result.state.last_seen_at == at(22)
    assert cursor_of(result.state)["seen"] == IDS
    assert result.stats[FETCHED] == 5 and result.stats[REQUESTS] == 4  # robots.txt and three pages

    assert site.received()[0].path == "/robots.txt"
    assert site.review_pages() == [(f"/review/{DOMAIN}", {"page": [str(n)], "sort": ["recency"]}) for n in (1, 2, 3)]
    assert {r.headers["user-agent"] for r in site.received()} == {AGENT}
    assert {r.headers["accept-language"] for r in site.received() if r.path.startswith("/review/")} == {
        "tr-TR,tr;q=0.9"
    }


def test_max_pages_caps_the_first_crawl(site: TrustpilotSite) -> None:
    result = source_for(site, max_pages=2).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS[:4]
    assert [q["page"] for _, q in site.review_pages()] == [["1"], ["2"]]
    assert result.state.last_seen_id == IDS[0]


def test_the_next_crawl_stops_at_a_review_seen_before(site: TrustpilotSite) -> None:
    source = source_for(site)
    first = source.collect(BRAND, None)
    asked = len(site.review_pages())

    second = source.collect(BRAND, first.state)

    assert second.mentions == [] and second.stats["known"] == 1
    assert len(site.review_pages()) == asked + 1
    assert cursor_of(second.state)["seen"] == IDS

    site.add(DOMAIN, review_json("6741a0000000000000000006", "Numara taşıma hâlâ bitmedi!", at(23, 8)))
    third = source.collect(BRAND, second.state)

    assert [m.external_id for m in third.mentions] == ["6741a0000000000000000006"]
    assert len(site.review_pages()) == asked + 2
    assert cursor_of(third.state)["seen"][:2] == ["6741a0000000000000000006", IDS[0]]
    assert third.state.last_seen_at == at(23, 8)


def test_reviews_older_than_the_last_seen_date_also_stop_the_walk(site: TrustpilotSite) -> None:
    forgetful = CrawlState(source="tp", brand=BRAND.name, last_seen_at=at(20))  # a cursor lost, a date kept

    again = source_for(site).collect(BRAND, forgetful)

    assert [m.external_id for m in again.mentions] == IDS[:2]
    assert again.stats["known"] == 1 and again.state.last_seen_at == at(22)


def test_429_waits_for_retry_after_then_goes_on(site: TrustpilotSite) -> None:
    site.fail_next(429, retry_after=0.4)

    result = source_for(site).collect(BRAND, None)

    assert len(result.mentions) == 5
    pages = [(t, r) for t, r in site.arrivals if r.path.startswith("/review/")]
    assert pages[0][1].query == pages[1][1].query  # the same page, asked again
    assert pages[1][0] - pages[0][0] >= 0.35


def test_500_then_success(site: TrustpilotSite) -> None:
    site.fail_next(500)

    result = source_for(site).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS
    assert [q["page"] for _, q in site.review_pages()] == [["1"], ["1"], ["2"], ["3"]]


def test_a_page_without_review_json_is_counted_and_earlier_pages_kept(site: TrustpilotSite) -> None:
    site.pages[(DOMAIN, 2)] = Reply.html("<html><body><h1>Bakım çalışması</h1></body></html>")
    before = CrawlState(source="tp", brand=BRAND.name, last_seen_at=at(1))

    result = source_for(site).collect(BRAND, before)

    assert [m.external_id for m in result.mentions] == IDS[:2]
    assert result.stats[PARSE_FAILURES] == 1
    assert result.state == before  # the walk did not finish: read it all again next time


def test_a_first_page_that_is_not_json_still_returns_a_result(site: TrustpilotSite) -> None:
    broken = '<script id="__NEXT_DATA__" type="application/json">{"props": {"pageProps": {"revie'
    site.pages[(DOMAIN, 1)] = Reply.html(broken)

    result = source_for(site).collect(BRAND, None)

    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1
    assert result.state.cursor is None and result.state.last_seen_at is None


def test_a_page_over_the_size_cap_is_a_counted_parse_failure(site: TrustpilotSite) -> None:
    result = source_for(site, max_bytes=1500).collect(BRAND, None)

    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1


def test_a_later_page_that_keeps_failing_keeps_what_was_read(site: TrustpilotSite) -> None:
    site.pages[(DOMAIN, 2)] = Reply(503, b"<h1>Service Unavailable</h1>", {"Content-Type": "text/html"})

    result = source_for(site, retries=1).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS[:2]
    assert result.stats[FAILED] == 1 and result.state.cursor is None


def test_a_windows_1254_page_keeps_turkish_letters() -> None:
    row = review_json("6741a0000000000000000010", "Ağır şikâyet: İnternet ışık hızında değil, çöktü.", at(22))
    with TrustpilotSite({DOMAIN: [row]}, charset="windows-1254") as site:
        raw = site.handle(Recorded("GET", f"/review/{DOMAIN}", {"page": ["1"]}, {}, b""))
        assert "ğ".encode("windows-1254") in raw.body and "ğ".encode() not in raw.body
        result = source_for(site).collect(BRAND, None)

    assert [m.text for m in result.mentions] == ["Ağır şikâyet: İnternet ışık hızında değil, çöktü."]


def test_a_review_missing_a_field_is_skipped_and_counted(site: TrustpilotSite) -> None:
    broken = review_json("6741a0000000000000000009", "Tarihsiz yorum.", at(22, 18))
    del broken["dates"]
    site.pages[(DOMAIN, 1)] = Reply.html(
        page_markup(DOMAIN, {"props": {"pageProps": {"reviews": [broken, *REVIEWS[:2]]}}})
    )

    result = source_for(site, max_pages=1).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS[:2]
    assert result.stats[PARSE_FAILURES] == 1 and result.stats[FETCHED] == 3


def test_languages_keep_only_the_asked_ones_but_remember_all() -> None:
    english = review_json("6741a0000000000000000011", "Roaming was a nightmare.", at(22, 20), language="en")
    with TrustpilotSite({DOMAIN: [english, *REVIEWS[:2]]}) as site:
        result = source_for(site, languages=("tr",)).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS[:2]
    assert result.stats["other_language"] == 1
    assert cursor_of(result.state)["seen"][0] == "6741a0000000000000000011"


@pytest.mark.parametrize("blocker", ["robots", "403"])
def test_robots_disallow_and_403_mean_blocked(blocker: str) -> None:
    robots = "User-agent: *\nDisallow: /review/\n" if blocker == "robots" else "User-agent: *\nAllow: /\n"
    with TrustpilotSite({DOMAIN: REVIEWS}, robots=robots) as site:
        if blocker == "403":
            site.fail_next(403)
        with pytest.raises(SourceBlocked):
            source_for(site).collect(BRAND, None)
        assert site.review_pages() == ([] if blocker == "robots" else [(f"/review/{DOMAIN}", _page(1))])


def _page(n: int) -> dict[str, list[str]]:
    return {"page": [str(n)], "sort": ["recency"]}
