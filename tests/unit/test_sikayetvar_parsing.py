"""Şikayetvar markup and Turkish dates, read from HTML written here; and the sample data's promises."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawlers.sikayetvar import site_slug
from crawlers.sikayetvar_markup import parse_detail_page, parse_list_page, split_reply
from crawlers.turkish_dates import ISTANBUL, month_number, parse_site_datetime, parse_turkish_datetime
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-21T08:52:00+03:00", datetime(2026, 10, 21, 8, 52, tzinfo=ISTANBUL)),
        ("2026-10-21T05:52:00Z", datetime(2026, 10, 21, 8, 52, tzinfo=ISTANBUL)),
        ("2026-10-21 08:52", datetime(2026, 10, 21, 8, 52, tzinfo=ISTANBUL)),
        ("21 Ekim 2026 08:52", datetime(2026, 10, 21, 8, 52, tzinfo=ISTANBUL)),
        ("2026-13-45T08:52", None),
    ],
)
def test_machine_dates_in_attributes_are_read_too(text: str, expected: datetime | None) -> None:
    assert parse_site_datetime(text, NOW) == expected


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


@pytest.mark.parametrize(
    "marker",
    [
        '<p class="no-result">Bu markaya ait şikayet bulunamadı.</p>',
        '<div data-slot="empty-state" class="py-12 text-zinc-500"><p>Henüz şikayet yok.</p></div>',
    ],
)
def test_a_list_that_says_it_is_empty_is_understood(marker: str) -> None:
    page = parse_list_page(f"<html><body><main>{marker}</main></body></html>", PAGE_URL)
    assert (page.cards, page.video_skipped, page.last_page, page.generation) == ([], 0, None, None)
    assert page.empty and page.understood


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><p>Bu markaya ait şikayet bulunamadı.</p></body></html>",  # words alone are no marker
        '<html><body><main id="root"><div class="grid"><div>Yükleniyor…</div></div></main></body></html>',
        '<html><body><article><a href="/populer/baska-bir-sikayet">Başka marka</a></article></body></html>',
        "",
    ],
)
def test_a_page_no_parser_knows_is_not_understood(html: str) -> None:
    page = parse_list_page(html, PAGE_URL)
    assert page.cards == [] and not page.understood


def test_a_truncated_page_keeps_only_its_whole_cards() -> None:
    cut = PAGE_B.index("Yurt Dışı Paketi")
    page = parse_list_page(PAGE_B[:cut], PAGE_URL)
    assert page.truncated and page.understood
    assert [c.id for c in page.cards] == [21509668]
    assert not parse_list_page(PAGE_B, PAGE_URL).truncated


def test_what_a_page_says_about_the_next_one() -> None:
    nav = '<nav class="pagination-v2"><span class="current">2</span>{}</nav></body></html>'
    body = PAGE_B.replace("</body></html>", "")
    assert parse_list_page(body + nav.format('<a rel="next" href="?page=3">Sonraki</a>'), PAGE_URL).has_next is True
    assert parse_list_page(body + nav.format(""), PAGE_URL).has_next is False
    assert parse_list_page(PAGE_B, PAGE_URL).has_next is None


# -- generation C ----------------------------------------------------------
def card_c(href: str, title: str, extra: str = "", attrs: str = "") -> str:
    return f"""
    <article class="rounded-xl border border-zinc-200 bg-white p-4"{attrs}>
      <div class="flex items-center gap-2 text-sm"><a class="font-medium" href="/uye/ayse.k">ayse.k</a>
        <span class="text-zinc-500" data-base-ui-click-trigger="" aria-label="21 Ekim 2026 08:52">1 ay önce</span>
        {extra}</div>
      <a class="rounded-full" href="/kuzey-telekom/fatura">#fatura</a>
      <a class="mt-2 block" href="{href}"><h2 class="text-lg font-semibold">{title}</h2></a>
      <p class="line-clamp-3 text-zinc-700">Taahhüdüm bitti ama
         cayma bedeli kesildi.…</p>
      <div class="flex gap-1"><a href="/kuzey-telekom?keyword=cayma">#cayma bedeli</a></div>
      <div class="text-sm text-zinc-500"><span>1.533 görüntülenme</span>
        <button type="button">Ben de yaşadım (7)</button></div>
    </article>"""


PAGE_C = f"""<!DOCTYPE html><html><head><link rel="canonical" href="https://www.sikayetvar.com/kuzey-telekom">
</head><body><header><a href="/kuzey-telekom">Kuzey Telekom</a></header><main>
{card_c("/kuzey-telekom/cayma-bedeli-haksiz", "Cayma Bedeli &amp; Fatura Haksız")}
{card_c("/kuzey-telekom/kuzey-telekom-video-sikayet-video", "Video şikayet")}
{
    card_c(
        "/kuzey-telekom/yurt-disi-paketi",
        "Yurt Dışı Paketi",
        '<span class="rounded-full">Çözüldü</span>',
        ' data-id="21500457"',
    )
}
<article class="news"><a href="/blog/yeni-tasarim">Yeni tasarımımız yayında</a></article>
</main><nav aria-label="Sayfalama"><span aria-current="page">1</span></nav></body></html>"""


def test_generation_c_cards_are_plain_articles_linking_under_the_brand() -> None:
    page = parse_list_page(PAGE_C, "https://www.sikayetvar.com/mavi-kargo")  # the canonical URL wins

    assert page.generation == "C" and page.video_skipped == 1 and page.unparsed == 0
    assert [c.key for c in page.cards] == ["cayma-bedeli-haksiz", "21500457"]
    card = page.cards[0]
    assert card.id is None and card.slug == "cayma-bedeli-haksiz"
    assert card.url == "https://www.sikayetvar.com/kuzey-telekom/cayma-bedeli-haksiz"
    assert (card.title, card.author, card.date_text) == ("Cayma Bedeli & Fatura Haksız", "ayse.k", "21 Ekim 2026 08:52")
    assert (card.views, card.upvotes, card.tags) == (1533, 7, ("fatura", "cayma bedeli"))
    assert card.preview == "Taahhüdüm bitti ama cayma bedeli kesildi."
    assert (card.resolved, page.cards[1].resolved, page.cards[1].id) == (False, True, 21500457)
    assert page.has_next is False and page.understood


def test_generation_c_without_a_canonical_link_uses_the_page_url_and_skips_the_topic_link() -> None:
    html = PAGE_C.replace('<link rel="canonical" href="https://www.sikayetvar.com/kuzey-telekom">', "")
    topic_page = parse_list_page(html, "https://www.sikayetvar.com/kuzey-telekom/fatura?page=2")
    assert [c.key for c in topic_page.cards] == ["cayma-bedeli-haksiz", "21500457"]
    assert parse_list_page(html, "https://www.sikayetvar.com/mavi-kargo").generation is None


DETAIL_C = """<html><body><main><article class="rounded-2xl p-6"><header>
<h1 class="text-2xl font-bold"> Modem İade Edildi Ama Ücreti Kesildi </h1>
<div><a href="/uye/mehmet_y">mehmet_y</a>
<span class="text-zinc-500" data-base-ui-click-trigger="" aria-label="28 Ekim 2026 14:05">26 gün önce</span>
<span class="rounded-full bg-emerald-50">Çözüldü</span></div></header>
<div class="selection-share space-y-3">
  <p class="wrap-anywhere">Sayın Kuzey Telekom yetkilileri, modemi iade ettim,
     tutanak elimde.</p>
  <p class="wrap-anywhere">Paramı   geri istiyorum.</p>
  <div class="font-semibold">Kuzey Telekom <span class="text-zinc-500" data-base-ui-click-trigger=""
       aria-label="29 Ekim 2026 10:00">25 gün önce</span></div>
  <p class="wrap-anywhere">Değerli Müşterimiz, iadeniz yapılmıştır.</p>
  <p class="wrap-anywhere">İyi günler dileriz.</p>
  <p class="wrap-anywhere">SAYIN ABONEMİZ, ikinci yanıtımızdır.</p>
