"""The trained analyser end to end on our own sentences: every field filled, context used, config obeyed."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from classifiers.base import MentionContext, analyzer_class
from classifiers.kulak import KulakAnalyzer
from classifiers.pipeline import COMPONENTS
from classifiers.training import read_examples, train
from store.errors import ConfigError
from store.model import Brand

BRANDS = [
    Brand("Kuzey Telekom", aliases=("Kuzey Telekom",), handles=("@kuzeytelekom",)),
    Brand("Getir", ambiguous=True, context=("sipariş", "kurye")),
]


@pytest.fixture(scope="module")
def analyzer() -> KulakAnalyzer:
    return KulakAnalyzer(BRANDS)


def test_is_registered_and_built_from_our_components(analyzer: KulakAnalyzer) -> None:
    assert analyzer_class("kulak") is KulakAnalyzer
    for lang, nlp in analyzer.pipelines.items():
        assert nlp.lang == lang
        assert tuple(nlp.pipe_names) == COMPONENTS


@pytest.mark.parametrize(
    "text",
    [
        "Kuzey Telekom rezalet, üç gündür internetim yok, kimse de dönmüyor. Berbat bir hizmet!",
        "Kuzey Telekom faturama izinsiz ücret yansıtmış, bu ne rezalet, hemen düzeltin",
        "kuzey telekomdan cok sikayetciyim, cekmiyor hicbir yerde, bikdim artik",
    ],
)
def test_clear_complaints_are_negative_complaints_that_need_a_reply(analyzer: KulakAnalyzer, text: str) -> None:
    result = analyzer.analyze(text)
    assert result.sentiment.label == "negative"
    assert result.intent.label == "complaint" and result.needs_reply
    assert result.brands == ("Kuzey Telekom",)
    assert result.urgency.level in {"normal", "high", "critical"}


def test_the_models_do_not_know_which_brand_a_text_names() -> None:
    """Training names a few brands, each with its own mix of labels; a deployment's brand must not inherit one."""
    ours, other = KulakAnalyzer([BRANDS[0]]), KulakAnalyzer([Brand("Acme Net", aliases=("Acme Net",))])
    for text in ("{} faturama izinsiz ücret yansıtmış", "{} tarifeleri hakkında bilgi alabilir miyim?"):
        a, b = ours.doc(text.format("Kuzey Telekom")), other.doc(text.format("Acme Net"))
        assert a.cats == pytest.approx(b.cats)
    # An unconfigured name is a word like any other: the same text with it reads differently.
    assert (
        ours.doc("Acme Net faturama izinsiz ücret yansıtmış").cats
        != ours.doc("Kuzey Telekom faturama izinsiz ücret yansıtmış").cats
    )


@pytest.mark.parametrize(
    "text",
    [
        "Kuzey Telekom'a çok teşekkürler, sorunumu hemen çözdünüz, harikasınız",
        "kuzey telekom muşteri hizmetlerine tesekkur ederim cok ilgiliydiler super",
    ],
)
def test_clear_praise_is_positive_and_needs_no_reply(analyzer: KulakAnalyzer, text: str) -> None:
    result = analyzer.analyze(text)
    assert result.sentiment.label == "positive"
    assert result.intent.label == "praise" and not result.needs_reply
    assert result.urgency.level == "low"


def test_scores_are_probabilities_and_doc_carries_the_cats(analyzer: KulakAnalyzer) -> None:
    doc = analyzer.doc("Faturamı nereden görebilirim? TC 10000000146 ile kayıtlıyım")
    sentiment = [v for k, v in doc.cats.items() if k.startswith("sentiment:")]
    intent = [v for k, v in doc.cats.items() if k.startswith("intent:")]
    assert len(sentiment) == 3 and abs(sum(sentiment) - 1) < 1e-4
    assert len(intent) == 6 and abs(sum(intent) - 1) < 1e-4
    assert [s.label_ for s in doc.spans["pii"]] == ["tckn"]
    result = analyzer.to_analysis(doc)
    assert "10000000146" not in result.masked_text and result.pii[0].type == "tckn"
    assert 0.0 <= result.sentiment.score <= 1.0 and result.analyzer.startswith("kulak/")


