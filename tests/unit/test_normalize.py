"""The model form of a text: Turkish casing and folding, tokens for links, handles and numbers, and the way back."""

from __future__ import annotations

import random

import pytest

from classifiers.normalize import KINDS, normalize
from classifiers.text import ascii_fold, fold_letters, turkish_casefold

FAMILY = "👨\u200d👩\u200d👧"  # man, woman, girl joined by zero-width joiners
THUMB = "👍🏽"  # thumbs up with a skin tone
FLAG = "🇹🇷"
KEYCAP = "1\ufe0f\u20e3"
FIREFIGHTER = "🧑🏿\u200d🚒"


@pytest.mark.parametrize(
    ("text", "norm"),
    [
        ("TÜRKCELL'İN faturası", " turkcell'in faturasi "),
        ("IŞIK yok", " isik yok "),
        ("İYİ GÜNLER", " iyi gunler "),
        ("i̇stanbul", " istanbul "),  # a stray combining dot from a non-Turkish lowercasing
        ("Kargo BERBAAAT, çoook kötü", " kargo berbat, cok kotu "),
        ("saat", " saat "),  # a double letter is a letter, not shouting
        ("@KuzeyTelekom bakar mısınız?", " @user bakar misiniz? "),
        ("ayse@ornek.com yazdım", " ayse@ornek.com yazdim "),  # an e-mail is no handle
        ("bakın https://t.co/AbC123 ve www.ornek.com.tr/x", " bakin httpurl ve httpurl "),
        ("(https://ornek.com/a).", " (httpurl). "),
        ("linke tıklayınhttps://t.co/x", " linke tiklayin httpurl "),
        ("#KargoGelmedi #5G", " #kargogelmedi #0g "),
        ("1.250,00 TL ödedim, sipariş 123456", " 0.0,0 tl odedim, siparis 0 "),
        ("çok kötü 😡😡", " cok kotu 😡😡 "),
        (f"{THUMB} {FAMILY} {FLAG} {KEYCAP} {FIREFIGHTER}", f" {THUMB} {FAMILY} {FLAG} {KEYCAP} {FIREFIGHTER} "),
        ("seni seviyorum <3 :) :( :/ :'(", " seni seviyorum <3 :) :( :/ :'( "),
        ("  çok \n\t  güzel  ", " cok guzel "),
        ("a\x00b\u200bc\ufeffd", " a b c d "),
        ("ﬁyat 𝐓𝐮𝐫𝐤𝐜𝐞𝐥𝐥", " fiyat turkcell "),
        ("", " "),
        (" \n ", " "),
    ],
)
def test_norm(text: str, norm: str) -> None:
    assert normalize(text).norm == norm


@pytest.mark.parametrize(
    "spellings",
    [
        ("teşekkürler", "tesekkurler", "teSekkUrler", "TEŞEKKÜRLER"),
        ("çok", "cok", "Cok", "ÇOK"),
        ("konuşmasının", "konusmasinin", "konuSmasInIn"),
        ("şikayet", "sikayet", "Şikâyet", "ŞİKAYET"),
        ("Turkcell'den", "turkcell'den", "TURKCELL’DEN"),
    ],
)
def test_ways_of_typing_one_word_meet(spellings: tuple[str, ...]) -> None:
    assert len({normalize(s).norm for s in spellings}) == 1


def test_fold_letters_is_the_slow_chain_made_fast() -> None:
    alphabet = "aIıİiçÇğĞöÖşŞüÜâÂîû’`´ßéÉñ\u0307\u0301 xX7😡ﬁΣς"
    rng = random.Random(4)
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert fold_letters(text) == ascii_fold(turkish_casefold(text)), repr(text)


def highlight(text: str, needle: str) -> str:
    n = normalize(text)
    start = n.norm.index(needle)
    a, b = n.to_original(start, start + len(needle))
    return text[a:b]


