"""Language per mention: Turkish (with or without its letters), English, or other (other languages, no words)."""

from __future__ import annotations

import pytest

from classifiers.language import LANGUAGES, detect_language

TURKISH = [
    "Kargom hâlâ gelmedi, çok kızgınım",
    "faturam neden bu kadar yuksek geldi",
    "İYİ GÜNLER",
    "IŞIK",
    "cok kotu cekmiyor internet",
    "kargom gelmedi",
    "Kargom gelmedi, why?",
    "Paketim bitti, thanks Kuzey Telekom",
    "Deniz GSM super ya, tesekkurler",
    "teSekkUrler Cok guzel konuSmasInIn icin",
    "@kuzeytelekom internetim yine gitti https://t.co/abc123",
    "Mavi Kargo rezalet",
    "siparisim nerde",
    "Turkcell in yeni kampanyasi guzelmis",
    "turkcell le konusmak imkansiz",
    "Garanti'den kredi kartı başvurusu yaptım, ne zaman sonuçlanır?",
    "abi bu ne ya 😡😡",
    "Getir kuryesi çok nazikti, sağolun",
    "Türk Telekom'a 3 gündür ulaşamıyorum #rezalet",
    "wifi cekmiyor modem sürekli kopuyor",
    "BiP'ten mesaj gitmiyor",
    "Şok marketteki kasiyer ilgisizdi",
    "hat taşıma işlemi yarım kaldı",
    "ok",
]
ENGLISH = [
    "My order never arrived and nobody answers",
    "I am very happy with the service",
    "Thanks for the quick reply!",
    "why is my bill so high this month?",
    "The courier left my parcel in the rain",
    "worst customer support ever",
    "Can you please check my account @kuzeytelekom",
    "I love you Deniz GSM",
    "still waiting for my refund",
    "It's not working again",
    "the app keeps crashing when I open it",
    "Great service, thank you so much",
]
OTHER = [
    "",
    "   ",
    "😡😡😡",
    "@kuzeytelekom",
    "https://t.co/xyz @mavikargo #kargo",
    "12345 678",
    "Mein Paket ist noch nicht angekommen, das ist schlecht",
    "Je ne suis pas content de votre service",
    "¿Dónde está mi pedido? No funciona nada",
    "Il mio ordine non è ancora arrivato, grazie",
    "Mijn pakket is niet aangekomen, dat is slecht",
    "Meu pedido não chegou, muito obrigado",
    "Мой заказ не пришёл",
    "طلبي لم يصل بعد",
    "Η παραγγελία μου δεν έφτασε",
    "我的订单还没到",
    "注文がまだ届きません",
    "İnternet çox pis işləyir, mən nə edim?",
    "Ez ji Amedê me, spas ji bo alîkariya we",
    "Straße gesperrt, Grüße",
]


@pytest.mark.parametrize("text", TURKISH)
def test_turkish(text: str) -> None:
    assert detect_language(text) == "tr"


@pytest.mark.parametrize("text", ENGLISH)
def test_english(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize("text", OTHER)
def test_other(text: str) -> None:
    assert detect_language(text) == "other"


@pytest.mark.parametrize(
    "text",
    ["Kargom gelmedi" + " ok" * 5000, "\x00\x01\x02", "a" * 50_000, "🇹🇷" * 300, "\u200b\u200d\ufeff", "İ̇̇̇"],
)
def test_odd_input_gives_one_of_the_three_answers(text: str) -> None:
    assert detect_language(text) in LANGUAGES


def test_only_the_first_thousand_characters_are_read() -> None:
    assert detect_language("Kargom hâlâ gelmedi, çok kızgınım. " * 40 + "the and is are was " * 400) == "tr"


def test_a_turkish_word_in_a_mostly_foreign_script_does_not_make_it_turkish() -> None:
    assert detect_language("Мой заказ от Kuzey Telekom не пришёл") == "other"
    assert detect_language("Kuzey Telekom'dan siparişim gelmedi, спасибо") == "tr"
