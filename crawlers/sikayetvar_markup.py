"""Şikayetvar's markup read into plain values (no Scrapy): list pages here, generations B, A and C in that order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from crawlers.sikayetvar_detail import (
    C_DATE,
    Detail,
    first,
    normalise,
    number,
    page_selector,
    parse_detail_page,
    says_resolved,
    split_reply,
    text_of,
)

# The one face of both page parsers (complaint pages live in sikayetvar_detail): the spider imports only this.
__all__ = [
    "Card",
    "Detail",
    "ListPage",
    "normalise",
    "parse_card",
    "parse_detail_page",
    "parse_list_page",
    "slug_of",
    "split_reply",
]

# The hooks, one place per generation. B (2024-2026) and A (2019-2023): card selector, title-link selector.
CARD_MARKUPS = (
    ("B", "article.card-v2", "h2.complaint-title a, h3.complaint-title a"),
    ("A", "article.story-card.complaint-card", "h2.complaint-title > a.complaint-layer, h2.complaint-title a"),
)
# C (2026, Tailwind/React) has no classes worth holding on to: cards are plain <article>s whose title link points
# under the brand's path, and the date is an aria-label (C_DATE).
EMPTY_MARKERS = "p.no-result, [data-slot='empty-state']"  # the site saying "no complaints", as opposed to silence
PAGINATION = "nav.pagination-v2, nav[aria-label='Sayfalama']"


@dataclass(frozen=True)
class Card:
    """One complaint as a list page shows it; ``key`` is its external id (``data-id``, or gen C's title slug)."""

    key: str
    url: str
    title: str
    id: int | None = None
    author: str = ""
    date_text: str = ""
    views: int | None = None
    upvotes: int | None = None
    tags: tuple[str, ...] = ()
    preview: str = ""
    resolved: bool = False
    generation: str = "B"

    @property
    def slug(self) -> str:
        return slug_of(self.url)


@dataclass(frozen=True)
class ListPage:
    """The cards of one list page, what was left out and why, and what the page says about paging."""

    cards: list[Card]
    generation: str | None = None  # the markup that was read; None when no parser knew the page
    video_skipped: int = 0
    unparsed: int = 0
    last_page: int | None = None
    has_next: bool | None = None  # None: the page does not say
    empty: bool = False  # the page says the list has no complaints
    truncated: bool = False  # the document ends before </html>: the cards after the cut are missing

    @property
    def understood(self) -> bool:
        return self.generation is not None or self.empty


def slug_of(url: str) -> str:
    """The last path segment of a complaint URL, the title slug the site keeps stable."""
    return _path(url).rstrip("/").rsplit("/", 1)[-1]


def _segments(url: str) -> list[str]:
    return [p for p in _path(url).split("/") if p]


def _path(url: str) -> str:
    """The URL's path; "" when it cannot be read at all ("https://[www...": urlsplit raises ValueError)."""
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


def _web_url(base: str, href: str) -> str | None:
    """``href`` made absolute against ``base``, when that is a readable http(s) URL."""
    try:
        url = urljoin(base, href)
        urlsplit(url)
    except ValueError:
        return None
    return url if url.startswith(("https://", "http://")) else None


def parse_list_page(html: str, page_url: str) -> ListPage:
    """The complaint cards of a brand or sub-topic list page, in page order; ``-video`` cards left out."""
    page = page_selector(html)
    truncated = "</html>" not in html[-4096:].lower()
    generation, found = _find_cards(page, page_url)
    last_close = html.lower().rfind("</article>") if truncated else -1
    cards: list[Card] = []
    video = unparsed = 0
    for node, link in found:
        href = link.attrib.get("href", "") if link is not None else ""
        if _path(href).rstrip("/").endswith("-video"):
            video += 1
            continue
        if truncated and href and html.rfind(href) > last_close:
            continue  # the card the cut went through: its text is incomplete, the page failure covers it
        url = _web_url(page_url, href) if href else None
        card = parse_card(node, generation or "", url, link) if url else None
        if card is None:
            unparsed += 1
            continue
        cards.append(card)
    next_link = bool(page.css("a[rel~='next']"))
    return ListPage(
        cards=cards,
        generation=generation,
        video_skipped=video,
        unparsed=unparsed,
        last_page=_last_page(page),
        has_next=True if next_link else (False if page.css(PAGINATION) else None),
        empty=bool(page.css(EMPTY_MARKERS)),
        truncated=truncated,
    )


def _find_cards(page: Selector, page_url: str) -> tuple[str | None, list[tuple[Selector, Selector | None]]]:
    for generation, card_css, link_css in CARD_MARKUPS:
        nodes = page.css(card_css)
        if nodes:
            return generation, [(node, first(node, link_css)) for node in nodes]
    # Generation C: the brand comes from the page's canonical URL (what was served), else from what was asked.
    own = _segments(page.css("link[rel='canonical']::attr(href)").get() or page_url)
    found: list[tuple[Selector, Selector | None]] = [
        (node, link) for node in page.css("article") if (link := _c_link(node, own)) is not None
    ]
    return ("C", found) if found else (None, [])


def _c_link(node: Selector, own: list[str]) -> Selector | None:
    """The card's title link: under ``/{brand}/``, not the list itself, a heading's link preferred."""
    links = [a for a in node.css("a[href]") if _is_complaint_link(a.attrib["href"], own)]
    titled = [a for a in links if a.css("h2, h3") or a.xpath("ancestor::h2 | ancestor::h3")]
    return (titled or links)[0] if links else None


def _is_complaint_link(href: str, own: list[str]) -> bool:
    parts = _segments(href)
    return bool(own) and len(parts) == 2 and parts[0] == own[0] and parts != own


def parse_card(node: Selector, generation: str, url: str, link: Selector | None) -> Card | None:
    """One card in ``generation``'s markup; None when it lacks what identifies it (B and A need ``data-id``)."""
    card_id = number(node.attrib.get("data-id") or node.xpath("string(.//@data-id)").get())
    if generation == "C":
        return _card_c(node, url, link, card_id)
    if card_id is None:
        return None
    time_node = first(node, "div.js-tooltip.time, .time")
    date_text = text_of(time_node)
    if time_node is not None and not any(ch.isdigit() for ch in date_text):
        date_text = normalise(time_node.attrib.get("title") or time_node.attrib.get("data-original-title") or "")
    upvotes = node.attrib.get("data-upvoter-count")
    return Card(
        key=str(card_id),
        url=url,
        title=text_of(link),
        id=card_id,
        author=text_of(first(node, "span.username")),
        date_text=date_text,
        views=number(text_of(first(node, "span.js-view-count"))),
        upvotes=number(upvotes) if upvotes is not None else None,
        tags=_tags(text_of(a) for a in node.css("div.keyword-container a.sv-model-button")),
        preview=text_of(first(node, "p.complaint-description"), exclude_class="ellipsis-text"),
        resolved=bool(node.css(".solved-badge")),
        generation=generation,
    )


def _card_c(node: Selector, url: str, link: Selector | None, card_id: int | None) -> Card | None:
    slug = slug_of(url)
    title = text_of(link)
    if not slug or not title:
        return None
    views = node.xpath(".//*[contains(text(), 'görüntülenme')]")
    upvote = node.xpath(".//button[contains(., 'Ben de')]")
    return Card(
        key=str(card_id) if card_id is not None else slug,
        url=url,
        title=title,
        id=card_id,
        author=text_of(first(node, "a[href*='/uye/']")),
        date_text=normalise(node.css(f"{C_DATE}::attr(aria-label)").get() or ""),
        views=number(text_of(views[0])) if views else None,
        upvotes=number(text_of(upvote[0])) if upvote else None,
        tags=_tags(t for t in (text_of(a) for a in node.css("a")) if t.startswith("#")),
        preview=text_of(first(node, "p")).removesuffix("…").rstrip(),
        resolved=says_resolved(node),
        generation="C",
    )


def _tags(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(t.lstrip("#").strip() for t in texts if t.lstrip("#").strip())


def _last_page(page: Selector) -> int | None:
    """Generation A names its last page in the last ``ul.pagination-list a.page``."""
    numbers = [number(text_of(a)) for a in page.css("ul.pagination-list a.page")]
    found = [n for n in numbers if n is not None]
    return found[-1] if found else None
