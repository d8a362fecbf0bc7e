"""Identifiers compare in one canonical form, hash only with the secret, show masked, and names match Turkish-aware."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from classifiers.identity import (
    IdentityKey,
    canonical,
    canonical_phone,
    display,
    jaro_winkler,
    name_key,
    name_similarity,
    name_tokens,
    token_similarity,
)
from store.errors import ConfigError

SECRET = "kuzey-telekom-test-secret-0001"
VALID_TCKN = "10000000146"


@pytest.mark.parametrize(
    "written",
    [
        "0532 123 45 67",
        "05321234567",
        "5321234567",
        "+90 532 123 45 67",
        "+905321234567",
        "905321234567",
        "0090 532 123 45 67",
        "(0532) 123-45-67",
        "0 (532) 123 45 67",
        "+90 (0532) 123 45 67",
        "0532.123.45.67",
        " 0532 123 4567 ",
    ],
)
def test_every_spelling_of_one_mobile_is_the_same_ten_digits(written: str) -> None:
    assert canonical("phone", written) == "5321234567"
    assert canonical_phone(written) == "5321234567"


@pytest.mark.parametrize(
    "written",
    [
        "0850 222 0 333",  # a company's line
        "444 0 589",  # a call centre
        "0532 123 45 6",  # a digit short
        "0532 123 45 678",  # a digit too many
        "tel: 0532 123 45 67",  # a label is no part of the number
        "0532 123 45 67 / 0533 765 43 21",  # two numbers
        "٠٥٣٢١٢٣٤٥٦٧",  # Arabic-Indic digits: no Turkish record spells a number so
        "",
        "+",
    ],
)
def test_what_is_not_one_turkish_number_has_no_canonical_form(written: str) -> None:
    assert canonical("phone", written) is None


def test_landlines_keep_their_area_code() -> None:
    assert canonical("phone", "0212 345 67 89") == "2123456789"
    assert canonical("phone", "+90 (312) 555 12 34") == "3125551234"


@pytest.mark.parametrize(
    ("kind", "written", "expected"),
    [
        ("email", " Ayse.K@Gmail.COM ", "ayse.k@gmail.com"),
        ("email", "mailto:<mehmet@yildiz.com.tr>", "mehmet@yildiz.com.tr"),
        ("email", "İBRAHİM@HOTMAIL.COM", "ibrahim@hotmail.com"),  # capital dotted İ typed on a Turkish keyboard
        ("email", "ayse.k+kargo@gmail.com", "ayse.k+kargo@gmail.com"),
        ("handle:x", "@AyşeK", "ayşek"),
        ("handle:x", "@IBRAHIM_34", "ibrahim_34"),  # X compares handles in ASCII: I is i
        ("handle:sikayetvar", "IŞIK.Özlem", "ışık.özlem"),  # typed on a Turkish keyboard: I is ı
        ("handle:sikayetvar", "İlknurŞen", "ilknurşen"),
        ("handle:eksisozluk", "  kırmızı   balon ", "kırmızı balon"),  # Ekşi nicknames have spaces
        ("handle:X", "@MaviKargo", "mavikargo"),
        ("handle:reddit", "u/Tolga_Sen", "tolga_sen"),  # Reddit shows authors as u/name
        ("handle:mastodon", "@ayse@mastodon.social", "ayse@mastodon.social"),  # the server is part of the name
        ("order", "kt-4012 3456", "KT40123456"),
        ("order", "#KT–40123456", "KT40123456"),  # an en dash from a phone keyboard
        ("subscription", "1004 8291 3377", "100482913377"),
        ("policy", "pol-2024-000123", "POL2024000123"),
        ("tckn", VALID_TCKN, VALID_TCKN),
        ("tckn", "100 000 001 46", VALID_TCKN),
    ],
)
def test_canonical_forms(kind: str, written: str, expected: str) -> None:
    assert canonical(kind, written) == expected
    assert canonical(kind, expected) == expected  # idempotent: the store and the matcher may canonicalise twice


@pytest.mark.parametrize(
    ("kind", "written"),
    [
        ("email", "ayse@"),
        ("email", "ayse gmail.com"),
        ("email", "@gmail.com"),
        ("email", "ayse@localhost"),
        ("email", "ayse@@gmail.com"),
        ("handle:x", "@"),
        ("handle:x", "@@ayse"),
        ("handle:x", "ayse@gmail.com"),
        ("handle:x", "https://x.com/ayse"),
        ("handle:x", "a" * 65),
        ("order", "abc"),
        ("order", "KT"),
        ("order", "12"),
        ("order", "sipariş 40123456"),  # a label, not a number
        ("order", "KT-4012€"),
        ("tckn", "10000000147"),  # checksum fails
        ("tckn", "1000000014"),
        ("subscription", ""),
    ],
)
def test_invalid_values_have_no_canonical_form_and_no_hash(kind: str, written: str) -> None:
    assert canonical(kind, written) is None
    assert IdentityKey(SECRET).hash(kind, written) is None
    assert display(kind, written) == "***"


@pytest.mark.parametrize("kind", ["email", "phone", "handle:x", "order", "subscription", "policy", "tckn"])
@pytest.mark.parametrize(
    "odd", ["", "   ", "🌸🌸", "\x00\x1b[31m", "\u200b@\u200b", "5" * 50_000, "a" * 50_000 + "@b.com"]
)
def test_odd_values_never_raise(kind: str, odd: str) -> None:
    assert canonical(kind, odd) is None
    assert display(kind, odd) == "***"


def test_gmail_dots_are_kept_so_two_mailboxes_of_other_providers_never_merge() -> None:
    assert canonical("email", "ayse.kaya@gmail.com") != canonical("email", "aysekaya@gmail.com")
    assert canonical("email", "ayse.kaya@yandex.com") != canonical("email", "aysekaya@yandex.com")


@pytest.mark.parametrize("kind", ["fax", "name", "handle:", "handle:x y", "handle", "e-mail"])
def test_an_unknown_kind_is_a_configuration_error(kind: str) -> None:
    with pytest.raises(ConfigError, match="unknown identifier kind"):
        canonical(kind, "5321234567")


def test_hash_is_the_documented_hmac_of_kind_and_canonical_value() -> None:
    key = IdentityKey(SECRET)
    expected = hmac.new(SECRET.encode(), b"phone\x005321234567", hashlib.sha256).hexdigest()
    assert key.hash("phone", "+90 532 123 45 67") == expected


def test_same_key_gives_one_hash_for_every_spelling_and_another_key_another_hash() -> None:
    key, other = IdentityKey(SECRET), IdentityKey(SECRET + "-2")
    spellings = ["0532 123 45 67", "+905321234567", "(0532) 123-45-67", "5321234567"]
    assert len({key.hash("phone", s) for s in spellings}) == 1
    assert other.hash("phone", spellings[0]) != key.hash("phone", spellings[0])
    assert IdentityKey(SECRET.encode()).hash("phone", spellings[0]) == key.hash("phone", spellings[0])


def test_the_kind_is_part_of_the_hash() -> None:
    key = IdentityKey(SECRET)
    # The same digits as a phone and as a subscription number are different facts about different records.
    assert key.hash("phone", "5321234567") != key.hash("subscription", "5321234567")
    assert key.hash("handle:x", "ayse.k") != key.hash("handle:sikayetvar", "ayse.k")
    assert key.hash("handle:X", "@Ayse.K") == key.hash("handle:x", "ayse.k")


def test_the_secret_never_shows_in_repr_str_or_errors() -> None:
    key = IdentityKey(SECRET)
    for shown in (repr(key), str(key), f"{key!r}", key.fingerprint):
        assert SECRET not in shown and "kuzey" not in shown
    with pytest.raises(ConfigError) as short:
        IdentityKey("kisa-sifre")
    assert "kisa-sifre" not in str(short.value)


def test_fingerprint_tells_keys_apart_and_is_stable() -> None:
    assert IdentityKey(SECRET).fingerprint == IdentityKey(SECRET).fingerprint
    assert IdentityKey(SECRET).fingerprint != IdentityKey(SECRET + "x").fingerprint


def test_from_env_reads_the_named_variable_and_drops_surrounding_whitespace() -> None:
    key = IdentityKey.from_env(environ={"KULAK_IDENTITY_KEY": f"  {SECRET}\n"})
    assert key.hash("email", "a@b.com") == IdentityKey(SECRET).hash("email", "a@b.com")
    custom = IdentityKey.from_env("BRAND_KEY", environ={"BRAND_KEY": SECRET})
    assert custom.fingerprint == key.fingerprint


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [({}, "not set"), ({"KULAK_IDENTITY_KEY": "   "}, "not set"), ({"KULAK_IDENTITY_KEY": "gizli-anahtar"}, "shorter")],
)
def test_from_env_names_the_variable_and_never_the_value(environ: dict[str, str], wanted: str) -> None:
    with pytest.raises(ConfigError, match=wanted) as err:
        IdentityKey.from_env(environ=environ)
    assert err.value.key == "KULAK_IDENTITY_KEY"
    assert "KULAK_IDENTITY_KEY" in str(err.value)
    assert "gizli" not in str(err.value)


def test_from_env_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KULAK_IDENTITY_KEY", SECRET)
    assert IdentityKey.from_env().fingerprint == IdentityKey(SECRET).fingerprint
    monkeypatch.delenv("KULAK_IDENTITY_KEY")
    with pytest.raises(ConfigError):
        IdentityKey.from_env()


@pytest.mark.parametrize(
    ("kind", "written", "shown"),
    [
        ("email", "Ayse.Kaya@Gmail.com", "a***@g***.com"),
        ("email", "mehmet@yildiz.com.tr", "m***@y***.com.tr"),
        ("email", "zeynep@posta.kuzeytelekom.com", "z***@p***.com"),  # the employer's name stays hidden
        ("phone", "+90 532 123 45 67", "0532 *** ** 67"),
        ("phone", "0212 345 67 89", "0212 *** ** 89"),
        ("order", "4012345623", "40******23"),
        ("order", "KT-40123456", "KT******56"),
        ("order", "KT12345", "*****45"),
        ("order", "1234", "****"),
        ("handle:x", "AyşeK", "@AyşeK"),
        ("handle:sikayetvar", "@Ayşe.K", "@Ayşe.K"),
        ("tckn", VALID_TCKN, "*********46"),
    ],
)
def test_display_masks(kind: str, written: str, shown: str) -> None:
    assert display(kind, written) == shown


def test_display_hides_the_digits_that_identify_a_person() -> None:
    assert "123" not in display("phone", "0532 123 45 67")
    assert "kaya" not in display("email", "ayse.kaya@gmail.com")
    assert "000000" not in display("tckn", VALID_TCKN)


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("Sn. Dr. AYŞE  Nur Yılmaz", "ayse nur yilmaz"),
        ("Bayan Çiğdem ÖZTÜRK", "cigdem ozturk"),
        ("IŞIK DOĞAN", "isik dogan"),
        ("İLKNUR Güneş", "ilknur gunes"),
        ("Prof. Dr. Ömer Şahin", "omer sahin"),
        ("Mehmet Bey", "mehmet"),
        ("Ayşe Hanım", "ayse"),
        ("Ayşe Yılmaz'ın", "ayse yilmaz"),  # a suffix after the apostrophe is no part of the name
        ("Ayşe-Nur Kaya", "ayse nur kaya"),
        ("🌸 Zeynep Arslan 🌸 #KuzeyTelekom", "zeynep arslan kuzeytelekom"),
        ("ayse_yilmaz34", "ayse yilmaz"),
        ("", ""),
        ("12345", ""),
        ("Ayşe " + "x" * 40, "ayse"),  # no name has a 40-letter word
    ],
)
def test_name_key(written: str, key: str) -> None:
    assert name_key(written) == key
    assert name_tokens(written) == tuple(key.split())


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("MARTHA", "MARHTA", 0.961), ("DWAYNE", "DUANE", 0.84), ("DIXON", "DICKSONX", 0.813), ("ayse", "", 0.0)],
)
def test_jaro_winkler_textbook_values(a: str, b: str, expected: float) -> None:
    assert jaro_winkler(a, b) == pytest.approx(expected, abs=0.001)
    assert jaro_winkler(b, a) == pytest.approx(expected, abs=0.001)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ayşe Yılmaz", "AYSE YILMAZ"),
        ("Ayşe Yılmaz", "ayse yilmaz"),
        ("Ayşe Yılmaz", "Yılmaz Ayşe"),
        ("Hüseyin Öztürk", "Huseyin Ozturk"),
        ("Sn. İbrahim Işık", "ibrahim isik"),
    ],
)
def test_the_same_name_written_differently_is_identical(a: str, b: str) -> None:
    assert name_similarity(a, b) == 1.0


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ayşe Yılmaz", "Ayşe Yılmza"),  # two letters swapped
        ("Mehmet Kaya", "Mehmt Kaya"),  # a letter dropped
        ("Ayşe Yılmaz", "Ayşe Yılmax"),  # a neighbouring key
        ("Ayşe Nur Yılmaz", "Ayşe Yılmaz"),  # the middle name left out
        ("Ayşenur Yılmaz", "Ayşe Nur Yılmaz"),  # a compound first name written apart
        ("Fatma Zehra Çelik", "Zehra Çelik"),
    ],
)
def test_typos_and_missing_middle_names_stay_high(a: str, b: str) -> None:
    assert name_similarity(a, b) >= 0.88
    assert name_similarity(a, b) == name_similarity(b, a)


def test_another_surname_or_first_name_is_clearly_lower_than_a_typo() -> None:
    typo = name_similarity("Ayşe Yılmaz", "Ayşe Yılmza")
    other_surname = name_similarity("Ayşe Yılmaz", "Ayşe Yıldız")
    other_first = name_similarity("Ayşe Yılmaz", "Fatma Yılmaz")
    assert typo - other_surname > 0.15
    assert other_surname <= 0.8
    assert other_first <= 0.6
    assert name_similarity("Ahmet Yılmaz", "Mehmet Yılmaz") <= 0.7
    assert name_similarity("Musa Yazgan", "Mustafa Yazgan") <= 0.7  # alike at the start, but three letters longer
    assert name_similarity("Ayşenur Yılmaz", "Ayşe Yılmaz") <= 0.7  # Ayşenur is a name of its own
    assert name_similarity("Mehmet Demir", "Ali Çelik") <= 0.1


def test_a_first_name_or_an_initial_alone_is_weak() -> None:
    assert name_similarity("Ayşe Yılmaz", "Ayşe") <= 0.6
    assert name_similarity("Ayşe Yılmaz", "Ayşe Y.") <= 0.7
    assert name_similarity("Ayşe Yılmaz", "Ayşe Y.") > name_similarity("Ayşe Yılmaz", "Ayşe K.")


def test_extra_words_in_a_display_name_lower_but_do_not_erase_the_match() -> None:
    plain = name_similarity("Ayşe Yılmaz", "Ayşe Yılmaz")
    decorated = name_similarity("Ayşe Yılmaz", "Ayşe Yılmaz | Kuzey Telekom mağduru")
    assert 0.6 < decorated < plain


@pytest.mark.parametrize(
    "odd", ["", "🌸🌸🌸", "\x00\x07\u200b", "Dr.", "Ayşe " * 10_000, "x" * 50_000, "٠١٢", "Ayşe\nYılmaz\t"]
)
def test_odd_names_never_raise(odd: str) -> None:
    score = name_similarity(odd, "Ayşe Yılmaz")
    assert 0.0 <= score <= 1.0
    assert name_similarity(odd, odd) in (0.0, 1.0)


def test_token_similarity_matches_name_similarity_on_stored_keys() -> None:
    stored = tuple(name_key("Ayşe Nur Yılmaz").split())
    assert token_similarity(stored, name_tokens("Ayse Yilmaz")) == name_similarity("Ayşe Nur Yılmaz", "Ayse Yilmaz")
