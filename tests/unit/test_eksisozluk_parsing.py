"""Ekşi Sözlük markup read from HTML written here: topic title, pager, entries, their text and dates."""

from __future__ import annotations

from datetime import datetime

import pytest
from parsel import Selector

from crawlers.eksisozluk_markup import content_text, parse_entry_date, parse_topic_page, topic_path
from crawlers.turkish_dates import ISTANBUL
from store.errors import SourceParseError

URL = "https://eksisozluk.com/kuzey-telekom--123456?p=4"


def entry(attrs: str, content: str | None, date: str | None, author: str = "gece kuşu") -> str:
    body = f'<div class="content">\n      {content}\n    </div>' if content is not None else ""
    link = f'<a class="entry-date permalink" href="/entry/1">{date}</a>' if date is not None else ""
    return (
        f'<li {attrs}>{body}<footer><div class="info"><div id="entry-nick-container"><div id="entry-author">'
        f'<a class="entry-author" href="/biri/x">{author}</a></div></div><div>{link}</div></div></footer></li>'
    )


def topic(entries: list[str], pager: str = "") -> str:
    return f"""<html><head><meta charset="utf-8"><title>kuzey telekom - ekşi sözlük</title></head><body>
<div id="topic">
  <h1 id="title" data-title="kuzey telekom" data-slug="kuzey-telekom" data-id="123456">
    <a href="/kuzey-telekom--123456"><span itemprop="name">kuzey telekom</span></a></h1>
  <div class="sub-title-menu">{pager}</div>
  <ul id="entry-item-list" class="topic-list">{"".join(entries)}</ul>
</div>
<aside><ul class="topic-list"><li data-id="999">gündem</li></ul></aside></body></html>"""


PAGER = '<div class="pager" data-currentpage="4" data-pagecount="7"><a class="next" href="?p=5">»</a></div>'
GOOD = (
    'data-id="171200045" data-author="gece kuşu" data-author-id="88001" data-favorite-count="12"',
    "faturama  &quot;ek paket&quot; yazılmış &amp; kimse bilmiyor.<br/>\n  (bkz: "
    '<a class="b" href="/?q=kuzey+telekom">kuzey telekom</a>)<br><br>İade istedim, ŞİKAYET ettim.',
    "03.11.2026 21:14 ~ 21:40",
)


# -- dates -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "published", "edited"),
    [
        ("03.11.2026 21:14", datetime(2026, 11, 3, 21, 14), None),
        ("  03.11.2026\n 21:14  ", datetime(2026, 11, 3, 21, 14), None),
        ("03.11.2026 21:14 ~ 21:40", datetime(2026, 11, 3, 21, 14), datetime(2026, 11, 3, 21, 40)),
        ("03.11.2026 21:14 ~ 05.11.2026 08:02", datetime(2026, 11, 3, 21, 14), datetime(2026, 11, 5, 8, 2)),
        ("15.02.1999", datetime(1999, 2, 15), None),  # the oldest entries carry no time
        ("03.11.2026 21:14 ~ dün", datetime(2026, 11, 3, 21, 14), None),  # an unreadable edit loses only the edit
    ],
)
def test_entry_dates_are_istanbul_time(text: str, published: datetime, edited: datetime | None) -> None:
    found = parse_entry_date(text)
    assert found is not None
    assert found[0] == published.replace(tzinfo=ISTANBUL)
    assert found[0].tzinfo is ISTANBUL and found[0].utcoffset() is not None
    assert found[1] == (edited.replace(tzinfo=ISTANBUL) if edited else None)


@pytest.mark.parametrize("text", ["", "dün 21:14", "31.02.2026 10:00", "03.11.2026 25:61", "~ 21:40"])
def test_unreadable_dates_are_none(text: str) -> None:
    assert parse_entry_date(text) is None


# -- text ------------------------------------------------------------------
def test_content_keeps_bkz_as_text_and_normalises_whitespace() -> None:
    node = Selector(text=f'<div class="content">{GOOD[1]}</div>').css("div.content")[0]
    assert content_text(node) == (
        'faturama "ek paket" yazılmış & kimse bilmiyor. (bkz: kuzey telekom) İade istedim, ŞİKAYET ettim.'
    )


def test_hidden_references_and_links_keep_their_words() -> None:
    html = (
        '<div class="content">hat&#39;ı taşıdım<sup class="ab"><a data-query="numara taşıma" title="(bkz: numara'
        ' taşıma)">*</a></sup>, bakınız <a class="url" href="https://ornek.com.tr/x">ornek.com.tr</a>&nbsp;ok'
        "<script>alert(1)</script></div>"
    )
    assert content_text(Selector(text=html).css("div")[0]) == "hat'ı taşıdım*, bakınız ornek.com.tr ok"


