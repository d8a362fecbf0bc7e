"""Şikayetvar's markup, generation B with generation A as fallback, read into plain values (no Scrapy here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from parsel import Selector

# Generation B (2024-2026) first, then A (2019-2023); each: card selector, title-link selector.
CARD_MARKUPS = (
    ("B", "article.card-v2", "h2.complaint-title a, h3.complaint-title a"),
    ("A", "article.story-card.complaint-card", "h2.complaint-title > a.complaint-layer, h2.complaint-title a"),
)
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Card:
    """One complaint as a brand list shows it."""

    id: int
    url: str
    title: str
    author: str = ""
    date_text: str = ""
    views: int | None = None
    upvotes: int | None = None
    tags: tuple[str, ...] = ()
    preview: str = ""
    resolved: bool = False
    generation: str = "B"


@dataclass(frozen=True)
class ListPage:
    """The cards of one list page, what was left out and why, and the last page number when the page says."""

    cards: list[Card]
    video_skipped: int = 0
    unparsed: int = 0
    last_page: int | None = None


@dataclass(frozen=True)
class Detail:
    """What a complaint page adds to its card: the full text, the brand's reply, the outcome."""

    title: str
    body: str
    reply: str | None = None
    resolved: bool = False
    rating: int | None = None


def normalise(text: str) -> str:
    """Whitespace runs (newlines, indentation, nbsp) as single spaces."""
    return " ".join(text.split())


def _text(node: Selector | None, exclude_class: str | None = None) -> str:
    """The node's text, whitespace normalised, without scripts, styles and elements of class ``exclude_class``."""
    if node is None:
        return ""
    unwanted = "ancestor::script or ancestor::style"
    if exclude_class is not None:
        unwanted += f" or ancestor::*[contains(concat(' ', normalize-space(@class), ' '), ' {exclude_class} ')]"
    return normalise(" ".join(node.xpath(f".//text()[not({unwanted})]").getall()))


def _first(node: Selector, css: str) -> Selector | None:
    found = node.css(css)
    return found[0] if found else None


def _number(text: str | None) -> int | None:
    """The digits of "1.840 görüntülenme" as 1840; None when there are none."""
    digits = "".join(_DIGITS.findall(text or ""))
    return int(digits) if digits else None


def parse_list_page(html: str, page_url: str) -> ListPage:
    """The complaint cards of a brand list page, in page order; ``-video`` cards and cards without an id left out."""
    page = Selector(text=html)
    found = next(((g, page.css(card), link) for g, card, link in CARD_MARKUPS if page.css(card)), None)
    if found is None:
        return ListPage(cards=[], last_page=_last_page(page))
    generation, nodes, link_css = found
    cards: list[Card] = []
    video = unparsed = 0
    for node in nodes:
        link = _first(node, link_css)
        href = link.attrib.get("href", "") if link is not None else ""
        if urlsplit(href).path.rstrip("/").endswith("-video"):
            video += 1
            continue
        card_id = _number(node.attrib.get("data-id") or node.xpath("string(.//@data-id)").get())
        if not href or card_id is None:
            unparsed += 1
            continue
        cards.append(parse_card(node, generation, card_id, urljoin(page_url, href), _text(link)))
    return ListPage(cards=cards, video_skipped=video, unparsed=unparsed, last_page=_last_page(page))


def parse_card(node: Selector, generation: str, card_id: int, url: str, title: str) -> Card:
    time_node = _first(node, "div.js-tooltip.time, .time")
    date_text = _text(time_node)
    if time_node is not None and not any(ch.isdigit() for ch in date_text):
        date_text = normalise(time_node.attrib.get("title") or time_node.attrib.get("data-original-title") or "")
    upvotes = node.attrib.get("data-upvoter-count")
    return Card(
        id=card_id,
        url=url,
        title=title,
        author=_text(_first(node, "span.username")),
        date_text=date_text,
        views=_number(_text(_first(node, "span.js-view-count"))),
        upvotes=_number(upvotes) if upvotes is not None else None,
        tags=tuple(
            t.lstrip("#").strip()
            for t in (_text(a) for a in node.css("div.keyword-container a.sv-model-button"))
            if t.lstrip("#").strip()
        ),
        preview=_text(_first(node, "p.complaint-description"), exclude_class="ellipsis-text"),
        resolved=bool(node.css(".solved-badge")),
        generation=generation,
    )


def _last_page(page: Selector) -> int | None:
    """Generation A names its last page in the last ``ul.pagination-list a.page``."""
    numbers = [_number(_text(a)) for a in page.css("ul.pagination-list a.page")]
    found = [n for n in numbers if n is not None]
    return found[-1] if found else None


def parse_detail_page(html: str) -> Detail:
    """The complaint page's title, full body (the brand's reply kept apart), reply, resolved badge and rating."""
    page = Selector(text=html)
    body = _text(_first(page, "div.complaint-detail-description"), exclude_class="complaint-reply-container")
    replies = [_text(_first(node, ".reply-content") or node) for node in page.css("div.complaint-reply-container")]
    badge = _text(_first(page, "div.solved-badge"))
    return Detail(
        title=_text(_first(page, "h1.complaint-detail-title")),
        body=body,
        reply="\n\n".join(r for r in replies if r) or None,
        resolved="çözüldü" in badge.replace("Ç", "ç").lower(),
        rating=_rating(page),
    )


def _rating(page: Selector) -> int | None:
    """1-5 from ``.rate-num``, or ``div.rating.stars`` (its data attribute, filled stars, or its text)."""
    found = _DIGITS.search(_text(_first(page, ".rate-num")))
    rate = int(found.group()) if found else None
    stars = _first(page, "div.rating.stars")
    if rate is None and stars is not None:
        rate = _number(stars.attrib.get("data-rating") or stars.attrib.get("data-score"))
        if rate is None:
            first = _DIGITS.search(_text(stars))  # "3/5": the first number, not all digits
            rate = len(stars.css(".filled, .full, .active")) or (int(first.group()) if first else None)
    return rate if rate is not None and 1 <= rate <= 5 else None
