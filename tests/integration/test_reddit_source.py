"""RedditSource against the local Reddit stand-in: OAuth tokens, paging, the incremental stop, failures, the wire."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from config.settings import BrandSettings, Settings, SourceSettings
from crawlers.base import FAILED, FETCHED, PARSE_FAILURES, REQUESTS, SOURCES, SourceConfig
from crawlers.reddit import RedditSource
from loopback.reddit import BASE_TIME, RedditApi, post
from loopback.server import Reply
from store.errors import ConfigError, NotConfigured, SourceBlocked, SourceRateLimited
from store.model import Brand, CrawlState
from tests.fakes import Clock

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CRAWL_UA = "Kulak/test (social-care listener; +https://example.org/contact)"
REDDIT_UA = "linux:dev.kulak.listener:0.2 (by /u/kulak_bakim)"
BRAND = Brand(
    name="Kuzey Telekom",
    aliases=("Kuzey Telekom", "KuzeyTel"),
    handles=("@kuzeytelekom",),
    hashtags=("#KuzeyTelekom",),
    exclude=("Kuzey Telekom Kulesi",),
)


@pytest.fixture
def clock() -> Clock:
    return Clock(BASE_TIME + 4 * 3600)


def many(count: int) -> list[dict[str, Any]]:
    """``count`` posts a minute apart, ``t3_m0`` the oldest."""
    return [
        post(f"m{n}", f"Kuzey Telekom sorunu #{n}", "Hâlâ çözülmedi.", created_utc=BASE_TIME + 60 * n)
        for n in range(count)
    ]


def source_for(
    api: RedditApi, clock: Clock, *, secret: str | None = None, max_bytes: int = 1_000_000, **options: Any
) -> RedditSource:
    config = SourceConfig(
        name="reddit-test",
        base_url=api.url,
        max_pages=3,
        backoff=1.0,
        retries=2,
        max_wait=120.0,
        user_agent=CRAWL_UA,
        max_bytes=max_bytes,
    )
    opts = RedditSource.Options(token_url=f"{api.url}/api/v1/access_token", **options)
    return RedditSource(
        config,
        opts,
        client_id=api.client_id,
        client_secret=api.client_secret if secret is None else secret,
        sleep=clock.sleep,
        clock=clock,
        now=lambda: NOW,
    )


def test_reddit_is_registered_and_built_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SOURCES["reddit"] is RedditSource
    options = {"subreddits": ["Turkey", "istanbul"], "time_filter": "week", "user_agent": REDDIT_UA}
    conf = SourceSettings(name="reddit", type="reddit", options=options)
    settings = Settings(brands=(BrandSettings(name="Kuzey Telekom"),), sources=(conf,))
    monkeypatch.setenv("KULAK_REDDIT_CLIENT_ID", "id-from-env")
    monkeypatch.setenv("KULAK_REDDIT_SECRET", "secret-from-env")
    source = RedditSource.from_settings(conf, settings)
    assert source.options.subreddits == ("Turkey", "istanbul") and source.options.time_filter == "week"
    assert (source.client_id, source.client_secret) == ("id-from-env", "secret-from-env")
    assert source.config.base_url == "https://oauth.reddit.com" and source.user_agent == REDDIT_UA
    assert source.options.token_url == "https://www.reddit.com/api/v1/access_token"
    monkeypatch.delenv("KULAK_REDDIT_SECRET")
    with pytest.raises(NotConfigured, match="KULAK_REDDIT_SECRET"):
        RedditSource.from_settings(conf, settings)


@pytest.mark.parametrize("options", [{"subreddit": ["Turkey"]}, {"time_filter": "fortnight"}, {"subreddits": "x"}])
def test_bad_options_are_config_errors(monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]) -> None:
    monkeypatch.setenv("KULAK_REDDIT_CLIENT_ID", "i")
    monkeypatch.setenv("KULAK_REDDIT_SECRET", "s")
    conf = SourceSettings(name="reddit", type="reddit", options=options)
    settings = Settings(brands=(BrandSettings(name="Kuzey Telekom"),), sources=(conf,))
    with pytest.raises(ConfigError):
        RedditSource.from_settings(conf, settings)


def test_token_then_search_with_what_reddit_asks_for(clock: Clock) -> None:
    with RedditApi(clock=clock) as api:
        source_for(api, clock, user_agent=REDDIT_UA).collect(BRAND, None)
    (asked,) = api.token_requests()
    basic = base64.b64encode(b"kulak-app-id:kulak-app-secret").decode()
    assert asked.method == "POST" and asked.headers["authorization"] == f"Basic {basic}"
    assert asked.form() == {"grant_type": ["client_credentials"]} and asked.headers["user-agent"] == REDDIT_UA
    (sent,) = api.search_requests()
    assert sent.path == "/search" and sent.headers["user-agent"] == REDDIT_UA
    assert sent.headers["authorization"] == f"bearer {next(iter(api.tokens))}"
    assert sent.query["q"] == [
        '("Kuzey Telekom" OR KuzeyTel OR @kuzeytelekom OR #KuzeyTelekom) -"Kuzey Telekom Kulesi"'
    ]
    assert {k: v for k, v in sent.query.items() if k != "q"} == {
        "sort": ["new"],
        "limit": ["100"],
        "t": ["day"],
        "raw_json": ["1"],
    }


def test_subreddits_restrict_the_search(clock: Clock) -> None:
    with RedditApi(clock=clock) as api:
        result = source_for(api, clock, subreddits=("r/istanbul", "teknoloji")).collect(BRAND, None)
    (sent,) = api.search_requests()
    assert sent.path == "/r/istanbul+teknoloji/search" and sent.query["restrict_sr"] == ["1"]
    assert sent.headers["user-agent"] == CRAWL_UA  # no Reddit user_agent set: the crawl's own
    assert [m.payload["subreddit"] for m in result.mentions] == ["teknoloji", "istanbul"]


def test_posts_become_mentions(clock: Clock) -> None:
    with RedditApi(clock=clock) as api:
        result = source_for(api, clock).collect(BRAND, None)
    assert [m.external_id for m in result.mentions] == [f"t3_1k0a0{n}" for n in (5, 4, 3, 2, 1)]
    oldest = result.mentions[-1]
    assert oldest.source == "reddit" and oldest.brand == "Kuzey Telekom" and oldest.fetched_at == NOW
    assert oldest.url == "https://www.reddit.com/r/Turkey/comments/1k0a01/kuzey_telekom_faturasna_itiraz_eden/"
    assert oldest.title == "Kuzey Telekom faturasına itiraz eden var mı?"
    assert oldest.text.startswith("Bu ay faturama 89 TL fazladan ek paket yansıdı.")
    assert oldest.author == "u/deniz_k" and oldest.author_handle == "u/deniz_k"
    assert oldest.published_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert oldest.payload == {"source_name": "reddit-test", "subreddit": "Turkey", "score": 1, "num_comments": 6}
    link_post = result.mentions[1]
    assert link_post.text == link_post.title == "Kuzey Telekom kesintisi hakkında haber"  # no selftext: the title
    assert link_post.payload["link"] == "https://haber.example.org/kuzey-telekom-kesinti"
    assert result.state.last_seen_id == "t3_1k0a05"
    assert result.state.last_seen_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert result.stats[FETCHED] == 5 and result.stats[REQUESTS] == 2  # the token and one page


def test_pages_with_after_up_to_max_pages(clock: Clock) -> None:
    with RedditApi(many(350), clock=clock) as api:
        result = source_for(api, clock).collect(BRAND, None)
    sent = api.search_requests()
    assert len(sent) == 3 and len(result.mentions) == 300
    assert "after" not in sent[0].query
    assert sent[1].query["after"] == ["t3_m250"] and sent[2].query["after"] == ["t3_m150"]
    assert result.state.last_seen_id == "t3_m349"


def test_the_next_poll_stops_at_the_newest_post_seen(clock: Clock) -> None:
    with RedditApi(many(150), clock=clock) as api:
        source = source_for(api, clock)
        first = source.collect(BRAND, None)
        quiet = source.collect(BRAND, first.state)
        same_second = post("n1", "KuzeyTel kampanyası", created_utc=BASE_TIME + 60 * 149, subreddit="istanbul")
        api.add(same_second)
        api.add(post("n2", "Kuzey Telekom yine kesinti", "Ümraniye'de internet yok.", created_utc=BASE_TIME + 99_000))
        fresh = source.collect(BRAND, quiet.state)
    assert len(first.mentions) == 150 and quiet.mentions == []
    assert quiet.stats[REQUESTS] == 1 and quiet.stats["known"] == 2  # one search, the token is kept in memory
    assert quiet.state.last_seen_id == first.state.last_seen_id == "t3_m149"
    assert [m.external_id for m in fresh.mentions] == ["t3_n2", "t3_n1"]
    assert fresh.state.last_seen_id == "t3_n2" and fresh.stats[REQUESTS] == 1
    assert len(api.token_requests()) == 1


def test_an_expired_token_is_replaced_before_use(clock: Clock) -> None:
    with RedditApi(clock=clock, expires_in=3600) as api:
        source = source_for(api, clock)
        source.collect(BRAND, None)
        clock.now += 3600
        source.collect(BRAND, None)
    assert len(api.token_requests()) == 2 and all(r.method == "GET" for r in api.search_requests())
    assert len(api.search_requests()) == 2  # no 401 was needed


def test_a_401_gets_one_fresh_token_then_the_source_is_blocked(clock: Clock) -> None:
    with RedditApi(clock=clock) as api:
        source = source_for(api, clock)
        source.collect(BRAND, None)
        api.expire_tokens()
        again = source.collect(BRAND, None)
        api.revoked = True
        with pytest.raises(SourceBlocked, match="fresh token"):
            source.collect(BRAND, None)
    assert len(again.mentions) == 5
    assert len(api.token_requests()) == 3  # the first, one after the 401, one more before giving up


def test_wrong_credentials_are_blocked_naming_the_variables(clock: Clock) -> None:
    with RedditApi(clock=clock) as api, pytest.raises(SourceBlocked, match="KULAK_REDDIT_CLIENT_ID"):
        source_for(api, clock, secret="yanlis").collect(BRAND, None)
    assert api.search_requests() == []


def test_a_failed_second_page_keeps_the_old_state(clock: Clock) -> None:
    old = CrawlState(
        source="reddit-test", brand="Kuzey Telekom", last_seen_id="t3_old", cursor='{"recent": ["t3_old"]}'
    )
    with RedditApi(many(250), clock=clock) as api:
        api.fail_next(503, times=3, skip=1)
        result = source_for(api, clock).collect(BRAND, old)
    assert len(result.mentions) == 100 and result.stats[FAILED] == 1
    assert result.state.last_seen_id == "t3_old" and result.state.cursor == old.cursor


def test_a_429_with_retry_after_is_waited_out(clock: Clock) -> None:
    with RedditApi(clock=clock) as api:
        api.fail_next(429, retry_after=12)
        result = source_for(api, clock).collect(BRAND, None)
    assert 12.0 in clock.waits and len(result.mentions) == 5 and len(api.search_requests()) == 2


def test_no_remaining_requests_waits_the_reset_seconds(clock: Clock) -> None:
    with RedditApi(many(150), clock=clock) as api:
        api.set_rate(remaining=1, reset_in=45)
        result = source_for(api, clock).collect(BRAND, None)
    assert clock.waits == [45.0] and len(result.mentions) == 150


def test_a_reset_too_far_away_ends_the_crawl_rate_limited(clock: Clock) -> None:
    with RedditApi(clock=clock) as api:
        api.set_rate(remaining=0, reset_in=590)
        with pytest.raises(SourceRateLimited) as caught:
            source_for(api, clock).collect(BRAND, None)
    assert caught.value.retry_after == pytest.approx(590)


def test_a_500_then_success(clock: Clock) -> None:
    with RedditApi(clock=clock) as api:
        api.fail_next(500)
        result = source_for(api, clock).collect(BRAND, None)
    assert len(result.mentions) == 5 and result.stats["retries"] == 1 and len(api.search_requests()) == 2


def test_a_malformed_second_page_is_counted_and_the_first_kept(clock: Clock) -> None:
    with RedditApi(many(250), clock=clock) as api:
        api.serve_next(Reply(200, b'{"kind": "Listing", "data": {"chil', {"Content-Type": "application/json"}), skip=1)
        result = source_for(api, clock).collect(BRAND, None)
    assert len(result.mentions) == 100 and result.stats[PARSE_FAILURES] == 1
    assert result.state.last_seen_id is None and result.state.updated_at == NOW


def test_a_malformed_first_page_gives_an_empty_result(clock: Clock) -> None:
    with RedditApi(clock=clock) as api:
        api.serve_next(Reply.html("<html><body>Sunucu bakımda, lütfen bekleyin</body></html>"))
        result = source_for(api, clock).collect(BRAND, None)
    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1 and result.state.last_seen_id is None


def test_a_page_over_the_size_cap_is_refused_and_counted(clock: Clock) -> None:
    with RedditApi(many(60), clock=clock) as api:
        result = source_for(api, clock, max_bytes=4_000).collect(BRAND, None)
    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1 and result.state.last_seen_id is None
    assert len(api.token_requests()) == 1  # the small token answer passed the cap


def test_a_windows_1254_body_keeps_turkish_letters(clock: Clock) -> None:
    with RedditApi(clock=clock, charset="windows-1254") as api:
        result = source_for(api, clock).collect(BRAND, None)
    titles = [m.title for m in result.mentions]
    assert "Kuzey Telekom fiber altyapısı Kadıköy'de nasıl?" in titles
    assert "Şişli ve Beşiktaş'ta ikisini de denedim, sonuçlar aşağıda." in [m.text for m in result.mentions]
    assert "Güncellemeden beri giriş ekranında donuyor. İşe yaramıyor." in [m.text for m in result.mentions]


def test_a_post_missing_a_field_is_counted_and_skipped(clock: Clock) -> None:
    broken = post("x1", "Kuzey Telekom iade etmedi", created_utc=BASE_TIME + 9000)
    del broken["permalink"]
    with RedditApi(clock=clock) as api:
        api.add(broken)
        result = source_for(api, clock).collect(BRAND, None)
    assert len(result.mentions) == 5 and result.stats[PARSE_FAILURES] == 1 and result.stats[FETCHED] == 6
    assert result.state.last_seen_id == "t3_1k0a05"
