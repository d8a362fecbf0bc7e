"""The rule-and-lexicon baseline analyser: honest, fast, explainable; the yardstick trained models must beat."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from classifiers.base import register
from classifiers.brands import BrandMatcher
from classifiers.cues import INTENTS, TOPICS, URGENCY, load_cues, repeated_contact
from classifiers.language import detect_language
from classifiers.lexicon import Lexicon
from classifiers.pii import find_pii, mask
from classifiers.text import fold
from store.model import Analysis, Brand, Label, Urgency

if TYPE_CHECKING:
    from spacy.language import Language

# Thresholds chosen on a development split of the Turkcell tweets (see tests/unit/test_simple_on_shared_data.py):
# complaints are the costly miss, so any net negative cue counts, while praise needs a little more.
NEGATIVE_BELOW = 0.0
POSITIVE_FROM = 0.3
# Weight of each urgency reason; the sum picks the level (0 low, 1 medium, 2 high, 3 or more critical).
URGENCY_WEIGHTS: dict[str, int] = {
    "safety": 3,
    "fraud": 3,
    "money_loss": 2,
    "legal_threat": 2,
    "public_threat": 2,
    "churn_threat": 1,
    "repeated_contact": 1,
}
LEVELS = ("low", "medium", "high", "critical")
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
    """Lexicon sentiment, keyword intents/topics/urgency, rule brand matching and validated PII.

    Scores are heuristic confidences in [0, 1], not calibrated probabilities.
    """

    name: ClassVar[str] = "simple"
    version: ClassVar[str] = "simple/1"

    def __init__(self, brands: Sequence[Brand]) -> None:
        self._brands = BrandMatcher(brands)
        self._lexicon = Lexicon.load()
        self._cues = load_cues()

    def tokens(self, text: str, lang: str = "tr") -> list[str]:
        """Folded word tokens of ``text`` from spaCy's rule tokenizer (punctuation, spaces and links dropped)."""
        return self._tokens(fold(text), lang)

    def _tokens(self, folded: str, lang: str) -> list[str]:
        spaced = _GLUED.sub(r"\1 ", _LINK.sub(" ", folded))
        doc = _PIPELINES("en" if lang == "en" else "tr").make_doc(spaced)
        return [t.text for t in doc if not (t.is_punct or t.is_space or t.like_url)]

    def analyze(self, text: str, *, brand_hint: str | None = None) -> Analysis:
        text = text or ""
        lang = detect_language(text)
        folded = fold(text)
        pii = find_pii(text)
        sentiment = self._sentiment(text, folded, lang)
        cues = self._cues.count(folded)
        return Analysis(
            lang=lang,
            brands=self._brand_names(folded, brand_hint),
            sentiment=sentiment,
            intent=self._intent(cues[INTENTS], text, sentiment),
            topics=self._topic_labels(cues[TOPICS]),
            urgency=self._urgency_of(cues[URGENCY], folded),
            pii=pii,
            masked_text=mask(text, pii),
            analyzer=self.version,
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
            votes["information_request"] = votes.get("information_request", 0.0) + 0.8
        if sentiment.label == "negative":
            votes["complaint"] = votes.get("complaint", 0.0) + 2.0 * sentiment.score
        elif sentiment.label == "positive":
            votes["thanks"] = votes.get("thanks", 0.0) + sentiment.score
        best = max(votes, key=lambda k: (votes[k], k == "complaint"), default=None)
        if best is None or votes[best] < 0.5:
            return Label("other", 0.5)
        share = votes[best] / sum(votes.values())
        return Label(best, round(share * (1.0 - math.exp(-votes[best])), 3))

    @staticmethod
    def _topic_labels(found: dict[str, int]) -> tuple[Label, ...]:
        ranked = sorted(found.items(), key=lambda item: (-item[1], item[0]))
        return tuple(Label(label, round(min(1.0, 0.4 + 0.2 * n), 3)) for label, n in ranked)

    @staticmethod
    def _urgency_of(found: dict[str, int], folded: str) -> Urgency:
        reasons = set(found)
        if repeated_contact(folded):
            reasons.add("repeated_contact")
        ordered = tuple(r for r in URGENCY_WEIGHTS if r in reasons)
        total = sum(URGENCY_WEIGHTS[r] for r in ordered)
        return Urgency(LEVELS[min(total, len(LEVELS) - 1)], ordered)


def _confidence(score: float) -> float:
    return round(0.5 + 0.45 * math.tanh(abs(score) / 2.0), 3)
