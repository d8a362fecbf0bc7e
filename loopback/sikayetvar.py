"""A local stand-in for sikayetvar.com: brand lists and complaint pages in the site's own markup, with failures."""

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
_ASCII = str.maketrans({"ç": "c", "ğ": "g", "ı": "i", "ö": "o", "ş": "s", "ü": "u"})


def slugify(title: str) -> str:
    """The site's URL slug of a title: Turkish letters to ASCII, lowercase, words joined by dashes."""
    text = title.replace("I", "ı").replace("İ", "i").lower().translate(_ASCII)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


@dataclass(frozen=True)
class SampleComplaint:
    """One complaint as the stand-in site publishes it."""

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
        )
        for row in data["complaints"]
    ]


def sample_brands(path: Path = DATA_FILE) -> dict[str, str]:
    """Brand slug -> display name of the sample brands."""
    return dict(json.loads(path.read_text(encoding="utf-8"))["brands"])


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: float | None
    path_prefix: str | None


class SikayetvarSite(LoopbackServer):
    """Serves ``/{brand}`` (``?page=N``) and ``/{brand}/{title-slug}`` like Şikayetvar, newest complaint first.

    ``generation`` "B" renders the 2024-2026 list markup (``article.card-v2``), "A" the 2019-2023 one
    (``article.story-card.complaint-card`` with ``ul.pagination-list``). Page 1 of a brand also holds one video
    card whose link ends in ``-video``. Dates leave the year out when it is ``now``'s year.
    """

    def __init__(
        self,
        complaints: Iterable[SampleComplaint] | None = None,
        *,
        brands: Mapping[str, str] | None = None,
        page_size: int = 24,
        now: datetime | None = None,
        generation: str = "B",
    ) -> None:
        super().__init__()
        if generation not in ("A", "B"):
            raise ValueError(f"generation must be 'A' or 'B', not {generation!r}")
        self.complaints: list[SampleComplaint] = list(load_sample() if complaints is None else complaints)
        self.brands = dict(sample_brands() if brands is None else brands)
        self.page_size = page_size
        self.now = now
        self.generation = generation
        self._failures: list[_Failure] = []
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
        """Answer the next ``times`` requests (under ``path_prefix`` if given) with ``status``."""
        with self._state_lock:
            self._failures.append(_Failure(status, times, retry_after, path_prefix))

    def url_of(self, complaint: SampleComplaint) -> str:
        return f"{self.url}/{complaint.brand_slug}/{complaint.slug}"

    # -- serving ---------------------------------------------------------
    def handle(self, request: Recorded) -> Reply:
        with self._state_lock:
            self.arrivals.append((time.monotonic(), request))
        failure = self._take_failure(request.path)
        if failure is not None:
            return self._failure_reply(failure)
        parts = [p for p in request.path.split("/") if p]
        with self._state_lock:
            complaints = sorted(self.complaints, key=lambda c: c.id, reverse=True)
        if len(parts) == 1 and self._knows(parts[0], complaints):
            page_arg = request.query.get("page", ["1"])[0]
            page = int(page_arg) if page_arg.isdigit() and int(page_arg) > 0 else 1
            return Reply.html(self._list_page(parts[0], [c for c in complaints if c.brand_slug == parts[0]], page))
        if len(parts) == 2:
            for complaint in complaints:
                if complaint.brand_slug == parts[0] and complaint.slug == parts[1]:
                    return Reply.html(self._complaint_page(complaint))
        return Reply.html(_layout("Sayfa bulunamadı", "<main><h1>Aradığınız sayfa bulunamadı.</h1></main>"), 404)

    def _knows(self, brand: str, complaints: list[SampleComplaint]) -> bool:
        return brand in self.brands or any(c.brand_slug == brand for c in complaints)

    def _take_failure(self, path: str) -> _Failure | None:
        with self._state_lock:
            for failure in self._failures:
                if failure.path_prefix is None or path.startswith(failure.path_prefix):
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                    return failure
        return None

    @staticmethod
    def _failure_reply(failure: _Failure) -> Reply:
        if failure.status == 403:
            body = "<h1>Erişim engellendi</h1><p>Bu istek güvenlik nedeniyle engellendi. (Ray ID: 8c1f0a)</p>"
        elif failure.status == 429:
            body = "<h1>Çok fazla istek</h1><p>Lütfen bir süre sonra tekrar deneyin.</p>"
        else:
            body = "<h1>Bir hata oluştu</h1>"
        reply = Reply.html(_layout("Şikayetvar", body), failure.status)
        if failure.retry_after is not None:
            reply.headers["Retry-After"] = f"{failure.retry_after:g}"
        return reply

    def _brand_name(self, slug: str) -> str:
        return self.brands.get(slug) or slug.replace("-", " ").title()

    def _date_text(self, when: datetime) -> str:
        local = when.astimezone(ISTANBUL)
        now = (self.now or datetime.now(ISTANBUL)).astimezone(ISTANBUL)
        year = "" if local.year == now.year else f" {local.year}"
        return f"{local.day} {MONTHS[local.month - 1]}{year} {local:%H:%M}"

    # -- markup ----------------------------------------------------------
    def _list_page(self, brand: str, complaints: list[SampleComplaint], page: int) -> str:
        name = escape(self._brand_name(brand))
        chunk = complaints[(page - 1) * self.page_size : page * self.page_size]
        cards = [self._card(c) for c in chunk]
        if page == 1 and chunk:
            cards.insert(min(1, len(cards)), self._video_card(brand, chunk[0]))
        last_page = max(1, -(-len(complaints) // self.page_size))
        listing = "\n".join(cards) or '<p class="no-result">Bu markaya ait şikayet bulunamadı.</p>'
        main = (
            f'<main class="brand-page"><div class="brand-header"><h1>{name} Şikayetleri</h1>'
            f'<span class="complaint-count">{len(complaints)} şikayet</span></div>'
            f'<section class="complaint-list">\n{listing}\n</section>{self._pagination(page, last_page)}</main>'
        )
        return _layout(f"{name} Şikayetleri - Şikayetvar", main)

    def _pagination(self, page: int, last_page: int) -> str:
        if self.generation == "A":
            items = "".join(f'<li><a class="page" href="?page={n}">{n}</a></li>' for n in range(1, last_page + 1))
            return f'<ul class="pagination-list">{items}</ul>'
        nxt = f'<a class="next-page" rel="next" href="?page={page + 1}">Sonraki</a>' if page < last_page else ""
        return f'<nav class="pagination-v2"><span class="current">{page}</span>{nxt}</nav>'

    def _card(self, c: SampleComplaint) -> str:
        href = f"/{c.brand_slug}/{c.slug}"
        preview = escape(_preview(c.body))
        views = f"{c.views:,}".replace(",", ".")  # the site writes 1.840
        meta = (
            f'<div class="profile-details"><span class="username">{escape(c.author)}</span>'
            f'<div class="js-tooltip time">{self._date_text(c.published_at)}</div>'
            f'<div class="views"><span class="js-view-count">{views}</span> görüntülenme</div></div>'
        )
        more = '<span class="ellipsis-text">...</span>' if len(c.body) > len(_preview(c.body)) else ""
        description = f'<p class="complaint-description">{preview}{more}</p>'
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

    def _video_card(self, brand: str, newest: SampleComplaint) -> str:
        title = f"{self._brand_name(brand)} hakkında video şikayet"
        video = replace(newest, id=VIDEO_CARD_ID, title=title, slug=f"{slugify(title)}-video", tags=())
        return self._card(video)

    def _complaint_page(self, c: SampleComplaint) -> str:
        name = escape(self._brand_name(c.brand_slug))
        badge = '<div class="solved-badge">Çözüldü</div>' if c.resolved else ""
        paragraphs = "".join(f"<p>\n  {escape(p.strip())}\n</p>" for p in c.body.split("\n\n") if p.strip())
        tags = "".join(f'<a class="sv-model-button">{escape(t)}</a>' for t in c.tags)
        reply = ""
        if c.reply:
            reply = (
                f'<div class="complaint-reply-container"><div class="company-name">{name}</div>'
                f'<div class="reply-content"><p>{escape(c.reply)}</p></div></div>'
            )
        rating = ""
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
        return _layout(f"{escape(c.title)} - Şikayetvar", main)


def _preview(body: str, limit: int = 160) -> str:
    if len(body) <= limit:
        return body
    return body[:limit].rsplit(" ", 1)[0]


def _layout(title: str, main: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="tr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/static/css/main.css">
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
