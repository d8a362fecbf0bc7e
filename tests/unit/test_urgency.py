"""Urgency: each reason is found in realistic Turkish and English, left alone in look-alikes, and the policy holds."""

from __future__ import annotations

import pytest

import classifiers.urgency as urgency_module
from classifiers.cues import URGENCY, read_data
from classifiers.text import fold
from classifiers.urgency import LEVELS, WEIGHTS, assess_urgency, repeated_contact
from store.model import Urgency


def assess(
    text: str, negative: float = 0.0, followers: int | None = None, prior_contacts: int = 0, **kw: int
) -> Urgency:
    return assess_urgency(fold(text), text, negative=negative, followers=followers, prior_contacts=prior_contacts, **kw)


REASON_CASES = [
    ("legal_threat", "Avukatımla görüştüm, size dava açacağım"),
    ("legal_threat", "Savcılığa suç duyurusunda bulunacağım"),
    ("legal_threat", "Yasal yollara başvuracağım, haberiniz olsun"),
    ("legal_threat", "Mahkemede görüşürüz Kuzey Telekom"),
    ("legal_threat", "I will sue you and my lawyer has the papers"),
    ("regulator", "Tüketici Hakem Heyeti'ne başvuru yaptım"),
    ("regulator", "BTK'ya şikayet ettim, bakalım ne olacak"),
    ("regulator", "BDDK ve CİMER'e yazdım"),
    ("regulator", "Ticaret Bakanlığına bildireceğim"),
    ("regulator", "EPDK'ya ve Rekabet Kurumu'na başvurdum"),
    ("regulator", "Konuyu tüketici mahkemesine taşıyacağım"),
    ("regulator", "I have reported you to the regulator"),
    ("churn_threat", "Aboneliğimi iptal edeceğim"),
    ("churn_threat", "Numaramı başka operatöre taşıyorum"),
    ("churn_threat", "Deniz GSM'ye geçeceğim, yeter"),
    ("churn_threat", "Kartımı iptal ettireceğim, başka bankaya gidiyorum"),
    ("churn_threat", "I'm switching to another provider next week"),
    ("fraud", "Dolandırıldım, kimse ilgilenmiyor"),
    ("fraud", "Kartımdan izinsiz işlem yapılmış"),
    ("fraud", "Bilgim dışında adıma kredi çekilmiş"),
    ("fraud", "There is an unauthorized transaction on my account"),
    ("money_loss", "Hesabımdan 2.500 TL çekildi, geri verin"),
    ("money_loss", "Aynı ödeme iki kez çekildi"),
    ("money_loss", "Paramı geri alamıyorum"),
    ("money_loss", "I was charged twice for the same order"),
    ("safety", "Modemden duman çıktı, az kalsın yangın çıkıyordu"),
    ("safety", "Şarj aleti patladı, elim yandı ve yaralandım"),
    ("safety", "Siparişteki tavuktan zehirlendik, hastaneye kaldırıldık"),
    ("safety", "Sayaçta gaz kaçağı var, kimse gelmiyor"),
    ("safety", "Prizden elektrik çarptı"),
    ("safety", "Kurye beni ölümle tehdit etti"),
    ("safety", "Artık yaşamak istemiyorum, borçlar bitmiyor"),
    ("safety", "My phone exploded while charging"),
    ("safety", "We got food poisoning from your delivery"),
    ("public_threat", "Bunu sosyal medyada paylaşacağım, herkes görsün"),
    ("public_threat", "Basına gideceğim, gazetelere vereceğim"),
    ("public_threat", "I will go to the press with this"),
    ("repeated_contact", "3. kez yazıyorum, cevap yok"),
    ("repeated_contact", "Defalarca aradım"),
    ("repeated_contact", "Üçüncü kez şikayet ediyorum"),
    ("repeated_contact", "5 gündür internet yok"),
    ("repeated_contact", "Bir haftadır kargomu bekliyorum"),
    ("repeated_contact", "I have called 4 times about this"),
    ("repeated_contact", "Haftalardır aynı sorun"),
    ("profanity", "amk yine çekmiyor"),
    ("profanity", "AMK bu ne hız"),
    ("profanity", "Siktir olsun gitsin"),
    ("profanity", "s*ktir edin bu hizmeti"),
    ("profanity", "a.q kargom nerde"),
    ("profanity", "siiiiktir"),
    ("profanity", "What the fuck is this service"),
    ("anger", "Şerefsizler, paramı çaldınız"),
    ("anger", "Hırsızlar! Yazıklar olsun size"),
    ("anger", "Sizden nefret ediyorum"),
    ("anger", "Shame on you, you scammers"),
]


