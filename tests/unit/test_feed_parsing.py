"""RSS/Atom parsing, charsets, the DOCTYPE guard, HTML-to-text and feed dates, on documents written here."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawlers.feeds import html_to_text, parse_feed, parse_iso, parse_rfc822
from crawlers.rss import mention_key
from store.errors import SourceParseError

GOOGLE_ITEM = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>"Kuzey Telekom" - Google Haberler</title><language>tr-TR</language>
<item>
  <title>Kuzey Telekom'da fatura krizi: abonelere çift ödeme - Ekonomi Gündem</title>
  <link>https://news.google.com/rss/articles/CBMiQWh0dHBzOi8vZWtvbm9taQ?oc=5</link>
  <guid isPermaLink="false">CBMiQWh0dHBzOi8vZWtvbm9taQ</guid>
  <pubDate>Mon, 23 Nov 2026 09:15:00 GMT</pubDate>
  <description>&lt;a href="https://news.google.com/rss/articles/CBMi" target="_blank"&gt;Kuzey Telekom'da fatura
   krizi&lt;/a&gt;&amp;nbsp;&amp;nbsp;&lt;font color="#6f6f6f"&gt;Ekonomi Gündem&lt;/font&gt;</description>
  <source url="https://ekonomigundem.example">Ekonomi Gündem</source>
</item>
<item>
  <title>Mavi Kargo şubesinde uzun kuyruk</title>
  <link>https://haber.example/mavi-kargo-kuyruk</link>
  <pubDate>Sun, 22 Nov 2026 18:40:00 +0300</pubDate>
  <description><![CDATA[<p>İstanbul'daki şubede <b>saatlerce</b> bekleyen müşteriler&#8230;</p>
    <!DOCTYPE x>]]></description>
  <dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">Ayşe Yılmaz</dc:creator>
</item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="tr"><title>Teknoloji Günlüğü</title>
<entry>
  <id>tag:teknoloji.example,2026:1842</id>
  <title type="html">Deniz GSM &amp;amp; 5G: şebeke testleri</title>
  <link rel="self" href="https://teknoloji.example/api/1842"/>
  <link href="https://teknoloji.example/deniz-gsm-5g"/>
  <updated>2026-11-20T08:00:00+03:00</updated>
  <author><name>Mehmet Öztürk</name></author>
  <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Deniz GSM,</p>
    <p>İzmir'de   deneme yaptı.</p></div></content>
</entry>
<entry>
  <title>Kimliği olmayan yazı</title>
  <summary>Ne id ne bağlantı var.</summary>
</entry>
</feed>"""


def test_google_news_rss_item_is_read() -> None:
    feed = parse_feed(GOOGLE_ITEM.encode("utf-8"))
    assert feed.language == "tr"
    first, second = feed.items
    assert first.id == "CBMiQWh0dHBzOi8vZWtvbm9taQ"
    assert first.link.startswith("https://news.google.com/rss/articles/")
    assert first.title == "Kuzey Telekom'da fatura krizi: abonelere çift ödeme - Ekonomi Gündem"
    assert first.text == "Kuzey Telekom'da fatura krizi Ekonomi Gündem"
    assert first.published == datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    assert (first.publisher, first.publisher_url) == ("Ekonomi Gündem", "https://ekonomigundem.example")
    # no guid: the link is the id; the CDATA HTML is text, and a DOCTYPE inside it is just text
    assert second.id == second.link == "https://haber.example/mavi-kargo-kuyruk"
    assert second.text == "İstanbul'daki şubede saatlerce bekleyen müşteriler…"
    assert second.published == datetime(2026, 11, 22, 15, 40, tzinfo=UTC)
    assert second.author == "Ayşe Yılmaz"


def test_atom_entries_are_read_and_an_entry_without_id_or_link_is_skipped() -> None:
    feed = parse_feed(ATOM.encode("utf-8"))
    assert feed.title == "Teknoloji Günlüğü"
    assert feed.skipped == 1
    (entry,) = feed.items
    assert entry.id == "tag:teknoloji.example,2026:1842"
    assert entry.link == "https://teknoloji.example/deniz-gsm-5g"  # a link without rel is the alternate one
    assert entry.title == "Deniz GSM & 5G: şebeke testleri"
    assert entry.text == "Deniz GSM, İzmir'de deneme yaptı."
    assert entry.published == datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
    assert entry.author == "Mehmet Öztürk"


