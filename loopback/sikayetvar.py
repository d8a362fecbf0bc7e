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
from pathlib import Path
from zoneinfo import ZoneInfo

from loopback.server import LoopbackServer, Recorded, Reply
from loopback.sikayetvar_pages import complaint_page, layout, list_page

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
            html = layout("Şikayetvar", '<main id="root"><div class="grid"><div>Yükleniyor…</div></div></main>')
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
                return 200, list_page(self, parts[0], None, listed, page)
            topics = self.topics.get(parts[0], set()) | {c.topic for c in listed if c.topic}
            if len(parts) == 2 and parts[1] in topics:
                return 200, list_page(self, parts[0], parts[1], [c for c in listed if c.topic == parts[1]], page)
            for complaint in listed:
                if len(parts) == 2 and complaint.slug == parts[1]:
                    return 200, complaint_page(self, complaint)
        return 404, layout("Sayfa bulunamadı", "<main><h1>Aradığınız sayfa bulunamadı.</h1></main>")

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
        reply = self._html(layout("Şikayetvar", body), trouble.status)
        if trouble.retry_after is not None:
            reply.headers["Retry-After"] = f"{trouble.retry_after:g}"
        return reply

    # -- what the pages ask of the site ----------------------------------
    def brand_name(self, slug: str) -> str:
        return self.brands.get(slug) or slug.replace("-", " ").title()

    def date_text(self, when: datetime, *, year: bool = False) -> str:
        """The date as the site writes it, in Istanbul time; the year only when asked or not ``now``'s year."""
        local = when.astimezone(ISTANBUL)
        now = (self.now or datetime.now(ISTANBUL)).astimezone(ISTANBUL)
        shown = f" {local.year}" if year or local.year != now.year else ""
        return f"{local.day} {MONTHS[local.month - 1]}{shown} {local:%H:%M}"

    def ago(self, when: datetime) -> str:
        """How long before ``now`` ``when`` was, as generation C writes it: "3 gün önce"."""
        seconds = ((self.now or datetime.now(ISTANBUL)) - when).total_seconds()
        for unit, size in (("gün", 86400), ("saat", 3600), ("dakika", 60)):
            if seconds >= size:
                return f"{int(seconds // size)} {unit} önce"
        return "az önce"

    def video_card(self, brand: str, newest: SampleComplaint) -> SampleComplaint:
        """The video complaint page 1 of a list shows second, made from the list's newest complaint."""
        title = f"{self.brand_name(brand)} hakkında video şikayet"
        return replace(newest, id=VIDEO_CARD_ID, title=title, slug=f"{slugify(title)}-video", tags=())
