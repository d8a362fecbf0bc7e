"""Which tracked brands a text is about, by alias (with Turkish suffixes), handle and hashtag, context and vetoes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from classifiers.text import fold
from store.model import Brand

# Suffixes that may follow an alias written without an apostrophe ("getirden", "turkcellde", "turkcellin"),
# in their ASCII-folded forms (so "ı/i" and "u/ü" collapse), up to three in a row: plural; case endings
# (accusative, dative, locative, ablative, genitive, instrumental); possessives and derivations ("turkcellim",
# "turkcellli", "getirsiz"); relative "-ki" and the copula. After an apostrophe any letters are allowed: the
# apostrophe itself says "proper noun + suffix". A closed list keeps "getirdi" (brought) from meaning Getir.
_SUFFIXES = """
    ler lar
    yi yu i u ye ya e a de da te ta den dan ten tan nin nun in un le la yle yla ile ne na nde nda nden ndan ni nu
    im um imiz umuz li lu ci cu siz suz lik luk
    ki dir dur tir tur
"""
_SUFFIX_PARTS = _SUFFIXES.split()
_SUFFIX = "(?:" + "|".join(sorted(_SUFFIX_PARTS, key=len, reverse=True)) + "){0,3}"
_AFTER_APOSTROPHE = r"'[^\W\d_]*"


def _phrase(text: str) -> str:
    """A folded phrase as a regex whose words may be separated by any run of whitespace."""
    return r"\s+".join(re.escape(part) for part in fold(text).split())


def _alias_pattern(aliases: Iterable[str]) -> re.Pattern[str] | None:
    parts = sorted({_phrase(a) for a in aliases if a.strip()}, key=len, reverse=True)
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?:" + _AFTER_APOSTROPHE + "|" + _SUFFIX + r")(?!\w)")


def _tag_pattern(handles: Iterable[str], hashtags: Iterable[str]) -> re.Pattern[str] | None:
    tags = {"@" + fold(h).lstrip("@") for h in handles if h.strip("@ ")}
    tags |= {"#" + fold(h).lstrip("#") for h in hashtags if h.strip("# ")}
    if not tags:
        return None
    alternatives = "|".join(re.escape(t) for t in sorted(tags, key=len, reverse=True))
    return re.compile(r"(?<![\w@#])(?:" + alternatives + r")(?!\w)")


def _stem_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    """Context words and exclude phrases match at the start of a word: "sipariş" also finds "siparişim"."""
    parts = sorted({_phrase(w) for w in words if w.strip()}, key=len, reverse=True)
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")")


@dataclass(frozen=True)
class _CompiledBrand:
    name: str
    ambiguous: bool
    aliases: re.Pattern[str] | None
    tags: re.Pattern[str] | None
    context: re.Pattern[str] | None
    exclude: re.Pattern[str] | None


def _compile(brand: Brand) -> _CompiledBrand:
    return _CompiledBrand(
        name=brand.name,
        ambiguous=brand.ambiguous,
        aliases=_alias_pattern(brand.aliases or (brand.name,)),
        tags=_tag_pattern(brand.handles, brand.hashtags),
        context=_stem_pattern(brand.context),
        exclude=_stem_pattern(brand.exclude),
    )


class BrandMatcher:
    """Finds the brands a text names. Matching is case-, diacritic- and suffix-insensitive.

    - an alias matches as whole words, optionally followed by a Turkish suffix, directly or after an apostrophe;
    - a handle (``@getir``) or hashtag (``#getir``) matches exactly, ignoring case;
    - an ``ambiguous`` brand's aliases count only when one of its ``context`` words, handles or hashtags is there;
    - any ``exclude`` phrase vetoes the brand for the whole text.

    ``match`` returns brand names in the order the brands were given.
    """

    def __init__(self, brands: Sequence[Brand]) -> None:
        self._brands = tuple(_compile(b) for b in brands)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self._brands)

    def match(self, text: str) -> tuple[str, ...]:
        """Names of the brands ``text`` is about."""
        return self.match_folded(fold(text))

    def match_folded(self, folded: str) -> tuple[str, ...]:
        """``match`` for a text already folded with ``classifiers.text.fold``."""
        return tuple(b.name for b in self._brands if self._names(b, folded))

    def vetoed(self, text: str, brand: str) -> bool:
        """True when one of ``brand``'s exclude phrases is in ``text`` (unknown brands are never vetoed)."""
        return self.vetoed_folded(fold(text), brand)

    def vetoed_folded(self, folded: str, brand: str) -> bool:
        """``vetoed`` for a text already folded with ``classifiers.text.fold``."""
        return any(b.name == brand and b.exclude is not None and b.exclude.search(folded) for b in self._brands)

    @staticmethod
    def _names(brand: _CompiledBrand, folded: str) -> bool:
        if brand.exclude is not None and brand.exclude.search(folded):
            return False
        tagged = brand.tags is not None and brand.tags.search(folded) is not None
        if tagged:
            return True
        if brand.aliases is None or brand.aliases.search(folded) is None:
            return False
        if not brand.ambiguous:
            return True
        return brand.context is not None and brand.context.search(folded) is not None