@pytest.mark.parametrize(("reason", "text"), REASON_CASES)
def test_reason_is_found(reason: str, text: str) -> None:
    assert reason in assess(text).reasons


def test_every_reason_has_cases() -> None:
    assert {r for r, _ in REASON_CASES} == set(WEIGHTS) - {"high_reach"}


# Look-alikes: everyday words that fold onto a cue, or a cue word in a harmless sentence.
QUIET_CASES = [
    ("profanity", "Sık sık kesiliyor"),  # "sık" folds to "sik"
    ("profanity", "Sıkıntı yaşıyorum, yardım edin"),
    ("profanity", "I got the pic from pic.twitter.com"),
    ("profanity", "Bugün Amasya'dan geldim"),
    ("legal_threat", "Courtney was very helpful"),  # cues are whole words unless they end in "*"
    ("regulator", "Spektrum analizörü siparişi verdim"),
    ("safety", "Ferdi kaza sigortası zorla satıldı"),
    ("safety", "Alev Hanım çok yardımcı oldu"),
    ("safety", "Duman konserine bilet aldım"),
    ("safety", "Faturam patladı bu ay"),
    ("safety", "Kampanyayı kazandım"),
    ("public_threat", "Başına gelmeyen bilmez"),  # "başına" folds to "basina"
    ("public_threat", "Gazete aboneliğim hakkında bilgi"),
    ("repeated_contact", "10 yıldır müşterinizim"),
    ("repeated_contact", "1 kez aradım"),
    ("repeated_contact", "Kartı en fazla 2-3 kez kullandım"),
    ("repeated_contact", "Sipariş no 1234567 kez"),
    ("churn_threat", "Siparişim iptal edildi"),
    ("anger", "Teşekkürler!!!"),  # exclamations in a happy text
    ("anger", "BTK ve SPK açıklama yaptı"),  # acronyms are not shouting
    ("money_loss", "Para çekme limitim ne kadar?"),
    ("fraud", "Dolar kuru yükseldi"),
]


@pytest.mark.parametrize(("reason", "text"), QUIET_CASES)
def test_reason_is_not_found(reason: str, text: str) -> None:
    assert reason not in assess(text, negative=0.1).reasons


@pytest.mark.parametrize(
    ("text", "negative", "followers", "prior", "level", "reasons"),
    [
        ("Harika bir hizmet, teşekkürler", 0.05, None, 0, "low", ()),
        ("Faturam ne zaman kesilir?", 0.2, None, 0, "low", ()),
        ("İnternetim çok yavaş, hiç memnun değilim", 0.9, None, 0, "normal", ()),
        ("3 kez aradım kimse dönmedi", 0.3, None, 0, "normal", ("repeated_contact",)),
        ("Aboneliğimi iptal edeceğim", 0.8, None, 0, "normal", ("churn_threat",)),
        ("amk yine çekmiyor", 0.9, None, 0, "normal", ("profanity",)),
        ("Şarj aleti yangın çıkardı", 0.0, None, 0, "critical", ("safety",)),
        ("Kartımdan izinsiz işlem yapılmış", 0.0, None, 0, "high", ("fraud",)),
        ("Kartımdan izinsiz 3.000 TL çekildi", 0.0, None, 0, "critical", ("fraud", "money_loss")),
        ("Avukatıma vereceğim", 0.0, None, 0, "high", ("legal_threat",)),
        ("Avukatıma vereceğim, hattımı da iptal edeceğim", 0.0, None, 0, "high", ("legal_threat", "churn_threat")),
        ("BTK'ya yazdım", 0.0, None, 0, "high", ("regulator",)),
        ("Avukatım Tüketici Hakem Heyeti'ne başvurdu", 0.3, None, 0, "high", ("legal_threat", "regulator")),
        ("Avukatım Tüketici Hakem Heyeti'ne başvurdu", 0.8, None, 0, "critical", ("legal_threat", "regulator")),
        ("Param gitti", 0.7, None, 0, "high", ("money_loss",)),
        ("Şerefsizler amk", 0.9, None, 0, "high", ("profanity", "anger")),
        ("Kargom yine gelmedi", 0.8, 50_000, 0, "high", ("high_reach",)),
        ("Yeni kampanyanız harika", 0.05, 50_000, 0, "normal", ("high_reach",)),
        ("Kargom yine gelmedi", 0.8, 9_999, 0, "normal", ()),
        ("Kargom yine gelmedi", 0.8, None, 2, "normal", ("repeated_contact",)),
        ("Kargom yine gelmedi", 0.8, None, 1, "normal", ()),
        ("Numaramı taşıyacağım, 5 kez aradım", 0.8, None, 0, "high", ("churn_threat", "repeated_contact")),
        ("I will go to the press", 0.8, None, 0, "high", ("public_threat",)),
    ],
)
def test_level_policy(
    text: str, negative: float, followers: int | None, prior: int, level: str, reasons: tuple[str, ...]
) -> None:
    assert assess(text, negative, followers, prior) == Urgency(level, reasons)