@pytest.mark.parametrize("charset", ["windows-1254", "iso-8859-9"])
def test_the_xml_declaration_names_the_charset(charset: str) -> None:
    text = f'<?xml version="1.0" encoding="{charset}"?><rss><channel><item><title>Şebeke çöktü, ğüı İade</title>'
    text += "<link>https://haber.example/1</link></item></channel></rss>"
    feed = parse_feed(text.encode(charset))
    assert feed.items[0].title == "Şebeke çöktü, ğüı İade"


def test_the_http_charset_wins_over_the_declaration() -> None:
    text = '<?xml version="1.0" encoding="iso-8859-1"?><rss><channel><item><title>Kargo ş ğ ı İ</title>'
    text += "<link>https://haber.example/2</link></item></channel></rss>"
    feed = parse_feed(text.encode("windows-1254"), "windows-1254")
    assert feed.items[0].title == "Kargo ş ğ ı İ"


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<rss><channel><item><title>&lol2;</title><link>https://x.example</link></item></channel></rss>"""


@pytest.mark.parametrize(
    "body",
    [
        BOMB,
        '<!-- yorum --><!DOCTYPE rss SYSTEM "http://x.example/rss.dtd"><rss><channel/></rss>',
        "<!ENTITY x 'y'><rss/>",
        "<html><body><p>Bakımdayız</p></body></html>",
        "<rss><channel><item><title>Yarım kal",
        '{"items": []}',
        "",
    ],
    ids=["entity-bomb", "external-dtd", "bare-entity", "html-page", "truncated", "json", "empty"],
)
def test_unsafe_or_unreadable_documents_are_parse_errors(body: str) -> None:
    with pytest.raises(SourceParseError):
        parse_feed(body.encode("utf-8"))


def test_html_to_text() -> None:
    assert html_to_text("<p>Merhaba&nbsp;<b>dünya</b></p><p>İkinci&amp;paragraf</p>") == "Merhaba dünya İkinci&paragraf"
    assert html_to_text("Satır<br>satır<script>alert(1)</script>  &amp;quot;alıntı&amp;quot;") == 'Satır satır "alıntı"'
    mastodon_link = (
        '<a href="https://kuzey.example/destek/123"><span class="invisible">https://</span>'
        '<span class="ellipsis">kuzey.example/destek</span><span class="invisible">/123</span></a>'
    )
    assert html_to_text(mastodon_link) == "https://kuzey.example/destek/123"
    assert html_to_text(None) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Mon, 23 Nov 2026 09:15:00 +0300", datetime(2026, 11, 23, 6, 15, tzinfo=UTC)),
        ("23 Nov 2026 09:15:00 -0000", datetime(2026, 11, 23, 9, 15, tzinfo=UTC)),
        ("Pzt, 23 Kas 2026 09:15:00 +0300", datetime(2026, 11, 23, 6, 15, tzinfo=UTC)),
        ("2026-11-23T09:15:00+03:00", datetime(2026, 11, 23, 6, 15, tzinfo=UTC)),
        ("dün akşam", None),
        ("", None),
    ],
)
def test_pub_dates(value: str, expected: datetime | None) -> None:
    assert parse_rfc822(value) == expected


def test_iso_dates() -> None:
    assert parse_iso("2026-11-23T09:15:00.123456789Z") == datetime(2026, 11, 23, 9, 15, 0, 123456, tzinfo=UTC)
    assert parse_iso("2026-11-23T09:15:00") == datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    assert parse_iso("yarın") is None
    assert parse_iso(None) is None


def test_turkish_casefolding_for_mention_checks() -> None:
    assert mention_key("DENİZ GSM") == mention_key("DENIZ GSM") == mention_key("deniz gsm")
    assert mention_key("ÇAĞRI MERKEZİ") == mention_key("çağrı merkezi")
