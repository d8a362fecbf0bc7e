"""EksiSozlukSource against the local stand-in site: real Scrapy in a child process, real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from config.settings import BrandSettings, Settings, SourceSettings
from crawlers.base import FAILED, FETCHED, PARSE_FAILURES, REQUESTS, SOURCES, SourceConfig, cursor_of
from crawlers.eksisozluk import EksiSozlukOptions, EksiSozlukSource
from crawlers.turkish_dates import ISTANBUL
from loopback.eksisozluk import EksiSozlukSite, SampleEntry, SampleTopic
from store.errors import ConfigError, NotConfigured, SourceBlocked, SourceError, SourceRateLimited
from store.model import Brand, CrawlState

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=ISTANBUL)
KT, MK, DG = Brand("Kuzey Telekom"), Brand("Mavi Kargo"), Brand("Deniz GSM")
MAIN, SIDE, CARGO = "kuzey-telekom--123456", "kuzey-telekom-fatura-iadesi--123789", "mavi-kargo--7001002"
AGENT = "Kulak/0.2 (social-care listener; +https://example.org/kulak-test)"
WORDS = [
    "kuzey telekom'un müşteri hizmetleri 40 dakika beklettikten sonra telefonu yüzüme kapattı.",
    'akşam 9\'dan sonra &quot;fiber&quot; olmaktan çıkıyor. (bkz: <a class="b" href="/?q=deniz+gsm">deniz gsm</a>)',
    "taahhüt bitince fatura 2 katına çıktı, aradım; &quot;kampanya bitti&quot; dediler.<br/>\n  iptal ettim.",
    "modem iadesi için şubeye gittim, ıslak imzalı dilekçe istediler. 2026'da!",
    "İstanbul'da çekim gücü fena değil ama Şırnak'ta sinyal yok.",
    "numara taşıma 3 gün sürdü, bu sürede hattım tamamen kapalıydı.",
    "dün gece yaşanan kesinti için özür mesajı attılar, 5 GB hediye etmişler. güzel jest.",
    "çağrı merkezindeki genç arkadaş sorunu 5 dakikada çözdü, hakkını yemeyeyim.",
    "ödeme sayfası &amp; uygulama ikisi birden çöktü, faturayı ödeyemedim.",
    "yeni tarifeler açıklandı, öğrenci paketi kalkmış. üzücü.",
]


def entry(n: int, topic_base: int = 171_200_000, **extra: Any) -> SampleEntry:
    when = datetime(2026, 11, 1, 9, 30, tzinfo=ISTANBUL) + timedelta(hours=7 * n)
    fields: dict[str, Any] = {"author": f"yazar_{n}", "favorites": n % 4, "author_id": 5000 + n, **extra}
    return SampleEntry(topic_base + n, content=WORDS[(n - 1) % len(WORDS)], published_at=when, **fields)


def topics() -> list[SampleTopic]:
    main = [entry(n) for n in range(1, 8)]
    main[1] = replace(main[1], author="ışıl_ğüneş", edited_at=main[1].published_at + timedelta(minutes=26))
    main[2] = replace(main[2], edited_at=main[2].published_at + timedelta(days=2, hours=1))
    return [
        SampleTopic(123456, "kuzey-telekom", "kuzey telekom", main),
        SampleTopic(123789, "kuzey-telekom-fatura-iadesi", "kuzey telekom fatura iadesi", [entry(n) for n in (8, 9)]),
        SampleTopic(7001002, "mavi-kargo", "mavi kargo", [entry(n, 171_300_000) for n in (1, 2, 3)]),
    ]


@pytest.fixture
def site() -> Iterator[EksiSozlukSite]:
    with EksiSozlukSite(topics(), page_size=3) as server:
        yield server


def source_for(site: EksiSozlukSite, search: bool = True, **config: Any) -> EksiSozlukSource:
    settings: dict[str, Any] = {"retries": 2, "backoff": 0.05, "timeout": 10.0, "user_agent": AGENT, **config}
    options = EksiSozlukOptions(topics={"Kuzey Telekom": (MAIN, "/" + SIDE)}, search=search)
    return EksiSozlukSource(SourceConfig(name="eksi", base_url=site.url, **settings), options, now=lambda: NOW)


def ids(result: Any) -> list[int]:
    return [int(m.external_id) for m in result.mentions]


def test_the_first_crawl_walks_each_topic_from_its_last_page_back(site: EksiSozlukSite) -> None:
    result = source_for(site).collect(KT, None)

    assert ids(result) == [171_200_009, 171_200_008, *range(171_200_007, 171_200_000, -1)]
    assert site.topic_requests(MAIN) == [1, 3, 2]  # the pager says 3 pages; page 1 is already in hand
    assert site.topic_requests(SIDE) == [1]
    edited = next(m for m in result.mentions if m.external_id == "171200002")
    assert (edited.source, edited.brand, edited.language) == ("eksisozluk", "Kuzey Telekom", "tr")
    assert edited.url == f"{site.url}/entry/171200002"
    assert edited.title == "kuzey telekom"
    assert edited.text == 'akşam 9\'dan sonra "fiber" olmaktan çıkıyor. (bkz: deniz gsm)'
    assert (edited.author, edited.author_handle) == ("ışıl_ğüneş", "ışıl_ğüneş")
    assert edited.published_at == datetime(2026, 11, 1, 23, 30, tzinfo=ISTANBUL)
    assert edited.fetched_at == NOW
    edited_at = "2026-11-01T23:56:00+03:00"  # shown as "~ 23:56": the day of the original
    assert edited.payload == {"favorites": 2, "topic_id": 123456, "edited_at": edited_at, "source_name": "eksi"}
    later = next(m for m in result.mentions if m.external_id == "171200003")
    assert later.text == 'taahhüt bitince fatura 2 katına çıktı, aradım; "kampanya bitti" dediler. iptal ettim.'
    assert later.payload["edited_at"] == "2026-11-04T07:30:00+03:00"
    assert later.published_at == datetime(2026, 11, 2, 6, 30, tzinfo=ISTANBUL)
    marks = cursor_of(result.state)["topics"]
    assert marks == {MAIN: {"last_id": 171_200_007, "page": 3}, SIDE: {"last_id": 171_200_009, "page": 1}}
    assert result.state.last_seen_id == "171200009"
    assert (result.stats[FETCHED], result.stats[REQUESTS], result.stats[PARSE_FAILURES]) == (9, 5, 0)

    requests = site.received()
    assert requests[0].path == "/robots.txt" and len(site.received("/robots.txt")) == 1
    assert {r.headers.get("user-agent") for r in requests} == {AGENT}
    assert {r.headers.get("accept-language", "")[:5] for r in requests if r.path != "/robots.txt"} == {"tr-TR"}
    assert not site.received("/")  # brands with topics are not searched


def test_the_next_crawl_costs_one_request_per_topic_then_finds_what_is_new(site: EksiSozlukSite) -> None:
    source = source_for(site)
    first = source.collect(KT, None)
    before = {MAIN: len(site.topic_requests(MAIN)), SIDE: len(site.topic_requests(SIDE))}

    second = source.collect(KT, first.state)

    assert second.mentions == [] and second.stats["known"] == 3 and second.stats["new"] == 0
    assert site.topic_requests(MAIN)[before[MAIN] :] == [3]  # the last page it knew: one request
    assert site.topic_requests(SIDE)[before[SIDE] :] == [1]
    assert cursor_of(second.state) == cursor_of(first.state)

    for n in (10, 11, 12):  # page 3 fills up and a page 4 appears
        site.add(MAIN, entry(n))
    third = source.collect(KT, second.state)

    assert ids(third) == [171_200_012, 171_200_011, 171_200_010]
    assert site.topic_requests(MAIN)[before[MAIN] + 1 :] == [3, 4]
    assert cursor_of(third.state)["topics"][MAIN] == {"last_id": 171_200_012, "page": 4}
    newest_at = datetime(2026, 11, 4, 21, 30, tzinfo=ISTANBUL)
    assert (third.state.last_seen_id, third.state.last_seen_at) == ("171200012", newest_at)


def test_the_first_crawl_reads_at_most_max_pages(site: EksiSozlukSite) -> None:
    for n in range(10, 17):
        site.add(MAIN, entry(n))  # 14 entries: 5 pages
    result = source_for(site, max_pages=3).collect(KT, None)

    assert site.topic_requests(MAIN) == [1, 5, 4]
    assert [i for i in ids(result) if i < 171_200_008 or i > 171_200_009] == list(range(171_200_016, 171_200_011, -1))
    assert result.stats["max_pages"] == 1
    assert cursor_of(result.state)["topics"][MAIN] == {"last_id": 171_200_016, "page": 5}


def test_a_brand_without_topics_is_searched_and_the_redirect_followed(site: EksiSozlukSite) -> None:
    source = source_for(site)
    result = source.collect(MK, None)

    assert ids(result) == [171_300_003, 171_300_002, 171_300_001]
    assert result.mentions[0].title == "mavi kargo" and result.mentions[0].payload["topic_id"] == 7001002
    assert [r.query for r in site.received("/")] == [{"q": ["Mavi Kargo"]}]  # plain_query(brand)
    assert site.topic_requests(CARGO) == [1]
    marks = {"search": {"Mavi Kargo": CARGO}, "topics": {CARGO: {"last_id": 171_300_003, "page": 1}}}
    assert cursor_of(result.state) == marks

    again = source.collect(MK, result.state)  # the topic is remembered: no second search
    assert again.mentions == [] and len(site.received("/")) == 1 and site.topic_requests(CARGO) == [1, 1]


def test_a_search_without_a_topic_is_counted_not_failed(site: EksiSozlukSite) -> None:
    result = source_for(site).collect(DG, None)

    assert result.mentions == []
    assert result.stats["no_topic"] == 1 and result.stats[PARSE_FAILURES] == 0
    assert [r.query for r in site.received("/")] == [{"q": ["Deniz GSM"]}]
    assert cursor_of(result.state) == {"search": {}, "topics": {}}

    source = source_for(site, search=False)  # no topics and no search: nothing to crawl
    assert source.watches(KT) and not source.watches(MK)
    with pytest.raises(NotConfigured, match="Mavi Kargo"):
        source.collect(MK, None)


@pytest.mark.parametrize(
    ("status", "retry_after", "stat", "wait"),
    [(429, 0.5, "backoff", 0.45), (500, None, "retries", 0.045)],  # Retry-After; else backoff 0.05 s x 1-1.5
)
def test_429_and_500_are_waited_out_then_the_crawl_goes_on(
    site: EksiSozlukSite, status: int, retry_after: float | None, stat: str, wait: float
) -> None:
    site.fail_next(status, retry_after=retry_after, path=MAIN, page=3)

    result = source_for(site).collect(KT, None)

    assert len(result.mentions) == 9 and result.stats[stat] == 1
    assert site.topic_requests(MAIN) == [1, 3, 3, 2]
    (refused, _), (retried, _) = [(t, r) for t, r in site.arrivals if r.path == f"/{MAIN}"][1:3]
    assert retried - refused >= wait


def test_a_first_page_that_keeps_failing_is_a_source_error(site: EksiSozlukSite) -> None:
    site.fail_next(503, times=10, path=MAIN, page=1)
    with pytest.raises(SourceError) as caught:
        source_for(site).collect(KT, None)
    assert type(caught.value) is SourceError and "503" in str(caught.value)


@pytest.mark.parametrize(("trouble", "times", "stat"), [(500, 3, FAILED), ("malformed", 1, PARSE_FAILURES)])
def test_a_later_page_that_fails_keeps_what_was_read_and_the_old_mark(
    site: EksiSozlukSite, trouble: int | str, times: int, stat: str
) -> None:
    source = source_for(site)
    site.fail_next(trouble, times=times, path=MAIN, page=2)  # 500: the first try and two retries

    partial = source.collect(KT, CrawlState(source="eksi", brand="Kuzey Telekom"))

    assert ids(partial) == [171_200_009, 171_200_008, 171_200_007]  # page 3 and the other topic kept
    assert partial.stats[stat] == 1
    assert set(cursor_of(partial.state)["topics"]) == {SIDE}  # the walk did not finish: read it again next time

    healed = source.collect(KT, partial.state)
    assert ids(healed) == list(range(171_200_007, 171_200_000, -1))  # the store drops the one read twice


@pytest.mark.parametrize("trouble", ["malformed", "huge"])
def test_a_first_page_nobody_can_read_still_returns_a_result(site: EksiSozlukSite, trouble: str) -> None:
    site.fail_next(trouble, path=CARGO)
    old = CrawlState(source="eksi", brand="Mavi Kargo", cursor='{"search": {"Mavi Kargo": "mavi-kargo--7001002"}}')

    result = source_for(site, max_bytes=100_000).collect(MK, old)

    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1
    assert cursor_of(result.state) == {"search": {"Mavi Kargo": CARGO}, "topics": {}}
    assert result.state.last_seen_id is None


def test_one_entry_missing_a_field_is_counted_and_skipped(site: EksiSozlukSite) -> None:
    site.add(SIDE, replace(entry(20), omit=("date",)))
    site.add(SIDE, replace(entry(21), omit=("id",)))

    result = source_for(site).collect(KT, None)

    assert result.stats[PARSE_FAILURES] == 2 and len(result.mentions) == 9


def test_a_windows_1254_page_keeps_its_turkish_letters() -> None:
    with EksiSozlukSite(topics(), page_size=3, charset="windows-1254") as site:
        result = source_for(site).collect(KT, None)
    assert len(result.mentions) == 9
    texts = {m.external_id: m.text for m in result.mentions}
    assert texts["171200005"] == "İstanbul'da çekim gücü fena değil ama Şırnak'ta sinyal yok."
    assert texts["171200009"] == "ödeme sayfası & uygulama ikisi birden çöktü, faturayı ödeyemedim."
    assert next(m.author for m in result.mentions if m.external_id == "171200002") == "ışıl_ğüneş"


def test_403_blocks_a_long_retry_after_rate_limits_and_robots_txt_is_obeyed(site: EksiSozlukSite) -> None:
    site.fail_next(403, path=MAIN)
    with pytest.raises(SourceBlocked, match="403"):
        source_for(site).collect(KT, None)
    site.fail_next(429, times=5, retry_after=900, path=MAIN)
    with pytest.raises(SourceRateLimited) as caught:
        source_for(site, max_wait=60.0).collect(KT, None)
    assert caught.value.retry_after == 900

    with EksiSozlukSite(topics(), robots="User-agent: *\nDisallow: /\n") as closed:
        with pytest.raises(SourceBlocked, match=r"robots\.txt"):
            source_for(closed).collect(KT, None)
        assert [r.path for r in closed.received()] == ["/robots.txt"]


def test_a_topic_that_is_gone_is_counted_and_the_others_read(site: EksiSozlukSite) -> None:
    options = EksiSozlukOptions(topics={"Kuzey Telekom": ("silinmis-baslik--999", MAIN)})
    config = SourceConfig(name="eksi", base_url=site.url, retries=0, user_agent=AGENT)
    result = EksiSozlukSource(config, options, now=lambda: NOW).collect(KT, None)

    assert result.stats["topic_missing"] == 1 and len(result.mentions) == 7
    assert set(cursor_of(result.state)["topics"]) == {MAIN}


def test_requests_are_spaced_by_the_configured_delay(site: EksiSozlukSite) -> None:
    source = source_for(site, delay=(0.4, 0.4))
    settings = source.scrapy_settings()
    assert (settings["DOWNLOAD_DELAY"], settings["USER_AGENT"]) == (0.4, AGENT)
    assert settings["KULAK_ROBOTS_TXT"] is not None  # read (or taken from the cache) before the crawl

    source.collect(KT, None)

    pages = [t for t, r in site.arrivals if r.path != "/robots.txt"]
    assert len(pages) == 4
    assert all(later - earlier >= 0.19 for earlier, later in pairwise(pages))  # 0.5-1.5 x the delay


def test_registered_and_built_from_settings() -> None:
    assert SOURCES["eksisozluk"] is EksiSozlukSource

    def settings(**options: Any) -> Settings:
        conf = SourceSettings(name="eksi", type="eksisozluk", options=options)
        return Settings(brands=(BrandSettings(name="Kuzey Telekom"),), sources=(conf,))

    built = settings(topics={"Kuzey Telekom": ["kuzey-telekom--123456"]}, search=False)
    source = EksiSozlukSource.from_settings(built.sources[0], built)
    assert source.options == EksiSozlukOptions(topics={"Kuzey Telekom": (MAIN,)}, search=False)
    assert source.config.base_url == "https://eksisozluk.com" and source.name == "eksi"
    assert EksiSozlukSource.from_settings(settings().sources[0], settings()).options.search is True

    wrongs: list[tuple[dict[str, Any], str]] = [
        ({"topcis": {}}, "topcis"),
        ({"topics": {"Kuzey Telekomm": ["kuzey-telekom--123456"]}}, "Kuzey Telekomm"),
        ({"search": "evet"}, "true or false"),
        ({"topics": {"Kuzey Telekom": ["https://eksisozluk.com/entry/171200045"]}}, "kuzey-telekom--123456"),
    ]
    for wrong, match in wrongs:
        with pytest.raises(ConfigError, match=match):
            EksiSozlukSource.from_settings(settings(**wrong).sources[0], settings(**wrong))

    off = Settings(sources=(SourceSettings(name="eksi", type="eksisozluk", enabled=False),))
    with pytest.raises(NotConfigured, match="enabled"):
        EksiSozlukSource.from_settings(off.sources[0], off)
