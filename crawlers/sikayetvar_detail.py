"""Şikayetvar's complaint pages (generations B/A and C) read into a Detail, and the node helpers list pages share."""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsel import Selector

from crawlers.turkish_dates import fold

# Generation C (2026) dates its cards and pages only in a tooltip's aria-label, on both kinds of page.
C_DATE = "span.text-zinc-500[data-base-ui-click-trigger]"
C_BODY = "article div.selection-share p.wrap-anywhere"
B_BODY = "div.complaint-detail-description"
# Brands open an answer with "Değerli Müşterimiz" / "Sayın Abonemiz" (our customer); complainants never write that.
BRAND_GREETING = re.compile(r"^(?:degerli|sayin|kiymetli|saygideger)\s+\w+m[iu]z\b")
_DIGITS = re.compile(r"\d+")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_DIGITS = 18  # what a 64-bit column holds; int() refuses over 4,300 digits with ValueError
_OUT_OF_FIVE = re.compile(r"5 üzerinden (\d)|(\d)\s*/\s*5")


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


def page_selector(html: str) -> Selector:
    """The page as a Selector; control characters become spaces, since lxml then refuses the attributes around them."""
    return Selector(text=_CONTROLS.sub(" ", html))


def normalise(text: str) -> str:
    """Whitespace runs (newlines, indentation, nbsp) as single spaces."""
    return " ".join(text.split())


def text_of(node: Selector | None, exclude_class: str | None = None) -> str:
    """The node's text, whitespace normalised, without scripts, styles and elements of class ``exclude_class``."""
    if node is None:
        return ""
    unwanted = "ancestor::script or ancestor::style"
    if exclude_class is not None:
        unwanted += f" or ancestor::*[contains(concat(' ', normalize-space(@class), ' '), ' {exclude_class} ')]"
    return normalise(" ".join(node.xpath(f".//text()[not({unwanted})]").getall()))


def first(node: Selector, css: str) -> Selector | None:
    found = node.css(css)
    return found[0] if found else None


def number(text: str | None) -> int | None:
    """The digits of "1.840 görüntülenme" as 1840; None when there are none, or too many for a count or an id."""
    digits = "".join(_DIGITS.findall(text or ""))
    return int(digits) if 0 < len(digits) <= MAX_DIGITS else None


def says_resolved(node: Selector) -> bool:
    """Generation C marks a solved complaint only by a badge's text."""
    return bool(node.xpath(".//*[normalize-space(text())='Çözüldü']"))


def parse_detail_page(html: str) -> Detail:
    """The complaint page's title, body (the brand's replies kept apart), replies, outcome; body "" if unknown."""
    page = page_selector(html)
    if page.css(B_BODY):
        return _detail_b(page)
    if page.css(C_BODY):
        return _detail_c(page)
    return Detail(title=text_of(first(page, "h1")), body="")


def _detail_b(page: Selector) -> Detail:
    """Generations B and A share the complaint-detail markup."""
    body = text_of(first(page, B_BODY), exclude_class="complaint-reply-container")
    replies = [text_of(first(node, ".reply-content") or node) for node in page.css("div.complaint-reply-container")]
    return Detail(
        title=text_of(first(page, "h1.complaint-detail-title")),
        body=body,
        reply="\n\n".join(r for r in replies if r) or None,
        resolved="cozuldu" in fold(text_of(first(page, "div.solved-badge"))),
        rating=_rating(page),
        date_text=text_of(first(page, "div.js-tooltip.time")),
        generation="B",
    )


def _detail_c(page: Selector) -> Detail:
    body, replies = split_reply([text_of(p) for p in page.css(C_BODY)])
    article = page.css("article:has(div.selection-share)")[0]
    rated = [m for m in map(_OUT_OF_FIVE.search, article.xpath(".//@aria-label").getall()) if m]
    rating = int(rated[0].group(1) or rated[0].group(2)) if rated else None
    return Detail(
        title=text_of(first(article, "h1") or first(page, "h1")),
        body=" ".join(body),
        reply="\n\n".join(replies) or None,
        resolved=says_resolved(article),
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
    found = _DIGITS.search(text_of(first(page, ".rate-num")))
    rate = int(found.group()) if found else None
    stars = first(page, "div.rating.stars")
    if rate is None and stars is not None:
        rate = number(stars.attrib.get("data-rating") or stars.attrib.get("data-score"))
        if rate is None:
            first_number = _DIGITS.search(text_of(stars))  # "3/5": the first number, not all digits
            rate = len(stars.css(".filled, .full, .active")) or (int(first_number.group()) if first_number else None)
    return rate if rate is not None and 1 <= rate <= 5 else None
