"""Fuzz the API and feed sources: whatever a server answers, a crawl gives well-formed mentions or a KulakError."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crawlers.api import ApiSource
from crawlers.appstore import AppStoreSource
from crawlers.base import PARSE_FAILURES, SourceConfig
from crawlers.bluesky import BlueskySource
from crawlers.feeds import parse_feed
from crawlers.googleplay import GooglePlaySource
from crawlers.mastodon import MastodonSource
from crawlers.reddit import RedditSource
from crawlers.rss import RssSource
from crawlers.x import XSource
from store.errors import KulakError
from store.model import Brand
from tests.fuzz.strategies import aware, check_mention, json_body

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
BRAND = Brand(name="Kuzey Telekom", aliases=("Kuzey Telekom",), hashtags=("#KuzeyTelekom",))
BASE = "http://api.test"
DEEP = b"[" * 100_000 + b"]" * 100_000  # json.loads raises RecursionError on this, not ValueError

X_PAGE = {
    "data": [
        {
            "id": "1890000000000000001",
            "text": "Kuzey Telekom internetim iki gündür yok",
            "author_id": "42",
            "created_at": "2026-03-01T10:00:00.000Z",
            "lang": "tr",
            "public_metrics": {"like_count": 1, "retweet_count": 0},
            "conversation_id": "1890000000000000001",
        }
    ],
    "includes": {
        "users": [
            {"id": "42", "username": "ayse_k", "name": "Ayşe K.", "public_metrics": {"followers_count": 120}},
        ]
    },
    "meta": {"newest_id": "1890000000000000001", "result_count": 1, "next_token": "b26v89c19zqg8o3fo"},
}
REDDIT_PAGE = {
    "kind": "Listing",
    "data": {
        "after": "t3_abd",
        "children": [
            {
                "kind": "t3",
                "data": {
                    "name": "t3_abc",
                    "id": "abc",
                    "title": "Kuzey Telekom faturası",
                    "selftext": "Faturam iki kat geldi, kimse açıklamıyor.",
                    "permalink": "/r/Turkey/comments/abc/kuzey_telekom_faturasi/",
                    "created_utc": 1772400000.0,
                    "author": "mehmet_y",
                    "subreddit": "Turkey",
                    "score": 3,
                    "num_comments": 1,
                    "url": "https://www.reddit.com/r/Turkey/comments/abc/kuzey_telekom_faturasi/",
                },
            }
        ],
    },
}
MASTODON_PAGE = [
    {
        "id": "112000000000000001",
        "created_at": "2026-03-01T10:00:00.000Z",
        "url": "https://mastodon.social/@can/112000000000000001",
        "uri": "https://mastodon.social/users/can/statuses/112000000000000001",
        "content": "<p>#KuzeyTelekom faturam <b>iki kat</b> geldi &amp; kimse aramadı</p>",
        "spoiler_text": "",
        "language": "tr",
        "replies_count": 0,
        "reblogs_count": 1,
        "favourites_count": 2,
        "account": {"acct": "can", "display_name": "Can", "followers_count": 10},
    }
]
BLUESKY_PAGE = {
    "posts": [
        {
            "uri": "at://did:plc:abc123/app.bsky.feed.post/3kxyz",
            "indexedAt": "2026-03-01T10:00:00.000Z",
            "author": {"handle": "deniz.bsky.social", "displayName": "Deniz", "did": "did:plc:abc123"},
            "record": {"text": "Kuzey Telekom hattım kesildi", "createdAt": "2026-03-01T09:59:58Z", "langs": ["tr"]},
            "likeCount": 1,
        }
    ],
    "cursor": "1772400000000::bafy",
}
APPSTORE_PAGE = {
    "feed": {
        "entry": [
            {
                "id": {"label": "11000000001"},
                "content": {"label": "Uygulama açılmıyor, güncellemeden beri çöküyor."},
                "updated": {"label": "2026-03-01T02:00:00-07:00"},
                "im:rating": {"label": "1"},
                "im:version": {"label": "5.2.0"},
                "title": {"label": "Berbat"},
                "author": {"name": {"label": "zeynep"}},
            }
        ]
    }
}
GOOGLEPLAY_PAGE = {
    "reviews": [
        {
            "reviewId": "gp:AOqpTOE1",
            "authorName": "Ali",
            "comments": [
                {
                    "userComment": {
                        "text": "Çöküyor\tUygulama açılışta kapanıyor",
                        "lastModified": {"seconds": "1772400000", "nanos": 0},
                        "starRating": 1,
                        "reviewerLanguage": "tr_TR",
                        "appVersionName": "5.2.0",
                    }
                },
                {"developerComment": {"text": "Üzgünüz, düzeltiyoruz.", "lastModified": {"seconds": "1772403600"}}},
            ],
        }
    ],
    "tokenPagination": {"nextPageToken": "n1"},
}


def _config(**more: Any) -> SourceConfig:
    return SourceConfig(name="fuzz", base_url=BASE, max_pages=2, retries=0, backoff=0.0, max_bytes=2_000_000, **more)


def _transport(body: bytes, content_type: str = "application/json", status: int = 200) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/access_token"):  # Reddit's token endpoint is not what is fuzzed here
            body_out = json.dumps({"access_token": "t0ken", "expires_in": 3600}).encode()
            return httpx.Response(200, stream=httpx.ByteStream(body_out), headers={"content-type": "application/json"})
        # a stream, as from a socket: the client reads (and size-checks) the body itself
        return httpx.Response(status, stream=httpx.ByteStream(body), headers={"content-type": content_type})

    return httpx.MockTransport(answer)


def _build(cls: type[ApiSource], body: bytes, options: Any = None, status: int = 200, **secrets: str) -> ApiSource:
    kind = "application/xml" if cls is RssSource else "application/json"
    client = httpx.Client(transport=_transport(body, kind, status))
    return cls(_config(), options, client=client, sleep=lambda _: None, now=lambda: NOW, **secrets)


SOURCES: dict[str, tuple[Callable[[bytes, int], ApiSource], Any]] = {
    "x": (lambda body, status: _build(XSource, body, XSource.Options(), status, token="b"), X_PAGE),
    "reddit": (
        lambda body, status: _build(
            RedditSource,
            body,
            RedditSource.Options(token_url=f"{BASE}/api/v1/access_token"),
            status,
            client_id="i",
            client_secret="s",
        ),
        REDDIT_PAGE,
    ),
    "mastodon": (lambda body, status: _build(MastodonSource, body, MastodonSource.Options(), status), MASTODON_PAGE),
    "bluesky": (lambda body, status: _build(BlueskySource, body, BlueskySource.Options(), status), BLUESKY_PAGE),
    "appstore": (
        lambda body, status: _build(
            AppStoreSource, body, AppStoreSource.Options(apps={BRAND.name: ("1234567890",)}), status
        ),
        APPSTORE_PAGE,
    ),
    "googleplay": (
        lambda body, status: _build(
            GooglePlaySource, body, GooglePlaySource.Options(packages={BRAND.name: ("com.kuzey",)}), status, token="g"
        ),
        GOOGLEPLAY_PAGE,
    ),
}


def crawl(kind: str, body: bytes, status: int = 200) -> None:
    """One crawl of the fuzzed answer: mentions that pass every check, or a KulakError."""
    build, _ = SOURCES[kind]
    source = build(body, status)
    try:
        result = source.collect(BRAND, None)
    except KulakError:
        return
    for mention in result.mentions:
        check_mention(mention, kind)
    assert aware(result.state.last_seen_at)


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_the_valid_page_gives_a_mention(kind: str) -> None:
    """The examples the fuzzing starts from are read, so the fuzz explores near real answers."""
    build, page = SOURCES[kind]
    result = build(json.dumps(page).encode(), 200).collect(BRAND, None)
    assert result.mentions, result.stats
    for mention in result.mentions:
        check_mention(mention, kind)


@pytest.mark.parametrize("kind", sorted(SOURCES))
@given(data=st.data(), status=st.sampled_from([200, 200, 200, 400, 401, 404, 500]))
@example(data=None, status=200)
@example(data=None, status=400)  # the error body is read for its reason
def test_any_json_answer_gives_mentions_or_a_kulak_error(kind: str, data: st.DataObject | None, status: int) -> None:
    body = DEEP if data is None else data.draw(json_body(SOURCES[kind][1]), label="body")
    crawl(kind, body, status)


# Regressions the fuzzing found, one per source: each raised a bare Python error before the fix.
@pytest.mark.parametrize(
    ("kind", "page"),
    [
        ("x", {**X_PAGE, "includes": {"users": 7}}),  # TypeError: users not iterable
        ("x", {"data": [{**X_PAGE["data"][0], "lang": 5}]}),  # language an int
        ("x", {"data": [{**X_PAGE["data"][0], "id": " "}]}),  # a blank external id
        (
            "reddit",
            {"data": {"children": [{"data": {**REDDIT_PAGE["data"]["children"][0]["data"], "created_utc": "1e300"}}]}},
        ),
        (
            "reddit",
            {"data": {"children": [{"data": {**REDDIT_PAGE["data"]["children"][0]["data"], "created_utc": "nan"}}]}},
        ),
        ("mastodon", [{**MASTODON_PAGE[0], "created_at": "0001-01-01T00:00:00+01:00"}]),  # OverflowError
        ("mastodon", [{**MASTODON_PAGE[0], "url": 5}]),  # the URL "5"
        ("bluesky", {"posts": [{**BLUESKY_PAGE["posts"][0], "uri": ["at://x"]}]}),  # unhashable uri
        ("appstore", {"feed": {"entry": [{**APPSTORE_PAGE["feed"]["entry"][0], "id": {"label": "²"}}]}}),
        ("appstore", {"feed": {"entry": [{**APPSTORE_PAGE["feed"]["entry"][0], "im:rating": {"label": "²"}}]}}),
        (
            "googleplay",
            {
                "reviews": [
                    {
                        **GOOGLEPLAY_PAGE["reviews"][0],
                        "comments": [{"userComment": {"text": "x", "lastModified": {"seconds": "99999999999999"}}}],
                    }
                ]
            },
        ),
        (
            "googleplay",
            {
                "reviews": [
                    {
                        **GOOGLEPLAY_PAGE["reviews"][0],
                        "comments": [{"userComment": {"text": "x", "lastModified": {"seconds": "²"}}}],
                    }
                ]
            },
        ),
    ],
)
def test_regressions(kind: str, page: Any) -> None:
    crawl(kind, json.dumps(page).encode())


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_a_page_with_nan_is_unreadable(kind: str) -> None:
    """Python's reader takes NaN, PostgreSQL's JSON does not: such a page is counted unreadable, not half stored."""
    build, page = SOURCES[kind]
    page = {**page, "x": math.nan} if isinstance(page, dict) else [*page, math.nan]
    result = build(json.dumps(page).encode(), 200).collect(BRAND, None)
    assert not result.mentions and result.stats[PARSE_FAILURES] == 1


RSS = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Haberler</title>'
    b"<language>tr-TR</language><item><title>Kuzey Telekom'da kesinti</title>"
    b"<link>https://haber.test/kuzey-kesinti</link><guid>https://haber.test/kuzey-kesinti</guid>"
    b"<description>&lt;p&gt;Istanbul'da &lt;b&gt;kesinti&lt;/b&gt;&lt;/p&gt;</description>"
    b"<pubDate>Mon, 02 Mar 2026 09:15:00 +0300</pubDate></item></channel></rss>"
)
ATOM = (
    b'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="tr"><title>Blog</title><entry><id>tag:blog.test,2026:1</id>'
    b'<title type="html">Kuzey &amp;amp; Telekom</title><link href="https://blog.test/1"/>'
    b"<updated>2026-03-01T10:00:00Z</updated><summary>Hat kesildi</summary><author><name>Selin</name></author>"
    b"</entry></feed>"
)


@st.composite
def feed_bytes(draw: st.DrawFn) -> bytes:
    """A valid feed with a slice cut out, bytes spliced in, or a field's text swapped for junk."""
    base = draw(st.sampled_from([RSS, ATOM]))
    how = draw(st.integers(min_value=0, max_value=3))
    if how == 0:
        start = draw(st.integers(min_value=0, max_value=len(base)))
        return base[:start] + draw(st.binary(max_size=40)) + base[start + draw(st.integers(0, 40)) :]
    if how == 1:
        junk = draw(st.sampled_from(["0001-01-01T00:00:00+01:00", "Mon, 01 Jan 0001 00:00:00 +0100", "²", ""]))
        return base.replace(b"2026-03-01T10:00:00Z", junk.encode()).replace(
            b"Mon, 02 Mar 2026 09:15:00 +0300", junk.encode()
        )
    if how == 2:
        text = draw(st.text(max_size=60)).replace("]]>", "")
        return base.replace(b"Hat kesildi", f"<![CDATA[{text}]]>".encode()).replace(
            b"&lt;b&gt;kesinti", text.encode(errors="replace")
        )
    return draw(st.binary(max_size=300))


