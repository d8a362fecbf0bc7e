"""RSS 2.0 and Atom read with the standard library, plus the HTML-to-text and date helpers the JSON feeds share."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html import unescape
from html.parser import HTMLParser

from crawlers.turkish_dates import month_number
from store.errors import SourceParseError
from store.model import CrawlState, RawMention

ATOM = "http://www.w3.org/2005/Atom"
DC = "http://purl.org/dc/elements/1.1/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
RSS1 = "http://purl.org/rss/1.0/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
# What may come before the root element: the declaration, comments, processing instructions, blanks.
_PROLOG = re.compile(r"\A\ufeff?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.S)
_BLOCKS = frozenset({"address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "footer"})
_BLOCKS |= {"h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table", "td"}
_BLOCKS |= {"th", "tr", "ul"}
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_WORD = re.compile(r"[^\W\d_]{3,}")
_ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class _TextOnly(HTMLParser):
    """Collects the text of an HTML fragment; block elements become breaks so words do not run together."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(fragment: str | None) -> str:
    """Text of an HTML fragment: tags stripped, entities unescaped (twice-escaped ones too), blanks squeezed."""
    if not isinstance(fragment, str) or not fragment:  # JSON sources hand over whatever the field held
        return ""
    parser = _TextOnly()
    parser.feed(fragment)
    parser.close()
    # Feeds often escape entities twice ("&amp;quot;"); only complete references are read again, so a
    # literal "&paragraf" does not turn into "¶graf".
    text = _ENTITY.sub(lambda m: unescape(m.group(0)), "".join(parser.parts))
    return " ".join(text.split())


def parse_rfc822(value: str | None) -> datetime | None:
    """An RSS pubDate ("Mon, 23 Nov 2026 09:15:00 +0300") as aware UTC; None when unreadable."""
    if not value or not value.strip():
        return None
    for candidate in (value.strip(), _WORD.sub(_english_month, value.strip())):
        try:
            parsed = parsedate_to_datetime(candidate)
        except (TypeError, ValueError, IndexError):
            continue
        return _utc(parsed)
    return parse_iso(value)


def _english_month(match: re.Match[str]) -> str:
    """Turkish sites print "23 Kas 2026" in pubDate; the RFC 822 reader knows only English month names."""
    word = match.group(0)
    if word.title() in _ENGLISH_MONTHS:
        return word
    number = month_number(word)
    return _ENGLISH_MONTHS[number - 1] if number else word


def parse_iso(value: object) -> datetime | None:
    """An ISO 8601 timestamp (Atom, Mastodon, Bluesky) as aware UTC; a missing zone means UTC; None if unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return _utc(parsed)


def _utc(parsed: datetime) -> datetime | None:
    """``parsed`` in UTC (no zone means UTC); None when that falls off the calendar (year 1 at +01:00)."""
    try:
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        return None


_Reader = Callable[[ET.Element], "FeedItem | None"]


def mark_newest(state: CrawlState, mentions: Iterable[RawMention]) -> CrawlState:
    """Note the newest mention's id and date in ``state`` (for reports; skipping relies on ids or validators)."""
    dated = [(m.published_at, m.external_id) for m in mentions if m.published_at is not None]
    if not dated:
        return state
    at, external_id = max(dated)
    if state.last_seen_at is not None and at <= state.last_seen_at:
        return state
    return replace(state, last_seen_id=external_id, last_seen_at=at)


@dataclass(frozen=True)
class FeedItem:
    """One RSS item or Atom entry, as plain text."""

    id: str
    link: str
    title: str
    text: str
    published: datetime | None = None
    author: str = ""
    publisher: str = ""
    publisher_url: str = ""


@dataclass
class Feed:
    """A parsed feed: its items in document order and how many items had to be skipped."""

    title: str = ""
    language: str | None = None
    items: list[FeedItem] = field(default_factory=list)
    skipped: int = 0


def decode(body: bytes, header_charset: str | None) -> str:
    """The feed as text: the HTTP charset wins, then the XML declaration's encoding, then UTF-8."""
    declared = _DECLARED.match(body)
    for charset in (header_charset, declared.group(1).decode("ascii") if declared else None, "utf-8"):
        if not charset:
            continue
        try:
            return body.decode(charset)
        except LookupError:
            continue  # an unknown charset name: try the next candidate
        except UnicodeDecodeError:
            return body.decode(charset, errors="replace")
    return body.decode("utf-8", errors="replace")  # pragma: no cover - utf-8 is always known