</div>
<div role="img" aria-label="5 üzerinden 4"></div></article></main></body></html>"""


def test_generation_c_complaint_page_keeps_the_brand_replies_apart() -> None:
    detail = parse_detail_page(DETAIL_C)

    assert detail.generation == "C"
    assert detail.title == "Modem İade Edildi Ama Ücreti Kesildi"
    assert detail.body == "Sayın Kuzey Telekom yetkilileri, modemi iade ettim, tutanak elimde. Paramı geri istiyorum."
    assert detail.reply == (
        "Değerli Müşterimiz, iadeniz yapılmıştır. İyi günler dileriz.\n\nSAYIN ABONEMİZ, ikinci yanıtımızdır."
    )
    assert (detail.date_text, detail.resolved, detail.rating) == ("28 Ekim 2026 14:05", True, 4)


@pytest.mark.parametrize(
    ("paragraphs", "body", "replies"),
    [
        (["Değerli Müşterimiz diye başlayan bir şikayet."], 1, 0),  # the first paragraph is always the complaint
        (["Şikayetim şu.", "Değerli yetkililer, lütfen dönün."], 2, 0),  # not "our customer": the complainant
        (["Şikayetim şu.", "Değerli Yolcumuz, üzgünüz.", "Kayıt açtık."], 1, 1),
        (["", "Şikayetim şu.", "Kıymetli Üyemiz, inceledik."], 1, 1),
    ],
)
def test_brand_replies_are_told_by_their_greeting(paragraphs: list[str], body: int, replies: int) -> None:
    found = split_reply(paragraphs)
    assert (len(found[0]), len(found[1])) == (body, replies)


def test_a_complaint_page_no_parser_knows_has_no_body() -> None:
    detail = parse_detail_page('<html><body><main id="root"><h1>Yükleniyor</h1></main></body></html>')
    assert (detail.body, detail.generation, detail.title) == ("", None, "Yükleniyor")


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


@pytest.mark.parametrize(
    "name", ["Kuzey Telekom İade Edilmeyen Ücret, Şubat'ta IĞDIR", "Deniz GSM", "Mavi Kargo A.Ş.", "Café Ödemeli"]
)
def test_slugs_fold_turkish_letters_the_same_on_both_sides(name: str) -> None:
    assert site_slug(name) == slugify(name)
    assert slugify("Kuzey Telekom İade Edilmeyen Ücret, Şubat'ta IĞDIR") == (
        "kuzey-telekom-iade-edilmeyen-ucret-subat-ta-igdir"
    )
