"""Which tracked brands a text is about: aliases with Turkish endings, handles, hashtags, evidence, vetoes, queries."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from classifiers.query import Query, Words, parse_query
from classifiers.text import fold
from store.errors import ConfigError
from store.model import Brand

# Relevance of a brand to a text, by the strongest evidence found; ``match`` keeps scores from MATCH_FROM up.
SURE = 1.0  # an alias of an unambiguous brand, or one of the brand's handles or hashtags
CONTEXT = 0.9  # an ambiguous alias and one of the brand's context words
APOSTROPHE = 0.8  # "Getir'den": Turkish sets the ending of a proper noun, and only of one, off with an apostrophe
CAPITALISED = 0.6  # "dün Getir ile": a capital where no sentence starts
WEAK = 0.2  # an ambiguous alias and nothing else ("su getir"; "Getir" opening a sentence)
MATCH_FROM = 0.5

_ORIGINAL_WORD = re.compile(r"[^\W\d_]+(?:['’`´ʼ][^\W\d_]+)?")
_SENTENCE_END = re.compile(r"[.!?…\n]")


def _capitalised(text: str) -> str:
    """The folded words of ``text`` written with a capital where no sentence starts, "|" for every other word.

    Empty when casing says nothing: a text in capitals, or one where most words are capitalised (a title).
    """
    if text.upper() == text:
        return ""
    out: list[str] = []
    capitals = others = end = 0
    for found in _ORIGINAL_WORD.finditer(text):
        start, word = found.start(), found.group()
        opens_sentence = not out or _SENTENCE_END.search(text, end, start) is not None
        end = found.end()
        if opens_sentence or text[start - 1 : start] in ("@", "#"):  # handles are someone's spelling, not casing
            out.append("|")
        elif word[0].isupper():
            out.append(word)
            capitals += 1
        else:
            out.append("|")
            others += 1
    return "" if capitals > max(1, others) else fold(" ".join(out))


@dataclass(frozen=True)
class _CompiledBrand:
    name: str
    ambiguous: bool
    aliases: Words
    tags: Words
    context: Words
    exclude: Words
    query: Query | None


def _compile(brand: Brand) -> _CompiledBrand:
    query = None
    if brand.query.strip():
        try:
            query = parse_query(brand.query)
        except ConfigError as exc:
            raise ConfigError(f"brand {brand.name!r}: {exc}", key="brands[].query") from exc
    tags = ["@" + h.strip().lstrip("@") for h in brand.handles if h.strip("@ ")]
    tags += ["#" + h.strip().lstrip("#") for h in brand.hashtags if h.strip("# ")]
    return _CompiledBrand(
        name=brand.name,
        ambiguous=brand.ambiguous,
        aliases=Words(brand.aliases or (brand.name,), strict=brand.ambiguous, glue=True),
        tags=Words(tags, ending="none"),
        context=Words(brand.context, ending="any"),  # word starts: "sipariş" also finds "siparişim"
        exclude=Words(brand.exclude, ending="any"),
        query=query,
    )


def replace_spans(text: str, spans: Iterable[tuple[int, int]], token: str) -> str:
    """``text`` with each (start, end) span, in order, replaced by ``token``; of overlapping spans the first wins."""
    out: list[str] = []
    at = 0
    for start, end in spans:
        if start >= at:
            out += (text[at:start], token)
            at = end
    if not out:
        return text
    out.append(text[at:])
    return "".join(out)


class BrandMatcher:
    """Finds the brands a text names. Matching is case-, diacritic- and suffix-insensitive.

    - an alias matches as whole words, the last one optionally followed by a Turkish ending: after an apostrophe
      any ("Turkcell'den", "TURKCELL'İN", "Türk Telekom'a"), without one from a closed list of noun endings
      ("turkcellden", "turk telekomdan", "turkcellci"); the words of a multi-word alias may also run together;
    - a handle (``@getir``) or hashtag (``#getir``) matches exactly, ignoring case;
    - an ``ambiguous`` brand's alias is an ordinary word too (Getir "bring", Şok "shock"): its endings must
      follow its vowel harmony ("şoka", never "şoke"; verb forms like "getirdi" never match) and it counts only
      with evidence: a handle or hashtag, a ``context`` word, an apostrophe ending ("Getir'den"), or, when
      ``match`` sees the original text, a capital where no sentence starts ("dün Getir ile ..."). Without
      evidence it is a candidate scored WEAK in ``match_scores`` and left out of ``match``;
    - any ``exclude`` phrase vetoes the brand for the whole text;
    - a ``query`` narrows, never widens: the brand still needs an alias, handle or hashtag, and the text must
      also satisfy the query (``classifiers.query``). Words that should find the brand on their own belong in
      ``aliases``.

    ``match`` returns brand names in the order the brands were given. A bad query raises ``ConfigError``.
    """

    def __init__(self, brands: Sequence[Brand]) -> None:
        self._brands = tuple(_compile(b) for b in brands)
        self._by_name = {b.name: b for b in self._brands}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self._brands)

    def match(self, text: str, *, folded: str | None = None) -> tuple[str, ...]:
        """Names of the brands ``text`` is about; pass ``folded`` (``fold(text)``) when it is already at hand."""
        scores = self.match_scores(text, folded=folded)
        return tuple(name for name, score in scores.items() if score >= MATCH_FROM)

    def match_scores(self, text: str, *, folded: str | None = None) -> dict[str, float]:
        """Every brand with an alias, handle or hashtag in ``text`` (and no veto), with its relevance in (0, 1]."""
        return self._scores(fold(text) if folded is None else folded, text)

    def match_folded(self, folded: str) -> tuple[str, ...]:
        """``match`` for a text already folded with ``classifiers.text.fold``: casing cannot count as evidence."""
        return tuple(name for name, score in self._scores(folded, None).items() if score >= MATCH_FROM)

    def vetoed(self, text: str, brand: str) -> bool:
        """True when ``brand`` has an exclude phrase in ``text`` or a query ``text`` fails (unknown brand: False)."""
        return self.vetoed_folded(fold(text), brand)

    def vetoed_folded(self, folded: str, brand: str) -> bool:
        """``vetoed`` for a text already folded with ``classifiers.text.fold``."""
        found = self._by_name.get(brand)
        if found is None:
            return False
        return found.exclude.search(folded) or (found.query is not None and not found.query.matches(folded))

    def blind(self, folded: str, names: Iterable[str] | None = None, token: str = "markaadi") -> str:
        """``folded`` with every alias, handle and hashtag of the brands ``names`` replaced by ``token``, endings
        kept ("turkcellden" -> "markaadiden"): what the trained models read, so that they learn how people write
        about a brand and not which brand it was. ``names`` None means every brand that is not ambiguous (an
        ambiguous name is an ordinary word until ``match`` finds evidence for the brand)."""
        if names is None:
            chosen = [b for b in self._brands if not b.ambiguous]
        else:
            chosen = [self._by_name[n] for n in names if n in self._by_name]
        spans = sorted(s for b in chosen for words in (b.aliases, b.tags) for s in words.spans(folded))
        return replace_spans(folded, spans, token)

    def _scores(self, folded: str, original: str | None) -> dict[str, float]:
        scores: dict[str, float] = {}
        for brand in self._brands:
            score = self._score(brand, folded, original)
            if score:
                scores[brand.name] = score
        return scores

    @staticmethod
    def _score(brand: _CompiledBrand, folded: str, original: str | None) -> float:
        tagged = brand.tags.search(folded)
        if not tagged and not brand.aliases.search(folded):
            return 0.0
        if brand.exclude.search(folded):
            return 0.0
        if brand.query is not None and not brand.query.matches(folded):
            return 0.0
        if tagged or not brand.ambiguous:
            return SURE
        if brand.context.search(folded):
            return CONTEXT
        if any(brand.aliases.hits(folded)):
            return APOSTROPHE
        if original is not None and brand.aliases.search(_capitalised(original)):
            return CAPITALISED
        return WEAK
