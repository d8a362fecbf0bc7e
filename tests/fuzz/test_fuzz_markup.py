"""Fuzz the HTML parsers (Şikayetvar, Ekşi Sözlük, Trustpilot): cut, spliced or junk pages never crash them."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from crawlers.base import SourceConfig
from crawlers.eksisozluk_markup import parse_topic_page
from crawlers.sikayetvar_markup import parse_detail_page, parse_list_page
from crawlers.trustpilot import TrustpilotSource, parse_review_page
from crawlers.turkish_dates import ISTANBUL, parse_site_datetime
from store.model import Brand
from tests.fuzz.strategies import NASTY_STRINGS, aware, check_mention, parses_or_refuses

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ISTANBUL)
LIST_URL = "https://www.sikayetvar.com/kuzey-telekom?page=2"

LIST_B = """<html><head><link rel="canonical" href="https://www.sikayetvar.com/kuzey-telekom"></head><body>
<article class="card-v2" data-id="123456" data-upvoter-count="4">
<h2 class="complaint-title"><a href="/kuzey-telekom/internet-kesildi">İnternet kesildi</a></h2>
<span class="username">Ayşe K.</span><div class="js-tooltip time" title="23 Kasım 2026 09:59">2 saat önce</div>
<span class="js-view-count">1.840</span><div class="keyword-container"><a class="sv-model-button">#fatura</a></div>
<p class="complaint-description">Üç gündür internet yok <span class="ellipsis-text">devamını oku</span></p>
<div class="solved-badge">Çözüldü</div></article>
<ul class="pagination-list"><a class="page">1</a><a class="page">7</a></ul>
<nav class="pagination-v2"><a rel="next" href="?page=3">Sonraki</a></nav></body></html>"""
LIST_C = """<html><head><link rel="canonical" href="https://www.sikayetvar.com/kuzey-telekom"></head><body>
<article><h2><a href="/kuzey-telekom/fatura-iki-kat">Fatura iki kat geldi</a></h2><a href="/uye/can-y">Can Y.</a>
<span class="text-zinc-500" data-base-ui-click-trigger="" aria-label="5 Kasım 09:10">2 gün önce</span>
<p>Faturam iki kat geldi…</p><span>1.204 görüntülenme</span><button>Ben de (3)</button>
<a href="/kuzey-telekom/etiket/fatura">#fatura</a><span>Çözüldü</span></article></body></html>"""
DETAIL_B = """<html><body><h1 class="complaint-detail-title">İnternet kesildi</h1>
<div class="js-tooltip time">23 Kasım 2026 09:59</div><div class="complaint-detail-description"><p>Üç gündür yok.</p>
<div class="complaint-reply-container"><div class="reply-content">Değerli müşterimiz, inceliyoruz.</div></div></div>
<div class="solved-badge">Çözüldü</div><div class="rating stars" data-rating="4"><i class="filled"></i></div>
<div class="rate-num">4</div></body></html>"""
DETAIL_C = """<html><body><article><h1>Fatura iki kat geldi</h1>
<span class="text-zinc-500" data-base-ui-click-trigger="" aria-label="5 Kasım 09:10">2 gün önce</span>
<div class="selection-share"><p class="wrap-anywhere">Faturam iki kat geldi.</p>
<p class="wrap-anywhere">Değerli müşterimiz, iade yapıldı.</p></div><span aria-label="5 üzerinden 4"></span>
<span>Çözüldü</span></article></body></html>"""
TOPIC = """<html><body><h1 id="title" data-title="kuzey telekom" data-id="7001001">kuzey telekom</h1>
<div class="pager" data-currentpage="1" data-pagecount="3"><a class="next" href="?p=2">»</a></div>
<ul id="entry-item-list"><li data-id="150000001" data-author="gece kusu" data-author-id="42" data-favorite-count="3">
<div class="content">internet yine gitti (bkz: <a href="/?q=kesinti">kesinti</a>)<br>rezalet &amp; ayıp</div>
<footer><a class="entry-author" href="/biri/gece-kusu">gece kusu</a>
<a class="entry-date permalink" href="/entry/150000001">01.02.2024 13:45 ~ 14:02</a></footer></li></ul>
</body></html>"""
REVIEWS = {
    "props": {
        "pageProps": {
            "reviews": [
                {
                    "id": "65f0c0ffee",
                    "title": "Yavaş internet",
                    "text": "Hız &amp; destek berbat.\n\nİki haftadır.",
                    "rating": 1,
                    "language": "tr",
                    "dates": {"publishedDate": "2026-03-01T10:00:00.000Z"},
                    "consumer": {"displayName": "Selin", "countryCode": "TR"},
                    "reply": {"message": "Üzgünüz."},
                }
            ],
            "filters": {"pagination": {"totalPages": 4}},
        }
    }
}


