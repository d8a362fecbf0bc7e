"""The stand-in Şikayetvar's HTML, kept apart from its serving: lists and complaint pages in markups A, B and C."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from loopback.sikayetvar import SampleComplaint, SikayetvarSite


def list_page(site: SikayetvarSite, brand: str, topic: str | None, complaints: list[SampleComplaint], page: int) -> str:
    """Page ``page`` of a brand's (or its sub-topic's) list in ``site.generation``'s markup, video card included."""
    name = escape(site.brand_name(brand) + (f" {topic.replace('-', ' ').title()}" if topic else ""))
    chunk = complaints[(page - 1) * site.page_size : page * site.page_size]
    cards = [_card(site, c) for c in chunk]
    if page == 1 and chunk:
        cards.insert(min(1, len(cards)), _card(site, site.video_card(brand, chunk[0])))
    last_page = max(1, -(-len(complaints) // site.page_size))
    path = f"/{brand}/{topic}" if topic else f"/{brand}"
    if site.generation == "C":
        empty = '<div data-slot="empty-state" class="py-12 text-center text-zinc-500"><p>Henüz şikayet yok.</p></div>'
        nxt = f'<a rel="next" href="?page={page + 1}">Sonraki</a>' if page < last_page else ""
        main = (
            f'<main class="mx-auto max-w-5xl px-4 py-6"><h1 class="text-2xl font-bold">{name} Şikayetleri</h1>'
            f'<div class="flex flex-col gap-4">\n{chr(10).join(cards) or empty}\n</div>'
            f'<nav aria-label="Sayfalama" class="mt-6 flex gap-2">'
            f'<span aria-current="page">{page}</span>{nxt}</nav>'
            "</main>"
        )
    else:
        listing = "\n".join(cards) or '<p class="no-result">Bu markaya ait şikayet bulunamadı.</p>'
        main = (
            f'<main class="brand-page"><div class="brand-header"><h1>{name} Şikayetleri</h1>'
            f'<span class="complaint-count">{len(complaints)} şikayet</span></div>'
            f'<section class="complaint-list">\n{listing}\n</section>'
            f"{_pagination(site.generation, page, last_page)}</main>"
        )
    return layout(f"{name} Şikayetleri - Şikayetvar", main, f"{site.url}{path}")


def complaint_page(site: SikayetvarSite, c: SampleComplaint) -> str:
    """One complaint's own page in ``site.generation``'s markup (A and B share it)."""
    if site.generation == "C":
        return _complaint_page_c(site, c)
    name = escape(site.brand_name(c.brand_slug))
    badge = '<div class="solved-badge">Çözüldü</div>' if c.resolved else ""
    paragraphs = "".join(f"<p>\n  {escape(p)}\n</p>" for p in _paragraphs(c.body))
    tags = "".join(f'<a class="sv-model-button">{escape(t)}</a>' for t in c.tags)
    reply = rating = ""
    if c.reply:
        reply = (
            f'<div class="complaint-reply-container"><div class="company-name">{name}</div>'
            f'<div class="reply-content"><p>{escape(c.reply)}</p></div></div>'
        )
    if c.rating is not None:
        stars = '<i class="star filled"></i>' * c.rating + '<i class="star"></i>' * (5 - c.rating)
        rating = f'<div class="rating stars" data-rating="{c.rating}">{stars}</div>'
    main = (
        f'<main class="complaint-detail"><nav class="breadcrumb"><a href="/">Şikayetvar</a> › '
        f'<a href="/{c.brand_slug}">{name}</a></nav><article class="complaint-detail-container">'
        f'<h1 class="complaint-detail-title">{escape(c.title)}</h1>{badge}'
        f'<div class="profile-details"><span class="username">{escape(c.author)}</span>'
        f'<div class="js-tooltip time">{site.date_text(c.published_at)}</div>'
        f'<span class="js-view-count">{c.views}</span></div>'
        f'<div class="complaint-detail-description">{paragraphs}</div>'
        f'<div class="keyword-container">{tags}</div>{reply}{rating}</article></main>'
    )
    return layout(f"{escape(c.title)} - Şikayetvar", main, site.url_of(c))


def _complaint_page_c(site: SikayetvarSite, c: SampleComplaint) -> str:
    name = escape(site.brand_name(c.brand_slug))
    texts = "".join(f'<p class="wrap-anywhere">{escape(p)}</p>' for p in _paragraphs(c.body))
    if c.reply:  # the brand's answer shares the complaint's container, after a header line of its own
        texts += (
            f'<div class="mt-6 flex items-center gap-2 font-semibold">{name}'
            f"{_date_span(site, c.published_at)}</div>"
            + "".join(f'<p class="wrap-anywhere">{escape(p)}</p>' for p in _paragraphs(c.reply))
        )
    rating = "" if c.rating is None else f'<div class="mt-4 flex" role="img" aria-label="5 üzerinden {c.rating}"></div>'
    main = (
        f'<main class="mx-auto max-w-3xl px-4 py-6"><nav aria-label="breadcrumb" class="text-sm text-zinc-500">'
        f'<a href="/">Şikayetvar</a> / <a href="/{c.brand_slug}">{name}</a></nav>'
        f'<article class="mt-4 rounded-2xl bg-white p-6 shadow-sm"><header>'
        f'<h1 class="text-2xl font-bold text-zinc-900">{escape(c.title)}</h1>'
        f'<div class="mt-2 flex items-center gap-2 text-sm">{_author(c)}{_date_span(site, c.published_at)}'
        f"{_badge(c)}</div></header>"
        f'<div class="selection-share mt-4 space-y-3 text-zinc-800">{texts}</div>'
        f'<div class="mt-4 flex flex-wrap gap-1">{_chips(c)}</div>{rating}</article></main>'
    )
    return layout(f"{escape(c.title)} - Şikayetvar", main, site.url_of(c))


def _pagination(generation: str, page: int, last_page: int) -> str:
    if generation == "A":
        items = "".join(f'<li><a class="page" href="?page={n}">{n}</a></li>' for n in range(1, last_page + 1))
        return f'<ul class="pagination-list">{items}</ul>'
    nxt = f'<a class="next-page" rel="next" href="?page={page + 1}">Sonraki</a>' if page < last_page else ""
    return f'<nav class="pagination-v2"><span class="current">{page}</span>{nxt}</nav>'


def _card(site: SikayetvarSite, c: SampleComplaint) -> str:
    if site.generation == "C":
        return _card_c(site, c)
    href = f"/{c.brand_slug}/{c.slug}"
    views = f"{c.views:,}".replace(",", ".")  # the site writes 1.840
    meta = (
        f'<div class="profile-details"><span class="username">{escape(c.author)}</span>'
        f'<div class="js-tooltip time">{site.date_text(c.published_at)}</div>'
        f'<div class="views"><span class="js-view-count">{views}</span> görüntülenme</div></div>'
    )
    more = '<span class="ellipsis-text">...</span>' if len(c.body) > len(_preview(c.body)) else ""
    description = f'<p class="complaint-description">{escape(_preview(c.body))}{more}</p>'
    if site.generation == "A":
        return (
            f'<article class="story-card complaint-card" data-id="{c.id}">{meta}'
            f'<h2 class="complaint-title"><a class="complaint-layer" href="{href}">{escape(c.title)}</a></h2>'
            f"{description}</article>"
        )
    tags = "".join(
        f'<a class="sv-model-button" href="/{c.brand_slug}?keyword={quote(t.lstrip("#"))}">{escape(t)}</a>'
        for t in c.tags
    )
    return (
        f'<article class="card-v2 ga-v ga-c" data-id="{c.id}" data-upvoter-count="{c.upvotes}">{meta}'
        f'<h2 class="complaint-title"><a href="{href}">{escape(c.title)}</a></h2>{description}'
        f'<div class="keyword-container">{tags}</div>'
        f'<button class="upvote-button" type="button">Ben de yaşadım ({c.upvotes})</button></article>'
    )


def _card_c(site: SikayetvarSite, c: SampleComplaint) -> str:
    more = "…" if len(c.body) > len(_preview(c.body)) else ""
    views = f"{c.views:,}".replace(",", ".")
    return (
        '<article class="rounded-xl border border-zinc-200 bg-white p-4 shadow-sm">'
        f'<div class="flex items-center gap-2 text-sm">{_author(c)}{_date_span(site, c.published_at)}'
        f"{_badge(c)}</div>"
        f'<a class="mt-2 block" href="/{c.brand_slug}/{c.slug}">'
        f'<h2 class="text-lg font-semibold text-zinc-900">{escape(c.title)}</h2></a>'
        f'<p class="mt-1 line-clamp-3 text-zinc-700">{escape(_preview(c.body))}{more}</p>'
        f'<div class="mt-3 flex flex-wrap gap-1">{_chips(c)}</div>'
        f'<div class="mt-3 flex items-center gap-4 text-sm text-zinc-500">'
        f'<span>{views} görüntülenme</span><button type="button" class="rounded-md px-2">'
        f"Ben de yaşadım ({c.upvotes})</button></div></article>"
    )


def _date_span(site: SikayetvarSite, when: datetime) -> str:
    """Generation C shows "3 gün önce" and keeps the date, with its year, for the tooltip's aria-label."""
    label = site.date_text(when, year=True)
    return f'<span class="text-zinc-500" data-base-ui-click-trigger="" aria-label="{label}">{site.ago(when)}</span>'


def _author(c: SampleComplaint) -> str:
    return f'<a class="font-medium text-zinc-900" href="/uye/{quote(c.author)}">{escape(c.author)}</a>'


def _badge(c: SampleComplaint) -> str:
    return '<span class="rounded-full bg-emerald-50 px-2 text-emerald-700">Çözüldü</span>' if c.resolved else ""


def _chips(c: SampleComplaint) -> str:
    return "".join(
        f'<a class="rounded-full bg-zinc-100 px-2 text-xs" href="/{c.brand_slug}?keyword={quote(t.lstrip("#"))}">'
        f"{escape(t)}</a>"
        for t in c.tags
    )


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def _preview(body: str, limit: int = 160) -> str:
    if len(body) <= limit:
        return body
    return body[:limit].rsplit(" ", 1)[0]


def layout(title: str, main: str, canonical: str = "") -> str:
    """A whole document around ``main``: the site's header, sidebar and footer, which no parser should need."""
    link = f'<link rel="canonical" href="{canonical}">\n' if canonical else ""
    return f"""<!DOCTYPE html>
<html lang="tr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{link}<link rel="stylesheet" href="/static/css/main.css">
<script>window.dataLayer = window.dataLayer || [];</script>
</head>
<body>
<header class="header"><a class="logo" href="/">Şikayetvar</a>
<nav class="main-nav"><a href="/markalar">Markalar</a><a href="/kategoriler">Kategoriler</a>
<a href="/sikayet-yaz" class="btn-write">Şikayet Yaz</a><a href="/giris">Giriş Yap</a></nav></header>
{main}
<aside class="sidebar"><h3>Popüler Markalar</h3><ul><li><a href="/kuzey-telekom">Kuzey Telekom</a></li>
<li><a href="/mavi-kargo">Mavi Kargo</a></li><li><a href="/deniz-gsm">Deniz GSM</a></li></ul></aside>
<footer class="footer"><a href="/hakkimizda">Hakkımızda</a> · <a href="/kvkk">KVKK Aydınlatma Metni</a> ·
<a href="/iletisim">İletişim</a><p>© Şikayetvar</p></footer>
</body>
</html>
"""
