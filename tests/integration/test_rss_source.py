"""RssSource against the local news stand-in: real httpx, real HTTP on 127.0.0.1, conditional GETs and failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from config.settings import BrandSettings, Settings, SourceSettings
from crawlers.base import FAILED, FETCHED, NOT_MODIFIED, PARSE_FAILURES, REQUESTS, SOURCES, SourceConfig, cursor_of
from crawlers.queries import boolean_query
from crawlers.rss import RssSource
from loopback.news import NewsItem, NewsSite
from loopback.server import Reply
from store.errors import ConfigError, SourceBlocked, SourceError
from store.model import Brand

KUZEY = Brand("Kuzey Telekom", aliases=("Kuzey Telekom", "KuzeyTel"), handles=("@kuzeytelekom",))
MAVI = Brand("Mavi Kargo")
DENIZ = Brand("Deniz GSM")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AGENT = "KulakTest/1.0 (+https://kulak.example)"


def story(n: int, title: str, minutes_ago: int = 0, **extra: str | None) -> NewsItem:
    fields: dict[str, str | None] = {
        "link": f"https://news.google.com/rss/articles/CBMi{n:04d}?oc=5",
        "guid": f"CBMi{n:04d}",
        "source": "Ekonomi Gündem",
        "source_url": "https://ekonomigundem.example",
        **extra,
    }
    return NewsItem(title, published=T0 - timedelta(minutes=minutes_ago), **fields)  # type: ignore[arg-type]


STORIES = [
    story(1, "Kuzey Telekom'da fatura krizi: abonelere çift ödeme", 10),
    story(2, "KuzeyTel müşteri hizmetlerine ulaşılamıyor", 30, source="Şehir Postası"),
    story(3, "Mavi Kargo şubesinde uzun kuyruk", 20),
    story(4, "Kuzey Telekom İzmir'de arıza giderildi", 50),
]


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with NewsSite(STORIES) as server:
        yield server


def make(site: NewsSite, waits: Waits | None = None, **options: object) -> RssSource:
    config = SourceConfig(name="haberler", base_url=site.url, user_agent=AGENT, retries=2, backoff=1.0)
    return RssSource(config, RssSource.Options(**options), sleep=Waits() if waits is None else waits, now=lambda: T0)  # type: ignore[arg-type]


def test_registered_and_built_from_settings() -> None:
    assert SOURCES["rss"] is RssSource
    conf = SourceSettings(
        name="haberler",
        type="rss",
        options={"feeds": {"Kuzey Telekom": ["https://blog.example/feed"]}, "google_news": False, "hl": "en"},
    )
    settings = Settings(brands=(BrandSettings(name="Kuzey Telekom"),), sources=(conf,))
    source = RssSource.from_settings(conf, settings)
    assert source.options.feeds == {"Kuzey Telekom": ("https://blog.example/feed",)}
    assert (source.options.google_news, source.options.hl, source.config.base_url) == (
        False,
        "en",
        "https://news.google.com",
    )
    assert source.watches(KUZEY) and not source.watches(MAVI)  # no feeds and no Google News for Mavi Kargo
    for bad in ({"google_newz": True}, {"feeds": {"Kuzey Telecom": ["https://x.example"]}}):
        with pytest.raises(ConfigError):
            RssSource.from_settings(SourceSettings(name="haberler", type="rss", options=bad), settings)


def test_google_news_search_feed_becomes_mentions(site: NewsSite) -> None:
    result = make(site).collect(KUZEY, None)

    (request,) = site.received("/rss/search")
    assert request.query["q"] == [boolean_query(KUZEY)] == ['("Kuzey Telekom" OR KuzeyTel OR @kuzeytelekom)']
    assert (request.query["hl"], request.query["gl"], request.query["ceid"]) == (["tr"], ["TR"], ["TR:tr"])
    assert request.headers["user-agent"] == AGENT
    assert "application/rss+xml" in request.headers["accept"]
    assert "if-none-match" not in request.headers

    assert [m.external_id for m in result.mentions] == ["CBMi0001", "CBMi0002", "CBMi0004"]
    first = result.mentions[0]
    assert first.source == "rss" and first.brand == "Kuzey Telekom"
    assert first.title == "Kuzey Telekom'da fatura krizi: abonelere çift ödeme"
    assert first.text == "Kuzey Telekom'da fatura krizi: abonelere çift ödeme Ekonomi Gündem"
    assert first.url == "https://news.google.com/rss/articles/CBMi0001?oc=5"
    assert first.published_at == T0 - timedelta(minutes=10) and first.published_at.tzinfo is not None
    assert first.language == "tr" and first.author == "Ekonomi Gündem"
    assert first.payload == {
        "source_name": "haberler",
        "feed": "google-news",
        "publisher": "Ekonomi Gündem",
        "publisher_url": "https://ekonomigundem.example",
    }
    assert result.stats[REQUESTS] == 1 and result.stats[FETCHED] == 3
    assert result.state.etag and result.state.last_modified


def test_an_unchanged_feed_costs_one_304_and_new_stories_come_alone(site: NewsSite) -> None:
    source = make(site)
    first = source.collect(KUZEY, None)

    second = source.collect(KUZEY, first.state)
    request = site.received("/rss/search")[-1]
    assert request.headers["if-none-match"] == first.state.etag
    assert request.headers["if-modified-since"] == first.state.last_modified
    assert second.mentions == [] and second.stats[NOT_MODIFIED] == 1 and second.stats[REQUESTS] == 1

    site.add(story(5, "Kuzey Telekom yeni tarifeleri açıkladı", 0))
    third = source.collect(KUZEY, second.state)
    assert [m.external_id for m in third.mentions] == ["CBMi0005"]
    assert third.stats["known"] == 3 and third.stats[REQUESTS] == 1
    assert cursor_of(third.state)["seen"][:2] == ["CBMi0005", "CBMi0001"]


def test_without_validators_known_items_are_skipped(site: NewsSite) -> None:
    site.search.validators = False
    source = make(site)
    first = source.collect(KUZEY, None)
    assert first.state.etag is None
    second = source.collect(KUZEY, first.state)
    assert second.mentions == [] and second.stats == {"requests": 1, "fetched": 3, "known": 3}


def test_several_feeds_keep_validators_per_url(site: NewsSite) -> None:
    site.publish("/blog/feed", [story(10, "Deniz GSM kampanyası", 5, link="https://blog.example/10")], kind="atom")
    site.publish("/haber/rss", [story(11, "Deniz GSM kapsama haritası", 8, link="https://haber.example/11")])
    feeds = {"Deniz GSM": (f"{site.url}/blog/feed", f"{site.url}/haber/rss")}
    source = make(site, feeds=feeds, google_news=False)
    first = source.collect(DENIZ, None)
    assert sorted(m.external_id for m in first.mentions) == ["CBMi0010", "CBMi0011"]
    assert first.mentions[0].payload["feed"] == f"{site.url}/blog/feed"
    validators = cursor_of(first.state)["validators"]
    assert set(validators) == set(feeds["Deniz GSM"])

    site.publish("/haber/rss", [story(12, "Deniz GSM fiber altyapı", 1, link="https://haber.example/12")])
    second = source.collect(DENIZ, first.state)
    assert [m.external_id for m in second.mentions] == ["CBMi0012"]
    assert second.stats[NOT_MODIFIED] == 1 and second.stats[REQUESTS] == 2
    blog = site.received("/blog/feed")[-1]
    assert blog.headers["if-none-match"] == validators[f"{site.url}/blog/feed"]["etag"]


def test_429_waits_for_retry_after_then_reads(site: NewsSite) -> None:
    waits = Waits()
    site.inject(Reply(429, b"slow down", {"Retry-After": "7"}))
    result = make(site, waits).collect(KUZEY, None)
    assert waits == [7.0]
    assert len(result.mentions) == 3 and result.stats[REQUESTS] == 2


def test_500_then_success(site: NewsSite) -> None:
    waits = Waits()
    site.inject(Reply(500, b"oops"), times=1)
    result = make(site, waits).collect(KUZEY, None)
    assert len(result.mentions) == 3 and len(waits) == 1 and 1.0 <= waits[0] <= 1.5


def test_a_malformed_feed_is_counted_and_the_other_feeds_kept(site: NewsSite) -> None:
    site.inject(Reply(200, b"<rss><channel><item><title>Yar", {"Content-Type": "application/rss+xml"}), path="/bozuk")
    source = make(site, feeds={"Kuzey Telekom": (f"{site.url}/bozuk",)})
    result = source.collect(KUZEY, None)
    assert len(result.mentions) == 3 and result.stats[PARSE_FAILURES] == 1


def test_a_malformed_only_feed_still_returns_a_result_and_keeps_state(site: NewsSite) -> None:
    source = make(site)
    first = source.collect(KUZEY, None)
    site.inject(Reply(200, b'{"not": "xml"}', {"Content-Type": "application/json"}))
    second = source.collect(KUZEY, first.state)
    assert second.mentions == [] and second.stats[PARSE_FAILURES] == 1
    assert cursor_of(second.state)["seen"] == cursor_of(first.state)["seen"]


def test_a_doctype_is_refused_and_counted(site: NewsSite) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaa">]><rss><channel><title>&a;</title></channel></rss>'
    site.inject(Reply(200, bomb, {"Content-Type": "application/rss+xml"}))
    result = make(site).collect(KUZEY, None)
    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1


@pytest.mark.parametrize(("charset", "in_header"), [("windows-1254", True), ("iso-8859-9", False)])
def test_turkish_charsets(site: NewsSite, charset: str, in_header: bool) -> None:
    items = [story(20, "Mavi Kargo: Şubat'ta ğ ı İ ş ü ç ö harfleri", 3, link="https://yerel.example/20")]
    site.publish("/yerel.xml", items, charset=charset, charset_in_header=in_header)
    result = make(site, feeds={"Mavi Kargo": (f"{site.url}/yerel.xml",)}, google_news=False).collect(MAVI, None)
    assert result.mentions[0].title == "Mavi Kargo: Şubat'ta ğ ı İ ş ü ç ö harfleri"


def test_an_item_missing_its_id_and_link_is_counted_and_skipped(site: NewsSite) -> None:
    items = [story(30, "Mavi Kargo geç teslimat", 1), story(31, "Mavi Kargo kimliksiz haber", 2, link=None, guid=None)]
    site.publish("/eksik.xml", items)
    result = make(site, feeds={"Mavi Kargo": (f"{site.url}/eksik.xml",)}, google_news=False).collect(MAVI, None)
    assert [m.external_id for m in result.mentions] == ["CBMi0030"]
    assert result.stats[PARSE_FAILURES] == 1 and result.stats[FETCHED] == 2


def test_require_mention_drops_off_topic_items_with_turkish_casefolding(site: NewsSite) -> None:
    items = [
        story(40, "DENIZ GSM FATURALARINA ZAM", 1, link="https://d.example/40"),
        story(41, "Kıyı şeridinde deniz suyu ısındı", 2, link="https://d.example/41"),
        story(42, "Haftanın özeti", 3, link="https://d.example/42", description="<p>DENİZ GSM çağrı merkezi</p>"),
    ]
    site.publish("/genel.xml", items)
    source = make(site, feeds={"Deniz GSM": (f"{site.url}/genel.xml",)}, google_news=False, require_mention=True)
    result = source.collect(DENIZ, None)
    assert [m.external_id for m in result.mentions] == ["CBMi0040", "CBMi0042"]
    assert result.stats["off_topic"] == 1
    again = source.collect(DENIZ, result.state)
    assert again.stats[NOT_MODIFIED] == 1


def test_blocked_only_feed_raises_and_a_dead_extra_feed_is_counted(site: NewsSite) -> None:
    site.inject(Reply(403, b"forbidden"), path="/rss/search")
    with pytest.raises(SourceBlocked):
        make(site).collect(KUZEY, None)
    result = make(site, feeds={"Kuzey Telekom": (f"{site.url}/yok.xml",)}).collect(KUZEY, None)
    assert len(result.mentions) == 3 and result.stats[FAILED] == 1


def test_network_down_raises() -> None:
    with NewsSite() as gone:
        url = gone.url
    config = SourceConfig(name="haberler", base_url=url, retries=1, backoff=0.0)
    with pytest.raises(SourceError, match="failed after 2 tries"):
        RssSource(config, sleep=Waits()).collect(KUZEY, None)


def test_cursor_is_json_with_bounded_seen_list(site: NewsSite) -> None:
    site.search.items.extend(story(100 + n, f"Kuzey Telekom haber {n}", 60 + n) for n in range(520))
    result = make(site).collect(KUZEY, None)
    data = json.loads(result.state.cursor or "{}")
    assert len(data["seen"]) == 500 and data["seen"][0] == "CBMi0001"


def test_an_oversized_feed_is_refused_and_counted(site: NewsSite) -> None:
    site.search.items.extend(story(700 + n, f"Kuzey Telekom uzun haber {n}", 90 + n) for n in range(50))
    config = SourceConfig(name="haberler", base_url=site.url, max_bytes=4_000)
    result = RssSource(config, sleep=Waits()).collect(KUZEY, None)
    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1 and result.state.etag is None


def test_state_notes_the_newest_story(site: NewsSite) -> None:
    result = make(site).collect(KUZEY, None)
    assert (result.state.last_seen_id, result.state.last_seen_at) == ("CBMi0001", T0 - timedelta(minutes=10))
