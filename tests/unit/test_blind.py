"""Brand-blind model features: the trained models never see which brand a text names."""

from __future__ import annotations

from classifiers.blind import BRAND_TOKEN, blind, known_brands, model_grams
from classifiers.brands import BrandMatcher
from classifiers.normalize import normalize
from store.model import Brand


def test_the_known_brands_of_the_training_data_are_blinded() -> None:
    names = set(known_brands().names)
    assert {"Turkcell", "Türk Telekom", "Vodafone", "İş Bankası", "Kuzey Telekom", "Yıldız Bank"} <= names
    assert "Getir" not in names and "Garanti" not in names  # ordinary words stay words


def test_blinding_works_on_the_normal_form() -> None:
    norm = normalize("TURKCELL'İN faturası ve Türk Telekom'dan bir SMS, #Vodafone da aynı").norm
    assert blind(norm) == f" {BRAND_TOKEN}'in faturasi ve {BRAND_TOKEN}'dan bir sms, #{BRAND_TOKEN} da ayni "


def test_a_deployment_brand_is_blinded_only_once_matched() -> None:
    matcher = BrandMatcher([Brand("Getir", ambiguous=True, context=("kurye",))])
    text = "Getir kuryesi siparişi getirmedi"
    norm = normalize(text).norm
    assert blind(norm, matcher, matcher.match(text)) == f" {BRAND_TOKEN} kuryesi siparisi getirmedi "
    assert blind(normalize("su getir").norm, matcher, matcher.match("su getir")) == " su getir "


def test_two_texts_that_differ_only_in_the_brand_get_the_same_features() -> None:
    assert model_grams("Turkcell faturama izinsiz ücret yansıtmış") == model_grams(
        "Kuzey Telekom faturama izinsiz ücret yansıtmış"
    )
    assert model_grams("Turkcell faturası") != model_grams("Turkcell faturasız")