def _trustpilot_page(doc: object) -> str:
    return f'<html><script id="__NEXT_DATA__" type="application/json">{json.dumps(doc)}</script></html>'


@st.composite
def damaged(draw: st.DrawFn, page: str) -> str:
    """``page`` cut short, with junk spliced in, with a value swapped for a nasty one, or pure junk."""
    how = draw(st.integers(min_value=0, max_value=4))
    if how == 0:
        return page[: draw(st.integers(min_value=0, max_value=len(page)))]
    if how == 1:
        start = draw(st.integers(min_value=0, max_value=len(page)))
        junk = draw(st.one_of(st.text(max_size=40), st.sampled_from(["<", "<!--", "<![CDATA[", "</article>", "&#"])))
        return page[:start] + junk + page[start + draw(st.integers(min_value=0, max_value=30)) :]
    if how == 2:
        old = draw(
            st.sampled_from(
                [
                    "123456",
                    "1.840",
                    "23 Kasım 2026 09:59",
                    "5 Kasım 09:10",
                    "7001001",
                    "150000001",
                    "01.02.2024 13:45",
                    "14:02",
                    "4",
                    "3",
                    "?page=3",
                    "/kuzey-telekom/",
                ]
            )
        )
        new = html.escape(draw(st.one_of(st.sampled_from(NASTY_STRINGS), st.text(max_size=12))))
        return page.replace(old, new)
    if how == 3:
        depth = draw(st.integers(min_value=100, max_value=3000))
        return page.replace("<body>", "<body>" + "<div>" * depth)
    return draw(st.text(max_size=300))


@given(page=st.one_of(damaged(LIST_B), damaged(LIST_C)))
@example(page=LIST_B.replace("123456", "9" * 5000))  # int() refuses more than 4300 digits
@example(page=LIST_B.replace("1.840", "9" * 5000))
@example(page=LIST_B.replace("23 Kasım 2026 09:59", "1 Ocak 0001 00:00"))  # OverflowError when stored in UTC
@example(page=LIST_C.replace("5 Kasım 09:10", "0001-01-01T00:00"))
@example(page=LIST_B.replace('class="card-v2"', 'class="card-v2"\x00'))
@example(page=LIST_C.replace('href="https://www.', 'href="https://[www.'))  # urlsplit: "Invalid IPv6 URL"
@example(page=LIST_B.replace('href="/kuzey-telekom/internet-kesildi"', 'href="at://internet-kesildi"'))
def test_any_list_page_gives_well_formed_cards(page: str) -> None:
    listing = parse_list_page(page, LIST_URL)
    for card in listing.cards:
        assert isinstance(card.key, str) and card.key
        assert card.url.startswith("https://www.sikayetvar.com/")
        assert card.views is None or isinstance(card.views, int)
        assert card.upvotes is None or isinstance(card.upvotes, int)
        assert aware(parse_site_datetime(card.date_text, NOW))


@given(page=st.one_of(damaged(DETAIL_B), damaged(DETAIL_C)))
@example(page=DETAIL_B.replace('data-rating="4"', 'data-rating="' + "9" * 5000 + '"').replace("rate-num", "x"))
@example(page=DETAIL_B.replace('class="rating stars"', 'class="rating stars"\x1b'))
def test_any_complaint_page_gives_a_detail(page: str) -> None:
    detail = parse_detail_page(page)
    assert isinstance(detail.body, str) and isinstance(detail.title, str)
    assert detail.rating is None or 1 <= detail.rating <= 5
    assert aware(parse_site_datetime(detail.date_text, NOW))


