"""The "kulak" analyser: the trained spaCy pipeline (a ``tr`` and an ``en`` one) behind the Analyzer interface."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from classifiers import pipeline
from classifiers.base import MentionContext, register
from classifiers.language import detect_language
from classifiers.pipeline import SentimentComponent
from store.model import Analysis, Brand, Label, Urgency

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

    from config.settings import Settings

MAX_TEXT = 100_000  # longer texts are cut here: nobody writes a complaint this long, and memory stays bounded


@register
class KulakAnalyzer:
    """Language, brands, PII, sentiment, intent, topics and urgency from one pass of a spaCy pipeline.

    Turkish and undetermined texts go through the ``tr`` pipeline, English ones through ``en``; both carry the
    same components and share the loaded models.
    """

    name: ClassVar[str] = "kulak"

    def __init__(
        self,
        brands: Sequence[Brand],
        *,
        taxonomies: Sequence[str] = ("common", "telecom", "ecommerce", "banking"),
        topics: Mapping[str, Sequence[str]] | None = None,
        models: str | None = None,
        reach_followers: int = 10_000,
    ) -> None:
        self.config: dict[str, Any] = {
            "brands": [dataclasses.asdict(b) for b in brands],
            "taxonomies": list(taxonomies),
            "topics": {k: list(v) for k, v in (topics or {}).items()},
            "models": models or "",
            "reach_followers": reach_followers,
        }
        self.pipelines: dict[str, Language] = {lang: pipeline.build(lang, self.config) for lang in ("tr", "en")}
        sentiment: SentimentComponent = self.pipelines["tr"].get_pipe("kulak_sentiment")  # type: ignore[assignment]
        self.version = f"kulak/{sentiment.model.meta.get('version', 1)}"

    @classmethod
    def from_settings(cls, settings: Settings) -> KulakAnalyzer:
        a = settings.analysis
        return cls(
            settings.brand_models(),
            taxonomies=a.taxonomies,
            topics=a.topics,
            models=a.models,
            reach_followers=a.reach_followers,
        )

    def doc(self, text: str, *, brand_hint: str | None = None, context: MentionContext | None = None) -> Doc:
        """The processed spaCy ``Doc`` of ``text``, with every component's output on ``doc._.kulak_*``."""
        text = (text or "")[:MAX_TEXT]
        lang = detect_language(text)
        nlp = self.pipelines["en" if lang == "en" else "tr"]
        doc = nlp.make_doc(text)
        doc._.kulak_lang = lang
        base = context or MentionContext()
        doc._.kulak_context = dataclasses.replace(base, brand_hint=brand_hint or base.brand_hint)
        return nlp(doc)

    def analyze(self, text: str, *, brand_hint: str | None = None, context: MentionContext | None = None) -> Analysis:
        return self.to_analysis(self.doc(text, brand_hint=brand_hint, context=context))

    def to_analysis(self, doc: Doc) -> Analysis:
        urgency: Urgency = doc._.kulak_urgency
        intent: Label = doc._.kulak_intent
        return Analysis(
            lang=doc._.kulak_lang,
            brands=tuple(doc._.kulak_brands),
            sentiment=doc._.kulak_sentiment,
            intent=intent,
            topics=tuple(doc._.kulak_topics),
            urgency=urgency,
            pii=tuple(doc._.kulak_pii),
            masked_text=doc._.kulak_masked,
            analyzer=self.version,
            needs_reply=bool(doc._.kulak_needs_reply),
        )
