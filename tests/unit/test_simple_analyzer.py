"""The rule baseline: sentiment with negation, intents, topics, urgency, brands, PII; it never raises."""

from __future__ import annotations

import re

import pytest

from classifiers.base import ANALYZERS, MentionContext, analyzer_class
from classifiers.lexicon import parse
from classifiers.simple import SimpleAnalyzer, _BlankPipelines
from classifiers.topics import load_taxonomy
from config.settings import AnalysisSettings, Settings
from store.errors import ConfigError
from store.model import Analysis, Brand

BRANDS = (
    Brand(name="Kuzey Telekom", aliases=("Kuzey Telekom", "KuzeyTel"), handles=("@kuzeytelekom",)),
    Brand(name="Getir", aliases=("getir",), ambiguous=True, context=("sipariş", "kurye"), exclude=("getir götür",)),
)


@pytest.fixture(scope="module")
def analyzer() -> SimpleAnalyzer:
    return SimpleAnalyzer(BRANDS)


def sentiment(analyzer: SimpleAnalyzer, text: str) -> str:
    return analyzer.analyze(text).sentiment.label


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Harika bir hizmet, çok teşekkür ederim!", "positive"),
        ("Kargo çok hızlı geldi, çok memnunum", "positive"),
        ("Temsilci çok nazik ve ilgiliydi, sorunum hemen çözüldü", "positive"),
        ("Berbat bir deneyimdi, paketim kırık geldi", "negative"),
        ("İnternetim iki gündür çekmiyor, rezalet", "negative"),
        ("Siparişim hâlâ gelmedi, çok kızgınım", "negative"),
        ("Faturam yine fahiş geldi, bu ne biçim iş", "negative"),
        ("Mağaza yarın saat onda açılıyor", "neutral"),
        ("Yarın görüşürüz", "neutral"),
        ("The support team was fantastic, thank you!", "positive"),
        ("This is the worst service I have ever used", "negative"),
        ("The store opens at ten tomorrow", "neutral"),
    ],
)
def test_sentiment_on_clear_sentences(analyzer: SimpleAnalyzer, text: str, expected: str) -> None:
    assert sentiment(analyzer, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hiç memnun değilim", "negative"),
        ("memnun degilim", "negative"),  # typed without Turkish letters
        ("Ürün hiç güzel değil", "negative"),
        ("Uygulamayı hiç beğenmedim", "negative"),  # negation inside the verb: beğen-me-di-m
        ("Uygulamayı çok beğendim", "positive"),
        ("Hiçbir sorun yaşamadım, teşekkürler", "positive"),  # a negated problem is good news
        ("Sorun yok, her şey yolunda", "positive"),
        ("Çok güzel değil mi?", "positive"),  # a question tag, not a negation
        ("I am not happy with my bill", "negative"),
        ("Not bad at all", "positive"),
    ],
)
def test_negation(analyzer: SimpleAnalyzer, text: str, expected: str) -> None:
    assert sentiment(analyzer, text) == expected


def test_sentiment_score_is_a_confidence(analyzer: SimpleAnalyzer) -> None:
    strong = analyzer.analyze("Rezalet, berbat, iğrenç bir hizmet!").sentiment
    mild = analyzer.analyze("Biraz yavaş").sentiment
    assert strong.label == mild.label == "negative"
    assert 0.5 <= mild.score < strong.score <= 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Çok teşekkürler, sorunumu hemen çözdünüz", "praise"),
        ("Thank you so much for the quick help", "praise"),
        ("Paketim üç gündür gelmedi, rezalet!", "complaint"),
        ("Neden internetim sürekli kesiliyor? Bıktım artık", "complaint"),
        ("Faturamı nereden görebilirim?", "question"),
        ("Kartımın limitini nasıl artırabilirim?", "question"),
        ("Uygulamaya karanlık mod eklense çok iyi olur", "suggestion"),
        ("Önerim şu: kampanyalar SMS ile de duyurulmalı", "suggestion"),
        ("Yeni hat almak istiyorum", "sales"),
        ("Fiber internete geçmek istiyorum, fiyatı ne kadar?", "sales"),
        ("Kuzey Telekom'a geçmek istiyorum, hangi tarifeyi önerirsiniz", "sales"),
        ("Uygulamaya fatura hatırlatıcı özelliği eklerseniz çok iyi olur", "suggestion"),
        ("Yarın görüşürüz", "other"),
    ],
)
def test_intent(analyzer: SimpleAnalyzer, text: str, expected: str) -> None:
    result = analyzer.analyze(text)
    assert result.intent.label == expected
    assert 0.0 <= result.intent.score <= 1.0
    assert result.needs_reply is (expected in {"complaint", "question", "sales"})


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Faturama fazladan ücret yansıtılmış", "billing"),
        ("Kurye siparişimi yanlış adrese teslim etmiş", "delivery"),
        ("Evde şebeke yok, internet çok yavaş", "network"),
        ("Mobil uygulama açılmıyor, giriş yapamıyorum", "mobile_app"),
        ("Müşteri hizmetlerine bir türlü ulaşamıyorum", "customer_service"),
        ("Ürünü iade ettim ama para iadesi yapılmadı", "refund"),
        ("Kredi kartımın aidatı neden bu kadar yüksek", "card"),
        ("Şifremi kimse bilmiyor ama hesabım ele geçirildi", "fraud_security"),
        ("Şifremi unuttum, doğrulama kodu da gelmiyor", "account_access"),
        ("Siparişim eksik geldi, satıcı cevap vermiyor", "order"),
        ("Kartımı ATM yuttu", "atm"),
        ("Tarifeme yine zam gelmiş, çok pahalı", "pricing"),
        ("Aboneliğimi iptal etmek istiyorum, cayma bedeli istiyorlar", "cancellation"),
        ("My card was declined at the store", "card"),
    ],
)
def test_topics(analyzer: SimpleAnalyzer, text: str, topic: str) -> None:
    topics = analyzer.analyze(text).topics
    assert topic in [t.label for t in topics]
    assert all(0.0 < t.score <= 1.0 for t in topics)


