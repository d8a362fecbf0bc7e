"""A digest rendered for Slack, HTML and e-mail: formats per language, escaping, Slack's limits, the charts."""

from __future__ import annotations

import json
import re
import struct
import threading
from dataclasses import replace
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from loopback.slack import block_problems
from responders.digest_charts import CHART_NAMES, brand_charts, chart_key, digest_charts
from responders.digest_html import email_payload, render_html
from responders.digest_model import Count, Period, UrgentCase
from responders.digest_sections import brand_tables, plain_report
from responders.digest_slack import digest_deliveries, section_text, slack_payloads
from responders.digest_text import DigestText
from responders.slack_text import FALLBACK_TEXT, FIELD_TEXT, HEADER_TEXT, MAX_BLOCKS, MAX_FIELDS, SECTION_TEXT
from tests.support.digest_sample import (
    AGENT,
    BAD_URL,
    BRAND,
    EMPTY_BRAND,
    PING,
    SCRIPT,
    ZONE,
    busy_brand,
    sample_digest,
)

NB = "\u00a0"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HOSTILE = (PING, AGENT, "<@U0BOSS>", SCRIPT, "<b>")


def period(kind: str, start: datetime, end: datetime) -> Period:
    return Period(kind, start, end, "x")


def test_numbers_changes_and_durations_follow_the_language() -> None:
    tr, en = DigestText("tr"), DigestText("en")
    grown = Count("mentions", 1234, 1100)
    assert tr.count(grown) == f"1.234 (+12{NB}%)" and en.count(grown) == "1,234 (+12%)"
    assert tr.count(Count("x", 5, 0)) == "5 (yeni)" and en.count(Count("x", 5, 0)) == "5 (new)"
    assert tr.count(Count("x", 0, 0)) == "0" and en.count(Count("x", 3, 4)) == "3 (-25%)"
    assert tr.duration(2 * 3600 + 15 * 60) == f"2{NB}sa 15{NB}dk" and en.duration(8100) == "2h 15m"
    assert en.duration(26 * 3600) == "1d 2h" and en.duration(45) == "45s" and en.duration(3600) == "1h"
    assert tr.duration(None) == en.duration(None) == "—"
    assert tr.percent(0.4512) == f"45{NB}%" and en.percent(0.004) == "0.4%" and tr.percent(0.004) == f"0,4{NB}%"
    assert en.percent(-0.3, signed=True) == "-30%" and en.percent(0.25, signed=True) == "+25%"
    assert (
        tr.term("negative") == "Olumsuz" and en.term("negative") == "Negative" and en.term("new_topic") == "new topic"
    )


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="de"):
        DigestText("de")
    with pytest.raises(ValueError):
        render_html(replace(sample_digest(), language="de"), {})


def test_period_titles_in_both_languages() -> None:
    tr, en = DigestText("tr"), DigestText("en")
    day = period("day", datetime(2026, 11, 23, tzinfo=ZONE), datetime(2026, 11, 24, tzinfo=ZONE))
    assert tr.title(day) == "Günlük özet 23 Kasım 2026" and en.title(day) == "Daily digest 23 November 2026"
    week = period("week", datetime(2026, 11, 30, tzinfo=ZONE), datetime(2026, 12, 7, tzinfo=ZONE))
    assert tr.title(week) == "Haftalık özet 30 Kasım – 6 Aralık 2026"
    new_year = period("week", datetime(2025, 12, 29, tzinfo=ZONE), datetime(2026, 1, 5, tzinfo=ZONE))
    assert en.title(new_year) == "Weekly digest 29 December 2025 – 4 January 2026"
    month = period("month", datetime(2026, 2, 1, tzinfo=ZONE), datetime(2026, 3, 1, tzinfo=ZONE))
    assert tr.title(month) == "Aylık özet Şubat 2026" and en.title(month) == "Monthly digest February 2026"
    year = period("year", datetime(2026, 1, 1, tzinfo=ZONE), datetime(2027, 1, 1, tzinfo=ZONE))
    assert tr.title(year) == "Yıllık özet 2026" and en.title(year) == "Yearly digest 2026"


def _slack_visible(payload: dict[str, Any]) -> str:
    """Everything Slack would read as mrkdwn or text: the payload without the console's plain text."""
    return json.dumps({k: v for k, v in payload.items() if k != "plain"}, ensure_ascii=False)


