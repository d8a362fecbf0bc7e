"""XSource against the local X API stand-in: paging, since_id, rate limits, bad bodies, what went over the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from config.settings import BrandSettings, Settings, SourceSettings
from crawlers.base import FAILED, FETCHED, PARSE_FAILURES, REQUESTS, SOURCES, SourceConfig
from crawlers.x import XSource
from loopback.server import Reply
from loopback.x import XApi, tweet, user
from store.errors import ConfigError, NotConfigured, SourceBlocked, SourceError, SourceRateLimited
from store.model import Brand, CrawlState
from tests.fakes import Clock

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
UA = "Kulak/test (social-care listener; +https://example.org/contact)"
BRAND = Brand(
    name="Kuzey Telekom",
    aliases=("Kuzey Telekom", "KuzeyTel"),
    handles=("@kuzeytelekom",),
    hashtags=("#KuzeyTelekom",),
    exclude=("Kuzey Telekom Kulesi",),
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def many(count: int, first: int = 1890000000000001000) -> list[dict[str, Any]]:
    """``count`` posts by Ayşe, oldest first, ids counting up from ``first``."""
    return [
        tweet(
            str(first + n),
            f"Kuzey Telekom şikâyetim no {n}: çekim gücü düşük.",
            "1501",
            f"2026-03-01T{n % 24:02}:00:00Z",
        )
        for n in range(count)
    ]


def source_for(
    api: XApi, clock: Clock, token: str | None = None, max_bytes: int = 1_000_000, **options: Any
) -> XSource:
    config = SourceConfig(
        name="x-test",
        base_url=api.url,
        max_pages=3,
        backoff=1.0,
        retries=2,
        max_wait=120.0,
        user_agent=UA,
        max_bytes=max_bytes,
    )
    opts = XSource.Options(**{"max_results": 10, **options})
    return XSource(
        config, opts, token=api.token if token is None else token, sleep=clock.sleep, clock=clock, now=lambda: NOW
    )


def test_x_is_registered_and_built_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SOURCES["x"] is XSource
    settings = Settings(
        brands=(BrandSettings(name="Kuzey Telekom"),),
        sources=(SourceSettings(name="x", type="x", options={"lang": "tr", "max_results": 50}),),
    )
    monkeypatch.setenv("KULAK_X_BEARER_TOKEN", "from-the-environment")
    source = XSource.from_settings(settings.sources[0], settings)
    assert source.options == XSource.Options(lang="tr", max_results=50)
    assert source.token == "from-the-environment"
    assert source.config.base_url == "https://api.x.com"
    monkeypatch.delenv("KULAK_X_BEARER_TOKEN")
    with pytest.raises(NotConfigured, match="KULAK_X_BEARER_TOKEN"):
        XSource.from_settings(settings.sources[0], settings)


@pytest.mark.parametrize("options", [{"langauge": "tr"}, {"max_results": "100"}, {"max_results": 500}])
def test_bad_options_are_config_errors(monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]) -> None:
    monkeypatch.setenv("KULAK_X_BEARER_TOKEN", "t")
    conf = SourceSettings(name="x", type="x", options=options)
    settings = Settings(brands=(BrandSettings(name="Kuzey Telekom"),), sources=(conf,))
    with pytest.raises(ConfigError):
        XSource.from_settings(conf, settings)


def test_query_headers_and_params_go_over_the_wire(clock: Clock) -> None:
    with XApi(clock=clock) as api:
        source_for(api, clock, lang="tr").collect(BRAND, None)
    (sent,) = api.search_requests()
    assert sent.headers["authorization"] == "Bearer test-bearer-token"
    assert sent.headers["user-agent"] == UA
    assert sent.query["query"] == [
        '("Kuzey Telekom" OR KuzeyTel OR @kuzeytelekom OR #KuzeyTelekom) -"Kuzey Telekom Kulesi" -is:retweet lang:tr'
    ]
    assert sent.query["max_results"] == ["10"]
    assert sent.query["tweet.fields"] == ["created_at,author_id,lang,public_metrics,conversation_id"]
    assert sent.query["expansions"] == ["author_id"]
    assert sent.query["user.fields"] == ["username,name,public_metrics,verified"]
    assert "since_id" not in sent.query and "next_token" not in sent.query


def test_an_ambiguous_brand_needs_a_context_word_and_no_lang_filter_by_default(clock: Clock) -> None:
    mavi = Brand(name="Mavi Kargo", aliases=("Mavi",), ambiguous=True, context=("kargo", "kurye"))
    with XApi(clock=clock) as api:
        source_for(api, clock).collect(mavi, None)
    assert api.search_requests()[0].query["query"] == ["Mavi (kargo OR kurye) -is:retweet"]


def test_posts_become_mentions_with_their_authors(clock: Clock) -> None:
    with XApi(clock=clock) as api:
        result = source_for(api, clock).collect(BRAND, None)
    assert [m.external_id for m in result.mentions] == [f"189000000000000010{n}" for n in (5, 4, 3, 2, 1)]
    newest = result.mentions[0]
    assert newest.source == "x" and newest.brand == "Kuzey Telekom"
    assert newest.url == "https://x.com/aysekaya34/status/1890000000000000105"
    assert newest.author == "Ayşe Kaya" and newest.author_handle == "@aysekaya34"
    assert newest.text.startswith("#KuzeyTelekom müşteri hizmetlerine ulaşmak imkânsız")
    assert newest.language == "tr" and newest.fetched_at == NOW
    assert newest.published_at == datetime(2026, 3, 2, 10, 2, tzinfo=UTC)
    assert newest.payload["followers"] == 412 and newest.payload["verified"] is False
    assert newest.payload["conversation_id"] == "1890000000000000105"
    assert newest.payload["public_metrics"]["like_count"] == 7
    assert newest.payload["source_name"] == "x-test"
    assert result.mentions[3].payload["verified"] is True  # the brand's own reply
    assert result.state.last_seen_id == "1890000000000000105"
    assert result.state.last_seen_at == datetime(2026, 3, 2, 10, 2, tzinfo=UTC)
    assert result.stats[REQUESTS] == 1 and result.stats[FETCHED] == 5


def test_pages_with_next_token_up_to_max_pages(clock: Clock) -> None:
    with XApi(many(35), clock=clock) as api:
        result = source_for(api, clock).collect(BRAND, None)
    sent = api.search_requests()
    assert len(sent) == 3 and len(result.mentions) == 30  # max_pages = 3, ten a page
    assert "next_token" not in sent[0].query
    assert sent[1].query["next_token"] != sent[2].query["next_token"]
    assert len({m.external_id for m in result.mentions}) == 30
    assert result.state.last_seen_id == str(1890000000000001000 + 34)


def test_second_poll_sends_since_id_and_costs_one_request(clock: Clock) -> None:
    with XApi(many(15), clock=clock) as api:
        source = source_for(api, clock)
        first = source.collect(BRAND, None)
        quiet = source.collect(BRAND, first.state)
        api.add(
            tweet(
                "1890000000000009999",
                "Kuzey Telekom yeni tarifede ücret iadesi yapmıyor.",
                "1502",
                "2026-03-02T11:00:00Z",
            )
        )
        fresh = source.collect(BRAND, quiet.state)
    sent = api.search_requests()
    assert len(first.mentions) == 15 and len(sent) == 4  # two pages, then one request per poll
    assert sent[2].query["since_id"] == [str(1890000000000001000 + 14)]
    assert quiet.mentions == [] and quiet.stats[REQUESTS] == 1
    assert quiet.state.last_seen_id == first.state.last_seen_id
    assert [m.external_id for m in fresh.mentions] == ["1890000000000009999"]
    assert fresh.mentions[0].author_handle == "@mehmet_oz"
    assert fresh.state.last_seen_id == "1890000000000009999"


def test_a_failed_second_page_keeps_the_old_since_id(clock: Clock) -> None:
    old = CrawlState(source="x-test", brand="Kuzey Telekom", last_seen_id="1890000000000000001")
    with XApi(many(25), clock=clock) as api:
        api.fail_next(503, times=3, skip=1)  # page 2 fails on every try
        result = source_for(api, clock).collect(BRAND, old)
    assert len(result.mentions) == 10 and result.stats[FAILED] == 1
    assert result.state.last_seen_id == "1890000000000000001" and result.state.updated_at == NOW


def test_a_429_with_retry_after_is_waited_out(clock: Clock) -> None:
    with XApi(clock=clock) as api:
        api.fail_next(429, retry_after=7)
        result = source_for(api, clock).collect(BRAND, None)
    assert 7.0 in clock.waits and len(result.mentions) == 5
    assert len(api.search_requests()) == 2


def test_no_remaining_requests_waits_for_the_reset_epoch(clock: Clock) -> None:
    with XApi(many(15), clock=clock) as api:
        api.set_rate(remaining=1, reset_in=60)  # page 1 spends the last request of the window
        result = source_for(api, clock).collect(BRAND, None)
    assert clock.waits == [60.0] and len(result.mentions) == 15
    _, second = api.search_requests()
    assert "next_token" in second.query


def test_a_reset_too_far_away_ends_the_crawl_rate_limited(clock: Clock) -> None:
    with XApi(clock=clock) as api:
        api.set_rate(remaining=0, reset_in=3600)
        with pytest.raises(SourceRateLimited) as caught:
            source_for(api, clock).collect(BRAND, None)
    assert caught.value.retry_after == pytest.approx(3600)
    assert len(api.search_requests()) == 1 and clock.waits == []


def test_a_500_then_success(clock: Clock) -> None:
    with XApi(clock=clock) as api:
        api.fail_next(500)
        result = source_for(api, clock).collect(BRAND, None)
    assert len(result.mentions) == 5 and result.stats["retries"] == 1 and result.stats[REQUESTS] == 2
    assert 1.0 <= clock.waits[0] <= 1.5


def test_a_malformed_second_page_is_counted_and_the_first_kept(clock: Clock) -> None:
    old = CrawlState(source="x-test", brand="Kuzey Telekom", last_seen_id="1890000000000000001")
    with XApi(many(25), clock=clock) as api:
        api.serve_next(Reply(200, b'{"data": [{"id": "1", "te', {"Content-Type": "application/json"}), skip=1)
        result = source_for(api, clock).collect(BRAND, old)
    assert len(result.mentions) == 10 and result.stats[PARSE_FAILURES] == 1
    assert result.state.last_seen_id == "1890000000000000001"


def test_a_malformed_first_page_gives_an_empty_result(clock: Clock) -> None:
    with XApi(clock=clock) as api:
        api.serve_next(Reply.html("<html><body>Bakım çalışması</body></html>"))
        result = source_for(api, clock).collect(BRAND, None)
    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1 and result.state.last_seen_id is None


def test_a_page_over_the_size_cap_is_refused_and_counted(clock: Clock) -> None:
    with XApi(many(30), clock=clock) as api:
        result = source_for(api, clock, max_bytes=2_000).collect(BRAND, None)
    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1 and result.state.last_seen_id is None


def test_meta_without_newest_id_falls_back_to_the_highest_post_id(clock: Clock) -> None:
    older = tweet("998", "Kuzey Telekom", "1501", "2026-03-02T07:00:00Z")
    newer = tweet("1002", "Kuzey Telekom'a teşekkürler", "1501", "2026-03-02T07:05:00Z")
    body = {"data": [older, newer], "meta": {"result_count": 2}}  # no includes: authors unknown
    with XApi(clock=clock) as api:
        api.serve_next(Reply.json(body))
        result = source_for(api, clock).collect(BRAND, None)
    assert result.state.last_seen_id == "1002" and result.mentions[0].url == "https://x.com/i/status/998"


def test_a_windows_1254_body_keeps_turkish_letters(clock: Clock) -> None:
    with XApi(clock=clock, charset="windows-1254") as api:
        result = source_for(api, clock).collect(BRAND, None)
    texts = {m.external_id: m.text for m in result.mentions}
    assert texts["1890000000000000103"] == "Kuzey Telekom faturama ödemediğim bir paket eklemiş. İade istiyorum!"
    assert "arıza kaydı açtım" in texts["1890000000000000101"]
    assert result.mentions[2].author == "Mehmet Öztürk"


def test_a_post_missing_its_text_is_counted_and_skipped(clock: Clock) -> None:
    broken = tweet("1890000000000000200", "silinecek", "1504", "2026-03-02T11:30:00Z")
    del broken["text"]
    with XApi(clock=clock) as api:
        api.add(broken)
        switched = tweet(
            "1890000000000000201",
            "Deniz GSM'den Kuzey Telekom'a geçtim, pişman değilim.",
            "9999",
            "2026-03-02T11:31:00Z",
        )
        api.add(switched, user("9999", "yeni_abone", "Şükrü Işık"))
        result = source_for(api, clock).collect(BRAND, None)
    assert len(result.mentions) == 6 and result.stats[PARSE_FAILURES] == 1 and result.stats[FETCHED] == 7
    assert result.mentions[0].author == "Şükrü Işık"
    assert result.state.last_seen_id == "1890000000000000201"


def test_a_bad_token_is_blocked_with_the_problem_title(clock: Clock) -> None:
    with XApi(clock=clock) as api, pytest.raises(SourceBlocked, match=r"HTTP 401 \(Unauthorized\)"):
        source_for(api, clock, token="wrong").collect(BRAND, None)


def test_an_invalid_request_names_the_problem(clock: Clock) -> None:
    with XApi(clock=clock) as api:
        api.fail_next(400)
        with pytest.raises(SourceError, match="HTTP 400 \\(Invalid Request: The stand-in was told") as caught:
            source_for(api, clock).collect(BRAND, None)
    assert not isinstance(caught.value, SourceBlocked)
