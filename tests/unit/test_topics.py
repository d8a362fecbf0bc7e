"""The topic taxonomy: every built-in label finds its texts and leaves others alone; config adds and fails clearly."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from classifiers.text import fold
from classifiers.topics import ALL_SETS, builtin_sets, load_taxonomy
from store.errors import ConfigError

TAXONOMY = load_taxonomy()

# The labels of /work/notes/taxonomy.md, set by set.
EXPECTED_SETS = {
    "common": {
        "billing", "pricing", "refund", "customer_service", "cancellation", "account_access", "fraud_security",
        "mobile_app", "product_defect", "campaign",
    },
    "telecom": {"network", "line"},
    "ecommerce": {"delivery", "order"},
    "banking": {"card", "card_dispute", "loan", "transfer", "atm", "bank_account"},
}  # fmt: skip

POSITIVES = [
    ("billing", "Bu ay faturama fazladan 150 TL yansıtılmış"),
    ("billing", "Otomatik ödeme talimatım olmasına rağmen borç gösteriliyor"),
    ("billing", "Ödediğim halde gecikme bedeli kesilmiş"),
    ("billing", "I was charged for a service I never used, please fix my bill"),
    ("pricing", "Tarifeye yine zam gelmiş, bu fiyatlar çok pahalı"),
    ("pricing", "Paket ücretleri fahiş, rakipler daha ucuz"),
    ("pricing", "Your prices are too expensive for such a slow service"),
    ("refund", "Ürünü iade ettim ama paramı hâlâ geri alamadım"),
    ("refund", "Cayma hakkımı kullandım, ücret iadesi ne zaman yapılacak?"),
    ("refund", "Still waiting for my refund after two weeks"),
    ("customer_service", "Müşteri hizmetlerine bir türlü ulaşamıyorum, 40 dakikadır bekletiliyorum"),
    ("customer_service", "Mağazadaki personel çok kaba davrandı"),
    ("customer_service", "DM attım, kimse dönüş yapmadı"),
    ("customer_service", "Your customer service agent hung up on me"),
    ("cancellation", "Aboneliğimi iptal etmek istiyorum ama cayma bedeli çıkarıyorlar"),
    ("cancellation", "Taahhüdüm bitti, numaramı başka operatöre taşıyacağım"),
    ("cancellation", "Üyeliğimi sonlandırmak için ne yapmalıyım?"),
    ("cancellation", "I want to cancel my subscription today"),
    ("account_access", "Şifremi sıfırlayamıyorum, doğrulama kodu gelmiyor"),
    ("account_access", "Hesabıma giremiyorum, hesabım kilitlenmiş"),
    ("account_access", "I'm locked out and the verification code never arrives"),
    ("fraud_security", "Kartımdan izinsiz işlem yapılmış, dolandırıldım"),
    ("fraud_security", "Sahte SMS ile gelen linke tıkladım, hesabım ele geçirildi"),
    ("fraud_security", "Someone hacked my account and made unauthorized purchases"),
    ("mobile_app", "Mobil uygulamanız son güncellemeden sonra sürekli çöküyor"),
    ("mobile_app", "Sitenize giriş yapınca hata veriyor"),
    ("mobile_app", "Uygulama açılmıyor, iOS sürümünde sorun var"),
    ("mobile_app", "The app keeps crashing on Android"),
    ("product_defect", "Aldığım telefon arızalı çıktı, şarj olmuyor"),
    ("product_defect", "Ürün kırık geldi ve teknik servis garanti kapsamında değil diyor"),
    ("product_defect", "Paketteki peynir küflüydü, son kullanma tarihi de geçmiş"),
    ("product_defect", "The headphones arrived broken and the quality is poor"),
    ("campaign", "Kampanyadan yararlandım ama hediye internet tanımlanmadı"),
    ("campaign", "Puanlarım hesabıma yüklenmedi, indirim kuponu da çalışmıyor"),
    ("campaign", "The promo code from your campaign does not work"),
    ("network", "Evde şebeke yok, internetim çok yavaş"),
    ("network", "İki gündür fiber altyapıda kesinti var"),
    ("network", "Kuzey Telekom çekmiyor, aramalar düşüyor"),
    ("network", "No signal at all in Kadıköy, mobile data is down"),
    ("line", "Yeni SIM kart aldım ama hattım hâlâ aktif olmadı"),
    ("line", "Ek paket tanımlanmadı, kontör de yüklenmedi"),
    ("line", "Yurt dışında roaming açık olmasına rağmen hattım çalışmıyor"),
    ("line", "I need a new SIM card, my prepaid line is blocked"),
    ("delivery", "Kargom 5 gündür transfer merkezinde bekliyor"),
    ("delivery", "Kurye paketi komşuya bırakmış, bana teslim edilmedi"),
    ("delivery", "Mavi Kargo takip numarası çalışmıyor"),
    ("delivery", "My parcel says delivered but the courier never came"),
    ("order", "Siparişim eksik geldi, bir ürün yok"),
    ("order", "Satıcı stokta yok diyerek siparişimi iptal etti"),
    ("order", "I received the wrong item in my order"),
    ("card", "Kredi kartımın limitini artırmak istiyorum"),
    ("card", "Kart aidatı neden bu kadar yüksek?"),
    ("card", "Sanal kartım temassız ödemede çalışmıyor"),
    ("card", "My credit card was declined at the store"),
    ("card_dispute", "Tanımadığım bir harcama var, harcama itirazı yapmak istiyorum"),
    ("card_dispute", "Mükerrer çekim için ters ibraz süreci başlattım"),
    ("card_dispute", "I want to dispute a charge on my statement"),
    ("loan", "İhtiyaç kredisi başvurum reddedildi, Findeks notum iyi"),
    ("loan", "Kredi faizi çok yüksek, taksitleri ödeyemiyorum"),
    ("loan", "My loan application has been pending for weeks"),
    ("transfer", "Gönderdiğim EFT alıcı hesaba geçmedi"),
    ("transfer", "FAST ile havale yaptım, para geri döndü"),
    ("transfer", "My wire transfer to Germany is stuck, SWIFT says it left"),
    ("atm", "ATM kartımı yuttu, param da çıkmadı"),
    ("atm", "Bankamatikten para çekerken ekran dondu"),
    ("atm", "The cash machine swallowed my card"),
    ("bank_account", "Maaş hesabıma bloke konulmuş, nedenini bilmiyorum"),
    ("bank_account", "Vadesiz hesabımdan hesap işletim ücreti kesildi"),
    ("bank_account", "My savings account has been frozen for no reason"),
]


@pytest.mark.parametrize(("label", "text"), POSITIVES, ids=[f"{label}-{i}" for i, (label, _) in enumerate(POSITIVES)])
def test_label_finds_its_texts(label: str, text: str) -> None:
    assert label in TAXONOMY.rule_scores(fold(text))


def test_every_label_has_at_least_two_positive_examples() -> None:
    per_label = Counter(label for label, _ in POSITIVES)
    assert set(per_label) == set(TAXONOMY.labels)
    assert min(per_label.values()) >= 2


def test_built_in_sets_are_the_shared_taxonomy() -> None:
    sets = builtin_sets()
    assert tuple(sets) == ALL_SETS
    assert {name: set(labels) for name, labels in sets.items()} == EXPECTED_SETS
    assert TAXONOMY.sets == ALL_SETS
    assert len(TAXONOMY.labels) == sum(len(labels) for labels in EXPECTED_SETS.values())


# Sentences that mention something close to a topic but are not about it; the stems of the toml must not reach
# everyday words once ı, ş, ç, ğ, ö, ü are folded.
NEGATIVES = [
    ("mobile_app", "Bugün hava çok güzel"),  # "bug*" would find "bugun"
    ("line", "Hatta ben de aynı şeyi düşünmüştüm"),  # "hat*" would find "hatta"
    ("line", "Bir hata oluştu galiba"),
    ("atm", "Çöpleri dışarı atmak lazım"),  # "atm*" would find "atmak"
    ("product_defect", "Kusura bakmayın, geç yazdım"),
    ("product_defect", "Garanti Bankası'ndan kredi kartı aldım"),  # the brand, not a warranty
    ("loan", "Vadesiz hesabıma para yatırdım"),
    ("card", "SIM card activation took two days"),
    ("network", "Hızlı teslimat için teşekkürler"),
    ("network", "İnternet sitenizden sipariş verdim"),
    ("delivery", "Şifre gönderildi ama giremedim"),
    ("order", "Sabrım tükendi artık"),
    ("cancellation", "Siparişim iptal edildi"),  # the seller cancelled: an order matter
    ("refund", "Sıkıntı yaşıyorum ama bir türlü anlatamıyorum"),
    ("campaign", "Depozito olarak 500 TL ödedim"),
    ("billing", "Kargom kolay kolay gelmiyor"),
    ("customer_service", "Şubat ayında taşındım"),
    ("transfer", "This was fast, thanks"),
]


@pytest.mark.parametrize(("label", "text"), NEGATIVES)
def test_label_leaves_other_texts_alone(label: str, text: str) -> None:
    assert label not in TAXONOMY.rule_scores(fold(text))


@pytest.mark.parametrize(
    "text",
    [
        "Günaydın, iyi hafta sonları",
        "Bu akşam maç var, kim kazanır sizce?",
        "Şarkının sözleri çok güzel, dinlemenizi tavsiye ederim",
        "kusura bakma kanka, davet için sağ ol",
        "",
        "😡😡😡",
        "\x00\x01",
    ],
)
def test_small_talk_has_no_topic(text: str) -> None:
    assert TAXONOMY.rule_scores(fold(text)) == {}


def test_rule_scores_count_separate_hits_and_leave_out_the_rest() -> None:
    scores = TAXONOMY.rule_scores(fold("Faturam yine yanlış geldi, bu ayki fatura da hatalı"))
    assert scores == {"billing": 2}


def test_ascii_typed_and_shouted_text_is_found() -> None:
    assert "delivery" in TAXONOMY.rule_scores(fold("KARGOM GELMEDİ"))
    assert "account_access" in TAXONOMY.rule_scores(fold("sifremi unuttum dogrulama kodu gelmiyor"))


def test_only_the_chosen_sets_are_used() -> None:
    telecom = load_taxonomy(["telecom"])
    assert telecom.labels == ("network", "line")
    assert telecom.rule_scores(fold("Kargom gelmedi, internetim de yok")) == {"network": 1}


def test_repeated_set_names_count_once_and_keep_their_order() -> None:
    taxonomy = load_taxonomy(["banking", "common", "banking"])
    assert taxonomy.sets == ("banking", "common")
    assert taxonomy.labels[:2] == ("card", "card_dispute")


def test_extra_topics_add_labels_and_cues() -> None:
    extra = {"kargo_gecikmesi": ["geç geld*", "hala gelmedi"], "pricing": ["kur fark*"], "enerji": ["elektrik fatura*"]}
    taxonomy = load_taxonomy(["ecommerce"], extra)
    assert taxonomy.labels == ("delivery", "order", "kargo_gecikmesi", "pricing", "enerji")
    assert taxonomy.cues["pricing"] == ("kur fark*",)
    scores = taxonomy.rule_scores(fold("Kargom geç geldi, üstelik kur farkı da yansıtılmış"))
    assert scores == {"delivery": 1, "kargo_gecikmesi": 1, "pricing": 1}


def test_extra_cues_extend_a_built_in_label() -> None:
    text = fold("Kuzey Telekom'da bip kopuyor")
    assert "network" not in load_taxonomy(["telecom"]).rule_scores(text)
    assert "network" in load_taxonomy(["telecom"], {"network": ["bip kop*"]}).rule_scores(text)


@pytest.mark.parametrize(
    ("sets", "extra", "message"),
    [
        (["telecom", "retail"], {}, r"analysis\.taxonomies: unknown topic set 'retail'"),
        ("telecom", {}, r"analysis\.taxonomies: expected a list"),
        (["telecom"], {"enerji": "elektrik*"}, r"analysis\.topics\.enerji: expected a list of cues"),
        (["telecom"], {"enerji": []}, r"analysis\.topics\.enerji: expected at least one cue"),
        (["telecom"], {"enerji": ["elektrik", 5]}, r"analysis\.topics\.enerji: cue 5 is not a string"),
        (["telecom"], {"enerji": ["  "]}, r"analysis\.topics\.enerji: a cue cannot be empty"),
        (["telecom"], {"enerji": ["*elektrik"]}, r"must start with a letter or digit"),
        (["telecom"], {"enerji": ["elektrik !fatura"]}, r"must start with a letter or digit"),
        (["telecom"], {"elektrik faturası": ["elektrik*"]}, r"analysis\.topics\.elektrik faturası: topic label"),
        (["telecom"], {"billing|refund": ["iade*"]}, r"must be one word"),
        (["telecom"], {"": ["iade*"]}, r"must be one word"),
        (["telecom"], ["enerji"], r"analysis\.topics: expected a table"),
    ],
)
def test_bad_config_raises_config_error(sets: Any, extra: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_taxonomy(sets, extra)


def test_config_error_names_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_taxonomy(["common"], {"iade": ["*"]})
    assert caught.value.key == "analysis.topics.iade"


def test_every_built_in_cue_is_valid_and_listed_once_per_label() -> None:
    sets: Mapping[str, Mapping[str, Sequence[str]]] = builtin_sets()
    for labels in sets.values():
        for label, cues in labels.items():
            duplicates = [cue for cue, n in Counter(fold(c) for c in cues).items() if n > 1]
            assert not duplicates, f"{label} lists {duplicates} twice"
    load_taxonomy()  # compiles every cue; a malformed one raises


def test_long_and_odd_text_is_fine() -> None:
    text = fold("fatura " * 10_000 + "İ̇̇ \u202e mixed кириллица 😡")
    assert TAXONOMY.rule_scores(text) == {"billing": 10_000}
