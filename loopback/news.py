"""A local stand-in for Google News search feeds and news sites' RSS/Atom feeds, with validators and failures."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from loopback.api import CannedReplies
from loopback.server import LoopbackServer, Recorded, Reply

SEARCH_PATH = "/rss/search"
DATA_FILE = Path(__file__).with_name("data") / "rss.json"
_PHRASE = re.compile(r'"([^"]+)"|([^\s()"]+)')


@dataclass(frozen=True)
class NewsItem:
    """One news story; a field left None is left out of the feed (to test items missing it)."""

    title: str | None
    link: str | None
    guid: str | None
    published: datetime
    description: str | None = None  # HTML; None renders Google News' own "<a>title</a> source" snippet
    source: str = ""
    source_url: str = ""


@dataclass
class PublishedFeed:
    """A feed served at one path: its format, items (newest first) and how it declares its charset."""

    items: list[NewsItem]
    kind: str = "rss"  # rss | atom
    charset: str = "utf-8"
    charset_in_header: bool = True  # False: only the XML declaration names it
    validators: bool = True  # send ETag/Last-Modified and answer conditional GETs with 304
    title: str = "Haberler"


def search_terms(query: str) -> list[str]:
    """The phrases a boolean query asks for: quoted phrases and bare words, minus OR and -exclusions."""
    found = []
    for quoted, bare in _PHRASE.findall(query):
        term = quoted or bare
        if term and term != "OR" and not term.startswith("-"):
            found.append(term.lstrip("@#").casefold())
    return found


def render_rss(feed: PublishedFeed, link: str) -> bytes:
    """The feed as RSS 2.0 bytes in its charset (characters the charset lacks become character references)."""
    out = [
        f'<?xml version="1.0" encoding="{feed.charset}"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>',
        f"<title>{escape(feed.title)}</title><link>{escape(link)}</link><language>tr</language>",
    ]
    for item in feed.items:
        out.append("<item>")
        if item.title is not None:
            out.append(f"<title>{escape(item.title)}</title>")
        if item.link is not None:
            out.append(f"<link>{escape(item.link)}</link>")
        if item.guid is not None:
            out.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        out.append(f"<pubDate>{format_datetime(item.published)}</pubDate>")
        out.append(f"<description>{escape(_description(item))}</description>")
        if item.source:
            out.append(f"<source url={quoteattr(item.source_url)}>{escape(item.source)}</source>")
        out.append("</item>")
    out.append("</channel></rss>")
    return "\n".join(out).encode(feed.charset, errors="xmlcharrefreplace")


def render_atom(feed: PublishedFeed, link: str) -> bytes:
    """The feed as Atom 1.0 bytes in its charset."""
    updated = max((i.published for i in feed.items), default=datetime(2026, 1, 1, tzinfo=UTC))
    out = [
        f'<?xml version="1.0" encoding="{feed.charset}"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="tr">',
        f"<title>{escape(feed.title)}</title><id>{escape(link)}</id><updated>{updated.isoformat()}</updated>",
    ]
    for item in feed.items:
        out.append("<entry>")
        if item.guid is not None:
            out.append(f"<id>{escape(item.guid)}</id>")
        if item.title is not None:
            out.append(f'<title type="text">{escape(item.title)}</title>')
        if item.link is not None:
            out.append(f'<link rel="alternate" type="text/html" href={quoteattr(item.link)}/>')
        out.append(f"<published>{item.published.isoformat()}</published>")
        out.append(f"<updated>{item.published.isoformat()}</updated>")
        out.append(f"<author><name>{escape(item.source or 'Editör')}</name></author>")
        out.append(f'<summary type="html">{escape(_description(item))}</summary>')
        out.append("</entry>")
    out.append("</feed>")
    return "\n".join(out).encode(feed.charset, errors="xmlcharrefreplace")


def _description(item: NewsItem) -> str:
    if item.description is not None:
        return item.description
    anchor = f'<a href="{item.link or ""}" target="_blank">{item.title or ""}</a>'
    return f'{anchor}&nbsp;&nbsp;<font color="#6f6f6f">{item.source}</font>'


def load_sample(path: Path = DATA_FILE) -> tuple[list[NewsItem], dict[str, PublishedFeed]]:
    """The fictional stories in ``loopback/data/rss.json``: those the search finds, and feeds by path."""
    data = json.loads(path.read_text(encoding="utf-8"))

    def story(row: dict[str, str]) -> NewsItem:
        fields = {k: v for k, v in row.items() if k != "published"}
        return NewsItem(**fields, published=datetime.fromisoformat(row["published"]))

    feeds = {
        where: PublishedFeed([story(row) for row in feed["items"]], title=feed.get("title", "Haberler"))
        for where, feed in data["feeds"].items()
    }
    return [story(row) for row in data["search"]], feeds


class NewsSite(LoopbackServer):
    """Serves ``/rss/search?q=`` like Google News (stories matching the query, newest first) and feeds at any path.

    Feeds carry an ``ETag`` and ``Last-Modified`` and answer a matching ``If-None-Match`` / ``If-Modified-Since``
    with 304. :meth:`inject` makes the next requests (to a path, or any) get a canned reply instead.
    """

    def __init__(self, stories: Iterable[NewsItem] = (), *, charset: str = "utf-8") -> None:
        super().__init__()
        self.search = PublishedFeed(list(stories), charset=charset, title="Google Haberler")
        self.feeds: dict[str, PublishedFeed] = {}
        self._canned = CannedReplies()
        self._state_lock = threading.Lock()

    # -- what tests use --------------------------------------------------
    def add(self, story: NewsItem) -> None:
        """Index one more story for the search feed."""
        with self._state_lock:
            self.search.items.append(story)

    def publish(self, path: str, items: Iterable[NewsItem], **options: object) -> PublishedFeed:
        """Serve a feed at ``path`` (options: kind, charset, charset_in_header, validators, title)."""
        feed = PublishedFeed(list(items), **options)  # type: ignore[arg-type]
        with self._state_lock:
            self.feeds[path] = feed
        return feed

    def inject(self, reply: Reply, *, path: str | None = None, times: int = 1) -> None:
        """Answer the next ``times`` requests (to ``path``, or to any path) with ``reply``."""
        self._canned.add(reply, times, path=path)

    # -- serving ---------------------------------------------------------
    def handle(self, request: Recorded) -> Reply:
        injected = self._canned.take(request)
        if injected is not None:
            return injected
        with self._state_lock:
            if request.path == SEARCH_PATH:
                query = (request.query.get("q") or [""])[0]
                if not query.strip():
                    return Reply(400, b"missing q", {"Content-Type": "text/plain"})
                wanted = search_terms(query)
                feed = PublishedFeed(
                    [s for s in self.search.items if _matches(s, wanted)],
                    charset=self.search.charset,
                    charset_in_header=self.search.charset_in_header,
                    validators=self.search.validators,
                    title=f'"{query}" - Google Haberler',
                )
            elif request.path in self.feeds:
                feed = replace(self.feeds[request.path], items=list(self.feeds[request.path].items))
            else:
                return Reply(404, b"not found", {"Content-Type": "text/plain"})
        return self._serve(feed, request)

    def _serve(self, feed: PublishedFeed, request: Recorded) -> Reply:
        feed.items.sort(key=lambda s: s.published, reverse=True)
        link = f"{self.url}{request.path}"
        body = render_atom(feed, link) if feed.kind == "atom" else render_rss(feed, link)
        media = "application/atom+xml" if feed.kind == "atom" else "application/rss+xml"
        headers = {"Content-Type": f"{media}; charset={feed.charset}" if feed.charset_in_header else media}
        if feed.validators:
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            newest = max((s.published for s in feed.items), default=datetime(2026, 1, 1, tzinfo=UTC))
            modified = format_datetime(newest.astimezone(UTC), usegmt=True)
            headers.update({"ETag": etag, "Last-Modified": modified})
            if _not_modified(request, etag, newest):
                return Reply(304, b"", {"ETag": etag, "Last-Modified": modified})
        return Reply(200, body, headers)


def _matches(story: NewsItem, wanted: list[str]) -> bool:
    text = f"{story.title or ''} {story.description or ''}".casefold()
    return any(term in text for term in wanted)


def _not_modified(request: Recorded, etag: str, newest: datetime) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:
        return etag in [tag.strip() for tag in match.split(",")] or match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return newest.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False
