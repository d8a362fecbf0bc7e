"""A local stand-in for eksisozluk.com: topic pages in the site's markup, its search redirect, and failures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from loopback.server import LoopbackServer, Recorded, Reply

ISTANBUL = ZoneInfo("Europe/Istanbul")
ALLOW_ALL = "User-agent: *\nAllow: /\n"
DATA_FILE = Path(__file__).with_name("data") / "eksisozluk.json"


@dataclass(frozen=True)
class SampleEntry:
    """One entry as the stand-in publishes it; ``content`` is markup, ``omit`` leaves parts out ("id", "date")."""

    id: int
    author: str
    content: str
    published_at: datetime
    edited_at: datetime | None = None
    favorites: int = 0
    author_id: int = 1
    omit: tuple[str, ...] = ()


@dataclass
class SampleTopic:
    """A topic (başlık): its title as the site writes it (lowercase), and its entries oldest first."""

    id: int
    slug: str
    title: str
    entries: list[SampleEntry] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"{self.slug}--{self.id}"


def load_sample(path: Path = DATA_FILE) -> list[SampleTopic]:
    """The fictional sample topics shipped in ``loopback/data/eksisozluk.json`` (what the demo serves)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        SampleTopic(
            int(topic["id"]),
            topic["slug"],
            topic["title"],
            [
                SampleEntry(
                    int(e["id"]),
                    e["author"],
                    e["content"],
                    datetime.fromisoformat(e["published_at"]),
                    favorites=int(e.get("favorites", 0)),
                )
                for e in topic["entries"]
            ],
        )
        for topic in data["topics"]
    ]


@dataclass
class _Trouble:
    kind: str  # an HTTP status as text, "malformed" or "huge"
    times: int
    retry_after: float | None
    path: str | None
    page: int | None


