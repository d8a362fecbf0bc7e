"""GooglePlaySource against a local stand-in of the Play Developer API, over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from config.settings import BrandSettings, Settings, SourceSettings
from crawlers.base import FAILED, FETCHED, PARSE_FAILURES, REQUESTS, SOURCES, SourceConfig, cursor_of
from crawlers.googleplay import GooglePlaySource
from loopback.googleplay import PlayDeveloperApi, review_json
from loopback.server import Recorded, Reply
from store.errors import ConfigError, NotConfigured, SourceBlocked, SourceError
from store.model import Brand, CrawlState
from tests.fakes import Clock

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PACKAGE = "com.kuzeytelekom.online"
TOKEN = "ya29.test-access-token"
BRAND = Brand("Kuzey Telekom")
AGENT = "Kulak/test (+https://example.org/kulak)"
REPLY = "Merhaba, yaşadığınız sorun için özür dileriz. 7.4.3 sürümünde düzeltildi."


def at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


REVIEWS = [
    review_json("gp:AOqpTOE5", "Fatura ödeme ekranı donuyor, ödeme yapamıyorum.", at(22)),
    review_json(
        "gp:AOqpTOE4",
        "Giriş yapılamıyor\tGüncellemeden beri şifre kabul edilmiyor.\nÇok sinir bozucu.",
        at(21),
        author="Şule Ağaoğlu",
        rating=2,
        version="7.4.1",
        reply=REPLY,
        replied=at(21, 15),
    ),
    review_json("gp:AOqpTOE3", "Gayet kullanışlı bir uygulama, teşekkürler.", at(19), rating=5, language="tr"),
    review_json("gp:AOqpTOE2", "İnternet paketim görünmüyor.", at(15), language="en_US"),
    review_json("gp:AOqpTOE1", "Bildirimler gelmiyor.", at(10)),
]
IDS = [r["reviewId"] for r in REVIEWS]


@pytest.fixture
def api() -> Iterator[PlayDeveloperApi]:
    with PlayDeveloperApi({PACKAGE: REVIEWS}, token=TOKEN, page_size=2) as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


def source_for(
    api: PlayDeveloperApi, clock: Clock, packages: tuple[str, ...] = (PACKAGE,), token: str = TOKEN, **config: Any
) -> GooglePlaySource:
    settings: dict[str, Any] = {"name": "gp", "base_url": api.url, "user_agent": AGENT, "backoff": 1.0, **config}
    options = GooglePlaySource.Options(packages={"Kuzey Telekom": packages})
    return GooglePlaySource(
        SourceConfig(**settings), options, token=token, sleep=clock.sleep, clock=clock, now=lambda: NOW
    )


def test_registered_and_built_from_settings_with_the_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert SOURCES["googleplay"] is GooglePlaySource
    brands = (BrandSettings(name="Kuzey Telekom"),)

    def settings(**options: Any) -> Settings:
        return Settings(brands=brands, sources=(SourceSettings(name="gp", type="googleplay", options=options),))

    conf = settings(packages={"Kuzey Telekom": [PACKAGE]})
    monkeypatch.delenv("KULAK_GOOGLEPLAY_TOKEN", raising=False)
    with pytest.raises(NotConfigured, match="KULAK_GOOGLEPLAY_TOKEN"):
        GooglePlaySource.from_settings(conf.sources[0], conf)

    monkeypatch.setenv("KULAK_GOOGLEPLAY_TOKEN", "ya29.from-env")
    source = GooglePlaySource.from_settings(conf.sources[0], conf)
    assert source.token == "ya29.from-env"
    assert source.options == GooglePlaySource.Options(packages={"Kuzey Telekom": (PACKAGE,)})
    assert source.config.base_url == "https://androidpublisher.googleapis.com"
    assert source.watches(BRAND) and not source.watches(Brand("Mavi Kargo"))

    monkeypatch.setenv("KUZEY_PLAY", "ya29.other")
    other = settings(packages={"Kuzey Telekom": [PACKAGE]}, token_env="KUZEY_PLAY")
    assert GooglePlaySource.from_settings(other.sources[0], other).token == "ya29.other"
    for wrong in ({"package": {"Kuzey Telekom": [PACKAGE]}}, {"packages": {"Deniz GSM": ["com.denizgsm"]}}):
        with pytest.raises(ConfigError):
            bad = settings(**wrong)
            GooglePlaySource.from_settings(bad.sources[0], bad)


def test_a_source_without_a_token_does_not_crawl(api: PlayDeveloperApi, clock: Clock) -> None:
    with pytest.raises(NotConfigured, match="KULAK_GOOGLEPLAY_TOKEN"):
        source_for(api, clock, token="").collect(BRAND, None)
    assert api.received() == []


def test_first_crawl_pages_through_every_review(api: PlayDeveloperApi, clock: Clock) -> None:
    result = source_for(api, clock).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS
    m = result.mentions[1]
    assert (m.source, m.brand, m.language, m.author) == ("googleplay", "Kuzey Telekom", "tr", "Şule Ağaoğlu")
    assert m.title == "Giriş yapılamıyor"
    assert m.text == "Güncellemeden beri şifre kabul edilmiyor.\nÇok sinir bozucu."
    assert m.published_at == at(21) and m.fetched_at == NOW
    assert m.url == f"https://play.google.com/store/apps/details?id={PACKAGE}&reviewId=gp%3AAOqpTOE4"
    assert m.payload == {
        "source_name": "gp",
        "package": PACKAGE,
        "rating": 2,
        "app_version": "7.4.1",
        "reviewer_language": "tr_TR",
        "reply": REPLY,
        "replied_at": "2026-11-21T15:00:00+00:00",
    }
    assert (result.mentions[0].title, result.mentions[3].language) == ("", "en")
    assert cursor_of(result.state) == {"packages": {PACKAGE: {"seconds": int(at(22).timestamp()), "ids": [IDS[0]]}}}
    assert result.state.last_seen_id == IDS[0] and result.state.last_seen_at == at(22)
    assert result.stats[FETCHED] == 5 and result.stats[REQUESTS] == 3

    assert api.review_pages() == [(PACKAGE, None), (PACKAGE, "CgwI2Eo2Qk"), (PACKAGE, "CgwI3Eo2Qk")]
    assert {r.headers["authorization"] for r in api.received()} == {f"Bearer {TOKEN}"}
    assert {r.headers["user-agent"] for r in api.received()} == {AGENT}


def test_max_pages_caps_the_first_crawl(api: PlayDeveloperApi, clock: Clock) -> None:
    result = source_for(api, clock, max_pages=2).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS[:4]
    assert len(api.review_pages()) == 2


def test_the_next_crawl_stops_at_the_last_seen_review(api: PlayDeveloperApi, clock: Clock) -> None:
    source = source_for(api, clock)
    first = source.collect(BRAND, None)

    second = source.collect(BRAND, first.state)

    assert second.mentions == [] and second.stats[REQUESTS] == 1 and second.stats["known"] == 2
    assert api.review_pages()[3:] == [(PACKAGE, None)]
    assert cursor_of(second.state) == cursor_of(first.state)

    same_second = review_json("gp:AOqpTOE6", "Aynı saniyede yazılmış yeni yorum.", at(22))
    api.add(PACKAGE, review_json("gp:AOqpTOE7", "Uygulama hâlâ açılmıyor!", at(23, 8)))
    api.add(PACKAGE, same_second)
    third = source.collect(BRAND, second.state)

    assert [m.external_id for m in third.mentions] == ["gp:AOqpTOE7", "gp:AOqpTOE6"]
    assert third.stats["known"] == 2
    assert cursor_of(third.state)["packages"][PACKAGE] == {
        "seconds": int(at(23, 8).timestamp()),
        "ids": ["gp:AOqpTOE7"],
    }


def test_429_waits_for_retry_after_then_goes_on(api: PlayDeveloperApi, clock: Clock) -> None:
    api.fail_next(429, retry_after=12)

    result = source_for(api, clock).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS
    assert clock.waits == [12.0]
    assert api.review_pages()[:2] == [(PACKAGE, None), (PACKAGE, None)]


def test_500_then_success(api: PlayDeveloperApi, clock: Clock) -> None:
    api.fail_next(500)

    result = source_for(api, clock).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS
    assert len(clock.waits) == 1 and 1.0 <= clock.waits[0] <= 1.5
    assert result.stats["retries"] == 1 and result.stats[REQUESTS] == 4


def test_a_body_that_is_not_json_is_counted_and_earlier_pages_kept(api: PlayDeveloperApi, clock: Clock) -> None:
    api.pages[(PACKAGE, 2)] = Reply(200, b'{"reviews": [{"reviewId": "gp:', {"Content-Type": "application/json"})
    before = CrawlState(source="gp", brand=BRAND.name)

    result = source_for(api, clock).collect(BRAND, before)

    assert [m.external_id for m in result.mentions] == IDS[:2]
    assert result.stats[PARSE_FAILURES] == 1
    assert cursor_of(result.state) == {"packages": {}}  # the walk did not finish: read it again next time


def test_a_first_page_that_is_not_json_still_returns_a_result(api: PlayDeveloperApi, clock: Clock) -> None:
    api.pages[(PACKAGE, 1)] = Reply.html("<html><body>502 Bad Gateway (proxy)</body></html>")

    result = source_for(api, clock).collect(BRAND, None)

    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1
    assert cursor_of(result.state) == {"packages": {}}


def test_a_page_over_the_size_cap_is_a_counted_parse_failure(api: PlayDeveloperApi, clock: Clock) -> None:
    result = source_for(api, clock, max_bytes=300).collect(BRAND, None)

    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1


def test_a_later_page_that_keeps_failing_keeps_what_was_read(api: PlayDeveloperApi, clock: Clock) -> None:
    api.pages[(PACKAGE, 2)] = Reply(503, b"", {"Content-Type": "text/html"})

    result = source_for(api, clock, retries=1).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS[:2]
    assert result.stats[FAILED] == 1 and cursor_of(result.state) == {"packages": {}}


def test_a_windows_1254_body_keeps_turkish_letters(clock: Clock) -> None:
    text = "Şikâyetim: İnternet ışığı yanıp sönüyor, ağ bulunamıyor."
    with PlayDeveloperApi({PACKAGE: [review_json("gp:1", text, at(22))]}, token=TOKEN, charset="windows-1254") as api:
        assert "ğ".encode("windows-1254") in api.handle(_get(PACKAGE)).body
        result = source_for(api, clock).collect(BRAND, None)

    assert [m.text for m in result.mentions] == [text]


@pytest.mark.parametrize("broken", ["reviewId", "comments", "lastModified", "text"])
def test_a_review_missing_a_field_is_skipped_and_counted(clock: Clock, broken: str) -> None:
    bad: dict[str, Any] = review_json("gp:AOqpTOE9", "Eksik alanlı yorum.", at(22, 18))
    if broken in ("reviewId", "comments"):
        del bad[broken]
    else:
        del bad["comments"][0]["userComment"][broken]
    with PlayDeveloperApi({PACKAGE: [bad, *REVIEWS[:2]]}, token=TOKEN) as api:
        result = source_for(api, clock).collect(BRAND, None)

    assert [m.external_id for m in result.mentions] == IDS[:2]
    assert result.stats[PARSE_FAILURES] == 1 and result.stats[FETCHED] == 3


def test_a_refused_token_is_blocked_with_a_clear_message(api: PlayDeveloperApi, clock: Clock) -> None:
    with pytest.raises(SourceBlocked) as caught:
        source_for(api, clock, token="ya29.expired-secret").collect(BRAND, None)

    message = str(caught.value)
    assert "401" in message and "expired" in message and "KULAK_GOOGLEPLAY_TOKEN" in message
    assert "ya29.expired-secret" not in message
    assert len(api.received()) == 1  # no retries against a refused token


def test_403_is_blocked(api: PlayDeveloperApi, clock: Clock) -> None:
    api.fail_next(403)
    with pytest.raises(SourceBlocked, match="403"):
        source_for(api, clock).collect(BRAND, None)


def test_a_failing_package_does_not_stop_the_others(clock: Clock) -> None:
    other = "com.kuzeytelekom.tv"
    with PlayDeveloperApi({PACKAGE: REVIEWS[:1]}, token=TOKEN) as api:
        result = source_for(api, clock, packages=(other, PACKAGE)).collect(BRAND, None)
        assert [m.external_id for m in result.mentions] == IDS[:1]
        assert result.stats[FAILED] == 1
        assert list(cursor_of(result.state)["packages"]) == [PACKAGE]

        with pytest.raises(SourceError, match="404"):
            source_for(api, clock, packages=(other,)).collect(BRAND, None)


def _get(package: str) -> Recorded:
    return Recorded(
        "GET", f"/androidpublisher/v3/applications/{package}/reviews", {}, {"authorization": f"Bearer {TOKEN}"}, b""
    )