@given(body=feed_bytes(), charset=st.sampled_from([None, "utf-8", "iso-8859-9", "no-such-charset", "utf-16"]))
@example(body=RSS.replace(b"Mon, 02 Mar 2026 09:15:00 +0300", b"Mon, 01 Jan 0001 00:00:00 +0100"), charset=None)
@example(body=ATOM.replace(b"2026-03-01T10:00:00Z", b"9999-12-31T23:59:59-01:00"), charset=None)
@example(
    body=RSS.replace(b"<link>https://haber.test/kuzey-kesinti</link>", b"<link>javascript:alert(1)</link>"),
    charset=None,
)
@example(body=ATOM.replace(b'<link href="https://blog.test/1"/>', b""), charset=None)  # no link at all
def test_any_feed_parses_or_raises_source_parse_error(body: bytes, charset: str | None) -> None:
    try:
        feed = parse_feed(body, charset)
    except KulakError:
        return
    for item in feed.items:
        assert isinstance(item.id, str) and item.id
        assert aware(item.published)
    source = _build(RssSource, body, RssSource.Options(google_news=False, feeds={BRAND.name: (f"{BASE}/feed",)}))
    try:
        result = source.collect(BRAND, None)
    except KulakError:
        return
    for mention in result.mentions:
        check_mention(mention, "rss", linkless=True)
