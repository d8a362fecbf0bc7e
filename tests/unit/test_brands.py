"""Brand matching: aliases with Turkish suffixes, handles and hashtags, ambiguous aliases and vetoes."""

from __future__ import annotations

import pytest

from classifiers.brands import BrandMatcher
from store.model import Brand

GETIR = Brand(
    name="Getir",
    aliases=("getir",),
    handles=("@getir",),
    hashtags=("#getir",),
    ambiguous=True,
    context=("sipariş", "kurye", "market", "teslimat"),
    exclude=("getir götür",),
)
TURKCELL = Brand(name="Turkcell", aliases=("Turkcell", "Tcell"), handles=("@Turkcell",))
KUZEY = Brand(name="Kuzey Telekom", aliases=("Kuzey Telekom", "KuzeyTel"), hashtags=("KuzeyTelekom",))
TURK_TELEKOM = Brand(name="Türk Telekom")  # no aliases: the name is the alias


@pytest.fixture
def matcher() -> BrandMatcher:
    return BrandMatcher([GETIR, TURKCELL, KUZEY, TURK_TELEKOM])


@pytest.mark.parametrize(
    "text",
    [
        "Turkcell'e çok kızgınım",
        "Turkcell’e kızgınım",  # typographic apostrophe
        "turkcellde hat sorunu var",
        "TURKCELL'DEN mesaj geldi",
        "turkcellin faturası",
        "turkcellim çekmiyor",
        "tcell neden böyle",
        "@turkcell bakar mısınız",
        "@TURKCELL",
    ],
)
def test_alias_with_suffixes_case_and_handle(matcher: BrandMatcher, text: str) -> None:
    assert matcher.match(text) == ("Turkcell",)


@pytest.mark.parametrize("text", ["turkcellhizmet hesabı", "superturkcell", "@turkcellhizmet", "turkcellxyz"])
def test_alias_inside_another_word_does_not_match(matcher: BrandMatcher, text: str) -> None:
    assert matcher.match(text) == ()


def test_multi_word_alias_with_suffix_and_spacing(matcher: BrandMatcher) -> None:
    assert matcher.match("Kuzey Telekom'un faturası yine yanlış") == ("Kuzey Telekom",)
    assert matcher.match("KUZEY   TELEKOMDAN ses yok") == ("Kuzey Telekom",)
    assert matcher.match("kuzeytel destek") == ("Kuzey Telekom",)
    assert matcher.match("#kuzeytelekom rezalet") == ("Kuzey Telekom",)
    assert matcher.match("kuzey rüzgârı ve telekom") == ()


def test_diacritic_insensitive(matcher: BrandMatcher) -> None:
    assert matcher.match("turk telekomdan memnunum") == ("Türk Telekom",)
    assert matcher.match("TÜRK TELEKOM'a geçtim") == ("Türk Telekom",)


def test_ambiguous_alias_needs_a_context_word(matcher: BrandMatcher) -> None:
    assert matcher.match("şu kitabı bana getir") == ()
    assert matcher.match("Getir'den market alışverişi yaptım") == ("Getir",)
    assert matcher.match("getirden siparişim iki saattir gelmedi") == ("Getir",)


def test_verb_forms_are_not_the_brand_even_with_context(matcher: BrandMatcher) -> None:
    assert matcher.match("kurye paketi getirdi") == ()


def test_handle_or_hashtag_is_enough_for_an_ambiguous_brand(matcher: BrandMatcher) -> None:
    assert matcher.match("@getir neredesiniz") == ("Getir",)
    assert matcher.match("#GETIR") == ("Getir",)
    assert matcher.match("getir bir bak @getir") == ("Getir",)
    assert matcher.match("#getirbuyuk") == ()


def test_exclude_phrase_vetoes_the_brand(matcher: BrandMatcher) -> None:
    assert matcher.match("getir götür işleri, siparişler, @getir") == ()
    assert matcher.vetoed("Getir Götür", "Getir")
    assert not matcher.vetoed("getir'den sipariş", "Getir")
    assert not matcher.vetoed("getir götür", "Unknown")


def test_several_brands_in_the_given_order(matcher: BrandMatcher) -> None:
    text = "Türk Telekom'dan Turkcell'e geçtim, Getir siparişimi de getirmedi"
    assert matcher.match(text) == ("Getir", "Turkcell", "Türk Telekom")
    assert matcher.names == ("Getir", "Turkcell", "Kuzey Telekom", "Türk Telekom")


def test_nothing_to_match(matcher: BrandMatcher) -> None:
    assert matcher.match("") == ()
    assert matcher.match("😡") == ()
    assert BrandMatcher([]).match("Turkcell") == ()
