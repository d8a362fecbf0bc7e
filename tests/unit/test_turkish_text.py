"""Turkish casefolding, ASCII folding and language detection."""

from __future__ import annotations

import pytest

from classifiers.language import detect_language
from classifiers.text import ascii_fold, fold, squeeze_repeats, turkish_casefold, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("İSTANBUL", "istanbul"),
        ("IŞIK", "ışık"),
        ("ILIK SÜT", "ılık süt"),
        ("Çiğdem ÖZGÜR", "çiğdem özgür"),
        ("i̇stanbul", "istanbul"),  # a stray combining dot left by a non-Turkish lowercasing
    ],
)
def test_turkish_casefold_knows_dotted_and_dotless_i(text: str, expected: str) -> None:
    assert turkish_casefold(text) == expected


def test_ascii_fold_maps_turkish_letters_to_what_people_type() -> None:
    assert ascii_fold("çğıöşü âîû") == "cgiosu aiu"
    assert ascii_fold("café") == "cafe"


def test_fold_makes_typed_without_turkish_letters_equal() -> None:
    assert fold("ŞİKAYET") == fold("sikayet") == fold("Şikâyet")
    assert fold("IŞIK") == "isik"
    assert fold("Turkcell’e") == "turkcell'e"


def test_squeeze_repeats_keeps_double_letters() -> None:
    assert squeeze_repeats("harikaaaa çoook") == "harika çok"
    assert squeeze_repeats("saat") == "saat"


def test_words_keeps_apostrophe_suffix_and_numbers() -> None:
    assert words(fold("Getir'den 3 kez aradım!")) == ["getir'den", "3", "kez", "aradim"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kargom hâlâ gelmedi, çok kızgınım", "tr"),
        ("faturam neden bu kadar yuksek geldi", "tr"),
        ("İYİ GÜNLER", "tr"),
        ("IŞIK", "tr"),
        ("My order never arrived and nobody answers", "en"),
        ("I am very happy with the service", "en"),
        ("", "other"),
        ("😡😡😡", "other"),
        ("@kuzeytelekom", "other"),
        ("12345 678", "other"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected
