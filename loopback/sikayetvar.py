"""A local stand-in for sikayetvar.com: brand, sub-topic and complaint pages in the site's markups, with failures."""

from __future__ import annotations

import json
import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from html import escape
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from loopback.server import LoopbackServer, Recorded, Reply

ISTANBUL = ZoneInfo("Europe/Istanbul")
DATA_FILE = Path(__file__).with_name("data") / "sikayetvar.json"
VIDEO_CARD_ID = 99_000_001  # newer than everything, so a crawler that forgets to skip it is caught
MONTHS = ("Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık")
GENERATIONS = ("A", "B", "C")
_ASCII = str.maketrans({"ç": "c", "ğ": "g", "ı": "i", "ö": "o", "ş": "s", "ü": "u"})


def slugify(title: str) -> str:
    """The site's URL slug of a title: Turkish letters to ASCII, lowercase, words joined by dashes."""
    text = title.replace("I", "ı").replace("İ", "i").lower().translate(_ASCII)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


@dataclass(frozen=True)
class SampleComplaint:
    """One complaint as the stand-in site publishes it; ``topic`` is the sub-topic slug it is listed under."""

    id: int
    brand_slug: str
    title: str
    slug: str
    body: str
    author: str
    published_at: datetime
    views: int = 0
    upvotes: int = 0
    tags: tuple[str, ...] = ()
    resolved: bool = False
    rating: int | None = None
    reply: str | None = None
    topic: str | None = None


def load_sample(path: Path = DATA_FILE) -> list[SampleComplaint]:
    """The fictional sample complaints shipped in ``loopback/data/sikayetvar.json``, oldest first."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        SampleComplaint(
            id=int(row["id"]),
            brand_slug=row["brand_slug"],
            title=row["title"],
            slug=row.get("slug") or slugify(row["title"]),
            body=row["body"],
            author=row["author"],
            published_at=datetime.fromisoformat(row["published_at"]),
            views=int(row.get("views", 0)),
            upvotes=int(row.get("upvotes", 0)),
            tags=tuple(row.get("tags", ())),
            resolved=bool(row.get("resolved", False)),
            rating=row.get("rating"),
            reply=row.get("reply"),
            topic=row.get("topic"),
        )
        for row in data["complaints"]
    ]


def sample_brands(path: Path = DATA_FILE) -> dict[str, str]:
    """Brand slug -> display name of the sample brands."""
    return dict(json.loads(path.read_text(encoding="utf-8"))["brands"])


@dataclass
class _Trouble:
    status: int
    times: int
    retry_after: float | None
    path_prefix: str | None
    mode: str | None = None  # "truncated", "unknown" or "binary": a 200 whose page no parser can fully read


class SikayetvarSite(LoopbackServer):
    """Serves ``/robots.txt``, ``/{brand}`` and ``/{brand}/{topic}`` (``?page=N``) and ``/{brand}/{title-slug}``.

    ``generation`` "B" renders the 2024-2026 markup (``article.card-v2``), "A" the 2019-2023 one (with
    ``ul.pagination-list``), "C" the 2026 Tailwind one (plain articles without ids, dates in ``aria-label``, the
    brand's reply inside the complaint's text). Page 1 of a list also holds a video card (link ends in
    ``-video``). Dates leave the year out when it is ``now``'s year. ``charset`` encodes every page (header and
    ``<meta>`` say so); robots.txt allows all but the ``disallow`` path prefixes. ``topics`` adds known sub-topics
    (brand slug -> topic slugs) to those the complaints name.
    """

    def __init__(
        self,
        complaints: Iterable[SampleComplaint] | None = None,
        *,
        brands: Mapping[str, str] | None = None,
        page_size: int = 24,
        now: datetime | None = None,
        generation: str = "B",
        charset: str = "utf-8",
        disallow: Iterable[str] = (),
        topics: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        super().__init__()
        if generation not in GENERATIONS:
            raise ValueError(f"generation must be one of {GENERATIONS}, not {generation!r}")
        self.complaints: list[SampleComplaint] = list(load_sample() if complaints is None else complaints)
        self.brands = dict(sample_brands() if brands is None else brands)
        self.page_size = page_size
        self.now = now
        self.generation = generation
        self.charset = charset
        self.disallow = tuple(disallow)
        self.topics = {brand: set(slugs) for brand, slugs in (topics or {}).items()}
        self._troubles: list[_Trouble] = []
        self._state_lock = threading.Lock()
        self.arrivals: list[tuple[float, Recorded]] = []  # (time.monotonic(), request), to check the waits

    # -- what tests use --------------------------------------------------
    def add(self, complaint: SampleComplaint) -> None:
        """Publish one more complaint (it shows up first on its brand's list)."""
        with self._state_lock:
            self.complaints.append(complaint)

    def fail_next(
        self, status: int, times: int = 1, retry_after: float | None = None, path_prefix: str | None = None
    ) -> None:
        """Answer the next ``times`` requests (under ``path_prefix``; robots.txt only if named) with ``status``."""
        with self._state_lock:
            self._troubles.append(_Trouble(status, times, retry_after, path_prefix))

    def malform_next(self, mode: str = "truncated", times: int = 1, path_prefix: str | None = None) -> None:
        """Serve the next ``times`` pages broken: "truncated" (cut inside the last card), "unknown" (no markup
        any generation has: a redesign caught half-way) or "binary" (an image where a page should be)."""
        if mode not in ("truncated", "unknown", "binary"):
            raise ValueError(f"mode must be 'truncated', 'unknown' or 'binary', not {mode!r}")
        with self._state_lock:
            self._troubles.append(_Trouble(200, times, None, path_prefix, mode))

    def url_of(self, complaint: SampleComplaint) -> str:
        return f"{self.url}/{complaint.brand_slug}/{complaint.slug}"

    # -- serving ---------------------------------------------------------
    def handle(self, request: Recorded) -> Reply:
        with self._state_lock:
            self.arrivals.append((time.monotonic(), request))
        trouble = self._take_trouble(request.path)
        if trouble is not None and trouble.mode is None:
            return self._failure_reply(trouble)
        if request.path == "/robots.txt":
            rules = "".join(f"Disallow: {p}\n" for p in self.disallow) or "Allow: /\n"
            return Reply(200, f"User-agent: *\n{rules}".encode(), {"Content-Type": "text/plain; charset=utf-8"})
        if trouble is not None and trouble.mode == "binary":
            return Reply(200, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", {"Content-Type": "image/png"})
        status, html = self._page(request)
        if trouble is not None and trouble.mode == "truncated":
            cut = html.rfind("<article")
            html = html[: cut + 60] if cut >= 0 else html[: len(html) // 2]
        elif trouble is not None:
            html = _layout("Şikayetvar", '<main id="root"><div class="grid"><div>Yükleniyor…</div></div></main>')
        return self._html(html, status)

    def _page(self, request: Recorded) -> tuple[int, str]:
        parts = [p for p in request.path.split("/") if p]
        with self._state_lock:
            complaints = sorted(self.complaints, key=lambda c: c.id, reverse=True)
        page_arg = request.query.get("page", ["1"])[0]
        page = int(page_arg) if page_arg.isdigit() and int(page_arg) > 0 else 1
        if parts and (parts[0] in self.brands or any(c.brand_slug == parts[0] for c in complaints)):
            listed = [c for c in complaints if c.brand_slug == parts[0]]
            if len(parts) == 1:
                return 200, self._list_page(parts[0], None, listed, page)
            topics = self.topics.get(parts[0], set()) | {c.topic for c in listed if c.topic}
            if len(parts) == 2 and parts[1] in topics:
                return 200, self._list_page(parts[0], parts[1], [c for c in listed if c.topic == parts[1]], page)
            for complaint in listed:
                if len(parts) == 2 and complaint.slug == parts[1]:
                    return 200, self._complaint_page(complaint)
        return 404, _layout("Sayfa bulunamadı", "<main><h1>Aradığınız sayfa bulunamadı.</h1></main>")

    def _html(self, html: str, status: int = 200) -> Reply:
        body = html.replace('<meta charset="utf-8">', f'<meta charset="{self.charset}">')
        content_type = f"text/html; charset={self.charset}"
        return Reply(status, body.encode(self.charset, "xmlcharrefreplace"), {"Content-Type": content_type})

    def _take_trouble(self, path: str) -> _Trouble | None:
        with self._state_lock:
            for trouble in self._troubles:
                prefix = trouble.path_prefix
                if (prefix is None and path != "/robots.txt") or (prefix is not None and path.startswith(prefix)):
                    trouble.times -= 1
                    if trouble.times <= 0:
                        self._troubles.remove(trouble)
                    return trouble
        return None

    def _failure_reply(self, trouble: _Trouble) -> Reply:
        if trouble.status == 403:
            body = "<h1>Erişim engellendi</h1><p>Bu istek güvenlik nedeniyle engellendi. (Ray ID: 8c1f0a)</p>"
        elif trouble.status == 429:
            body = "<h1>Çok fazla istek</h1><p>Lütfen bir süre sonra tekrar deneyin.</p>"
        else:
            body = "<h1>Bir hata oluştu</h1>"
        reply = self._html(_layout("Şikayetvar", body), trouble.status)
        if trouble.retry_after is not None:
            reply.headers["Retry-After"] = f"{trouble.retry_after:g}"
        return reply

    def _brand_name(self, slug: str) -> str:
        return self.brands.get(slug) or slug.replace("-", " ").title()

    def _date_text(self, when: datetime, *, year: bool = False) -> str:
        local = when.astimezone(ISTANBUL)
        now = (self.now or datetime.now(ISTANBUL)).astimezone(ISTANBUL)
        shown = f" {local.year}" if year or local.year != now.year else ""
        return f"{local.day} {MONTHS[local.month - 1]}{shown} {local:%H:%M}"

    def _ago(self, when: datetime) -> str:
        """Generation C shows "3 gün önce" and keeps the date for the tooltip's aria-label."""
        seconds = ((self.now or datetime.now(ISTANBUL)) - when).total_seconds()
        for unit, size in (("gün", 86400), ("saat", 3600), ("dakika", 60)):
            if seconds >= size:
                return f"{int(seconds // size)} {unit} önce"
        return "az önce"

    def _date_span(self, when: datetime) -> str:
        label = self._date_text(when, year=True)
        return (
            f'<span class="text-zinc-500" data-base-ui-click-trigger="" aria-label="{label}">{self._ago(when)}</span>'
        )

    # -- markup ----------------------------------------------------------
    def _list_page(self, brand: str, topic: str | None, complaints: list[SampleComplaint], page: int) -> str:
        name = escape(self._brand_name(brand) + (f" {topic.replace('-', ' ').title()}" if topic else ""))
        chunk = complaints[(page - 1) * self.page_size : page * self.page_size]
        card = self._card_c if self.generation == "C" else self._card
        cards = [card(c) for c in chunk]
        if page == 1 and chunk:
            cards.insert(min(1, len(cards)), card(self._video(brand, chunk[0])))
        last_page = max(1, -(-len(complaints) // self.page_size))
        path = f"/{brand}/{topic}" if topic else f"/{brand}"
        if self.generation == "C":
            empty = (
                '<div data-slot="empty-state" class="py-12 text-center text-zinc-500"><p>Henüz şikayet yok.</p></div>'
            )
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
                f'<section class="complaint-list">\n{listing}\n</section>{self._pagination(page, last_page)}</main>'
            )
        return _layout(f"{name} Şikayetleri - Şikayetvar", main, f"{self.url}{path}")

    def _pagination(self, page: int, last_page: int) -> str:
        if self.generation == "A":
            items = "".join(f'<li><a class="page" href="?page={n}">{n}</a></li>' for n in range(1, last_page + 1))
            return f'<ul class="pagination-list">{items}</ul>'
        nxt = f'<a class="next-page" rel="next" href="?page={page + 1}">Sonraki</a>' if page < last_page else ""
        return f'<nav class="pagination-v2"><span class="current">{page}</span>{nxt}</nav>'

    def _card(self, c: SampleComplaint) -> str:
        href = f"/{c.brand_slug}/{c.slug}"
        views = f"{c.views:,}".replace(",", ".")  # the site writes 1.840
        meta = (
            f'<div class="profile-details"><span class="username">{escape(c.author)}</span>'
            f'<div class="js-tooltip time">{self._date_text(c.published_at)}</div>'
            f'<div class="views"><span class="js-view-count">{views}</span> görüntülenme</div></div>'
        )
        more = '<span class="ellipsis-text">...</span>' if len(c.body) > len(_preview(c.body)) else ""
        description = f'<p class="complaint-description">{escape(_preview(c.body))}{more}</p>'
        if self.generation == "A":
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

    def _card_c(self, c: SampleComplaint) -> str:
        more = "…" if len(c.body) > len(_preview(c.body)) else ""
        views = f"{c.views:,}".replace(",", ".")
        return (
            '<article class="rounded-xl border border-zinc-200 bg-white p-4 shadow-sm">'
            f'<div class="flex items-center gap-2 text-sm">{_author(c)}{self._date_span(c.published_at)}'
            f"{_badge(c)}</div>"
            f'<a class="mt-2 block" href="/{c.brand_slug}/{c.slug}">'
            f'<h2 class="text-lg font-semibold text-zinc-900">{escape(c.title)}</h2></a>'
            f'<p class="mt-1 line-clamp-3 text-zinc-700">{escape(_preview(c.body))}{more}</p>'
            f'<div class="mt-3 flex flex-wrap gap-1">{_chips(c)}</div>'
            f'<div class="mt-3 flex items-center gap-4 text-sm text-zinc-500">'
            f'<span>{views} görüntülenme</span><button type="button" class="rounded-md px-2">'
            f"Ben de yaşadım ({c.upvotes})</button></div></article>"
        )

    def _video(self, brand: str, newest: SampleComplaint) -> SampleComplaint:
        title = f"{self._brand_name(brand)} hakkında video şikayet"
        return replace(newest, id=VIDEO_CARD_ID, title=title, slug=f"{slugify(title)}-video", tags=())

    def _complaint_page(self, c: SampleComplaint) -> str:
        if self.generation == "C":
            return self._complaint_page_c(c)
        name = escape(self._brand_name(c.brand_slug))
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
            f'<div class="js-tooltip time">{self._date_text(c.published_at)}</div>'
            f'<span class="js-view-count">{c.views}</span></div>'
            f'<div class="complaint-detail-description">{paragraphs}</div>'
            f'<div class="keyword-container">{tags}</div>{reply}{rating}</article></main>'
        )
        return _layout(f"{escape(c.title)} - Şikayetvar", main, self.url_of(c))

    def _complaint_page_c(self, c: SampleComplaint) -> str:
        name = escape(self._brand_name(c.brand_slug))
        texts = "".join(f'<p class="wrap-anywhere">{escape(p)}</p>' for p in _paragraphs(c.body))
        if c.reply:  # the brand's answer shares the complaint's container, after a header line of its own
            texts += (
                f'<div class="mt-6 flex items-center gap-2 font-semibold">{name}'
                f"{self._date_span(c.published_at)}</div>"
                + "".join(f'<p class="wrap-anywhere">{escape(p)}</p>' for p in _paragraphs(c.reply))
            )
        rating = (
            "" if c.rating is None else f'<div class="mt-4 flex" role="img" aria-label="5 üzerinden {c.rating}"></div>'
        )
        main = (
            f'<main class="mx-auto max-w-3xl px-4 py-6"><nav aria-label="breadcrumb" class="text-sm text-zinc-500">'
            f'<a href="/">Şikayetvar</a> / <a href="/{c.brand_slug}">{name}</a></nav>'
            f'<article class="mt-4 rounded-2xl bg-white p-6 shadow-sm"><header>'
            f'<h1 class="text-2xl font-bold text-zinc-900">{escape(c.title)}</h1>'
            f'<div class="mt-2 flex items-center gap-2 text-sm">{_author(c)}{self._date_span(c.published_at)}'
            f"{_badge(c)}</div></header>"
            f'<div class="selection-share mt-4 space-y-3 text-zinc-800">{texts}</div>'
            f'<div class="mt-4 flex flex-wrap gap-1">{_chips(c)}</div>{rating}</article></main>'
        )
        return _layout(f"{escape(c.title)} - Şikayetvar", main, self.url_of(c))


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


def _layout(title: str, main: str, canonical: str = "") -> str:
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