def test_no_topic_in_small_talk(analyzer: SimpleAnalyzer) -> None:
    assert analyzer.analyze("Günaydın, iyi hafta sonları").topics == ()


def test_topics_come_from_the_configured_taxonomy() -> None:
    banking_only = SimpleAnalyzer(BRANDS, taxonomy=load_taxonomy(["banking"], {"kargo_gecikme": ["kargom gelmedi"]}))
    labels = [t.label for t in banking_only.analyze("Kargom gelmedi, kredi kartıma da fazladan ücret yansımış").topics]
    assert labels == ["card", "kargo_gecikme"]  # no billing (a common topic) nor delivery (e-commerce)


@pytest.mark.parametrize(
    ("text", "level", "reasons"),
    [
        ("Merhaba, faturamı görebilir miyim?", "low", ()),
        ("Harika bir hizmet, çok teşekkürler", "low", ()),
        ("Berbat bir hizmet, hiç memnun değilim", "normal", ()),  # negative with no reason
        ("3 kez aradım kimse dönmedi", "normal", ("repeated_contact",)),
        ("Defalarca yazdım, cevap yok", "normal", ("repeated_contact",)),
        ("Numaramı başka operatöre taşıyacağım", "normal", ("churn_threat",)),
        ("Aboneliğimi iptal etmek istiyorum", "normal", ("churn_threat",)),
        ("Avukatıma danıştım, tüketici hakem heyetine başvuracağım", "high", ("legal_threat", "regulator")),
        ("BTK'ya şikayet edeceğim", "high", ("regulator",)),
        ("Bu konuyu sosyal medyada paylaşacağım, haber yapacağım", "normal", ("public_threat",)),
        ("Rezalet bir hizmet, sosyal medyada paylaşacağım", "high", ("public_threat",)),
        ("Param gitti, iade edilmedi", "high", ("money_loss",)),
        ("Kartımdan izinsiz para çekildi, dolandırıldım", "critical", ("fraud", "money_loss")),
        ("Şarj aleti yangın çıkardı", "critical", ("safety",)),
        ("5 kez aradım, savcılığa suç duyurusunda bulunacağım", "high", ("legal_threat", "repeated_contact")),
        ("I will sue you, my lawyer is ready", "high", ("legal_threat",)),
    ],
)
def test_urgency(analyzer: SimpleAnalyzer, text: str, level: str, reasons: tuple[str, ...]) -> None:
    urgency = analyzer.analyze(text).urgency
    assert (urgency.level, urgency.reasons) == (level, reasons)


def test_one_contact_or_a_cancelled_order_is_not_urgent(analyzer: SimpleAnalyzer) -> None:
    assert analyzer.analyze("1 kez aradım, siparişim iptal edildi").urgency.reasons == ()


def test_urgency_reads_the_authors_reach_and_history(analyzer: SimpleAnalyzer) -> None:
    text = "İnternetim yine gitti, çok kötü"
    assert analyzer.analyze(text).urgency.level == "normal"
    loud = analyzer.analyze(text, context=MentionContext(followers=50_000)).urgency
    assert (loud.level, loud.reasons) == ("high", ("high_reach",))
    again = analyzer.analyze(text, context=MentionContext(prior_contacts=3)).urgency
    assert again.reasons == ("repeated_contact",)
    small = SimpleAnalyzer(BRANDS, reach_followers=100).analyze(text, context=MentionContext(followers=150))
    assert small.urgency.reasons == ("high_reach",)


