"""AppStoreSource against a local stand-in of Apple's customer-reviews feed, over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from config.settings import BrandSettings, Settings, SourceSettings
from crawlers.appstore import AppStoreSource
from crawlers.base import FAILED, FETCHED, PARSE_FAILURES, REQUESTS, SOURCES, SourceConfig, cursor_of
from loopback.appstore import AppStoreFeed, entry_json
from loopback.server import Reply
from store.errors import ConfigError, SourceBlocked, SourceError
from store.model import Brand, CrawlState
from tests.fakes import Clock

PACIFIC = timezone(timedelta(hours=-8))
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
APP = "1500000001"
BRAND = Brand("Kuzey Telekom")
AGENT = "Kulak/test (+https://example.org/kulak)"


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=PACIFIC)


ENTRIES = [
    entry_json(11800000005, "Uygulama açılışta çöküyor, fatura ödeyemiyorum.", at(22), title="Çöküyor"),
    entry_json(
        11800000004,
        "Güncellemeden sonra giriş yapamıyorum.\nŞifre sıfırlama SMS'i gelmiyor.",
        at(21),
        title="Giriş sorunu",
        rating=2,
        version="5.13.1",
        author="ışıl_ğ",
    ),
    entry_json(11800000003, "Paket değiştirmek çok kolay, teşekkürler.", at(19), title="Güzel", rating=5),
    entry_json(11800000002, "Kalan internetim yanlış gösteriliyor.", at(15), title="Hatalı kota"),
    entry_json(11800000001, "Her gün oturum kapanıyor, İstanbul'dayım.", at(10), title="Oturum"),
]
IDS = [e["id"]["label"] for e in ENTRIES]


@pytest.fixture
def feed() -> Iterator[AppStoreFeed]:
    with AppStoreFeed({("tr", APP): ENTRIES}, page_size=2) as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


def source_for(feed: AppStoreFeed, clock: Clock, countries: tuple[str, ...] = ("tr",), **config: Any) -> AppStoreSource:
    settings: dict[str, Any] = {"name": "as", "base_url": feed.url, "user_agent": AGENT, "backoff": 1.0, **config}
    options = AppStoreSource.Options(apps={"Kuzey Telekom": (APP,)}, countries=countries)
    return AppStoreSource(SourceConfig(**settings), options, sleep=clock.sleep, clock=clock, now=lambda: NOW)


def test_registered_and_built_from_settings() -> None:
    assert SOURCES["appstore"] is AppStoreSource
    brands = (BrandSettings(name="Kuzey Telekom"),)

    def settings(**options: Any) -> Settings:
        return Settings(brands=brands, sources=(SourceSettings(name="as", type="appstore", options=options),))

    conf = settings(apps={"Kuzey Telekom": [APP]})
    source = AppStoreSource.from_settings(conf.sources[0], conf)
    assert source.options == AppStoreSource.Options(apps={"Kuzey Telekom": (APP,)}, countries=("tr",))
    assert source.config.base_url == "https://itunes.apple.com"
    assert source.watches(BRAND) and not source.watches(Brand("Deniz GSM"))
    for wrong in ({"app": {"Kuzey Telekom": [APP]}}, {"apps": {"Kuzey Telekom": APP}}, {"countrys": ["tr"]}):
        with pytest.raises(ConfigError):
            bad = settings(**wrong)
            AppStoreSource.from_settings(bad.sources[0], bad)


def test_first_crawl_pages_through_the_feed(feed: AppStoreFeed, clock: Clock) -> None:
    result = source_for(feed, clock).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS
    m = result.mentions[1]
    assert (m.source, m.brand, m.language, m.author) == ("appstore", "Kuzey Telekom", "tr", "ışıl_ğ")
    assert m.title == "Giriş sorunu"
    assert m.text == "Güncellemeden sonra giriş yapamıyorum.\nŞifre sıfırlama SMS'i gelmiyor."
    assert m.published_at == at(21) and m.fetched_at == NOW
    assert m.url == f"https://apps.apple.com/tr/app/id{APP}?see-all=reviews"
    assert m.payload == {"source_name": "as", "app_id": APP, "country": "tr", "rating": 2, "version": "5.13.1"}
    assert cursor_of(result.state) == {"newest": {f"tr/{APP}": IDS[0]}}
    assert result.state.last_seen_id == IDS[0] and result.state.last_seen_at == at(22)
    assert result.stats[FETCHED] == 5 and result.stats[REQUESTS] == 3

    assert feed.feed_pages() == [("tr", APP, 1), ("tr", APP, 2), ("tr", APP, 3)]
    assert {r.headers["user-agent"] for r in feed.received()} == {AGENT}
    assert {r.headers["accept"] for r in feed.received()} == {"application/json"}


def test_a_lone_entry_object_and_a_missing_entry_end_the_walk(feed: AppStoreFeed, clock: Clock) -> None:
    result = source_for(feed, clock, max_pages=25).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS  # page 3 held one entry, as an object
    assert feed.feed_pages()[-1] == ("tr", APP, 4)  # no "entry" at all: nothing more


def test_never_more_than_ten_pages(clock: Clock) -> None:
    many = [entry_json(11900000000 + n, f"Yorum {n}: çekmiyor.", at(1) + timedelta(hours=n)) for n in range(12)]
    with AppStoreFeed({("tr", APP): many}, page_size=1) as feed:
        result = source_for(feed, clock, max_pages=25).collect(BRAND, None)

    assert len(result.mentions) == 10
    assert [page for _, _, page in feed.feed_pages()] == list(range(1, 11))


def test_the_next_crawl_stops_at_the_newest_review_seen(feed: AppStoreFeed, clock: Clock) -> None:
    source = source_for(feed, clock)
    first = source.collect(BRAND, None)

    second = source.collect(BRAND, first.state)

    assert second.mentions == [] and second.stats["known"] == 1 and second.stats[REQUESTS] == 1
    assert feed.feed_pages()[3:] == [("tr", APP, 1)]
    assert cursor_of(second.state) == cursor_of(first.state)

    feed.add("tr", APP, entry_json(11800000006, "Yeni sürümde fatura ekranı boş.", at(23), title="Boş ekran"))
    third = source.collect(BRAND, second.state)

    assert [m.external_id for m in third.mentions] == ["11800000006"]
    assert feed.feed_pages()[4:] == [("tr", APP, 1)]
    assert cursor_of(third.state) == {"newest": {f"tr/{APP}": "11800000006"}}


def test_429_waits_for_retry_after_then_goes_on(feed: AppStoreFeed, clock: Clock) -> None:
    feed.fail_next(429, retry_after=7)

    result = source_for(feed, clock).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS
    assert clock.waits == [7.0]
    assert feed.feed_pages()[:2] == [("tr", APP, 1), ("tr", APP, 1)]


def test_500_then_success(feed: AppStoreFeed, clock: Clock) -> None:
    feed.fail_next(500)

    result = source_for(feed, clock).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS
    assert len(clock.waits) == 1 and 1.0 <= clock.waits[0] <= 1.5  # backoff 1 s with jitter
    assert result.stats["retries"] == 1 and result.stats[REQUESTS] == 4


def test_a_body_that_is_not_json_is_counted_and_earlier_pages_kept(feed: AppStoreFeed, clock: Clock) -> None:
    feed.pages[("tr", APP, 2)] = Reply(200, b'{"feed": {"entry": [{"id": ', {"Content-Type": "application/json"})
    before = CrawlState(source="as", brand=BRAND.name)

    result = source_for(feed, clock).collect(BRAND, before)

    assert [m.external_id for m in result.mentions] == IDS[:2]
    assert result.stats[PARSE_FAILURES] == 1
    assert cursor_of(result.state) == {"newest": {}}  # the walk did not finish: read it again next time


def test_a_first_page_that_is_not_json_still_returns_a_result(feed: AppStoreFeed, clock: Clock) -> None:
    feed.pages[("tr", APP, 1)] = Reply.html("<html><body>Hizmet geçici olarak kullanılamıyor</body></html>")

    result = source_for(feed, clock).collect(BRAND, None)

    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1
    assert cursor_of(result.state) == {"newest": {}}


def test_a_page_over_the_size_cap_is_a_counted_parse_failure(feed: AppStoreFeed, clock: Clock) -> None:
    result = source_for(feed, clock, max_bytes=500).collect(BRAND, None)

    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1


def test_a_later_page_that_keeps_failing_keeps_what_was_read(feed: AppStoreFeed, clock: Clock) -> None:
    feed.pages[("tr", APP, 2)] = Reply(503, b"", {"Content-Type": "text/html"})

    result = source_for(feed, clock, retries=1).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS[:2]
    assert result.stats[FAILED] == 1 and cursor_of(result.state) == {"newest": {}}


def test_a_windows_1254_body_keeps_turkish_letters(clock: Clock) -> None:
    text = "Ağır çalışıyor, İnternet paketimi göremiyorum; şikâyetçiyim."
    with AppStoreFeed(
        {("tr", APP): [entry_json(11800000010, text, at(22), title="Yavaş ve ağır")]}, charset="windows-1254"
    ) as feed:
        result = source_for(feed, clock).collect(BRAND, None)

    assert [(m.title, m.text) for m in result.mentions] == [("Yavaş ve ağır", text)]


@pytest.mark.parametrize("broken", ["id", "content", "updated", "not-an-object"])
def test_an_entry_missing_a_field_is_skipped_and_counted(clock: Clock, broken: str) -> None:
    bad: Any = entry_json(11800000009, "Tarihsiz yorum.", at(22, 18))
    if broken == "not-an-object":
        bad = ["bu", "bir", "yorum", "değil"]
    else:
        del bad[broken]
    with AppStoreFeed({("tr", APP): ENTRIES[:2]}) as feed:
        feed.pages[("tr", APP, 1)] = feed.feed_reply("tr", APP, 1, [bad, *ENTRIES[:2]])
        result = source_for(feed, clock, max_pages=1).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS[:2]
    assert result.stats[PARSE_FAILURES] == 1 and result.stats[FETCHED] == 3


def test_each_country_keeps_its_own_place_and_a_failing_one_does_not_stop_the_rest(clock: Clock) -> None:
    german = entry_json(11800000020, "Roaming in Berlin funktioniert nicht.", at(22), title="Roaming")
    with AppStoreFeed({("tr", APP): ENTRIES[:2], ("de", APP): [german]}) as feed:
        both = source_for(feed, clock, countries=("tr", "de")).collect(BRAND, None)
        assert [(m.external_id, m.language) for m in both.mentions] == [
            ("11800000020", None),
            (IDS[0], "tr"),
            (IDS[1], "tr"),
        ]
        assert cursor_of(both.state) == {"newest": {f"tr/{APP}": IDS[0], f"de/{APP}": "11800000020"}}

        feed.pages[("de", APP, 1)] = Reply(404, b"", {"Content-Type": "text/html"})
        feed.add("tr", APP, ENTRIES[2] | {"id": {"label": "11800000030"}})
        one = source_for(feed, clock, countries=("tr", "de")).collect(BRAND, both.state)
        assert [m.external_id for m in one.mentions] == ["11800000030"]
        assert one.stats[FAILED] == 1
        assert cursor_of(one.state)["newest"] == {f"tr/{APP}": "11800000030", f"de/{APP}": "11800000020"}

        feed.pages[("tr", APP, 1)] = Reply(404, b"", {"Content-Type": "text/html"})
        with pytest.raises(SourceError, match="404"):
            source_for(feed, clock, countries=("tr", "de")).collect(BRAND, one.state)


def test_403_means_blocked(feed: AppStoreFeed, clock: Clock) -> None:
    feed.fail_next(403)
    with pytest.raises(SourceBlocked, match="403"):
        source_for(feed, clock).collect(BRAND, None)
