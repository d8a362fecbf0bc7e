"""Ekşi Sözlük's topic page markup read into plain values (no Scrapy here), so it can be tested on its own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from parsel import Selector

from crawlers.turkish_dates import ISTANBUL, on_calendar
from store.errors import SourceParseError

_TOPIC_PATH = re.compile(r"^/?(?P<slug>[^/?#]+)--(?P<id>\d+)/?$")
_DATE = re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})(?:\s+(?P<hh>\d{1,2}):(?P<mm>\d{2}))?$")
_TIME = re.compile(r"^(?P<hh>\d{1,2}):(?P<mm>\d{2})$")
_DIGITS = re.compile(r"\d+")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_DIGITS = 18  # what a 64-bit column holds; int() refuses over 4,300 digits with ValueError


@dataclass(frozen=True)
class Entry:
    """One entry (post) of a topic."""

    id: int
    author: str
    text: str
    published_at: datetime
    edited_at: datetime | None = None
    favorites: int = 0
    author_id: int | None = None


@dataclass(frozen=True)
class TopicPage:
    """One page of a topic: which topic, where the page sits in the pager, its entries oldest first."""

    topic_id: int | None
    title: str
    current_page: int
    page_count: int
    entries: tuple[Entry, ...]
    unparsed: int = 0  # entries left out because an id, a date or the text was missing


def normalise(text: str) -> str:
    """Whitespace runs (newlines, indentation, nbsp) as single spaces."""
    return " ".join(text.split())


def topic_path(url: str) -> str | None:
    """``"kuzey-telekom--123456"`` from a topic URL or path (query left out); None when it is no topic."""
    found = _TOPIC_PATH.match(urlsplit(url).path)
    return f"{found['slug']}--{found['id']}" if found else None


def _number(text: str | None) -> int | None:
    digits = "".join(_DIGITS.findall(text or ""))
    return int(digits) if 0 < len(digits) <= MAX_DIGITS else None


def _date(text: str) -> datetime | None:
    found = _DATE.match(text.strip())
    if found is None:
        return None
    try:
        return on_calendar(
            datetime(
                int(found["y"]),
                int(found["m"]),
                int(found["d"]),
                int(found["hh"] or 0),
                int(found["mm"] or 0),
                tzinfo=ISTANBUL,
            )
        )
    except (ValueError, OverflowError):  # 31.02.2024, 25:61, 01.01.0001: not a date to keep
        return None


def parse_entry_date(text: str) -> tuple[datetime, datetime | None] | None:
    """(published, edited) from ``"01.02.2024 13:45"``, ``"… ~ 02.02.2024 09:10"`` or ``"… ~ 14:02"``.

    The site shows local (Istanbul) time. ``~ hh:mm`` means the entry was edited the day it was written.
    An edit part nobody can read is dropped rather than losing the entry; None when the date itself is unreadable.
    """
    original, _, edit = normalise(text).partition("~")
    published = _date(original)
    if published is None:
        return None
    edit = edit.strip()
    edited = _date(edit)
    if edited is None and (clock := _TIME.match(edit)):
        try:
            edited = published.replace(hour=int(clock["hh"]), minute=int(clock["mm"]))
        except ValueError:
            edited = None
    return published, edited


def content_text(node: Selector) -> str:
    """An entry's words: links such as ``(bkz: …)`` kept as their text, ``<br>`` as a space, entities unescaped."""
    parts: list[str] = []
    for piece in node.xpath(".//text()[not(ancestor::script or ancestor::style)] | .//br"):
        parts.append(piece.root if isinstance(piece.root, str) else " ")
    return normalise("".join(parts))


def _pager(page: Selector, url: str) -> tuple[int, int]:
    """(current page, page count); a topic of one page has no pager, older markup only an ``a.next`` link."""
    pager = page.css("div.pager")
    asked = _number(parse_qs(urlsplit(url).query).get("p", ["1"])[0]) or 1
    if not pager:  # without a next link this is the only page, whatever ?p= asked for
        return (asked, asked + 1) if page.css("a.next") else (1, 1)
    current = _number(pager[0].attrib.get("data-currentpage")) or asked
    count = _number(pager[0].attrib.get("data-pagecount"))
    if count is None:
        count = current + 1 if pager[0].css("a.next") else current
    return current, max(count, current)


def parse_entry(node: Selector) -> Entry | None:
    """One ``li`` of the entry list; None when its id, date or text is missing (the caller counts it)."""
    entry_id = _number(node.attrib.get("data-id"))
    date_link = node.css("a.entry-date")
    dates = parse_entry_date(content_text(date_link[0])) if date_link else None
    content = node.css("div.content")
    text = content_text(content[0]) if content else ""
    if entry_id is None or dates is None or not text:
        return None
    author_link = node.css("a.entry-author")
    author = normalise(node.attrib.get("data-author", "")) or (content_text(author_link[0]) if author_link else "")
    return Entry(
        id=entry_id,
        author=author,
        text=text,
        published_at=dates[0],
        edited_at=dates[1],
        favorites=_number(node.attrib.get("data-favorite-count")) or 0,
        author_id=_number(node.attrib.get("data-author-id")),
    )


def parse_topic_page(html: str, url: str = "") -> TopicPage:
    """A topic page's title, pager and entries; SourceParseError when it has no entry list at all."""
    page = Selector(text=_CONTROLS.sub(" ", html))  # lxml refuses attributes around control characters
    items = page.css("ul#entry-item-list")
    if not items:
        raise SourceParseError(f"no entry list (ul#entry-item-list) on {urlsplit(url).path or 'the page'}")
    title_node = page.css("h1#title")
    title = ""
    topic_id = None
    if title_node:
        title = normalise(title_node[0].attrib.get("data-title", "")) or content_text(title_node[0])
        topic_id = _number(title_node[0].attrib.get("data-id"))
    if topic_id is None and (path := topic_path(url)):
        topic_id = _number(path.rsplit("--", 1)[1])
    entries: list[Entry] = []
    unparsed = 0
    for node in items[0].xpath("./li"):
        entry = parse_entry(node)
        if entry is None:
            unparsed += 1
        else:
            entries.append(entry)
    current, count = _pager(page, url)
    return TopicPage(topic_id, title, current, count, tuple(entries), unparsed)
