"""Brand matching: Turkish endings, handles and hashtags, ambiguous aliases and their evidence, vetoes, queries."""

from __future__ import annotations

import pytest

from classifiers.brands import BrandMatcher
from classifiers.text import fold
from store.errors import ConfigError
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


# --- Turkish endings, ambiguous brands and their evidence, queries ------------------------------------------------

SOK = Brand(name="Şok", aliases=("Şok",), handles=("@sokmarketler",), ambiguous=True, context=("market", "indirim"))
BIP = Brand(name="BiP", aliases=("BiP",), ambiguous=True, context=("mesajlaşma", "uygulama"))
GARANTI = Brand(name="Garanti", aliases=("Garanti",), ambiguous=True, context=("kredi kartı", "şube"))
MAVI = Brand(
    name="Mavi Kargo",
    aliases=("Mavi Kargo", "MaviKargo"),
    handles=("@mavikargo",),
    query='(paket* OR kurye OR teslimat OR gönderi) -"iş ilanı"',
)
DENIZ = Brand(name="Deniz GSM", aliases=("Deniz GSM",), exclude=("deniz gsm bayi",))


@pytest.fixture
def everyone() -> BrandMatcher:
    return BrandMatcher([TURKCELL, TURK_TELEKOM, GETIR, SOK, BIP, GARANTI, MAVI, DENIZ])


@pytest.mark.parametrize(
    ("text", "brand"),
    [
        ("Turkcell'den hâlâ dönüş yok", "Turkcell"),
        ("turkcellden hala donus yok", "Turkcell"),
        ("TURKCELL'İN müşteri hizmetleri berbat", "Turkcell"),
        ("Turkcell'li arkadaşlar da çekmiyor diyor", "Turkcell"),
        ("turkcellci olmaktan bıktım", "Turkcell"),  # closed derivations: -CI, -lI, -sIz, -lIk
        ("turkcellsiz bir hayat mümkün mü", "Turkcell"),
        ("turkcelldeki tarifem bitti", "Turkcell"),
        ("turkcellinkiler daha hızlı", "Turkcell"),
        ("Türk Telekom'a üç kez yazdım", "Türk Telekom"),
        ("turk telekomdan fatura gelmedi", "Türk Telekom"),
        ("TÜRK TELEKOM'UN modemi yine gitti", "Türk Telekom"),
        ("türktelekomdan ses yok", "Türk Telekom"),  # the words of an alias may run together
        ("türk telekomcular bile bilmiyor", "Türk Telekom"),
        ("I switched from Türk Telekom last year", "Türk Telekom"),
        ("deniz gsm'den bir mesaj geldi", "Deniz GSM"),  # no vowel to follow: any ending
        ("denizgsmden ses yok", "Deniz GSM"),
    ],
)
def test_aliases_with_turkish_endings_and_apostrophes(everyone: BrandMatcher, text: str, brand: str) -> None:
    assert everyone.match(text) == (brand,)


@pytest.mark.parametrize(
    "text",
    [
        "turkcellname diye bir şey yok",  # not an ending from the list
        "turkcellizasyon",
        "türk telekomik",
        "türk halkı telekom",
        "Türkçe telekom terimleri",
    ],
)
def test_look_alikes_do_not_match(everyone: BrandMatcher, text: str) -> None:
    assert everyone.match_scores(text) == {}


@pytest.mark.parametrize(
    "text",
    [
        "kurye siparişi getirdi",  # verbs stay verbs even next to a context word
        "siparişimi kapıya getirsene",
        "siparişi getirmek bu kadar zor mu",
        "lütfen siparişimi getiriniz",
        "kurye her gün geç getirir",
        "siparişi getirince haber verin",
        "markette şoke oldum",  # "Şok" takes back-vowel endings only: "şoka", never "şoke"
    ],
)
def test_verb_and_harmony_look_alikes_are_not_the_ambiguous_brand(everyone: BrandMatcher, text: str) -> None:
    assert everyone.match_scores(text) == {}


@pytest.mark.parametrize(
    ("text", "brand", "score"),
    [
        ("@getir siparişim nerede", "Getir", 1.0),  # the brand's handle
        ("#getir ile gelen su bozuk", "Getir", 1.0),
        ("getirden siparişim iki saattir gelmedi", "Getir", 0.9),  # a context word
        ("bugün şoka indirim gelmiş", "Şok", 0.9),
        ("Getir'den bir daha almam", "Getir", 0.8),  # an apostrophe marks a proper noun, even first in a sentence
        ("Akşam Şok'ta sıra vardı", "Şok", 0.8),
        ("BiP'ten yazıyorum, cevap verin", "BiP", 0.8),
        ("dün Getir ile 20 dakikada geldi", "Getir", 0.6),  # a capital where no sentence starts
        ("Artık BiP kullanıyorum, çok memnunum", "BiP", 0.6),
        ("Dün GETİR bile zamanında geldi", "Getir", 0.6),
        ("Dün Garanti şubesinde iki saat bekledim", "Garanti", 0.9),
    ],
)
def test_ambiguous_brand_counts_with_evidence(everyone: BrandMatcher, text: str, brand: str, score: float) -> None:
    assert everyone.match_scores(text) == {brand: score}
    assert everyone.match(text) == (brand,)


