"""What the trained models read: a text's normal form with brand names replaced by one token.

Training data names a few brands (the Turkcell tweets, the İş Bankası complaints, the fictional brands of our
own examples), each with its own mix of labels. A model that sees the names learns that mix: "Kuzey Telekom"
would lean towards whatever our examples said about it. Blinding the names, in training and in the analyser
alike, leaves the model only how people write about a brand.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources

from classifiers.brands import BrandMatcher, replace_spans
from classifiers.features import Grams
from classifiers.normalize import normalize
from classifiers.query import Words
from store.model import Brand

BRAND_TOKEN = "markaadi"


@cache
def known_brands() -> BrandMatcher:
    """The brands listed in ``classifiers/data/known_brands.txt``."""
    return BrandMatcher([Brand(name, aliases=(name,)) for name in _known_names()])


@cache
def _known_names() -> tuple[str, ...]:
    text = resources.files("classifiers.data").joinpath("known_brands.txt").read_text(encoding="utf-8")
    lines = (line for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return tuple(name.strip() for line in lines for name in line.split("|") if name.strip())


@cache
def _known_words() -> Words:
    """Every known alias in one pattern: one regex pass per text instead of one per brand."""
    return Words(_known_names(), glue=True)


def blind(norm: str, matcher: BrandMatcher | None = None, names: Iterable[str] = ()) -> str:
    """``norm`` (a ``normalize(...).norm``) with the known brands and ``matcher``'s brands ``names`` blinded."""
    if matcher is not None:
        norm = matcher.blind(norm, names, BRAND_TOKEN)
    return replace_spans(norm, _known_words().spans(norm), BRAND_TOKEN)


def model_grams(text: str) -> Grams:
    """The features of a raw text as the shipped models were trained on them (known brands blinded)."""
    return Grams.of(blind(normalize(text).norm))
