"""Reading Trustpilot's embedded review JSON: what is kept, what is skipped, what is a parse failure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawlers.trustpilot import Review, clean, parse_review, parse_review_page
from loopback.trustpilot import page_markup, review_json
from store.errors import SourceParseError

WHEN = datetime(2026, 11, 20, 8, 15, tzinfo=UTC)


def next_data(reviews: object, total_pages: int | None = 4) -> dict[str, object]:
    filters = {"pagination": {"currentPage": 1, "totalPages": total_pages}} if total_pages else {}
    return {"props": {"pageProps": {"reviews": reviews, "filters": filters}}}


def test_a_page_gives_its_reviews_with_text_as_people_read_it() -> None:
    row = review_json(
        "6650aa01b2c3d4e5f6a7b8c9",
        "Fatura  iki kez &amp; yanlış\n\nkesildi. </script> İade yok.",
        WHEN,
        title="Şikâyetim var",
        rating=2,
        author="Çağrı Öztürk",
        reply="Değerli müşterimiz,\n  DM'den yazar mısınız?",
    )

    page = parse_review_page(page_markup("kuzeytelekom.com.tr", next_data([row])))

    assert page.total_pages == 4 and page.skipped == 0
    assert page.reviews == [
        Review(
            id="6650aa01b2c3d4e5f6a7b8c9",
            title="Şikâyetim var",
            text="Fatura iki kez & yanlış kesildi. </script> İade yok.",
            rating=2,
            language="tr",
            published="2026-11-20T08:15:00+00:00",
            author="Çağrı Öztürk",
            country="TR",
            reply="Değerli müşterimiz, DM'den yazar mısınız?",
        )
    ]


@pytest.mark.parametrize("missing", ["id", "text", "dates"])
def test_a_review_missing_a_required_field_is_skipped_and_counted(missing: str) -> None:
    broken = review_json("6650aa01b2c3d4e5f6a7b8c0", "Kargo gelmedi.", WHEN)
    del broken[missing]
    fine = review_json("6650aa01b2c3d4e5f6a7b8c1", "Hat taşıma işlemi çok uzun sürdü.", WHEN)

    page = parse_review_page(page_markup("x", next_data([broken, fine], total_pages=None)))

    assert [r.id for r in page.reviews] == ["6650aa01b2c3d4e5f6a7b8c1"]
    assert page.skipped == 1 and page.total_pages is None


def test_optional_fields_may_be_absent() -> None:
    row = {"id": 42, "text": "Memnunum.", "dates": {"publishedDate": "2026-11-20T08:15:00"}}
    review = parse_review(row)
    assert review is not None
    assert (review.id, review.title, review.rating, review.language, review.author, review.reply) == (
        "42",
        "",
        None,
        None,
        "",
        None,
    )
    assert review.published == "2026-11-20T08:15:00+00:00"  # a date without an offset is taken as UTC
    assert parse_review({"id": "1", "text": "x", "dates": {"publishedDate": "dün"}}) is None
    assert parse_review(["not", "a", "review"]) is None


@pytest.mark.parametrize(
    "markup",
    [
        "<html><body><h1>Bir şeyler ters gitti</h1></body></html>",
        '<script id="__NEXT_DATA__" type="application/json">{"props": {"pageProps": </script>',
        page_markup("x", {"props": {"pageProps": {"businessUnit": {}}}}),
        page_markup("x", next_data({"id": "1"})),
    ],
    ids=["no-script", "truncated-json", "no-reviews-key", "reviews-not-a-list"],
)
def test_a_page_without_the_review_json_is_a_parse_error(markup: str) -> None:
    with pytest.raises(SourceParseError):
        parse_review_page(markup)


def test_clean_leaves_non_text_empty() -> None:
    assert clean(None) == "" and clean(5) == ""
    assert clean("  Kuzey&nbsp;Telekom\t\r\n İyi  ") == "Kuzey Telekom İyi"  # &nbsp; too
