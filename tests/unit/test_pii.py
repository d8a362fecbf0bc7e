"""Validated Turkish identifiers are found and masked; look-alike numbers are left alone."""

from __future__ import annotations

import itertools
import re

import pytest

from classifiers.pii import MASKS, find_pii, iban_valid, luhn_valid, mask, mask_pii, tckn_valid
from store.model import PiiSpan

VALID_TCKN = "10000000146"
VALID_TCKN_2 = "12345678950"
VALID_IBAN = "TR330006100519786457841326"
VALID_CARD = "4111111111111111"


def found(text: str) -> list[tuple[str, str]]:
    return [(s.type, text[s.start : s.end]) for s in find_pii(text)]


def test_tckn_checksums() -> None:
    assert tckn_valid(VALID_TCKN)
    assert tckn_valid(VALID_TCKN_2)
    assert not tckn_valid("12345678951")  # last digit off by one
    assert not tckn_valid("12345678960")  # tenth digit off by one
    assert not tckn_valid("02345678950")  # first digit 0
    assert not tckn_valid("1234567895")  # ten digits


def test_valid_tckn_is_found_and_an_off_by_one_is_not() -> None:
    assert found(f"TC kimlik no {VALID_TCKN_2}, eşiminki 12345678951") == [("tckn", VALID_TCKN_2)]
    assert found(f"TC:{VALID_TCKN}.") == [("tckn", VALID_TCKN)]


def test_eleven_digits_failing_the_checksum_are_not_a_tckn() -> None:
    assert all(kind != "tckn" for kind, _ in found("sipariş no 53212345678"))
    assert found("beni 05321234567 numarasından arayın") == [("phone", "05321234567")]


def test_iban_mod97() -> None:
    assert iban_valid(VALID_IBAN)
    assert iban_valid("TR33 0006 1005 1978 6457 8413 26")
    assert not iban_valid("TR340006100519786457841326")  # wrong check digits
    assert not iban_valid("TR33000610051978645784132")  # 25 characters


def test_iban_grouped_or_compact_is_found_and_a_wrong_check_digit_is_not() -> None:
    grouped = "TR33 0006 1005 1978 6457 8413 26"
    assert found(f"IBAN: {grouped} adına") == [("iban", grouped)]
    assert found(f"iban {VALID_IBAN.lower()}") == [("iban", VALID_IBAN.lower())]
    assert found("IBAN: TR34 0006 1005 1978 6457 8413 26") == []


def test_luhn() -> None:
    assert luhn_valid(VALID_CARD)
    assert luhn_valid("5555 5555 5555 4444")
    assert luhn_valid("3782-822463-10005")  # 15-digit American Express
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("411111111111")  # 12 digits is too short even if the sum works


@pytest.mark.parametrize("written", ["4111 1111 1111 1111", "4111-1111-1111-1111", VALID_CARD, "3782 822463 10005"])
def test_card_numbers_in_their_usual_shapes(written: str) -> None:
    assert found(f"kart numaram {written} idi") == [("card", written)]


def test_card_followed_by_expiry_is_still_found() -> None:
    assert found("kart 4111 1111 1111 1111 12/27") == [("card", "4111 1111 1111 1111")]


def test_order_numbers_are_not_cards() -> None:
    assert found("sipariş numaram 1234567890123 ve 4111111111111112") == []


@pytest.mark.parametrize(
    "phone",
    [
        "0532 123 45 67",
        "05321234567",
        "+90 532 123 4567",
        "+905321234567",
        "5321234567",
        "0(532) 123 45 67",
        "(0532) 123 45 67",
        "0532-123-45-67",
        "0212 345 67 89",
        "+90 (312) 345 6789",
    ],
)
def test_turkish_phone_numbers(phone: str) -> None:
    spans = found(f"ulaşmak için {phone} arayın")
    assert [kind for kind, _ in spans] == ["phone"]
    assert re.sub(r"\D", "", spans[0][1]).endswith(re.sub(r"\D", "", phone)[-7:])