def test_context_brand_hint_is_used_when_no_hint_is_given(analyzer: SimpleAnalyzer) -> None:
    complaint = "Siparişim iki saattir gelmedi"
    assert analyzer.analyze(complaint, context=MentionContext(brand_hint="Getir")).brands == ("Getir",)


def test_from_settings_takes_the_taxonomy_and_reach() -> None:
    settings = Settings(analysis=AnalysisSettings(taxonomies=("telecom",), topics={"bip": ["bip*"]}, reach_followers=5))
    analyzer = SimpleAnalyzer.from_settings(settings)
    assert analyzer.taxonomy.labels == ("network", "line", "bip")
    assert analyzer.reach_followers == 5
    with pytest.raises(ConfigError, match=r"analysis\.taxonomies"):
        SimpleAnalyzer.from_settings(Settings(analysis=AnalysisSettings(taxonomies=("retail",))))


def test_brands_and_brand_hint(analyzer: SimpleAnalyzer) -> None:
    assert analyzer.analyze("Kuzey Telekom'un faturası yine yanlış").brands == ("Kuzey Telekom",)
    complaint = "Siparişim iki saattir gelmedi"
    assert analyzer.analyze(complaint).brands == ()
    assert analyzer.analyze(complaint, brand_hint="Getir").brands == ("Getir",)
    assert analyzer.analyze("getir'den sipariş", brand_hint="Getir").brands == ("Getir",)
    assert analyzer.analyze("KuzeyTel rezalet", brand_hint="Getir").brands == ("Kuzey Telekom", "Getir")


def test_exclude_phrase_vetoes_the_brand_hint(analyzer: SimpleAnalyzer) -> None:
    assert analyzer.analyze("Getir götür işleri için kurye arıyorum", brand_hint="Getir").brands == ()


def test_pii_is_found_and_masked(analyzer: SimpleAnalyzer) -> None:
    text = "TC 12345678950, telefon 0532 123 45 67, kartımın son dört hanesi 8233. Paramı iade edin!"
    result = analyzer.analyze(text)
    assert [p.type for p in result.pii] == ["tckn", "phone", "card_last4"]
    assert result.masked_text == "TC [TCKN], telefon [TELEFON], kartımın son dört hanesi [KART]. Paramı iade edin!"
    assert not re.search(r"\d", result.masked_text)


ODD_TEXTS = ["", " ", "\n\t", "😡", "😡😡😡", "👍🏽", "?!", "12345", "#", "@", "İ̇̇", "\x00", "a" * 20_000]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_never_raises_and_returns_a_whole_analysis(analyzer: SimpleAnalyzer, text: str) -> None:
    result = analyzer.analyze(text)
    assert isinstance(result, Analysis)
    assert result.analyzer == "simple/2"
    assert result.sentiment.label in {"negative", "neutral", "positive"}
    assert result.urgency.level in {"low", "normal", "high", "critical"}
    assert 0.0 <= result.sentiment.score <= 1.0
    assert Analysis.from_json(result.to_json()) == result


def test_emoji_only_text_carries_sentiment(analyzer: SimpleAnalyzer) -> None:
    assert analyzer.analyze("😡😡").sentiment.label == "negative"
    assert analyzer.analyze("👍😊").sentiment.label == "positive"
    assert analyzer.analyze("😡😡").lang == "other"


def test_language(analyzer: SimpleAnalyzer) -> None:
    assert analyzer.analyze("Siparişim hâlâ gelmedi").lang == "tr"
    assert analyzer.analyze("My order never arrived").lang == "en"


def test_registry() -> None:
    assert SimpleAnalyzer.name == "simple"
    assert analyzer_class("simple") is SimpleAnalyzer
    assert ANALYZERS["simple"] is SimpleAnalyzer
    with pytest.raises(ConfigError, match="simple"):
        analyzer_class("no-such-analyser")


def test_spacy_is_loaded_on_first_use_and_renewed_when_its_vocabulary_grows() -> None:
    pipelines = _BlankPipelines(max_vocab=10_000)
    first = pipelines("tr")
    assert pipelines("tr") is first
    pipelines.max_vocab = len(first.vocab) + 50
    first.make_doc(" ".join(f"sözcük{i}" for i in range(100)))
    assert pipelines("tr") is not first


def test_lexicon_file_errors_are_reported_with_the_line() -> None:
    with pytest.raises(ValueError, match="line 2: unknown section"):
        parse("# comment\n[positives]\nharika\n")
    entries = parse("[positive]\nharika* 2\nbeğen+\neline* sağlık 1.5\n:) 0.5\n[negative]\nkötü\n")
    assert (entries.stems, entries.verbs, entries.exact) == ({"harika": 2.0}, {"begen": 1.0}, {"kotu": -1.0})
    assert entries.symbols == {":)": 0.5}
    assert entries.phrases == {"eline": [(("eline*", "saglik"), 1.5)]}