@given(page=damaged(TOPIC), url=st.sampled_from(["", "https://eksisozluk.com/kuzey-telekom--7001001?p=2", "x?p=²"]))
@example(page=TOPIC.replace("150000001", "9" * 5000), url="")
@example(page=TOPIC.replace("7001001", "9" * 5000), url="")
@example(page=TOPIC, url="https://eksisozluk.com/kuzey-telekom--7001001?p=" + "9" * 5000)
@example(page=TOPIC.replace("01.02.2024 13:45", "01.01.0001 00:00"), url="")
@example(page=TOPIC.replace('id="title"', 'id="title"\x1f'), url="")  # lxml: "All strings must be XML compatible"
def test_any_topic_page_gives_entries_or_a_source_parse_error(page: str, url: str) -> None:
    topic = parses_or_refuses(lambda: parse_topic_page(page, url))
    if topic is None:
        return
    assert 1 <= topic.current_page <= topic.page_count
    for entry in topic.entries:
        assert isinstance(entry.id, int) and entry.text
        assert aware(entry.published_at) and aware(entry.edited_at)


@given(
    doc=st.one_of(st.just(REVIEWS), st.recursive(st.none() | st.integers() | st.text(max_size=8), st.lists)),
    cut=st.integers(min_value=0, max_value=5),
)
@example(doc=REVIEWS, cut=5)
def test_any_trustpilot_page_gives_reviews_or_a_source_parse_error(doc: object, cut: int) -> None:
    page = _trustpilot_page(doc)
    page = page[: len(page) * cut // 5] if cut < 5 else page
    listing = parses_or_refuses(lambda: parse_review_page(page))
    if listing is None:
        return
    source = TrustpilotSource(SourceConfig(name="tp", base_url="https://www.trustpilot.com"), now=lambda: NOW)
    for review in listing.reviews:
        check_mention(source._mention(Brand("Kuzey Telekom"), review, "kuzey.test"), "trustpilot")


@given(
    review=st.fixed_dictionaries(
        {},
        optional={
            "id": st.one_of(
                st.sampled_from(NASTY_STRINGS), st.integers(), st.booleans(), st.lists(st.integers(), max_size=2)
            ),
            "text": st.one_of(st.text(max_size=20), st.integers()),
            "language": st.one_of(st.none(), st.text(max_size=4), st.integers()),
            "rating": st.one_of(st.integers(), st.floats(), st.text(max_size=3)),
            "dates": st.fixed_dictionaries({"publishedDate": st.one_of(st.sampled_from(NASTY_STRINGS), st.integers())}),
        },
    )
)
@example(review={"id": "r1", "text": "Berbat", "dates": {"publishedDate": "0001-01-01T00:00:00+01:00"}})
@example(review={"id": "r1", "text": "Berbat", "dates": {"publishedDate": "2026-03-01T10:00:00"}, "language": 5})
def test_any_trustpilot_review_gives_a_well_formed_mention(review: dict[str, object]) -> None:
    doc = {"props": {"pageProps": {"reviews": [review]}}}
    listing = parse_review_page(_trustpilot_page(doc))
    source = TrustpilotSource(SourceConfig(name="tp", base_url="https://www.trustpilot.com"), now=lambda: NOW)
    for parsed in listing.reviews:
        check_mention(source._mention(Brand("Kuzey Telekom"), parsed, "kuzey.test"), "trustpilot")
        assert datetime.fromisoformat(parsed.published).astimezone(UTC)


def test_trustpilot_json_nested_too_deep_is_a_parse_error() -> None:
    listing = parses_or_refuses(lambda: parse_review_page(_trustpilot_page({}).replace("{}", "[" * 100_000)))
    assert listing is None