def test_short_numbers_and_amounts_are_not_phones() -> None:
    assert found("1.530.000.000 TL zarar, 2024 yılında 3 kez, 444 0 532") == []


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("kartımın son dört hanesi 8233 olan", "8233"),
        ("son 4 hanesi: 8233", "8233"),
        ("son dört rakamı ise 8233", "8233"),
        ("8233 ile biten kartımdan", "8233"),
        ("card ending last four digits 8233", "8233"),
    ],
)
def test_last_four_digits_of_a_card(text: str, digits: str) -> None:
    assert found(text) == [("card_last4", digits)]


def test_starred_card_is_masked_whole() -> None:
    assert found("kart **** **** **** 8233 ile") == [("card_last4", "**** **** **** 8233")]


def test_email() -> None:
    assert found("bana ayse.yilmaz+destek@ornek.com.tr adresinden yazın") == [
        ("email", "ayse.yilmaz+destek@ornek.com.tr")
    ]
    assert found("@kuzeytelekom bakar mısınız") == []


def test_digits_in_links_are_not_identifiers() -> None:
    assert found(f"bakınız https://ornek.com/durum/{VALID_CARD}") == []


def test_spans_are_sorted_and_do_not_overlap() -> None:
    text = f"{VALID_TCKN} / 0532 123 45 67 / TR33 0006 1005 1978 6457 8413 26 / {VALID_CARD} / a@b.co"
    spans = find_pii(text)
    assert [s.type for s in spans] == ["tckn", "phone", "iban", "card", "email"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_masking_keeps_the_sentence_and_drops_every_digit_of_the_identifiers() -> None:
    text = (
        f"Adım Ayşe, TC {VALID_TCKN_2}, tel 0532 123 45 67, IBAN TR33 0006 1005 1978 6457 8413 26, "
        f"kart 4111-1111-1111-1111 (son dört hanesi 1111), e-posta ayse@ornek.com. 3 kez aradım."
    )
    masked = mask(text, find_pii(text))
    assert masked == (
        "Adım Ayşe, TC [TCKN], tel [TELEFON], IBAN [IBAN], kart [KART] (son dört hanesi [KART]), "
        "e-posta [E-POSTA]. 3 kez aradım."
    )
    assert re.findall(r"\d+", masked) == ["3"]
    assert mask_pii(text) == masked


def test_mask_tolerates_overlapping_spans_and_unknown_types() -> None:
    assert mask("abcdef", [PiiSpan("phone", 0, 4), PiiSpan("email", 2, 6)]) == "[TELEFON][E-POSTA]"
    assert mask("abc 123", [PiiSpan("passport", 4, 7)]) == "abc [GİZLİ]"
    assert set(MASKS) == {"tckn", "iban", "card", "card_last4", "phone", "email"}


def test_nothing_to_find() -> None:
    assert find_pii("") == ()
    assert find_pii("😡😡") == ()
    assert mask("", ()) == ""


VALID_TCKN_3 = "24680135784"
TROY_CARD = "9792 0000 0000 0003"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"TC kimlik numaram {VALID_TCKN_3}, yardım edin", [("tckn", VALID_TCKN_3)]),
        (f"TC{VALID_TCKN_3} ile başvurdum", [("tckn", VALID_TCKN_3)]),
        (f"sipariş no 123, TC {VALID_TCKN_3}", [("tckn", VALID_TCKN_3)]),  # the label is for the other number
        ("IBAN: DE89 3704 0044 0532 0130 00 hesabına", [("iban", "DE89 3704 0044 0532 0130 00")]),
        ("GB82WEST12345698765432 numaralı hesaba", [("iban", "GB82WEST12345698765432")]),
        ("NL91 ABNA 0417 1643 00 hesabı", [("iban", "NL91 ABNA 0417 1643 00")]),
        ("IBAN'ım TR12 0006 4000 **** **** 1234, iade yapın", [("iban", "TR12 0006 4000 **** **** 1234")]),
        (f"Troy kartım {TROY_CARD} bloke oldu", [("card", TROY_CARD)]),
        ("kart no 6011-1111-1111-1117", [("card", "6011-1111-1111-1117")]),
        ("Amex 378282246310005 ile ödedim", [("card", "378282246310005")]),
        ("+44 7700 900123 numaramdan yazıyorum", [("phone", "+44 7700 900123")]),
        ("(0216) 345 67 89 ev telefonum", [("phone", "(0216) 345 67 89")]),
        ("0090 532 123 45 67 arayın", [("phone", "0090 532 123 45 67")]),
        ("kargocu 0532 123 45 67 numarasından aradı", [("phone", "0532 123 45 67")]),
        ("kartımın sonu 8233, aidat iade edilsin", [("card_last4", "8233")]),
        ("sonu 8233 olan kartımdan", [("card_last4", "8233")]),
        ("kartım 8233 ile bitmektedir", [("card_last4", "8233")]),
        ("MEHMET.OZ@ORNEK.COM.TR adresine yazın", [("email", "MEHMET.OZ@ORNEK.COM.TR")]),
    ],
)
def test_valid_identifiers_are_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "sipariş no 123456789012",
        "sipariş no: 4111111111111111",  # passes Luhn, but it is labelled an order number
        f"SİPARİŞ NUMARAM {VALID_TCKN}",  # passes the TCKN checks, but it is an order number
        "takip numarası 5321234567",
        "kargo takip no 378282246310005",
        "order #5555555555554444",
        "IMEI 356938035643809",  # IMEIs use Luhn too
        "ref 5555555555554444",
        "1.250,00 TL ödedim",
        "34.000 TL çekildi, 1.530.000 TL değil",
        "12.03.2024 tarihinde",
        "2024-03-12 14:30 itibarıyla",
        "saat 09:45'te aradım, 05.03.2024",
        "1234567812345670",  # passes Luhn, but no card starts with 1
        "4111111111111112",  # Luhn off by one
        "24680135785",  # TCKN off by one
        "TR34 0006 1005 1978 6457 8413 26",  # IBAN check digits wrong
        "DE89 3704 0044 0532 0130 01",
        "0850 222 05 32 çağrı merkezi",  # call-centre numbers belong to companies
        "444 0 532 arayın",
        "0800 211 00 00 ücretsiz hat",
        "yıl sonu 2025 kampanyası",
        "+5 puan kazandım, +3 GB hediye",
        "TR34 plakalı araç 1000 km yaptı",
        "Mavi Kargo gönderi kodu 1234567890123 ve @kuzeytelekom",
    ],
)
def test_look_alikes_stay(text: str) -> None:
    assert find_pii(text) == ()
    assert mask_pii(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"TC {VALID_TCKN_3} idi", "TC [TCKN] idi"),
        ("iban DE89370400440532013000.", "iban [IBAN]."),
        (f"Troy {TROY_CARD} kartım", "Troy [KART] kartım"),
        ("tel +44 7700 900123, e-posta a.b@ornek.de", "tel [TELEFON], e-posta [E-POSTA]"),
        ("ev (0216) 345 67 89", "ev [TELEFON]"),
        ("kartımın sonu 8233 olup", "kartımın sonu [KART] olup"),
    ],
)
def test_masked_text_reads_well_and_keeps_no_digit_of_the_identifier(text: str, masked: str) -> None:
    assert mask_pii(text) == masked
    assert not re.search(r"\d", masked)


def test_pii_search_survives_odd_input() -> None:
    for text in ["\x00" * 10, "1" * 50_000, "@" * 1000, "+" + "9" * 40, "TR" + "0" * 500, "sonu " * 5000]:
        assert all(0 <= s.start < s.end <= len(text) for s in find_pii(text))
