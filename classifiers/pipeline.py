"""Kulak's spaCy components: a blank ``tr`` or ``en`` pipeline plus ours, each writing its part of the analysis.

Components, in order (every one reads what the earlier ones wrote on the ``Doc``):

    kulak_normalizer   doc._.kulak_norm (normalised text), kulak_folded
    kulak_language     doc._.kulak_lang: "tr", "en" or "other"
    kulak_pii          doc.spans["pii"], doc._.kulak_pii, doc._.kulak_masked
    kulak_brands       doc._.kulak_brands (configured brand names the text is about), kulak_grams (model
                       features: the normal form with brand names blinded, see classifiers.blind)
    kulak_sentiment    doc._.kulak_sentiment and doc.cats["sentiment:<label>"]
    kulak_intent       doc._.kulak_intent, doc._.kulak_needs_reply and doc.cats["intent:<label>"]
    kulak_topics       doc._.kulak_topics (rules of the configured taxonomy, plus the topic model)
    kulak_urgency      doc._.kulak_urgency (level and reasons)

Every factory takes only plain values, so a pipeline can be described in a spaCy config. Mention facts the text
does not hold (brand hint, author reach and history) come in on ``doc._.kulak_context``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from classifiers.base import MentionContext
from classifiers.blind import blind
from classifiers.brands import BrandMatcher
from classifiers.features import FloatArray, Grams, IntArray
from classifiers.language import detect_language
from classifiers.linear import LinearModel
from classifiers.normalize import normalize
from classifiers.pii import find_pii, mask
from classifiers.shipped import load_models
from classifiers.text import fold
from classifiers.topics import load_taxonomy
from classifiers.urgency import assess_urgency
from store.model import Brand, Label

COMPONENTS = (
    "kulak_normalizer",
    "kulak_language",
    "kulak_pii",
    "kulak_brands",
    "kulak_sentiment",
    "kulak_intent",
    "kulak_topics",
    "kulak_urgency",
)
NEEDS_REPLY = frozenset({"complaint", "question", "sales"})
NEGATIVE_VETO = 0.6  # sentiment this surely negative rules out the sales and praise intents
RULE_TOPIC_SCORE = 0.6  # one cue hit; each further hit adds 0.1 up to 0.9

_EXTENSIONS = (
    "text",
    "norm",
    "folded",
    "grams",
    "lang",
    "context",
    "pii",
    "masked",
    "brands",
    "sentiment",
    "intent",
    "needs_reply",
    "topics",
    "urgency",
    "vectors",
)


def _vector(doc: Doc, model: LinearModel) -> tuple[IntArray, FloatArray]:
    """The features of ``doc`` in ``model``'s space, computed once per space (the shipped models share one)."""
    cache: dict[int, tuple[IntArray, FloatArray]] = doc._.kulak_vectors
    key = id(model.space)
    found = cache.get(key)
    if found is None:
        found = cache[key] = model.space.vector(doc._.kulak_grams)
    return found


for _name in _EXTENSIONS:
    if not Doc.has_extension(f"kulak_{_name}"):
        Doc.set_extension(f"kulak_{_name}", default=None)


def build(lang: str, config: Mapping[str, Any]) -> Language:
    """A blank spaCy pipeline for ``lang`` ("tr" or "en") with every Kulak component, configured by ``config``.

    ``config`` keys: ``brands`` (list of Brand field dicts), ``taxonomies``, ``topics``, ``models`` (a directory
    or ""), ``reach_followers``.
    """
    import spacy

    nlp = spacy.blank(lang)
    models = {"models": config.get("models") or ""}
    nlp.add_pipe("kulak_normalizer")
    nlp.add_pipe("kulak_language")
    nlp.add_pipe("kulak_pii")
    nlp.add_pipe("kulak_brands", config={"brands": list(config.get("brands", []))})
    nlp.add_pipe("kulak_sentiment", config=models)
    nlp.add_pipe("kulak_intent", config=models)
    nlp.add_pipe(
        "kulak_topics",
        config={
            **models,
            "taxonomies": list(config.get("taxonomies", ["common", "telecom", "ecommerce", "banking"])),
            "topics": {k: list(v) for k, v in dict(config.get("topics", {})).items()},
        },
    )
    nlp.add_pipe("kulak_urgency", config={"reach_followers": int(config.get("reach_followers", 10_000))})
    return nlp


@Language.component("kulak_normalizer")
def normalizer(doc: Doc) -> Doc:
    text = doc._.kulak_text = doc.text  # Doc.text rebuilds the string from its tokens on every access
    norm = normalize(text).norm
    doc._.kulak_norm = norm
    doc._.kulak_folded = fold(text)
    doc._.kulak_vectors = {}
    return doc


@Language.component("kulak_language")
def language(doc: Doc) -> Doc:
    if doc._.kulak_lang is None:
        doc._.kulak_lang = detect_language(doc._.kulak_text)
    return doc


@Language.component("kulak_pii")
def pii(doc: Doc) -> Doc:
    text = doc._.kulak_text
    found = tuple(find_pii(text))
    doc._.kulak_pii = found
    doc._.kulak_masked = mask(text, found)
    spans = [doc.char_span(p.start, p.end, label=p.type, alignment_mode="expand") for p in found]
    doc.spans["pii"] = [s for s in spans if s is not None]
    return doc