@pytest.mark.parametrize("language", ["tr", "en"])
def test_slack_payloads_stay_within_limits_and_never_ping(language: str) -> None:
    digest = sample_digest(language)
    payloads = slack_payloads(digest, digest_charts(digest))
    assert len(payloads) == 2
    for payload in payloads:
        blocks = payload["blocks"]
        assert block_problems(blocks) == [] and len(blocks) <= MAX_BLOCKS
        assert len(payload["text"]) < FALLBACK_TEXT and len(blocks[0]["text"]["text"]) <= HEADER_TEXT
        for block in blocks:
            assert len(block.get("fields", [])) <= MAX_FIELDS
            assert all(len(f["text"]) <= FIELD_TEXT for f in block.get("fields", []))
            assert len(block.get("text", {}).get("text", "")) <= SECTION_TEXT
        visible = _slack_visible(payload)
        assert not [s for s in HOSTILE if s in visible], "outside text reached Slack unescaped"
    busy = _slack_visible(payloads[0])
    assert "&lt;!channel&gt;" in busy and "&lt;script&gt;" in busy
    # The post's URL is the case's link, "|" and ">" percent-encoded so they cannot end it early.
    assert "<https://www.sikayetvar.com/kuzey-telekom/internet-cokti?a=1&amp;b=2%7Cx%3Ey|#41 · " in busy
    assert "javascript" not in busy and "#42 · x:" in busy


def test_a_long_table_is_cut_to_one_section_and_says_how_many_are_left() -> None:
    long = "Uzun şikâyet & <!channel> " * 40
    opened = datetime(2026, 11, 20, tzinfo=ZONE)
    many = tuple(
        UrgentCase(i, "high", "new", long, f"https://x.example/{i}", "x", opened, None, "", False) for i in range(200)
    )
    digest = replace(sample_digest(), brands=(replace(busy_brand(), urgent=many),))
    [payload] = slack_payloads(digest)
    [urgent] = [b for b in payload["blocks"] if b.get("text", {}).get("text", "").startswith("*En acil")]
    text = urgent["text"]["text"]
    assert len(text) <= SECTION_TEXT and re.search(r"\n… \+\d+$", text) and PING not in text
    assert block_problems(payload["blocks"]) == []


def test_an_empty_table_says_so() -> None:
    t = DigestText("en")
    [agents] = [table for table in brand_tables(sample_digest().brands[1], t) if table.key == "agents"]
    assert section_text(agents, t) == "*Cases handled per agent*\n_No data_"