# -- pages -----------------------------------------------------------------
def test_a_topic_page_gives_title_pager_and_entries_in_page_order() -> None:
    second = entry(
        'data-id="171200046" data-author="ışıl_ğ" data-favorite-count="0"', "Deniz GSM daha iyi.", "04.11.2026 07:00"
    )
    page = parse_topic_page(topic([entry(*GOOD), second], PAGER), URL)

    assert (page.topic_id, page.title, page.current_page, page.page_count) == (123456, "kuzey telekom", 4, 7)
    assert [e.id for e in page.entries] == [171200045, 171200046]
    first = page.entries[0]
    assert first.author == "gece kuşu" and first.author_id == 88001 and first.favorites == 12
    assert first.text.startswith('faturama "ek paket"') and "(bkz: kuzey telekom)" in first.text
    assert first.published_at == datetime(2026, 11, 3, 21, 14, tzinfo=ISTANBUL)
    assert first.edited_at == datetime(2026, 11, 3, 21, 40, tzinfo=ISTANBUL)
    assert page.entries[1].author == "ışıl_ğ" and page.entries[1].edited_at is None
    assert page.unparsed == 0


def test_an_entry_missing_its_id_date_or_text_is_counted_and_the_others_kept() -> None:
    broken = [
        entry('data-author="a"', "kimliksiz entry", "01.11.2026 10:00"),
        entry('data-id="171200050" data-author="b"', "tarihsiz entry", None),
        entry('data-id="171200051" data-author="c"', None, "01.11.2026 10:00"),
        entry('data-id="171200052" data-author="d"', "tarihi bozuk", "geçen hafta"),
    ]
    page = parse_topic_page(topic([*broken, entry(*GOOD)], PAGER), URL)
    assert [e.id for e in page.entries] == [171200045]
    assert page.unparsed == 4


def test_the_author_link_stands_in_for_a_missing_data_author() -> None:
    page = parse_topic_page(topic([entry('data-id="171200060"', "metin", "01.11.2026 10:00", "mavi_kargo_mağduru")]))
    assert page.entries[0].author == "mavi_kargo_mağduru"
    assert page.entries[0].favorites == 0 and page.entries[0].author_id is None


@pytest.mark.parametrize(
    ("pager", "url", "expected"),
    [
        ("", "https://eksisozluk.com/kuzey-telekom--123456", (1, 1)),  # one page: the site shows no pager
        ("", URL, (1, 1)),  # ?p= past the end of a one-page topic
        ('<div class="pager" data-currentpage="2"><a class="next" href="?p=3">»</a></div>', URL, (2, 3)),
        ('<div class="pager"></div>', URL, (4, 4)),
        ('<a class="next" href="?p=5">»</a>', URL, (4, 5)),
    ],
)
def test_the_pager_and_its_fallbacks(pager: str, url: str, expected: tuple[int, int]) -> None:
    page = parse_topic_page(topic([entry(*GOOD)], pager), url)
    assert (page.current_page, page.page_count) == expected


def test_the_topic_id_comes_from_the_url_when_the_title_lacks_it() -> None:
    html = topic([entry(*GOOD)]).replace(' data-id="123456"', "")
    assert parse_topic_page(html, URL).topic_id == 123456


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><h1>böyle bir şey yok</h1></body></html>",
        topic([entry(*GOOD)]).split("<ul")[0],  # cut off before the list
        "",
    ],
)
def test_a_page_without_an_entry_list_is_a_parse_error(html: str) -> None:
    with pytest.raises(SourceParseError, match="entry-item-list"):
        parse_topic_page(html, URL)


def test_an_empty_entry_list_is_a_topic_without_entries() -> None:
    page = parse_topic_page(topic([]), URL)
    assert page.entries == () and page.unparsed == 0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://eksisozluk.com/kuzey-telekom--123456?p=3", "kuzey-telekom--123456"),
        ("/mavi-kargo--7001002", "mavi-kargo--7001002"),
        ("deniz-gsm--7001003/", "deniz-gsm--7001003"),
        ("https://eksisozluk.com/?q=deniz+gsm", None),
        ("https://eksisozluk.com/entry/171200045", None),
        ("kuzey-telekom", None),
    ],
)
def test_topic_paths(url: str, expected: str | None) -> None:
    assert topic_path(url) == expected
