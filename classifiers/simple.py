"""The rule-and-lexicon baseline analyser: honest, fast, explainable; the yardstick trained models must beat."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from classifiers.base import MentionContext, register
from classifiers.brands import BrandMatcher
from classifiers.cues import INTENTS, load_cues
from classifiers.language import detect_language
from classifiers.lexicon import Lexicon
from classifiers.pii import find_pii, mask
from classifiers.text import fold
from classifiers.topics import Taxonomy, load_taxonomy
from classifiers.urgency import assess_urgency
from store.model import Analysis, Brand, Label

if TYPE_CHECKING:
    from spacy.language import Language

    from config.settings import Settings

# Thresholds chosen on a development split of the Turkcell tweets (see tests/unit/test_simple_on_shared_data.py):
# complaints are the costly miss, so any net negative cue counts, while praise needs a little more.
NEGATIVE_BELOW = 0.0
POSITIVE_FROM = 0.3
NEEDS_REPLY = frozenset({"complaint", "question", "sales"})
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_GLUED = re.compile(r"([!?.,;:)])(?=[^\W\d_])")  # "düştü!Beter" -> "düştü! Beter"; "4.5G" stays


class _BlankPipelines:
    """Blank spaCy pipelines (tokenizer only) per language: loaded on first use, not at import, then reused.

    spaCy keeps every new word form in the pipeline's vocabulary; a long-running analyser renews the
    pipeline when that passes ``max_vocab`` so memory stays flat.
    """

    def __init__(self, max_vocab: int = 300_000) -> None:
        self.max_vocab = max_vocab
        self._loaded: dict[str, Language] = {}

    def __call__(self, lang: str) -> Language:
        nlp = self._loaded.get(lang)
        if nlp is None or len(nlp.vocab) > self.max_vocab:
            import spacy

            nlp = self._loaded[lang] = spacy.blank(lang)
        return nlp


_PIPELINES = _BlankPipelines()


@register
class SimpleAnalyzer:
    """Lexicon sentiment, keyword intents, taxonomy topics, rule urgency, brand matching and validated PII.

    Scores are heuristic confidences in [0, 1], not calibrated probabilities.
    """

    name: ClassVar[str] = "simple"
    version: ClassVar[str] = "simple/2"

    def __init__(
        self, brands: Sequence[Brand], *, taxonomy: Taxonomy | None = None, reach_followers: int = 10_000
    ) -> None:
        self._brands = BrandMatcher(brands)
        self._lexicon = Lexicon.load()
        self._cues = load_cues((INTENTS,))
        self.taxonomy = taxonomy or load_taxonomy()
        self.reach_followers = reach_followers

    @classmethod
    def from_settings(cls, settings: Settings) -> SimpleAnalyzer:
        a = settings.analysis
        return cls(
            settings.brand_models(),
            taxonomy=load_taxonomy(a.taxonomies, a.topics),
            reach_followers=a.reach_followers,
        )

    def tokens(self, text: str, lang: str = "tr") -> list[str]:
        """Folded word tokens of ``text`` from spaCy's rule tokenizer (punctuation, spaces and links dropped)."""
        return self._tokens(fold(text), lang)

    def _tokens(self, folded: str, lang: str) -> list[str]:
        spaced = _GLUED.sub(r"\1 ", _LINK.sub(" ", folded))
        doc = _PIPELINES("en" if lang == "en" else "tr").make_doc(spaced)
        return [t.text for t in doc if not (t.is_punct or t.is_space or t.like_url)]

    def analyze(self, text: str, *, brand_hint: str | None = None, context: MentionContext | None = None) -> Analysis:
        text = text or ""
        context = context or MentionContext()
        lang = detect_language(text)
        folded = fold(text)
        pii = find_pii(text)
        sentiment = self._sentiment(text, folded, lang)
        intent = self._intent(self._cues.count(folded)[INTENTS], text, sentiment)
        urgency = assess_urgency(
            folded,
            text,
            negative=_negative(sentiment),
            followers=context.followers,
            prior_contacts=context.prior_contacts,
            reach_followers=self.reach_followers,
        )
        return Analysis(
            lang=lang,
            brands=self._brand_names(folded, brand_hint or context.brand_hint),
            sentiment=sentiment,
            intent=intent,
            topics=self._topic_labels(self.taxonomy.rule_scores(folded)),
            urgency=urgency,
            pii=pii,
            masked_text=mask(text, pii),
            analyzer=self.version,
            needs_reply=intent.label in NEEDS_REPLY,
        )

    def sentiment(self, text: str, lang: str = "tr") -> Label:
        """negative / neutral / positive from the lexicon score of the text."""
        return self._sentiment(text, fold(text), lang)

    def _sentiment(self, text: str, folded: str, lang: str) -> Label:
        score = self._lexicon.score(self._tokens(folded, lang), text).score
        if score < NEGATIVE_BELOW:
            return Label("negative", _confidence(score))
        if score >= POSITIVE_FROM:
            return Label("positive", _confidence(score))
        return Label("neutral", round(0.5 - 0.15 * math.tanh(abs(score)), 3))

    def _brand_names(self, folded: str, hint: str | None) -> tuple[str, ...]:
        names = self._brands.match_folded(folded)
        if hint and hint not in names and not self._brands.vetoed_folded(folded, hint):
            names = (*names, hint)
        return names

    @staticmethod
    def _intent(found: dict[str, int], text: str, sentiment: Label) -> Label:
        votes: dict[str, float] = {label: float(n) for label, n in found.items()}
        if "?" in text:
            votes["question"] = votes.get("question", 0.0) + 0.8
        if sentiment.label == "negative":
            votes["complaint"] = votes.get("complaint", 0.0) + 2.0 * sentiment.score
        elif sentiment.label == "positive":
            votes["praise"] = votes.get("praise", 0.0) + sentiment.score
        best = max(votes, key=lambda k: (votes[k], k == "complaint"), default=None)
        if best is None or votes[best] < 0.5:
            return Label("other", 0.5)
        share = votes[best] / sum(votes.values())
        return Label(best, round(share * (1.0 - math.exp(-votes[best])), 3))

    @staticmethod
    def _topic_labels(found: dict[str, int]) -> tuple[Label, ...]:
        ranked = sorted(found.items(), key=lambda item: (-item[1], item[0]))
        return tuple(Label(label, round(min(1.0, 0.4 + 0.2 * n), 3)) for label, n in ranked)


def _negative(sentiment: Label) -> float:
    """The lexicon's label as a rough probability of "negative", which is what urgency asks for."""
    return sentiment.score if sentiment.label == "negative" else (1.0 - sentiment.score) / 2.0


def _confidence(score: float) -> float:
    return round(0.5 + 0.45 * math.tanh(abs(score) / 2.0), 3)