@pytest.mark.parametrize(
    ("text", "brand"),
    [
        ("su getir", "Getir"),
        ("bana bir çay getir", "Getir"),
        ("Su getir lütfen", "Getir"),
        ("Getir bakalım şu kitabı", "Getir"),  # a capital that only opens the sentence
        ("Tamam. Getir o zaman", "Getir"),
        ("SU GETİR BANA", "Getir"),  # all capitals say nothing about proper nouns
        ("Bana Bir Su Getir", "Getir"),  # neither does Title Case
        ("haberi duyunca şoka girdim", "Şok"),
        ("şokta kaldım resmen", "Şok"),
        ("garanti belgesi kayboldu", "Garanti"),
        ("Garanti süresi dolmuş", "Garanti"),
        ("telefondan bip sesi geliyor", "BiP"),
    ],
)
def test_ambiguous_brand_without_evidence_is_only_a_weak_candidate(
    everyone: BrandMatcher, text: str, brand: str
) -> None:
    assert everyone.match_scores(text) == {brand: 0.2}
    assert everyone.match(text) == ()


def test_folded_text_keeps_every_evidence_but_casing(everyone: BrandMatcher) -> None:
    assert everyone.match_folded(fold("dün Getir ile 20 dakikada geldi")) == ()
    assert everyone.match_folded(fold("Getir'den bir daha almam")) == ("Getir",)
    assert everyone.match_folded(fold("getirden siparişim gelmedi")) == ("Getir",)
    assert everyone.match_folded(fold("@GETIR neredesiniz")) == ("Getir",)


def test_a_precomputed_fold_gives_the_same_answer(everyone: BrandMatcher) -> None:
    text = "Dün Getir ile geldi, Türk Telekom'a da yazdım"
    assert everyone.match(text, folded=fold(text)) == everyone.match(text) == ("Türk Telekom", "Getir")
    assert list(everyone.match_scores(text)) == ["Türk Telekom", "Getir"]  # configured order


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mavi Kargo'dan paketim hâlâ gelmedi", ("Mavi Kargo",)),
        ("mavikargo kuryesi kapıya bile gelmedi", ("Mavi Kargo",)),
        ("@mavikargo teslimat ne zaman", ("Mavi Kargo",)),
        ("Mavi Kargo'ya iş ilanı için başvurdum, paket ayırma bölümü", ()),  # query says NOT "iş ilanı"
        ("Mavi Kargo'nun yeni reklamı çok güzel", ()),  # the alias alone does not satisfy the query
        ("paketim kargoda kayboldu", ()),  # the query alone does not name the brand: it narrows, never widens
    ],
)
def test_a_query_narrows_the_aliases(everyone: BrandMatcher, text: str, expected: tuple[str, ...]) -> None:
    assert everyone.match(text) == expected


def test_a_failed_query_or_an_exclude_phrase_vetoes(everyone: BrandMatcher) -> None:
    assert everyone.vetoed("Mavi Kargo'nun yeni reklamı", "Mavi Kargo")
    assert not everyone.vetoed("paketim nerede", "Mavi Kargo")
    assert everyone.vetoed("Deniz GSM bayisi kapalı", "Deniz GSM")
    assert everyone.match("Deniz GSM bayisi kapalı, @denizgsm") == ()


@pytest.mark.parametrize(
    ("query", "says"),
    [("kargo AND", "column 10"), ("(kargo", "never closed"), ('"paket', "quote is never closed")],
)
def test_a_bad_query_fails_construction_naming_the_brand(query: str, says: str) -> None:
    with pytest.raises(ConfigError) as error:
        BrandMatcher([TURKCELL, Brand(name="Mavi Kargo", query=query)])
    assert "brands[].query" in str(error.value)
    assert "'Mavi Kargo'" in str(error.value)
    assert says in str(error.value)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😡🤬😡", "\x00\x1b[31m\u200b", "Турксель ve تركسل", "Ⅻ ﬁ ß İ̇", "a" * 50_000, "su getir " * 6_000],
)
def test_odd_text_does_not_raise(everyone: BrandMatcher, text: str) -> None:
    assert everyone.match(text) == ()
    assert everyone.match_folded(fold(text)) == ()


def test_a_long_text_still_finds_a_late_mention(everyone: BrandMatcher) -> None:
    text = "Uzun bir şikayet. " * 3_000 + "Sonunda Turkcell'e geçtim."
    assert everyone.match(text) == ("Turkcell",)


# --- blinding: what the trained models read ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folded", "names", "expected"),
    [
        ("turkcell'den cok sikayetciyim", None, "X'den cok sikayetciyim"),
        ("turkcellden ve turk telekomdan biktim", None, "Xden ve Xdan biktim"),  # endings stay
        ("turktelekomcular bile bilmiyor", None, "Xcular bile bilmiyor"),
        ("getir kuryesi ve @getir", ("Getir",), "X kuryesi ve X"),  # handles too
        ("su getir bana", None, "su getir bana"),  # an ambiguous brand only when named (matched with evidence)
        ("getirdi", ("Getir",), "getirdi"),  # a verb form is never the brand
        ("getirdi ama turkcell yok", ("Turkcell",), "getirdi ama X yok"),
        ("turkcell ve turk telekom", ("Türk Telekom",), "turkcell ve X"),  # only the brands asked for
        ("turkcelli bir yer", ("Turkcell",), "Xi bir yer"),
        ("getira gitti", ("Getir",), "getira gitti"),  # "-a" breaks Getir's vowel harmony: not the brand
        ("hicbir marka yok", None, "hicbir marka yok"),
    ],
)
def test_blind_replaces_brand_names_and_keeps_endings(
    everyone: BrandMatcher, folded: str, names: tuple[str, ...] | None, expected: str
) -> None:
    assert everyone.blind(folded, names, "X") == expected


def test_blind_ignores_unknown_names(everyone: BrandMatcher) -> None:
    assert everyone.blind("turkcell", ("Nobody",), "X") == "turkcell"