@pytest.mark.parametrize(
    ("text", "needle", "shown"),
    [
        ("Kargo BERBAAAT geldi", "berbat", "BERBAAAT"),
        ("TÜRKCELL'İN hattı", "turkcell", "TÜRKCELL"),
        ("TÜRKCELL'İN hattı", "'in", "'İN"),
        ("IŞIK GİTTİ", "isik gitti", "IŞIK GİTTİ"),
        ("i̇stanbul'dayım", "istanbul", "i̇stanbul"),
        ("bak @KuzeyTelekom!", "@user", "@KuzeyTelekom"),
        ("bak https://t.co/AbC123 şimdi", "httpurl", "https://t.co/AbC123"),
        ("kod 123456 geldi", " 0 ", " 123456 "),
        (f"teşekkürler {FAMILY}{THUMB}!", FAMILY, FAMILY),
        (f"teşekkürler {FAMILY}{THUMB}!", THUMB, THUMB),
        (f"harika {FLAG} {KEYCAP}", KEYCAP, KEYCAP),
        ("ﬁyat çok yüksek", "fiyat", "ﬁyat"),
        ("#KargoGelmedi yine", "#kargogelmedi", "#KargoGelmedi"),
        ("Siparişim\n\n   hâlâ    gelmedi", "siparisim hala", "Siparişim\n\n   hâlâ"),
    ],
)
def test_what_a_rule_finds_in_norm_can_be_shown_in_the_original(text: str, needle: str, shown: str) -> None:
    assert highlight(text, needle) == shown


def test_spans_name_every_piece_with_both_offsets() -> None:
    text = f"@Mavi_Kargo paketim BERBAAAT geldi 😡{THUMB} #iade https://t.co/x 3 gündür :("
    n = normalize(text)
    pieces = [(s.kind, text[s.start : s.end], n.norm[s.norm_start : s.norm_end]) for s in n.spans]
    assert pieces == [
        ("handle", "@Mavi_Kargo", "@user"),
        ("word", "paketim", "paketim"),
        ("word", "BERBAAAT", "berbat"),
        ("word", "geldi", "geldi"),
        ("emoji", "😡", "😡"),
        ("emoji", THUMB, THUMB),
        ("hashtag", "#iade", "#iade"),
        ("url", "https://t.co/x", "httpurl"),
        ("number", "3", "0"),
        ("word", "gündür", "gundur"),
        ("emoji", ":(", ":("),
    ]
    assert {s.kind for s in n.spans} == set(KINDS)


ALPHABET = [
    *"aeiIıİçÇğĞöÖşŞüÜâ'’ 0123456789.,!?#@:/<()\n\t",
    "i\u0307",
    "\u200b",
    "\x00",
    "ﬁ",
    "ß",
    "😡",
    THUMB,
    FAMILY,
    FLAG,
    KEYCAP,
    "https://t.co/Ab1 ",
    "@KuzeyTel ",
    "#Kargo ",
    "aaaa",
    "<3",
    ":D",
    "Привет",
    "مرحبا",
]


def random_texts(alphabet: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25))) for _ in range(600)]


def test_every_piece_maps_back_to_itself_on_random_texts() -> None:
    for text in random_texts(ALPHABET, 7):
        n = normalize(text)
        assert n.norm.startswith(" ") and n.norm.endswith(" ") and "  " not in n.norm, repr(text)
        for span in n.spans:
            if span.norm_end > span.norm_start:
                assert n.to_original(span.norm_start, span.norm_end) == (span.start, span.end), (repr(text), span)


def test_stray_accents_and_modifiers_still_map_inside_the_text() -> None:
    for text in random_texts([*ALPHABET, "\u0307", "\u0301", "\u20e3", "\ufe0f"], 8):
        n = normalize(text)
        for span in n.spans:
            a, b = n.to_original(span.norm_start, span.norm_end)
            inside = 0 <= a <= span.start <= span.end <= b <= len(text)
            assert inside or span.norm_start == span.norm_end, (repr(text), span)
        for start in range(len(n.norm)):
            a, b = n.to_original(start, start + 1)
            assert 0 <= a <= b <= len(text), repr(text)


@pytest.mark.parametrize(
    "text",
    ["", "😡" * 5000, "Kargo " * 9000, "\x00\x01\x1f\x7f", "\ud800x", "İ̇̇̇", "ﷺ ﷻ", "a" * 50_000, "Привет 世界 🇹🇷"],
)
def test_odd_input_never_raises_and_maps_everywhere(text: str) -> None:
    n = normalize(text)
    assert n.norm.startswith(" ")
    assert n.to_original(0, len(n.norm)) == (0, len(text)) or not text.strip()
    assert n.to_original(-5, 10**9)[1] <= len(text)
    assert n.to_original(len(n.norm), len(n.norm)) == (len(text), len(text))
    assert all(s.kind in KINDS for s in n.spans)