class BrandsComponent:
    def __init__(self, brands: Sequence[Mapping[str, Any]]) -> None:
        self.matcher = BrandMatcher([_brand(b) for b in brands])

    def __call__(self, doc: Doc) -> Doc:
        folded = doc._.kulak_folded
        names = self.matcher.match(doc._.kulak_text, folded=folded)
        context: MentionContext | None = doc._.kulak_context
        hint = context.brand_hint if context is not None else None
        if hint and hint not in names and not self.matcher.vetoed_folded(folded, hint):
            names = (*names, hint)
        doc._.kulak_brands = names
        doc._.kulak_grams = Grams.of(blind(doc._.kulak_norm, self.matcher, names))
        return doc


def _brand(data: Mapping[str, Any]) -> Brand:
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return Brand(**fields)


@Language.factory("kulak_brands", default_config={"brands": []})
def make_brands(nlp: Language, name: str, brands: list[dict[str, Any]]) -> BrandsComponent:
    return BrandsComponent(brands)


class SentimentComponent:
    def __init__(self, models: str) -> None:
        self.model = load_models(models or None)["sentiment"]

    def __call__(self, doc: Doc) -> Doc:
        p = self.model.proba_of(*_vector(doc, self.model))
        best = int(p.argmax())
        doc._.kulak_sentiment = Label(self.model.labels[best], round(float(p[best]), 3))
        for label, value in zip(self.model.labels, p, strict=True):
            doc.cats[f"sentiment:{label}"] = float(value)
        return doc


@Language.factory("kulak_sentiment", default_config={"models": ""})
def make_sentiment(nlp: Language, name: str, models: str) -> SentimentComponent:
    return SentimentComponent(models)


class IntentComponent:
    def __init__(self, models: str) -> None:
        self.model = load_models(models or None)["intent"]

    def __call__(self, doc: Doc) -> Doc:
        p = self.model.proba_of(*_vector(doc, self.model))
        if doc.cats.get("sentiment:negative", 0.0) >= NEGATIVE_VETO:
            # An angry text is not a sales lead or praise, whatever words it shares with them ("istiyorum").
            p = p.copy()
            p[[i for i, name in enumerate(self.model.labels) if name in {"sales", "praise"}]] = 0.0
            p /= p.sum()
        best = int(p.argmax())
        label = self.model.labels[best]
        doc._.kulak_intent = Label(label, round(float(p[best]), 3))
        doc._.kulak_needs_reply = label in NEEDS_REPLY
        for name, value in zip(self.model.labels, p, strict=True):
            doc.cats[f"intent:{name}"] = float(value)
        return doc


@Language.factory("kulak_intent", default_config={"models": ""})
def make_intent(nlp: Language, name: str, models: str) -> IntentComponent:
    return IntentComponent(models)


class TopicsComponent:
    """Topics of the configured taxonomy: a cue hit names a topic, and so does the model above its threshold."""

    def __init__(self, models: str, taxonomies: Sequence[str], topics: Mapping[str, Sequence[str]]) -> None:
        self.taxonomy = load_taxonomy(tuple(taxonomies), {k: tuple(v) for k, v in topics.items()})
        self.model = load_models(models or None)["topic"]
        self.allowed = frozenset(self.taxonomy.labels)

    def __call__(self, doc: Doc) -> Doc:
        found: dict[str, float] = {}
        for label, hits in self.taxonomy.rule_scores(doc._.kulak_folded).items():
            if hits:
                found[label] = min(0.9, RULE_TOPIC_SCORE + 0.1 * (hits - 1))
        for label, p in self.model.above_threshold(self.model.proba_of(*_vector(doc, self.model))):
            if label in self.allowed:
                found[label] = max(found.get(label, 0.0), p)
        ranked = sorted(found.items(), key=lambda item: (-item[1], item[0]))
        doc._.kulak_topics = tuple(Label(label, round(score, 3)) for label, score in ranked)
        return doc


@Language.factory("kulak_topics", default_config={"models": "", "taxonomies": [], "topics": {}})
def make_topics(
    nlp: Language, name: str, models: str, taxonomies: list[str], topics: dict[str, list[str]]
) -> TopicsComponent:
    return TopicsComponent(models, taxonomies, topics)


class UrgencyComponent:
    def __init__(self, reach_followers: int) -> None:
        self.reach_followers = reach_followers

    def __call__(self, doc: Doc) -> Doc:
        context: MentionContext = doc._.kulak_context or MentionContext()
        doc._.kulak_urgency = assess_urgency(
            doc._.kulak_folded,
            doc._.kulak_text,
            negative=float(doc.cats.get("sentiment:negative", 0.0)),
            followers=context.followers,
            prior_contacts=context.prior_contacts,
            reach_followers=self.reach_followers,
        )
        return doc


@Language.factory("kulak_urgency", default_config={"reach_followers": 10_000})
def make_urgency(nlp: Language, name: str, reach_followers: int) -> UrgencyComponent:
    return UrgencyComponent(reach_followers)
