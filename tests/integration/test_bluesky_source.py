"""BlueskySource against the local searchPosts stand-in: real httpx, real HTTP on 127.0.0.1, cursors and failures."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from config.settings import BrandSettings, Settings, SourceSettings
from crawlers.base import FAILED, FETCHED, PARSE_FAILURES, REQUESTS, SOURCES, SourceConfig, cursor_of
from crawlers.bluesky import BlueskySource
from loopback.bluesky import SEARCH_PATH, BlueskyAppView, post_view
from loopback.server import Reply
from store.errors import ConfigError, SourceBlocked
from store.model import Brand

KUZEY = Brand("Kuzey Telekom", aliases=("Kuzey Telekom", "KuzeyTel"))
MAVI = Brand("Mavi Kargo")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AGENT = "KulakTest/1.0 (+https://kulak.example)"


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def posts(count: int, start: int = 0, brand: str = "Kuzey Telekom") -> list[dict[str, Any]]:
    """``count`` posts about ``brand``, rkeys p0000.., one minute apart (higher number = newer)."""
    return [
        post_view(f"p{n:04d}", f"{brand} {n}. gün: çağrı merkezi açmıyor", T0 + timedelta(minutes=n))
        for n in range(start, start + count)
    ]


@pytest.fixture
def appview() -> Iterator[BlueskyAppView]:
    with BlueskyAppView() as server:
        yield server


def make(root: str, waits: Waits | None = None, max_pages: int = 3, **options: Any) -> BlueskySource:
    config = SourceConfig(name="bsky", base_url=root, user_agent=AGENT, max_pages=max_pages, backoff=1.0)
    return BlueskySource(
        config, BlueskySource.Options(**options), sleep=Waits() if waits is None else waits, now=lambda: T0
    )


def test_registered_and_built_from_settings() -> None:
    assert SOURCES["bluesky"] is BlueskySource
    conf = SourceSettings(
        name="bsky", type="bluesky", options={"queries": {"Kuzey Telekom": "kuzeytelekom.com.tr"}, "lang": "tr"}
    )
    settings = Settings(brands=(BrandSettings(name="Kuzey Telekom"),), sources=(conf,))
    source = BlueskySource.from_settings(conf, settings)
    assert source.query_for(KUZEY) == "kuzeytelekom.com.tr" and source.options.lang == "tr"
    assert source.config.base_url == "https://public.api.bsky.app"
    with pytest.raises(ConfigError):
        BlueskySource.from_settings(SourceSettings(name="b", type="bluesky", options={"language": "tr"}), settings)


def test_post_becomes_a_mention_and_the_query_comes_from_the_brand(appview: BlueskyAppView) -> None:
    appview.add(
        post_view(
            "3lbq2xk7a2c2x",
            "Kuzey Telekom faturamı iki kez kesti!\nİade ne zaman?",
            T0,
            handle="mehmet.bsky.social",
            display_name="Mehmet Öztürk",
            created_at=T0 - timedelta(seconds=4),
            likes=7,
        ),
        post_view("3lbq2xk7zzzzz", "Mavi Kargo paketim kayıp", T0),
    )
    result = make(appview.url).collect(KUZEY, None)

    (request,) = appview.received()
    assert request.path == SEARCH_PATH
    assert request.query == {"q": ["Kuzey Telekom"], "sort": ["latest"], "limit": ["100"]}
    assert request.headers["user-agent"] == AGENT and request.headers["accept"] == "application/json"
    (mention,) = result.mentions
    assert mention.external_id == "at://did:plc:mehmetbskysocial/app.bsky.feed.post/3lbq2xk7a2c2x"
    assert mention.url == "https://bsky.app/profile/mehmet.bsky.social/post/3lbq2xk7a2c2x"
    assert mention.text == "Kuzey Telekom faturamı iki kez kesti!\nİade ne zaman?"
    assert (mention.author, mention.author_handle, mention.language) == ("Mehmet Öztürk", "@mehmet.bsky.social", "tr")
    assert mention.published_at == T0 - timedelta(seconds=4) and mention.source == "bluesky"
    assert mention.payload == {
        "source_name": "bsky",
        "likes": 7,
        "reposts": 1,
        "replies": 0,
        "did": "did:plc:mehmetbskysocial",
    }
    assert result.state.last_seen_at == T0 and result.state.last_seen_id == mention.external_id


def test_query_override_and_lang_go_over_the_wire(appview: BlueskyAppView) -> None:
    appview.add(post_view("a1", "kuzeytel destek hattı", T0), post_view("a2", "kuzeytel support", T0, langs=("en",)))
    result = make(appview.url, queries={"Kuzey Telekom": "kuzeytel"}, lang="tr").collect(KUZEY, None)
    assert appview.received()[0].query["q"] == ["kuzeytel"] and appview.received()[0].query["lang"] == ["tr"]
    assert [m.text for m in result.mentions] == ["kuzeytel destek hattı"]


def test_first_crawl_pages_with_the_cursor_up_to_max_pages(appview: BlueskyAppView) -> None:
    appview.add(*posts(250))
    result = make(appview.url, max_pages=2).collect(KUZEY, None)
    requests = appview.received()
    assert len(requests) == 2 and "cursor" not in requests[0].query and requests[1].query["cursor"] == ["100"]
    assert len(result.mentions) == 200 and result.mentions[0].external_id.endswith("/p0249")
    assert result.state.last_seen_at == T0 + timedelta(minutes=249)
    assert len(cursor_of(result.state)["seen"]) == 200


def test_incremental_stops_at_the_known_post_in_one_request(appview: BlueskyAppView) -> None:
    appview.add(*posts(5))
    source = make(appview.url)
    first = source.collect(KUZEY, None)
    second = source.collect(KUZEY, first.state)
    assert second.mentions == [] and second.stats[REQUESTS] == 1 and second.stats["known"] == 1
    assert second.state.last_seen_at == first.state.last_seen_at

    appview.add(*posts(3, start=5))
    third = source.collect(KUZEY, second.state)
    assert [m.external_id[-5:] for m in third.mentions] == ["p0007", "p0006", "p0005"]
    assert third.stats[REQUESTS] == 1 and third.state.last_seen_at == T0 + timedelta(minutes=7)


def test_indexed_at_older_than_last_seen_stops_even_without_the_seen_list(appview: BlueskyAppView) -> None:
    appview.add(*posts(150))
    source = make(appview.url)
    first = source.collect(KUZEY, None)
    appview.add(*posts(2, start=150))
    cleared = replace(first.state, cursor=None)
    second = source.collect(KUZEY, cleared)
    # The two new posts, plus the last one seen: a post indexed in that same instant may be new, so only
    # strictly older ones stop the walk (the store drops the repeat).
    assert [m.external_id for m in second.mentions][2:] == [first.state.last_seen_id]
    assert len(second.mentions) == 3 and second.stats[REQUESTS] == 1


def test_429_waits_for_retry_after(appview: BlueskyAppView) -> None:
    waits = Waits()
    appview.add(*posts(2))
    appview.inject(Reply.json({"error": "RateLimitExceeded"}, status=429, headers={"Retry-After": "30"}))
    result = make(appview.url, waits).collect(KUZEY, None)
    assert waits == [30.0] and len(result.mentions) == 2 and result.stats[REQUESTS] == 2


def test_500_then_success(appview: BlueskyAppView) -> None:
    waits = Waits()
    appview.add(*posts(2))
    appview.inject(Reply.json({"error": "InternalServerError"}, status=500))
    result = make(appview.url, waits).collect(KUZEY, None)
    assert len(result.mentions) == 2 and len(waits) == 1 and 1.0 <= waits[0] <= 1.5


def test_malformed_later_page_keeps_items_and_old_state(appview: BlueskyAppView) -> None:
    appview.add(*posts(150))
    appview.inject(Reply(200, b'{"posts": [{"uri": ', {"Content-Type": "application/json"}), when=_later_page)
    result = make(appview.url).collect(KUZEY, None)
    assert len(result.mentions) == 100 and result.stats[PARSE_FAILURES] == 1
    assert result.state.cursor is None and result.state.last_seen_at is None


def test_malformed_first_page_returns_an_empty_counted_result(appview: BlueskyAppView) -> None:
    appview.inject(Reply(200, b'{"feed": []}', {"Content-Type": "application/json"}))
    result = make(appview.url).collect(KUZEY, None)
    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1 and result.state.cursor is None


def test_a_later_page_failing_keeps_what_was_read(appview: BlueskyAppView) -> None:
    appview.add(*posts(150))
    appview.inject(Reply.json({"error": "UpstreamFailure"}, status=502), times=10, when=_later_page)
    result = make(appview.url).collect(KUZEY, None)
    assert len(result.mentions) == 100 and result.stats[FAILED] == 1 and result.state.last_seen_at is None


def test_windows_1254_body() -> None:
    with BlueskyAppView(charset="windows-1254") as server:
        server.add(post_view("w1", "Mavi Kargo şubesi İğdır'da ğ ş ı", T0, display_name="Gül Şahin"))
        (mention,) = make(server.url).collect(MAVI, None).mentions
    assert mention.text == "Mavi Kargo şubesi İğdır'da ğ ş ı" and mention.author == "Gül Şahin"


def test_a_post_missing_a_field_is_counted_and_skipped(appview: BlueskyAppView) -> None:
    no_text = post_view("m1", "Mavi Kargo", T0)
    del no_text["record"]["text"]
    no_author = post_view("m2", "Mavi Kargo", T0)
    del no_author["author"]
    good = post_view("m3", "Mavi Kargo kuryesi gelmedi", T0)
    appview.inject(Reply.json({"posts": [good, no_text, no_author]}))
    result = make(appview.url).collect(MAVI, None)
    assert [m.text for m in result.mentions] == ["Mavi Kargo kuryesi gelmedi"]
    assert result.stats[PARSE_FAILURES] == 2 and result.stats[FETCHED] == 3


def test_blocked_raises(appview: BlueskyAppView) -> None:
    appview.inject(Reply.json({"error": "Forbidden", "message": "search is not public"}, status=403))
    with pytest.raises(SourceBlocked, match="search is not public"):
        make(appview.url).collect(KUZEY, None)


def _later_page(request: Any) -> bool:
    return "cursor" in request.query


def test_an_oversized_page_is_refused_and_counted(appview: BlueskyAppView) -> None:
    appview.add(*posts(100))
    config = SourceConfig(name="bsky", base_url=appview.url, max_bytes=2_000)
    result = BlueskySource(config, sleep=Waits()).collect(KUZEY, None)
    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1 and result.state.last_seen_at is None
