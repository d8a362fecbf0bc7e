"""PoliteClient against a real local server: waits, retries, rate limits, size caps, charsets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from crawlers.base import REQUESTS, SourceConfig
from crawlers.http import PoliteClient, check_status
from loopback.server import LoopbackServer, Recorded, Reply
from store.errors import SourceBlocked, SourceError, SourceParseError, SourceRateLimited
from tests.fakes import Clock


class Scripted(LoopbackServer):
    """Answers each request with the next scripted reply (the last one repeats)."""

    def __init__(self, *replies: Reply) -> None:
        super().__init__()
        self.replies = list(replies)

    def handle(self, request: Recorded) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


@pytest.fixture
def clock() -> Clock:
    return Clock()


def client_for(server: LoopbackServer, clock: Clock, **config: object) -> PoliteClient:
    settings = {"name": "t", "base_url": server.url, "backoff": 1.0, "retries": 2, "max_wait": 120.0, **config}
    return PoliteClient(SourceConfig(**settings), sleep=clock.sleep, clock=clock)  # type: ignore[arg-type]


@pytest.fixture
def ok_json() -> Iterator[Reply]:
    yield Reply.json({"ok": True})


def test_sends_the_user_agent_and_waits_between_requests_not_before_the_first(clock: Clock, ok_json: Reply) -> None:
    with Scripted(ok_json) as server:
        client = client_for(server, clock, delay=(2.0, 3.0), user_agent="Kulak/test (+https://example.org/contact)")
        for _ in range(3):
            assert client.json(client.get(f"{server.url}/a")) == {"ok": True}
    assert [r.headers["user-agent"] for r in server.received()] == ["Kulak/test (+https://example.org/contact)"] * 3
    assert len(clock.waits) == 2 and all(2.0 <= w <= 3.0 for w in clock.waits)
    assert client.stats[REQUESTS] == 3


def test_5xx_and_timeouts_are_retried_with_growing_waits(clock: Clock, ok_json: Reply) -> None:
    with Scripted(Reply(500), Reply(503), ok_json) as server:
        response = client_for(server, clock).get(f"{server.url}/a")
    assert response.status_code == 200 and len(server.received()) == 3
    first, second = clock.waits
    assert 1.0 <= first <= 1.5 and 2.0 <= second <= 3.0  # backoff * 2**n with up to 50% jitter


def test_5xx_that_will_not_stop_is_a_source_error(clock: Clock) -> None:
    with Scripted(Reply(502)) as server, pytest.raises(SourceError, match="HTTP 502 3 times"):
        client_for(server, clock).get(f"{server.url}/a?token=secret")
    assert len(server.received()) == 3


def test_a_dead_server_is_a_source_error_without_the_query_string(clock: Clock) -> None:
    with Scripted(Reply()) as server:
        url = server.url
        client = client_for(server, clock, timeout=1.0)
    with pytest.raises(SourceError, match="failed after 3 tries") as caught:
        client.get(f"{url}/a?token=secret")
    assert "secret" not in str(caught.value)


def test_429_waits_for_retry_after_then_goes_on(clock: Clock, ok_json: Reply) -> None:
    with Scripted(Reply(429, headers={"Retry-After": "7"}), ok_json) as server:
        assert client_for(server, clock).get(f"{server.url}/a").status_code == 200
    assert clock.waits == [7.0]


def test_429_asking_for_longer_than_max_wait_ends_the_crawl(clock: Clock) -> None:
    with Scripted(Reply(429, headers={"Retry-After": "3600"})) as server, pytest.raises(SourceRateLimited) as caught:
        client_for(server, clock).get(f"{server.url}/a")
    assert caught.value.retry_after == 3600.0 and clock.waits == []


def test_x_style_reset_epoch_is_waited_for_before_the_next_request(clock: Clock) -> None:
    reset = int(clock.now) + 42
    spent = Reply.json({}, headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})
    with Scripted(spent, Reply.json({})) as server:
        client = client_for(server, clock)
        client.get(f"{server.url}/a")
        client.get(f"{server.url}/a")
    assert clock.waits == [pytest.approx(42.0)]


def test_reddit_style_reset_seconds_on_a_429(clock: Clock, ok_json: Reply) -> None:
    limited = Reply(429, headers={"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "12"})
    with Scripted(limited, ok_json) as server:
        client_for(server, clock).get(f"{server.url}/a")
    assert clock.waits[0] == pytest.approx(12.0)


def test_a_page_over_the_size_cap_is_refused(clock: Clock) -> None:
    big = Reply(200, b"x" * 5000, {"Content-Type": "text/html"})
    with Scripted(big) as server, pytest.raises(SourceParseError, match="limit"):
        client_for(server, clock, max_bytes=4096).get(f"{server.url}/big")


def test_declared_windows_1254_json_is_decoded(clock: Clock) -> None:
    body = '{"text": "Şikâyetim ığdır İstanbul"}'.encode("windows-1254")
    with Scripted(Reply(200, body, {"Content-Type": "application/json; charset=windows-1254"})) as server:
        client = client_for(server, clock)
        assert client.json(client.get(f"{server.url}/a")) == {"text": "Şikâyetim ığdır İstanbul"}


def test_a_body_that_is_not_json_is_a_parse_error(clock: Clock) -> None:
    with Scripted(Reply.html("<html>bakım çalışması</html>")) as server:
        client = client_for(server, clock)
        with pytest.raises(SourceParseError, match="did not answer JSON"):
            client.json(client.get(f"{server.url}/a"))


@pytest.mark.parametrize(
    ("status", "error", "match"),
    [(401, SourceBlocked, "HTTP 401 .Unauthorized"), (403, SourceBlocked, "HTTP 403"), (404, SourceError, "HTTP 404")],
)
def test_check_status_names_what_went_wrong(clock: Clock, status: int, error: type[Exception], match: str) -> None:
    with Scripted(Reply.json({"title": "Unauthorized", "detail": "Unauthorized"}, status)) as server:
        response = client_for(server, clock).get(f"{server.url}/a")
    with pytest.raises(error, match=match):
        check_status(response, "search")


def test_mastodon_style_iso_reset_and_bluesky_style_epoch_are_read(clock: Clock, ok_json: Reply) -> None:
    reset = datetime.fromtimestamp(clock.now + 30, UTC).isoformat().replace("+00:00", "Z")
    mastodon = Reply.json({}, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    bluesky = Reply(429, headers={"ratelimit-remaining": "0", "ratelimit-reset": str(int(clock.now) + 30 + 15)})
    with Scripted(mastodon, bluesky, ok_json) as server:
        client = client_for(server, clock)
        client.get(f"{server.url}/a")
        client.get(f"{server.url}/a")
    assert clock.waits == [pytest.approx(30.0), pytest.approx(15.0)]