class EksiSozlukSite(LoopbackServer):
    """Serves ``/{slug}--{id}?p=N`` (newest entries on the last page), ``/?q=`` search and ``/robots.txt``.

    Search answers 302 to the topic whose title is the query, as the site does, or a page without a topic.
    A ``?p=`` past the end shows the last page. ``charset`` is the encoding every page is served in.
    """

    def __init__(
        self, topics: Iterable[SampleTopic], *, page_size: int = 10, robots: str = ALLOW_ALL, charset: str = "utf-8"
    ) -> None:
        super().__init__()
        self.topics = {t.path: t for t in topics}
        self.page_size = page_size
        self.robots = robots
        self.charset = charset
        self._troubles: list[_Trouble] = []
        self._lock_state = threading.Lock()
        self.arrivals: list[tuple[float, Recorded]] = []  # (time.monotonic(), request), to check the waits

    # -- what tests use --------------------------------------------------
    def add(self, path: str, entry: SampleEntry) -> None:
        """Publish one more entry at the end of the topic (the last page)."""
        with self._lock_state:
            self.topics[path].entries.append(entry)

    def fail_next(
        self,
        kind: int | str,
        *,
        times: int = 1,
        retry_after: float | None = None,
        path: str | None = None,
        page: int | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with an HTTP status, or "malformed" / "huge" pages.

        ``path`` matches the request path without its leading slash; ``page`` the ``?p=`` (1 when absent).
        """
        with self._lock_state:
            self._troubles.append(_Trouble(str(kind), times, retry_after, path, page))

    def topic_requests(self, path: str) -> list[int]:
        """The pages asked for of topic ``path``, in order (1 when no ``?p=`` was sent)."""
        return [_page_of(r) for r in self.received(f"/{path}")]

    # -- serving ---------------------------------------------------------
    def handle(self, request: Recorded) -> Reply:
        with self._lock_state:
            self.arrivals.append((time.monotonic(), request))
        if request.path == "/robots.txt":
            return Reply(200, self.robots.encode("utf-8"), {"Content-Type": "text/plain; charset=utf-8"})
        trouble = self._take_trouble(request)
        if trouble is not None and trouble.kind.isdigit():
            body = "<h1>çok fazla istek</h1>" if trouble.kind == "429" else "<h1>bir şeyler ters gitti</h1>"
            reply = Reply.html(_layout("ekşi sözlük", body), int(trouble.kind))
            if trouble.retry_after is not None:
                reply.headers["Retry-After"] = f"{trouble.retry_after:g}"
            return reply
        if request.path == "/":
            return self._search(request)
        with self._lock_state:
            topic = self.topics.get(request.path.strip("/"))
        if topic is None:
            return self._html(_layout("ekşi sözlük", "<h1>böyle bir şey yok</h1>", self.charset), 404)
        html = self._topic_page(topic, _page_of(request))
        if trouble is not None and trouble.kind == "malformed":
            html = html[: html.index('<ul id="entry-item-list"')]  # the connection died mid-page
        elif trouble is not None and trouble.kind == "huge":
            html = html.replace("</body>", f"<!-- {'x' * 200_000} --></body>")
        return self._html(html)

    def _html(self, text: str, status: int = 200) -> Reply:
        return Reply.html(text, status, charset=self.charset)

    def _take_trouble(self, request: Recorded) -> _Trouble | None:
        with self._lock_state:
            for trouble in self._troubles:
                if trouble.path is not None and request.path.strip("/") != trouble.path:
                    continue
                if trouble.page is not None and _page_of(request) != trouble.page:
                    continue
                trouble.times -= 1
                if trouble.times <= 0:
                    self._troubles.remove(trouble)
                return trouble
        return None

    def _search(self, request: Recorded) -> Reply:
        query = request.query.get("q", [""])[0]
        wanted = _fold(query)
        with self._lock_state:
            found = next((t for t in self.topics.values() if _fold(t.title) == wanted), None)
        if found is not None:
            return Reply(302, b"", {"Location": f"/{found.path}"})
        body = (
            f'<div id="topic"><h1 id="title" data-title="{escape(wanted)}">{escape(wanted)}</h1>'
            '<p class="no-entry">böyle bir şey yok.</p>'
            f'<p>belki de <a href="/basliklar/ara?searchform.keywords={quote(query)}">aramak</a> istersiniz?</p></div>'
        )
        return self._html(_layout(f"{escape(wanted)} - ekşi sözlük", body, self.charset))

    # -- markup ----------------------------------------------------------
    def _topic_page(self, topic: SampleTopic, page: int) -> str:
        with self._lock_state:
            entries = list(topic.entries)
        count = max(1, -(-len(entries) // self.page_size))
        page = min(max(page, 1), count)
        chunk = entries[(page - 1) * self.page_size : page * self.page_size]
        title = escape(topic.title)
        href = f"/{topic.path}"
        pager = ""
        if count > 1:
            prev = f'<a class="prev" href="{href}?p={page - 1}" title="önceki sayfa">«</a>' if page > 1 else ""
            nxt = f'<a class="next" href="{href}?p={page + 1}" title="sonraki sayfa" rel="next">»</a>'
            pager = (
                f'<div class="pager" data-currentpage="{page}" data-pagecount="{count}" data-urltemplate="{href}?p=">'
                f'{prev}<select class="pager-select"></select><a class="last" href="{href}?p={count}">{count}</a>'
                f"{nxt if page < count else ''}</div>"
            )
        items = "\n".join(_entry(e) for e in chunk)
        body = (
            f'<div id="topic"><h1 id="title" data-title="{title}" data-slug="{topic.slug}" data-id="{topic.id}">'
            f'<a href="{href}"><span itemprop="name">{title}</span></a></h1>'
            f'<div class="sub-title-menu">{pager}</div>'
            f'<ul id="entry-item-list" class="topic-list" data-sticky-header="false">\n{items}\n</ul></div>'
        )
        return _layout(f"{title} - ekşi sözlük", body, self.charset)


def _entry(e: SampleEntry) -> str:
    when = f"{e.published_at.astimezone(ISTANBUL):%d.%m.%Y %H:%M}"
    if e.edited_at is not None:
        edited = e.edited_at.astimezone(ISTANBUL)
        same_day = edited.date() == e.published_at.astimezone(ISTANBUL).date()
        when += f" ~ {edited:%H:%M}" if same_day else f" ~ {edited:%d.%m.%Y %H:%M}"
    nick = escape(e.author)
    attrs = "" if "id" in e.omit else f' data-id="{e.id}"'
    date = "" if "date" in e.omit else f'<a class="entry-date permalink" href="/entry/{e.id}">{when}</a>'
    content = "" if "content" in e.omit else f'<div class="content">\n    {e.content}\n  </div>'
    return (
        f'<li{attrs} data-author="{nick}" data-author-id="{e.author_id}" data-flags="share msg report vote"'
        f' data-isfavorite="false" data-favorite-count="{e.favorites}" data-comment-count="0">\n  {content}\n'
        '  <footer><div class="feedback-container"><span class="favorite-links"><a class="favorite-link">'
        f'<svg class="eksico"></svg></a><a class="favorite-count">{e.favorites or ""}</a></span></div>'
        '<div class="info"><div class="entry-footer-bottom"><div class="footer-info">'
        f'<div id="entry-nick-container"><div id="entry-author"><a class="entry-author" href="/biri/{quote(e.author)}">'
        f"{nick}</a></div></div><div>{date}</div></div></div></div></footer>\n</li>"
    )


def _page_of(request: Recorded) -> int:
    value = request.query.get("p", ["1"])[0]
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _fold(text: str) -> str:
    """How the site matches a query to a title: Turkish lowercase, single spaces."""
    return " ".join(text.replace("I", "ı").replace("İ", "i").lower().split())


def _layout(title: str, main: str, charset: str = "utf-8") -> str:
    return f"""<!DOCTYPE html>
<html lang="tr">
<head>
<meta charset="{charset}">
<title>{title}</title>
<link rel="stylesheet" href="/content/css/site.css">
</head>
<body>
<header id="top-bar"><a id="logo" href="/">ekşi sözlük</a>
<form id="search-form" action="/"><input id="search-textbox" name="q" placeholder="başlık, #entry, @yazar"></form>
<nav id="top-navigation"><a href="/giris">giriş</a> <a href="/kayit">kayıt ol</a></nav></header>
<main id="main"><div id="content">{main}</div></main>
<aside id="aside"><h2>gündem</h2><ul class="topic-list"><li><a href="/mavi-kargo--7001002">mavi kargo</a></li>
<li><a href="/deniz-gsm--7001003">deniz gsm</a></li></ul></aside>
<footer id="bottom"><a href="/kullanim-kosullari">kullanım koşulları</a> · <a href="/iletisim">iletişim</a>
<p>&copy; ekşi sözlük &amp; yazarları</p></footer>
</body>
</html>
"""
