"""MastodonSource against local stand-in instances: real httpx, real HTTP on 127.0.0.1, Link paging and failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from config.settings import BrandSettings, Settings, SourceSettings
from crawlers.base import FAILED, FETCHED, PARSE_FAILURES, REQUESTS, SOURCES, SourceConfig, cursor_of
from crawlers.mastodon import MastodonSource
from loopback.mastodon import MastodonInstance, status
from loopback.server import Reply
from store.errors import ConfigError, SourceBlocked
from store.model import Brand

KUZEY = Brand("Kuzey Telekom", hashtags=("#KuzeyTelekom",))
MAVI = Brand("Mavi Kargo")  # no hashtags: the tag is the name squeezed, "mavikargo"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AGENT = "KulakTest/1.0 (+https://kulak.example)"
FIRST_ID = 113_500_000_000_000_000


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def toots(count: int, start: int = 0) -> list[dict[str, Any]]:
    """``count`` statuses, ids ascending from FIRST_ID + start, one minute apart."""
    text = "#KuzeyTelekom {}. şikâyet: internet yine yok"
    return [status(FIRST_ID + n, text.format(n), T0 + timedelta(minutes=n)) for n in range(start, start + count)]


@pytest.fixture
def instance() -> Iterator[MastodonInstance]:
    with MastodonInstance() as server:
        yield server


def make(root: str, waits: Waits | None = None, max_pages: int = 3, **options: Any) -> MastodonSource:
    config = SourceConfig(name="fediverse", base_url=root, user_agent=AGENT, max_pages=max_pages, backoff=1.0)
    return MastodonSource(
        config, MastodonSource.Options(**options), sleep=Waits() if waits is None else waits, now=lambda: T0
    )


def test_registered_and_built_from_settings() -> None:
    assert SOURCES["mastodon"] is MastodonSource
    conf = SourceSettings(
        name="fediverse",
        type="mastodon",
        options={"instances": ["https://sosyal.example/"], "tags": {"Kuzey Telekom": ["kuzeytelekom", "#kuzeydestek"]}},
    )
    settings = Settings(brands=(BrandSettings(name="Kuzey Telekom"),), sources=(conf,))
    source = MastodonSource.from_settings(conf, settings)
    assert source.instance_roots() == ["https://mastodon.social", "https://sosyal.example"]
    assert source.tags_for(KUZEY) == ["kuzeytelekom", "kuzeydestek"]
    with pytest.raises(ConfigError):
        MastodonSource.from_settings(SourceSettings(name="f", type="mastodon", options={"tag": {}}), settings)


def test_status_becomes_a_mention_with_the_query_built_from_the_brand(instance: MastodonInstance) -> None:
    html = (
        '<p>Merhaba <span class="h-card"><a href="https://m.example/@kuzey" class="u-url mention">@<span>kuzey'
        '</span></a></span> modem&nbsp;ışığı &quot;kırmızı&quot;.<br>Yardım?</p><p><a href="https://m.example/tags/'
        'kuzeytelekom" class="mention hashtag" rel="tag">#<span>KuzeyTelekom</span></a></p>'
    )
    one = status(FIRST_ID, "", T0, acct="mehmet@sosyal.example", display_name="Mehmet Öztürk", followers=87, html=html)
    instance.post("kuzeytelekom", one)
    result = make(instance.url).collect(KUZEY, None)

    (request,) = instance.received()
    assert request.path == "/api/v1/timelines/tag/kuzeytelekom"
    assert request.query == {"limit": ["40"]}
    assert request.headers["user-agent"] == AGENT and request.headers["accept"] == "application/json"
    (mention,) = result.mentions
    host = instance.url.removeprefix("http://")
    assert mention.external_id == f"{host}:{FIRST_ID}"
    assert mention.text == 'Merhaba @kuzey modem ışığı "kırmızı". Yardım? #KuzeyTelekom'
    assert (mention.author, mention.author_handle) == ("Mehmet Öztürk", "@mehmet@sosyal.example")
    assert mention.source == "mastodon" and mention.brand == "Kuzey Telekom" and mention.language == "tr"
    assert mention.published_at == T0 and mention.url == f"https://mastodon.example/@mehmet/{FIRST_ID}"
    assert mention.payload == {
        "source_name": "fediverse",
        "instance": host,
        "tag": "kuzeytelekom",
        "followers_count": 87,
        "replies": 0,
        "reblogs": 1,
        "favourites": 2,
    }
    assert cursor_of(result.state)["since_id"] == {f"{host}/kuzeytelekom": str(FIRST_ID)}
    assert (result.state.last_seen_id, result.state.last_seen_at) == (mention.external_id, T0)


def test_first_crawl_follows_link_next_up_to_max_pages(instance: MastodonInstance) -> None:
    instance.post("kuzeytelekom", *toots(130))
    result = make(instance.url, max_pages=3).collect(KUZEY, None)
    requests = instance.received()
    assert len(requests) == 3 and result.stats[REQUESTS] == 3
    assert requests[1].query["max_id"] == [str(FIRST_ID + 90)] and "since_id" not in requests[1].query
    assert len(result.mentions) == 120 and result.mentions[0].external_id.endswith(str(FIRST_ID + 129))
    newest = str(FIRST_ID + 129)
    assert list(cursor_of(result.state)["since_id"].values()) == [newest]


def test_incremental_sends_since_id_and_costs_one_request(instance: MastodonInstance) -> None:
    instance.post("kuzeytelekom", *toots(5))
    source = make(instance.url)
    first = source.collect(KUZEY, None)
    second = source.collect(KUZEY, first.state)
    assert second.mentions == [] and second.stats[REQUESTS] == 1
    assert instance.received()[-1].query["since_id"] == [str(FIRST_ID + 4)]
    assert second.state.cursor == first.state.cursor

    instance.post("kuzeytelekom", *toots(2, start=5))
    third = source.collect(KUZEY, second.state)
    assert [m.external_id.rsplit(":", 1)[1] for m in third.mentions] == [str(FIRST_ID + 6), str(FIRST_ID + 5)]
    assert third.stats[REQUESTS] == 1


def test_many_new_statuses_page_back_to_since_id(instance: MastodonInstance) -> None:
    instance.post("kuzeytelekom", *toots(3))
    source = make(instance.url)
    first = source.collect(KUZEY, None)
    instance.post("kuzeytelekom", *toots(50, start=3))
    second = source.collect(KUZEY, first.state)
    assert len(second.mentions) == 50 and second.stats[REQUESTS] == 2
    assert instance.received()[-1].query["since_id"] == [str(FIRST_ID + 2)]  # added back to the next link


def test_429_waits_for_retry_after(instance: MastodonInstance) -> None:
    waits = Waits()
    instance.post("kuzeytelekom", *toots(2))
    instance.inject(Reply.json({"error": "Too many requests"}, status=429, headers={"Retry-After": "12"}))
    result = make(instance.url, waits).collect(KUZEY, None)
    assert waits == [12.0] and len(result.mentions) == 2


def test_500_then_success(instance: MastodonInstance) -> None:
    waits = Waits()
    instance.post("kuzeytelekom", *toots(2))
    instance.inject(Reply(503, b"bakimdayiz"))
    result = make(instance.url, waits).collect(KUZEY, None)
    assert len(result.mentions) == 2 and len(waits) == 1 and result.stats["retries"] == 1


def test_malformed_later_page_keeps_items_and_old_state(instance: MastodonInstance) -> None:
    instance.post("kuzeytelekom", *toots(60))
    source = make(instance.url)
    first = source.collect(KUZEY, None)
    instance.post("kuzeytelekom", *toots(45, start=60))
    truncated = Reply(200, b'[{"id": "1", "conte', {"Content-Type": "application/json"})
    instance.inject(truncated, when=lambda request: "max_id" in request.query)
    second = source.collect(KUZEY, first.state)
    assert len(second.mentions) == 40 and second.stats[PARSE_FAILURES] == 1
    assert second.state.cursor == first.state.cursor  # the gap is read again next time


def test_malformed_first_page_returns_an_empty_counted_result(instance: MastodonInstance) -> None:
    instance.inject(Reply(200, b"<html>Bakim</html>", {"Content-Type": "text/html"}))
    result = make(instance.url).collect(KUZEY, None)
    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1 and result.state.cursor == '{"since_id": {}}'


def test_windows_1254_body() -> None:
    with MastodonInstance(charset="windows-1254") as server:
        server.post("mavikargo", status(FIRST_ID, "Kargom İzmir şubesinde ığdır ğ ş", T0, display_name="Gül Şahin"))
        (mention,) = make(server.url).collect(MAVI, None).mentions
    assert mention.text == "Kargom İzmir şubesinde ığdır ğ ş" and mention.author == "Gül Şahin"


def test_a_status_missing_a_field_is_counted_and_skipped(instance: MastodonInstance) -> None:
    broken = status(FIRST_ID + 1, "hesapsız", T0)
    del broken["account"]
    undated = status(FIRST_ID + 2, "tarihsiz", T0)
    undated["created_at"] = None
    instance.post("kuzeytelekom", status(FIRST_ID, "Kuzey Telekom faturam hatalı", T0), broken, undated)
    result = make(instance.url).collect(KUZEY, None)
    assert [m.text for m in result.mentions] == ["Kuzey Telekom faturam hatalı"]
    assert result.stats[PARSE_FAILURES] == 2 and result.stats[FETCHED] == 3
    assert list(cursor_of(result.state)["since_id"].values()) == [str(FIRST_ID + 2)]


def test_several_instances_and_tags_keep_separate_since_ids(instance: MastodonInstance) -> None:
    with MastodonInstance() as other:
        instance.post("kuzeytelekom", status(FIRST_ID, "bir", T0))
        instance.post("kuzeydestek", status(FIRST_ID, "bir", T0), status(FIRST_ID + 1, "iki", T0))
        other.post("kuzeytelekom", status(7, "başka sunucu", T0))
        source = make(instance.url, instances=(other.url,), tags={"Kuzey Telekom": ("KuzeyTelekom", "#kuzeydestek")})
        result = source.collect(KUZEY, None)
        paths = sorted(r.path for r in instance.received() + other.received())
        here, there = instance.url.removeprefix("http://"), other.url.removeprefix("http://")
    assert paths == ["/api/v1/timelines/tag/kuzeydestek"] * 2 + ["/api/v1/timelines/tag/kuzeytelekom"] * 2
    ids = sorted(m.external_id for m in result.mentions)
    assert ids == sorted([f"{here}:{FIRST_ID}", f"{here}:{FIRST_ID + 1}", f"{there}:7"])
    assert result.stats["repeated"] == 1
    assert len(cursor_of(result.state)["since_id"]) == 3  # the other instance has nothing under #kuzeydestek


def test_a_locked_instance_is_counted_unless_it_is_the_only_one(instance: MastodonInstance) -> None:
    instance.post("kuzeytelekom", *toots(1))
    with MastodonInstance() as locked:
        locked.inject(Reply.json({"error": "This API requires an authenticated user"}, status=401), times=5)
        result = make(instance.url, instances=(locked.url,)).collect(KUZEY, None)
        assert len(result.mentions) == 1 and result.stats[FAILED] == 1
        with pytest.raises(SourceBlocked, match="authenticated user"):
            make(locked.url).collect(KUZEY, None)


def test_an_oversized_page_is_refused_and_counted(instance: MastodonInstance) -> None:
    instance.post("kuzeytelekom", *toots(40))
    config = SourceConfig(name="fediverse", base_url=instance.url, max_bytes=2_000)
    result = MastodonSource(config, sleep=Waits()).collect(KUZEY, None)
    assert result.mentions == [] and result.stats[PARSE_FAILURES] == 1 and result.state.last_seen_id is None