def parse_feed(body: bytes, header_charset: str | None = None) -> Feed:
    """Parse an RSS 2.0 / RSS 1.0 / Atom document; SourceParseError when it is none of them or unsafe."""
    text = decode(body, header_charset)
    head = text[_PROLOG.match(text).end() :]  # type: ignore[union-attr]  # the pattern matches the empty string
    if head.startswith("<!"):
        # Without defusedxml, refusing any DOCTYPE is what keeps entity expansion ("billion laughs") out.
        raise SourceParseError("feed declares a DOCTYPE (entities are refused)")
    try:
        root = ET.fromstring(text.lstrip("\ufeff"))
    except ET.ParseError as exc:
        raise SourceParseError(f"feed is not well-formed XML: {exc}") from exc
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise SourceParseError("RSS document without a channel")
        return _read(channel, channel.findall("item"), _rss_item, _language(_text(channel, "language")))
    if root.tag == f"{{{ATOM}}}feed":
        return _read(root, root.findall(f"{{{ATOM}}}entry"), _atom_entry, _language(root.get(XML_LANG)))
    if root.tag.endswith("}RDF"):
        channel = root.find(f"{{{RSS1}}}channel")
        language = _language(_text(channel, f"{{{DC}}}language")) if channel is not None else None
        return _read(channel if channel is not None else root, root.findall(f"{{{RSS1}}}item"), _rss1_item, language)
    raise SourceParseError(f"not an RSS or Atom feed: root element {root.tag!r}")


def _read(head: ET.Element, elements: list[ET.Element], reader: _Reader, language: str | None) -> Feed:
    title = html_to_text(_text(head, "title") or _text(head, f"{{{ATOM}}}title") or _text(head, f"{{{RSS1}}}title"))
    feed = Feed(title=title, language=language)
    for element in elements:
        item = reader(element)
        if item is None:
            feed.skipped += 1
        else:
            feed.items.append(item)
    return feed


def _rss_item(item: ET.Element) -> FeedItem | None:
    link = _text(item, "link")
    guid = _text(item, "guid")
    title = html_to_text(_text(item, "title"))
    text = html_to_text(_text(item, "description") or _text(item, f"{{{CONTENT}}}encoded"))
    if not (guid or link) or not (title or text):
        return None
    source = item.find("source")
    published = parse_rfc822(_text(item, "pubDate")) or parse_iso(_text(item, f"{{{DC}}}date"))
    return FeedItem(
        id=guid or link,
        link=_web(link) or _web(guid),
        title=title,
        text=text or title,
        published=published,
        author=_text(item, f"{{{DC}}}creator") or _text(item, "author"),
        publisher=" ".join((source.text or "").split()) if source is not None else "",
        publisher_url=(source.get("url") or "") if source is not None else "",
    )


def _rss1_item(item: ET.Element) -> FeedItem | None:
    link = _text(item, f"{{{RSS1}}}link")
    about = item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about") or ""
    title = html_to_text(_text(item, f"{{{RSS1}}}title"))
    text = html_to_text(_text(item, f"{{{RSS1}}}description") or _text(item, f"{{{CONTENT}}}encoded"))
    if not (about or link) or not (title or text):
        return None
    published = parse_iso(_text(item, f"{{{DC}}}date"))
    author = _text(item, f"{{{DC}}}creator")
    return FeedItem(about or link, _web(link) or _web(about), title, text or title, published, author)


def _atom_entry(entry: ET.Element) -> FeedItem | None:
    link = _atom_link(entry)
    entry_id = _text(entry, f"{{{ATOM}}}id")
    title = _atom_text(entry.find(f"{{{ATOM}}}title"))
    text = _atom_text(entry.find(f"{{{ATOM}}}summary")) or _atom_text(entry.find(f"{{{ATOM}}}content"))
    if not (entry_id or link) or not (title or text):
        return None
    published = parse_iso(_text(entry, f"{{{ATOM}}}published")) or parse_iso(_text(entry, f"{{{ATOM}}}updated"))
    author = entry.find(f"{{{ATOM}}}author")
    source = entry.find(f"{{{ATOM}}}source")
    return FeedItem(
        id=entry_id or link,
        link=_web(link),
        title=title,
        text=text or title,
        published=published,
        author=_text(author, f"{{{ATOM}}}name") if author is not None else "",
        publisher=_atom_text(source.find(f"{{{ATOM}}}title")) if source is not None else "",
    )


def _web(url: str) -> str:
    """``url`` when it is a web page's address; "" for ``javascript:``, ``file:``, tag URIs and other non-links."""
    return url if url.lower().startswith(("http://", "https://")) else ""


def _atom_link(entry: ET.Element) -> str:
    """The entry's page: the ``alternate`` link (a link without ``rel`` is one), else the first link."""
    links = entry.findall(f"{{{ATOM}}}link")
    for link in links:
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return (link.get("href") or "").strip()
    return next(((link.get("href") or "").strip() for link in links if link.get("href")), "")


def _atom_text(element: ET.Element | None) -> str:
    """An Atom text construct: ``text`` as is, ``html`` stripped, ``xhtml`` (child elements) by its text."""
    if element is None:
        return ""
    kind = element.get("type", "text")
    if kind == "xhtml":
        return " ".join("".join(element.itertext()).split())
    raw = element.text or ""
    return html_to_text(raw) if kind in ("html", "text/html") else " ".join(raw.split())


def _text(element: ET.Element | None, tag: str) -> str:
    found = element.find(tag) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def _language(value: str | None) -> str | None:
    """A language tag's primary subtag, lowercased ("tr-TR" -> "tr")."""
    primary = (value or "").strip().replace("_", "-").split("-")[0].lower()
    return primary or None
