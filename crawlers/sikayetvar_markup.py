"""Şikayetvar's markup, generations B, A and C tried in that order on each page, read into plain values (no Scrapy)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from crawlers.turkish_dates import fold

# The hooks, one place per generation. B (2024-2026) and A (2019-2023): card selector, title-link selector.
CARD_MARKUPS = (
    ("B", "article.card-v2", "h2.complaint-title a, h3.complaint-title a"),
    ("A", "article.story-card.complaint-card", "h2.complaint-title > a.complaint-layer, h2.complaint-title a"),
)
# C (2026, Tailwind/React) has no classes worth holding on to: cards are plain <article>s whose title link points
# under the brand's path, the date is an aria-label, and the brand's answers share the complaint's container.
C_DATE = "span.text-zinc-500[data-base-ui-click-trigger]"
C_BODY = "article div.selection-share p.wrap-anywhere"
B_BODY = "div.complaint-detail-description"
EMPTY_MARKERS = "p.no-result, [data-slot='empty-state']"  # the site saying "no complaints", as opposed to silence
PAGINATION = "nav.pagination-v2, nav[aria-label='Sayfalama']"
# Brands open an answer with "Değerli Müşterimiz" / "Sayın Abonemiz" (our customer); complainants never write that.
BRAND_GREETING = re.compile(r"^(?:degerli|sayin|kiymetli|saygideger)\s+\w+m[iu]z\b")
_DIGITS = re.compile(r"\d+")
_OUT_OF_FIVE = re.compile(r"5 üzerinden (\d)|(\d)\s*/\s*5")


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


@dataclass(frozen=True)
class Detail:
    """What a complaint page adds to its card: the full text, the brand's reply, the outcome."""

    title: str
    body: str
    reply: str | None = None
    resolved: bool = False
    rating: int | None = None
    date_text: str = ""
    generation: str | None = None


def normalise(text: str) -> str:
    """Whitespace runs (newlines, indentation, nbsp) as single spaces."""
    return " ".join(text.split())


def slug_of(url: str) -> str:
    """The last path segment of a complaint URL, the title slug the site keeps stable."""
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


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


def _segments(url: str) -> list[str]:
    return [p for p in urlsplit(url).path.split("/") if p]


def parse_list_page(html: str, page_url: str) -> ListPage:
    """The complaint cards of a brand or sub-topic list page, in page order; ``-video`` cards left out."""
    page = Selector(text=html)
    truncated = "</html>" not in html[-4096:].lower()
    generation, found = _find_cards(page, page_url)
    last_close = html.lower().rfind("</article>") if truncated else -1
    cards: list[Card] = []
    video = unparsed = 0
    for node, link in found:
        href = link.attrib.get("href", "") if link is not None else ""
        if urlsplit(href).path.rstrip("/").endswith("-video"):
            video += 1
            continue
        if truncated and href and html.rfind(href) > last_close:
            continue  # the card the cut went through: its text is incomplete, the page failure covers it
        card = parse_card(node, generation or "", urljoin(page_url, href), link) if href else None
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
            return generation, [(node, _first(node, link_css)) for node in nodes]
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
    card_id = _number(node.attrib.get("data-id") or node.xpath("string(.//@data-id)").get())
    if generation == "C":
        return _card_c(node, url, link, card_id)
    if card_id is None:
        return None
    time_node = _first(node, "div.js-tooltip.time, .time")
    date_text = _text(time_node)
    if time_node is not None and not any(ch.isdigit() for ch in date_text):
        date_text = normalise(time_node.attrib.get("title") or time_node.attrib.get("data-original-title") or "")
    upvotes = node.attrib.get("data-upvoter-count")
    return Card(
        key=str(card_id),
        url=url,
        title=_text(link),
        id=card_id,
        author=_text(_first(node, "span.username")),
        date_text=date_text,
        views=_number(_text(_first(node, "span.js-view-count"))),
        upvotes=_number(upvotes) if upvotes is not None else None,
        tags=_tags(_text(a) for a in node.css("div.keyword-container a.sv-model-button")),
        preview=_text(_first(node, "p.complaint-description"), exclude_class="ellipsis-text"),
        resolved=bool(node.css(".solved-badge")),
        generation=generation,
    )


