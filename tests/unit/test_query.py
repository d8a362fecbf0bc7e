"""Brand queries: operators and precedence, Turkish-aware terms, phrases, prefixes, handles and parse errors."""

from __future__ import annotations

import pytest

from classifiers.query import parse_query
from classifiers.text import fold
from store.errors import ConfigError


def matches(query: str, text: str) -> bool:
    return parse_query(query).matches(fold(text))


@pytest.mark.parametrize(
    ("query", "grouping"),
    [
        ("fatura OR iade kargo", "(fatura OR (iade AND kargo))"),
        ("fatura OR iade AND kargo", "(fatura OR (iade AND kargo))"),
        ("(fatura OR iade) kargo", "((fatura OR iade) AND kargo)"),
        ("NOT reklam kargo", "(NOT reklam AND kargo)"),
        ("NOT (reklam OR kampanya)", "NOT (reklam OR kampanya)"),
        ("kargo -reklam", "(kargo AND NOT reklam)"),
        ("NOT NOT kargo", "NOT NOT kargo"),
        ('"su getir" OR kurye', '("su getir" OR kurye)'),
        ("fatura ve iade", "(fatura AND ve AND iade)"),  # lowercase words are terms, not operators
        ("kargo and or veya", "(kargo AND and AND or AND veya)"),
    ],
)
def test_precedence_not_then_and_then_or(query: str, grouping: str) -> None:
    assert str(parse_query(query)) == grouping


def test_neighbouring_terms_mean_and() -> None:
    assert parse_query("fatura iade").root == parse_query("fatura AND iade").root
    assert parse_query("kargo -reklam").root == parse_query("kargo AND NOT reklam").root


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("fatura AND iade", "Faturamın iadesi ne zaman yapılacak?", True),
        ("fatura AND iade", "Faturam yine yanlış geldi", False),
        ("fatura OR iade", "İade talebim hâlâ bekliyor", True),
        ("fatura OR iade", "Kargom üç gündür dağıtımda", False),
        ("kargo NOT reklam", "Kargom nerede, kimse cevap vermiyor", True),
        ("kargo NOT reklam", "Kargo kampanyası reklamı gördünüz mü", False),
        ("kargo -reklam", "Kargo kampanyası reklamı gördünüz mü", False),
        ("NOT reklam", "", True),
        ("(fatura OR iade) şikayet", "İade için şikâyetnameyi doldurdum", False),  # "-name" is no noun ending
        ("(fatura OR iade) şikayet*", "İade için şikâyetnameyi doldurdum", True),
        ("(fatura OR iade) şikayet", "İade konusunda şikayetçiyim", True),  # derivation + personal ending
        ("(fatura OR iade) şikayet", "faturam için şikayet oluşturdum", True),
        ("fatura ve iade", "Fatura ve iade işlemleri uzun sürüyor", True),
        ("fatura ve iade", "Fatura, iade işlemleri uzun sürüyor", False),
        ("refund OR iade", "Still waiting for my refund from Mavi Kargo", True),
    ],
)
def test_operators(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ŞİKAYET ediyorum", True),  # capitals, dotted İ
        ("sikayet ediyorum", True),  # typed without Turkish letters
        ("Şikayetim var", True),
        ("Şikayet'imi yazdım", True),  # after an apostrophe any ending
        ("şikayetlerimizden biri", True),
        ("şikayetname", False),  # not a noun ending from the list
        ("şikayetvar sitesine yazdım", False),
        ("önşikayet", False),  # the term must start a word
    ],
)
def test_a_bare_term_matches_like_an_alias(text: str, expected: bool) -> None:
    assert matches("şikayet", text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kuzey Telekom'dan ses yok", True),
        ("kuzey   telekomdan ses yok", True),  # any run of spaces; the last word takes an ending
        ("KUZEY TELEKOM'UN faturası", True),
        ("telekom kuzey", False),  # words in order
        ("kuzey bölgesindeki telekom kulesi", False),  # and next to each other
        ("kuzeyli telekomcular", False),  # an ending on the first word breaks the phrase
    ],
)
def test_a_quoted_phrase_matches_its_words_in_order(text: str, expected: bool) -> None:
    assert matches('"kuzey telekom"', text) is expected
    assert matches("“kuzey telekom”", text) is expected  # typographic quotes as typed on a phone


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("fatur*", "Faturalandırma hatası", True),
        ("fatur*", "faturasız kaldım", True),
        ("fatur*", "manifatura", False),
        ('"iade talep*"', "iade talebi değil, iade talepleri", True),
        ("@mavikargo", "@MaviKargo paketim nerede", True),
        ("@mavikargo", "@mavikargodestek paketim nerede", False),
        ("@mavikargo", "mavikargo paketim nerede", False),
        ("#denizgsm", "Yine çekmiyor #DenizGSM", True),
        ("#denizgsm", "Yine çekmiyor #DenizGSMfiber", False),
    ],
)
def test_prefixes_handles_and_hashtags(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


@pytest.mark.parametrize(
    ("query", "column", "says"),
    [
        ("", 1, "empty"),
        ("   ", 1, "empty"),
        ("fatura AND", 11, "after 'AND', found the end"),
        ("AND fatura", 1, "found 'AND'"),
        ("fatura OR OR iade", 11, "after 'OR', found 'OR'"),
        ("kargo NOT", 10, "after 'NOT', found the end"),
        ("(fatura OR iade", 1, "'(' is never closed"),
        ("kargo (fatura OR (iade)", 7, "'(' is never closed"),
        ("fatura OR iade)", 15, "')' has no matching '('"),
        ("()", 2, "found ')'"),
        ('kargo "su getir', 7, "quote is never closed"),
        ("kargo - iade", 7, "no letters or digits"),
        ('kargo ""', 7, "no letters or digits"),
        ("fatura OR *", 11, "no letters or digits"),
    ],
)
def test_errors_name_the_column_and_what_was_expected(query: str, column: int, says: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_query(query)
    assert f"at column {column}:" in str(error.value)
    assert says in str(error.value)


def test_absurd_nesting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="nested too deeply"):
        parse_query("(" * 2000 + "kargo" + ")" * 2000)


@pytest.mark.parametrize("text", ["", "😡😡😡", "\x00\x07\u200b", "Кузей Телеком ارسال", "kargo " * 10_000])
def test_odd_text_does_not_raise(text: str) -> None:
    query = parse_query('(kargo OR "su getir" OR fatur* OR @mavikargo) -reklam')
    assert query.matches(fold(text)) is ("kargo" in text)