def test_reach_threshold_is_a_parameter() -> None:
    assert assess("Kargom gelmedi", 0.8, followers=600, reach_followers=500).reasons == ("high_reach",)
    assert assess("Kargom gelmedi", 0.8, followers=400, reach_followers=500).reasons == ()


@pytest.mark.parametrize(
    ("text", "negative", "angry"),
    [
        ("KARGOM HALA GELMEDİ BU NE REZALET", 0.9, True),
        ("Kuzey Telekom BERBAT HİZMET VERİYORSUNUZ", 0.9, True),
        ("neden hala çekmiyor!!!", 0.9, True),
        ("neden hala çekmiyor?!?!", 0.9, True),
        ("KARGOM HALA GELMEDİ BU NE REZALET", 0.2, False),  # capitals alone are not anger in a calm text
        ("Harika kampanya!!!", 0.05, False),
        ("BTK'ya yazdım, SIM kartım hâlâ kapalı", 0.9, False),
        ("neden hala çekmiyor!", 0.9, False),
    ],
)
def test_shouting_counts_as_anger_only_in_a_negative_text(text: str, negative: float, angry: bool) -> None:
    assert ("anger" in assess(text, negative).reasons) is angry


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 kez aradım", True),
        ("3. kez yazıyorum", True),
        ("3üncü kez başvuruyorum", True),
        ("ikinci kez yazıyorum", True),
        ("kaçıncı kez DM atıyorum", True),
        ("I called 5 times", True),
        ("2 gündür internet yok", True),
        ("iki gündür bekliyorum", True),
        ("bir aydır çözülmedi", True),
        ("1 haftadır bekliyorum", True),
        ("1 gündür bekliyorum", False),
        ("bir kez aradım", False),
        ("ilk kez yazıyorum", False),
        ("2 kez çekildi", False),  # a double charge, not a repeated contact
        ("5 yıldır müşterinizim", False),
        ("saat 3 kez", False),
        ("", False),
    ],
)
def test_repeated_contact(text: str, expected: bool) -> None:
    assert repeated_contact(fold(text)) is expected


ODD = ["", " ", "\n\t", "😡", "!!!", "?!", "\x00\x01", "İ̇̇", "кириллица и 中文", "A" * 50_000, "amk " * 10_000]


@pytest.mark.parametrize("text", ODD, ids=range(len(ODD)))
def test_never_raises(text: str) -> None:
    result = assess(text, negative=float("nan"), followers=-5, prior_contacts=-1)
    assert result.level in {"low", "normal", "high", "critical"}
    assert assess(text, negative=1.0).level in {"normal", "high", "critical"}


def test_policy_tables_agree_with_the_cues_and_the_docstring() -> None:
    cue_labels = set(read_data("cues.toml")[URGENCY])
    assert cue_labels <= set(WEIGHTS)
    assert set(WEIGHTS) - cue_labels == {"high_reach"}  # the only reason that is not in the words
    assert [name for name, _ in LEVELS] == ["critical", "high", "normal", "low"]
    assert [floor for _, floor in LEVELS] == sorted((floor for _, floor in LEVELS), reverse=True)
    assert LEVELS[-1][1] == 0  # every total has a level
    doc = urgency_module.__doc__ or ""
    for reason in WEIGHTS:
        assert f"    {reason} " in doc, f"{reason} is not documented in the module docstring"