class Page(HTMLParser):
    """What a browser would find in the report: text, links, images, tables."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if tag == "a":
            self.hrefs.append(found["href"] or "")
        if tag == "img":
            self.srcs.append(found["src"] or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def test_the_html_escapes_outside_text_and_links_only_web_urls() -> None:
    digest = sample_digest("tr")
    html = render_html(digest, {chart_key(0, "timeline"): "data:image/png;base64,AAAA"})
    assert "<script" not in html and "<!channel>" not in html and "<b>fatura" not in html
    page = parse(html)
    text = "".join(page.text)
    assert SCRIPT in text and PING in text  # shown as text, not run or lost
    assert page.hrefs == ["https://www.sikayetvar.com/kuzey-telekom/internet-cokti?a=1&b=2|x>y"]
    assert 'href="https://www.sikayetvar.com/kuzey-telekom/internet-cokti?a=1&amp;b=2|x&gt;y"' in html
    assert "#42 · x" in text and BAD_URL not in html  # a case with no web link is listed without one
    assert page.srcs == ["data:image/png;base64,AAAA"] and "script" not in page.tags
    assert '<meta name="viewport"' in html and "http://" not in html.replace(digest.brands[0].urgent[0].url, "")


def test_the_html_shows_every_figure() -> None:
    digest = sample_digest("tr")
    text = re.sub(r"[ \n]+", " ", " ".join(parse(render_html(digest, {})).text))  # keeps the no-break spaces
    for figure in (
        f"1.234 (+12{NB}%)",  # volume
        "sikayetvar",  # by source
        f"600 (+50{NB}%) · 49{NB}%",  # negative share of the sentiment mix
        f"-30{NB}%",  # net sentiment
        "Şebeke",  # top topic, translated
        "kargo gecikmesi",  # rising
        "Şikâyet",  # intent
        f"55{NB}% · 1.234",  # share of voice
        f"2{NB}sa 15{NB}dk",  # first response median
        f"9{NB}sa",  # first response p90
        f"4{NB}g",  # resolution p90
        "SLA ihlalleri",
        f"7 (-42{NB}%)",
        "7 günden eski",
        f"60{NB}% · 40 şikâyet",  # Şikayetvar resolution rate
        "#41 · sikayetvar",  # urgent case
        "U0AYSE",  # agents
        "Gece gelen şikâyet",  # held alert
    ):
        assert figure in text, figure
    assert text.count("Şikayetvar çözüm oranı") == 2  # the key figure and the care table, of the busy brand only
    assert EMPTY_BRAND in text and "Veri yok" in text


def test_turkish_and_english_reports_differ_in_words_not_in_figures() -> None:
    tr, en = (" ".join(parse(render_html(sample_digest(lang), {})).text) for lang in ("tr", "en"))
    assert "Bahsetmeler" in tr and "Mentions" not in tr and "Mentions" in en and "Bahsetmeler" not in en
    assert "Müşteri hizmetleri performansı" in tr and "Care performance" in en
    assert '<html lang="en">' in render_html(sample_digest("en"), {})
    assert "1,234 (+12%)" in en and f"1.234 (+12{NB}%)" in tr


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_charts_are_small_deterministic_pngs_and_an_empty_brand_has_none() -> None:
    digest = sample_digest("tr")
    t = DigestText("tr")
    charts = brand_charts(digest.brands[0], t)
    assert [c.name for c in charts] == list(CHART_NAMES)
    for chart in charts:
        assert chart.png.startswith(PNG_MAGIC) and _png_size(chart.png) == (800, 400)
        assert b"Software" not in chart.png[:200] and b"Matplotlib" not in chart.png
    assert [c.png for c in brand_charts(digest.brands[0], t)] == [c.png for c in charts]
    assert brand_charts(digest.brands[1], t) == []
    assert charts[0].title == "Zaman içinde bahsetmeler"
    assert brand_charts(digest.brands[0], DigestText("en"))[0].title == "Mentions over time"
    assert brand_charts(digest.brands[0], DigestText("en"))[0].png != charts[0].png  # the labels are drawn


def test_charts_drawn_in_threads_are_the_same_as_drawn_alone() -> None:
    brand, t = busy_brand(), DigestText("en")
    alone = [c.png for c in brand_charts(brand, t)]
    results: list[list[bytes]] = []
    threads = [threading.Thread(target=lambda: results.append([c.png for c in brand_charts(brand, t)])) for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [alone, alone]


def test_a_timeline_with_one_busy_hour_still_draws() -> None:
    brand = replace(busy_brand(), timeline=tuple((f"{h:02d}", 5 if h == 3 else 0) for h in range(24)))
    [timeline, *_] = brand_charts(brand, DigestText("tr"))
    assert timeline.name == "timeline" and timeline.png.startswith(PNG_MAGIC)


def test_the_email_payload_refers_to_each_chart_by_content_id() -> None:
    digest = sample_digest("en")
    charts = digest_charts(digest)
    payload = email_payload(digest, charts)
    cids = re.findall(r'src="cid:([^"]+)"', payload["html"])
    assert sorted(cids) == sorted(payload["images"]) and len(cids) == len(charts) == 4
    assert "\n" not in payload["subject"] and payload["subject"].startswith("Weekly digest 16–22 November 2026")
    assert payload["text"] == plain_report(digest) and "Mentions: 1,234 (+12%)" in payload["text"]
    assert "Mentions: 0" in payload["text"].split(EMPTY_BRAND, 1)[1]


def test_the_outbox_rows_of_a_digest() -> None:
    digest = sample_digest()
    prefix = "digest:week:2026-W47"
    rows = digest_deliveries(digest, slack_channel="#care-managers", email_to=["a@kuzey.example"], key_prefix=prefix)
    by_key = {r.key: r for r in rows}
    message = by_key[f"{prefix}:slack:#care-managers:{BRAND}"]
    charts = by_key[f"{prefix}:slack:#care-managers:{BRAND}:charts"]
    assert message.kind == "digest" and message.channel == "slack" and message.target == "#care-managers"
    assert charts.kind == "change" and charts.parent_key == message.key and charts.payload["op"] == "upload"
    assert len(charts.payload["files"]) == 4
    assert f"{prefix}:slack:#care-managers:{EMPTY_BRAND}" in by_key  # its message, but no charts to upload
    assert f"{prefix}:slack:#care-managers:{EMPTY_BRAND}:charts" not in by_key
    [mail] = [r for r in rows if r.channel == "email"]
    assert mail.target == "a@kuzey.example" and mail.kind == "digest" and "a@kuzey.example" not in mail.key
    assert len(rows) == 4
    assert [r.channel for r in digest_deliveries(digest, slack_channel=None, email_to=["a@x"], key_prefix="p")] == [
        "email"
    ]
    assert all(r.channel == "slack" for r in digest_deliveries(digest, slack_channel="#m", email_to=(), key_prefix="p"))


def test_an_empty_digest_renders_everywhere() -> None:
    digest = replace(sample_digest("en"), brands=(sample_digest("en").brands[1],))
    charts = digest_charts(digest)
    assert charts == {}
    [payload] = slack_payloads(digest, charts)
    assert block_problems(payload["blocks"]) == [] and "charts" not in _slack_visible(payload).lower()
    html = render_html(digest, {})
    assert "<img" not in html and "No data" in html
    assert "Şikayetvar" not in html  # no such source: no rate shown
    assert "Net sentiment: —" in plain_report(digest)


def test_times_are_shown_in_the_digests_zone() -> None:
    t = DigestText("en", "Europe/Istanbul")
    assert t.moment(datetime(2026, 11, 23, 21, 30, tzinfo=ZONE)) == "23 November 2026 21:30"
    utc = DigestText("en", "UTC")
    assert utc.moment(datetime(2026, 11, 23, 1, 30, tzinfo=ZONE)) == "22 November 2026 22:30"
