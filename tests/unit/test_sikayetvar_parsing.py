"""Şikayetvar markup and Turkish dates, read from HTML written here; and the sample data's promises."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawlers.sikayetvar_markup import parse_detail_page, parse_list_page
from crawlers.turkish_dates import ISTANBUL, month_number, parse_turkish_datetime
from loopback.sikayetvar import load_sample, slugify

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ISTANBUL)
PAGE_URL = "https://www.sikayetvar.com/kuzey-telekom?page=2"


# -- dates -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31 Aralık 2025 22:43", datetime(2025, 12, 31, 22, 43, tzinfo=ISTANBUL)),
        ("5 Kasım 09:10", datetime(2026, 11, 5, 9, 10, tzinfo=ISTANBUL)),
        ("  1 ŞUBAT 2024\n 08:05 ", datetime(2024, 2, 1, 8, 5, tzinfo=ISTANBUL)),
        ("12 MAYIS 2025", datetime(2025, 5, 12, tzinfo=ISTANBUL)),
        ("3 Ağu. 2026 14.30", datetime(2026, 8, 3, 14, 30, tzinfo=ISTANBUL)),
        ("Paylaşıldı: 23 Kasım 09:59", datetime(2026, 11, 23, 9, 59, tzinfo=ISTANBUL)),
    ],
)
def test_turkish_dates_are_read(text: str, expected: datetime) -> None:
    assert parse_turkish_datetime(text, NOW) == expected


def test_a_missing_year_in_the_future_means_last_year() -> None:
    new_year = datetime(2027, 1, 2, 9, 0, tzinfo=ISTANBUL)
    assert parse_turkish_datetime("31 Aralık 22:43", new_year) == datetime(2026, 12, 31, 22, 43, tzinfo=ISTANBUL)
    assert parse_turkish_datetime("1 Ocak 23:10", new_year) == datetime(2027, 1, 1, 23, 10, tzinfo=ISTANBUL)
    # a few hours of clock skew between us and the site is not a year
    assert parse_turkish_datetime("23 Kasım 13:00", NOW) == datetime(2026, 11, 23, 13, 0, tzinfo=ISTANBUL)


def test_the_year_is_taken_in_istanbul_not_utc() -> None:
    utc_now = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)  # already 01:30 on 1 January in Istanbul
    assert parse_turkish_datetime("1 Ocak 01:00", utc_now) == datetime(2027, 1, 1, 1, 0, tzinfo=ISTANBUL)


@pytest.mark.parametrize("text", ["", "dün", "2 saat önce", "31 Şubat 2026 10:00", "12 Mayısss"])
def test_what_is_no_date_gives_none(text: str) -> None:
    assert parse_turkish_datetime(text, NOW) is None


def test_month_names_and_abbreviations() -> None:
    names = ("ocak", "SUBAT", "Mar", "nis", "MAYIS", "Eylül", "kasim", "Ara.")
    assert [month_number(m) for m in names] == [1, 2, 3, 4, 5, 9, 11, 12]
    assert month_number("Ek") is None  # too short to tell Ekim from anything
    assert month_number("Pazartesi") is None


# -- list pages ------------------------------------------------------------
def card_b(data_id: str, href: str, title: str, extra: str = "") -> str:
    return f"""
    <article class="card-v2 ga-v" data-id="{data_id}" data-upvoter-count="7">
      <div class="profile-details"><span class="username"> ayse.k </span>
        <div class="js-tooltip time">21 Ekim 08:52</div>
        <div class="views"><span class="js-view-count">1.533</span> görüntülenme</div></div>
      <h2 class="complaint-title"><a href="{href}">{title}</a></h2>
      <p class="complaint-description">Taahhüdüm bitti ama
         cayma bedeli kesildi.<span class="ellipsis-text">...devamını oku</span></p>
      <div class="keyword-container"><a class="sv-model-button" href="#">#cayma bedeli</a>
        <a class="sv-model-button" href="#">#fatura</a></div>{extra}
    </article>"""


PAGE_B = f"""<!DOCTYPE html><html><head><title>Kuzey Telekom Şikayetleri</title></head><body>
<nav><a href="/markalar">Markalar</a></nav>
<aside><h2 class="complaint-title"><a href="/populer/baska-bir-sikayet">Popüler</a></h2></aside>
<main>
{card_b("21509668", "/kuzey-telekom/cayma-bedeli-haksiz", "Cayma Bedeli Haksız")}
{card_b("99000001", "/kuzey-telekom/kuzey-telekom-video-sikayet-video", "Video şikayet")}
<article class="card-v2" data-upvoter-count="0"><h3 class="complaint-title"><a href="/kuzey-telekom/idsiz">İdsiz</a>
</h3></article>
{card_b("21500457", "https://www.sikayetvar.com/kuzey-telekom/yurt-disi-paketi", "Yurt Dışı Paketi")}
</main><footer>© Şikayetvar</footer></body></html>"""


def test_generation_b_cards_are_read_with_every_field() -> None:
    page = parse_list_page(PAGE_B, PAGE_URL)

    assert [c.id for c in page.cards] == [21509668, 21500457]
    card = page.cards[0]
    assert card.url == "https://www.sikayetvar.com/kuzey-telekom/cayma-bedeli-haksiz"
    assert card.title == "Cayma Bedeli Haksız"
    assert card.author == "ayse.k"
    assert card.date_text == "21 Ekim 08:52"
    assert card.views == 1533
    assert card.upvotes == 7
    assert card.tags == ("cayma bedeli", "fatura")
    assert card.preview == "Taahhüdüm bitti ama cayma bedeli kesildi."
    assert card.generation == "B"


def test_video_cards_and_cards_without_an_id_are_left_out_and_counted() -> None:
    page = parse_list_page(PAGE_B, PAGE_URL)
    assert page.video_skipped == 1
    assert page.unparsed == 1
    assert all(not c.url.endswith("-video") for c in page.cards)


PAGE_A = """<html><body><div class="complaint-list">
<article class="story-card complaint-card" data-id="1834561">
  <div class="story-header"><span class="username">mehmet_y</span>
    <div class="js-tooltip time">3 Mart 2022 11:15</div></div>
  <h2 class="complaint-title"><a class="complaint-layer" href="/mavi-kargo/paketim-gelmedi">Paketim Gelmedi</a></h2>
  <p class="complaint-description">Bir haftadır bekliyorum.</p><span class="js-view-count">87</span>