def _card_c(node: Selector, url: str, link: Selector | None, card_id: int | None) -> Card | None:
    slug = slug_of(url)
    title = _text(link)
    if not slug or not title:
        return None
    views = node.xpath(".//*[contains(text(), 'görüntülenme')]")
    upvote = node.xpath(".//button[contains(., 'Ben de')]")
    return Card(
        key=str(card_id) if card_id is not None else slug,
        url=url,
        title=title,
        id=card_id,
        author=_text(_first(node, "a[href*='/uye/']")),
        date_text=normalise(node.css(f"{C_DATE}::attr(aria-label)").get() or ""),
        views=_number(_text(views[0])) if views else None,
        upvotes=_number(_text(upvote[0])) if upvote else None,
        tags=_tags(t for t in (_text(a) for a in node.css("a")) if t.startswith("#")),
        preview=_text(_first(node, "p")).removesuffix("…").rstrip(),
        resolved=_says_resolved(node),
        generation="C",
    )


def _tags(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(t.lstrip("#").strip() for t in texts if t.lstrip("#").strip())


def _says_resolved(node: Selector) -> bool:
    return bool(node.xpath(".//*[normalize-space(text())='Çözüldü']"))


def _last_page(page: Selector) -> int | None:
    """Generation A names its last page in the last ``ul.pagination-list a.page``."""
    numbers = [_number(_text(a)) for a in page.css("ul.pagination-list a.page")]
    found = [n for n in numbers if n is not None]
    return found[-1] if found else None


def parse_detail_page(html: str) -> Detail:
    """The complaint page's title, body (the brand's replies kept apart), replies, outcome; body "" if unknown."""
    page = Selector(text=html)
    if page.css(B_BODY):
        return _detail_b(page)
    if page.css(C_BODY):
        return _detail_c(page)
    return Detail(title=_text(_first(page, "h1")), body="")


def _detail_b(page: Selector) -> Detail:
    """Generations B and A share the complaint-detail markup."""
    body = _text(_first(page, B_BODY), exclude_class="complaint-reply-container")
    replies = [_text(_first(node, ".reply-content") or node) for node in page.css("div.complaint-reply-container")]
    return Detail(
        title=_text(_first(page, "h1.complaint-detail-title")),
        body=body,
        reply="\n\n".join(r for r in replies if r) or None,
        resolved="cozuldu" in fold(_text(_first(page, "div.solved-badge"))),
        rating=_rating(page),
        date_text=_text(_first(page, "div.js-tooltip.time")),
        generation="B",
    )


def _detail_c(page: Selector) -> Detail:
    body, replies = split_reply([_text(p) for p in page.css(C_BODY)])
    article = page.css("article:has(div.selection-share)")[0]
    rated = [m for m in map(_OUT_OF_FIVE.search, article.xpath(".//@aria-label").getall()) if m]
    rating = int(rated[0].group(1) or rated[0].group(2)) if rated else None
    return Detail(
        title=_text(_first(article, "h1") or _first(page, "h1")),
        body=" ".join(body),
        reply="\n\n".join(replies) or None,
        resolved=_says_resolved(article),
        rating=rating if rating is not None and 1 <= rating <= 5 else None,
        date_text=normalise(article.css(f"{C_DATE}::attr(aria-label)").get() or ""),
        generation="C",
    )


def split_reply(paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """Complaint paragraphs and brand replies (one string each) from one container, told apart by the greeting.

    The complaint comes first; each paragraph opening with a brand greeting starts a reply, and the paragraphs
    after it belong to that reply (a complainant's later follow-up cannot be told from the brand's text).
    """
    body: list[str] = []
    replies: list[list[str]] = []
    for text in (p for p in paragraphs if p):
        if body and BRAND_GREETING.match(fold(text)):
            replies.append([text])
        elif replies:
            replies[-1].append(text)
        else:
            body.append(text)
    return body, [" ".join(r) for r in replies]


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