def test_english_texts_use_the_english_pipeline(analyzer: KulakAnalyzer) -> None:
    doc = analyzer.doc("My parcel never arrived and nobody answers the phone, terrible service")
    assert doc._.kulak_lang == "en" and doc.lang_ == "en"
    assert analyzer.to_analysis(doc).sentiment.label == "negative"


def test_author_reach_and_history_raise_urgency(analyzer: KulakAnalyzer) -> None:
    text = "Kuzey Telekom internetim yine kesildi, çok kötü"
    plain = analyzer.analyze(text)
    known = analyzer.analyze(text, context=MentionContext(followers=50_000, prior_contacts=3))
    assert "high_reach" in known.urgency.reasons and "repeated_contact" in known.urgency.reasons
    assert "high_reach" not in plain.urgency.reasons
    levels = ("low", "normal", "high", "critical")
    assert levels.index(known.urgency.level) > levels.index(plain.urgency.level)


def test_brand_hint_counts_unless_vetoed(analyzer: KulakAnalyzer) -> None:
    assert analyzer.analyze("internetim yok", brand_hint="Kuzey Telekom").brands == ("Kuzey Telekom",)
    assert analyzer.analyze("su getir bana").brands == ()
    assert analyzer.analyze("Getir'den verdiğim sipariş gelmedi").brands == ("Getir",)


def test_taxonomy_from_config_limits_and_extends_topics() -> None:
    text = "Mavi Kargo paketim bir haftadır gelmedi, kurye hiç aramadı. Yurt dışı paketim de takıldı"
    telecom_only = KulakAnalyzer([], taxonomies=("telecom",), topics={"roaming": ("yurt dışı*",)})
    labels = {t.label for t in telecom_only.analyze(text).topics}
    assert "delivery" not in labels and "roaming" in labels
    everything = KulakAnalyzer([])
    assert "delivery" in {t.label for t in everything.analyze(text).topics}


def test_bad_taxonomy_or_model_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"analysis\.taxonomies"):
        KulakAnalyzer([], taxonomies=("telekom",))
    with pytest.raises(ConfigError, match=r"analysis\.models"):
        KulakAnalyzer([], models=str(tmp_path / "nowhere"))
    (tmp_path / "sentiment").mkdir()
    (tmp_path / "sentiment" / "model.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a Kulak model"):
        KulakAnalyzer([], models=str(tmp_path))


def test_a_model_directory_replaces_the_shipped_model(tmp_path: Path) -> None:
    # A deliberately upside-down sentiment model: if the analyser still says "negative", it ignored it.
    rows = [("harika süper teşekkürler", "olumsuz"), ("berbat rezalet", "olumlu"), ("saat kaçta açılıyor", "notr")]
    with (tmp_path / "s.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows * 4)
    train("sentiment", read_examples(tmp_path / "s.csv", "sentiment")).save(tmp_path / "models" / "sentiment")
    own = KulakAnalyzer([], models=str(tmp_path / "models"))
    assert own.analyze("berbat rezalet").sentiment.label == "positive"
    assert own.analyze("berbat rezalet").intent.label == "complaint"  # intent still comes from the shipped model


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂🙂", "\x00\x07\u202e", "x" * 200_000, "Привет мир", "https://a.b/c"])
def test_odd_input_never_raises(analyzer: KulakAnalyzer, text: str) -> None:
    result = analyzer.analyze(text)
    assert result.lang in {"tr", "en", "other"}
    assert result.sentiment.label in {"negative", "neutral", "positive"}
    assert result.urgency.level in {"low", "normal", "high", "critical"}