</article>
<article class="story-card complaint-card" data-id="1834002">
  <h2 class="complaint-title"><a class="complaint-layer" href="/mavi-kargo/kurye-gelmedi-video">Video</a></h2>
</article></div>
<ul class="pagination-list"><li><a class="page" href="?page=1">1</a></li><li><a class="page" href="?page=2">2</a></li>
<li><a class="page" href="?page=7">7</a></li></ul></body></html>"""


def test_generation_a_markup_is_the_fallback() -> None:
    page = parse_list_page(PAGE_A, "https://www.sikayetvar.com/mavi-kargo")

    assert [c.id for c in page.cards] == [1834561]
    card = page.cards[0]
    assert card.generation == "A"
    assert card.url == "https://www.sikayetvar.com/mavi-kargo/paketim-gelmedi"
    assert (card.title, card.author, card.views, card.upvotes) == ("Paketim Gelmedi", "mehmet_y", 87, None)
    assert parse_turkish_datetime(card.date_text, NOW) == datetime(2022, 3, 3, 11, 15, tzinfo=ISTANBUL)
    assert page.video_skipped == 1
    assert page.last_page == 7


def test_a_page_without_cards_is_empty_not_an_error() -> None:
    page = parse_list_page("<html><body><p>Bu markaya ait şikayet bulunamadı.</p></body></html>", PAGE_URL)
    assert (page.cards, page.video_skipped, page.last_page) == ([], 0, None)


# -- complaint pages -------------------------------------------------------
DETAIL = """<html><head><script>var x = "<p>not text</p>";</script></head><body>
<h1 class="complaint-detail-title">  Modem İade Edildi Ama Ücreti Kesildi </h1>
<div class="solved-badge">ÇÖZÜLDÜ</div>
<div class="complaint-detail-description">
  <p>Modemi iade ettim,
     tutanak elimde.</p>
  <p>Paramı   geri istiyorum.</p>
  <div class="complaint-reply-container"><p>Değerli Müşterimiz, iadeniz yapılmıştır.</p></div>
</div>
<div class="rating stars"><span class="rate-num">5</span></div>
</body></html>"""


def test_the_complaint_page_gives_the_full_text_without_the_brand_reply() -> None:
    detail = parse_detail_page(DETAIL)

    assert detail.title == "Modem İade Edildi Ama Ücreti Kesildi"
    assert detail.body == "Modemi iade ettim, tutanak elimde. Paramı geri istiyorum."
    assert detail.reply == "Değerli Müşterimiz, iadeniz yapılmıştır."
    assert detail.resolved is True
    assert detail.rating == 5


@pytest.mark.parametrize(
    ("markup", "rating"),
    [
        ('<div class="rating stars" data-rating="4"></div>', 4),
        ('<div class="rating stars"><i class="star filled"></i><i class="star full"></i><i></i></div>', 2),
        ('<div class="rating stars">3/5</div>', 3),
        ('<div class="rating stars" data-rating="9"></div>', None),
        ("", None),
    ],
)
def test_rating_variants(markup: str, rating: int | None) -> None:
    detail = parse_detail_page(f"<html><body><div class='complaint-detail-description'>x</div>{markup}</body></html>")
    assert detail.rating == rating
    assert detail.resolved is False
    assert detail.reply is None


# -- the sample data -------------------------------------------------------
def _tckn_ok(digits: str) -> bool:
    d = [int(c) for c in digits]
    return (
        len(d) == 11
        and d[0] != 0
        and d[9] == ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
        and d[10] == sum(d[:10]) % 10
    )


def _iban_ok(iban: str) -> bool:
    compact = iban.replace(" ", "")
    moved = compact[4:] + compact[:4]
    return len(compact) == 26 and int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def test_the_sample_keeps_its_promises() -> None:
    sample = load_sample()
    by_brand = {b: [c for c in sample if c.brand_slug == b] for b in ("kuzey-telekom", "mavi-kargo", "deniz-gsm")}
    assert all(8 <= len(v) <= 10 for v in by_brand.values())
    assert {"mehmet_y", "ayse.k"} <= {c.author for c in by_brand["kuzey-telekom"]}
    assert all(datetime(2026, 10, 1, tzinfo=ISTANBUL) <= c.published_at < NOW for c in sample)
    ordered = sorted(sample, key=lambda c: c.published_at)
    assert [c.id for c in ordered] == sorted(c.id for c in sample)
    assert len({(c.brand_slug, c.slug) for c in sample}) == len(sample)
    text = " ".join(c.body for c in sample)
    assert "0532 123 45 67" in text and "@example.com" in text and "son dört hanesi 4821" in text
    assert _tckn_ok("38416207584") and "38416207584" in text
    assert _iban_ok("TR24 0099 9000 1234 5678 9012 34") and "TR24 0099 9000 1234 5678 9012 34" in text


def test_slugs_fold_turkish_letters() -> None:
    assert slugify("Kuzey Telekom İade Edilmeyen Ücret, Şubat'ta IĞDIR") == (
        "kuzey-telekom-iade-edilmeyen-ucret-subat-ta-igdir"
    )
