"""A polarity lexicon with Turkish-aware negation: word lists from data/lexicon.txt, scored over folded tokens."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources

from classifiers.text import fold

POLAR_SECTIONS = ("positive", "negative", "neutral")
MODIFIER_SECTIONS = ("negator_after", "negator_before", "intensifier", "diminisher", "contrast")
SECTIONS = (*POLAR_SECTIONS, *MODIFIER_SECTIONS)
MIN_STEM = 3

# Negative verb forms after a stem: -me/-ma (+d/z/m/s/y), -mıyor, and "can't" -eme/-ama ("beğenemedim").
_VERB_NEGATION = re.compile(r"^(?:[ae]?m[ae](?:[dzmsy]|$)|[ae]?m[iu]yo)")
# A token that is a negative verb form at all ("gelmedi", "çekmiyor", "olmaz"): weak complaint evidence.
_NEGATIVE_VERB = re.compile(r"^\w{2,}?(?:m[ae]d[iu]|[ae]?m[iu]yo|m[ae]z(?:$|d|l|s|m)|m[ae]yen)")
NEGATIVE_VERB_WEIGHT = -0.6
_URL = re.compile(r"(?:https?://|www\.)\S+")
ABSENCE_WEIGHT = -0.5  # "yok" with nothing to negate: "internet yok"
NEGATION_FACTOR = 0.8  # a negated word is a little weaker than its opposite: "not bad" is not "good"
_SYMBOL = re.compile(r"[^\w\s'*+]")  # emoji and emoticons are looked for as written, not as words
_QUESTION_PARTICLES = frozenset({"mi", "mu", "miydi", "muydu", "misin", "musun", "misiniz", "musunuz"})
_MODIFIER_KINDS = {s: s for s in MODIFIER_SECTIONS} | {"diminisher": "intensifier"}


@dataclass(frozen=True)
class Polarity:
    """The lexicon's verdict on one text: signed ``score`` and how many cues were found."""

    score: float
    hits: int


@dataclass
class _Entries:
    exact: dict[str, float] = field(default_factory=dict)
    stems: dict[str, float] = field(default_factory=dict)
    verbs: dict[str, float] = field(default_factory=dict)
    phrases: dict[str, list[tuple[tuple[str, ...], float]]] = field(default_factory=dict)
    symbols: dict[str, float] = field(default_factory=dict)
    phrase_heads: set[str] = field(default_factory=set)  # first two letters of every phrase, a cheap pre-check
    modifiers: dict[str, dict[str, float]] = field(default_factory=dict)


def _word_matches(pattern: str, token: str) -> bool:
    return token.startswith(pattern[:-1]) if pattern.endswith("*") else token == pattern


def parse(text: str) -> _Entries:
    """Read the lexicon format described at the top of data/lexicon.txt."""
    entries = _Entries(modifiers={s: {} for s in MODIFIER_SECTIONS})
    section = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            if section not in SECTIONS:
                raise ValueError(f"lexicon line {number}: unknown section {section!r}")
            continue
        head, _, tail = line.rpartition(" ")
        if head and re.fullmatch(r"-?\d+(?:\.\d+)?", tail):
            entry, weight = head.strip(), float(tail)
        else:
            entry, weight = line, 1.0
        sign = {"positive": 1.0, "negative": -1.0, "neutral": 0.0}.get(section)
        if sign is None:
            entries.modifiers[section][fold(entry)] = weight
            continue
        value = sign * weight
        if _SYMBOL.search(entry):
            entries.symbols[entry.casefold()] = value
            continue
        marker = entry[-1] if entry[-1] in "*+" else ""
        words = fold(entry.rstrip("*+")).split()
        if len(words) > 1:
            pattern = (*words[:-1], words[-1] + ("*" if marker else ""))
            entries.phrases.setdefault(words[0].rstrip("*"), []).append((pattern, value))
        elif marker == "+":
            entries.verbs[words[0]] = value
        elif marker == "*":
            entries.stems[words[0]] = value
        else:
            entries.exact[words[0]] = value
    for head, options in entries.phrases.items():
        options.sort(key=lambda p: (-len(p[0]), -sum(map(len, p[0]))))
        entries.phrase_heads.add(head[:2])
    return entries


class Lexicon:
    """Scores folded tokens: polar words, phrases, negators on either side, intensifiers and emoji."""

    def __init__(self, entries: _Entries) -> None:
        self._e = entries
        self._kinds: dict[str, tuple[str, float]] = {}
        self._kind_stems: list[tuple[str, str, float]] = []
        for section, kind in _MODIFIER_KINDS.items():
            for word, weight in entries.modifiers[section].items():
                if word.endswith("*"):
                    self._kind_stems.append((word[:-1], kind, weight))
                else:
                    self._kinds[word] = (kind, weight)
        symbols = sorted(entries.symbols, key=len, reverse=True)
        # ":D" may come as ":DDD"; a symbol ending in a letter takes repeats of it, then no further letter.
        alternatives = "|".join(re.escape(s) + (r"+(?!\w)" if s[-1].isalpha() else "") for s in symbols)
        self._symbols = re.compile(alternatives) if symbols else None
        self._cache: dict[str, tuple[str, float, bool] | None] = {}

    @classmethod
    def load(cls) -> Lexicon:
        """The lexicon shipped in ``classifiers/data/lexicon.txt``."""
        text = resources.files("classifiers.data").joinpath("lexicon.txt").read_text(encoding="utf-8")
        return cls(parse(text))

    def classify(self, token: str) -> tuple[str, float, bool] | None:
        """What one folded token is: (kind, weight, negatable); kind is "word" or a modifier kind."""
        if token in self._cache:
            return self._cache[token]
        found = self._classify(token)
        if len(self._cache) > 200_000:
            self._cache.clear()
        self._cache[token] = found
        return found

    def _classify(self, token: str) -> tuple[str, float, bool] | None:
        if token in self._kinds:
            kind, weight = self._kinds[token]
            return kind, weight, False
        for stem, kind, weight in self._kind_stems:
            if token.startswith(stem):
                return kind, weight, False
        bare = token.split("'", 1)[0]
        if bare in self._e.exact:
            return "word", self._e.exact[bare], True
        for end in range(len(bare), MIN_STEM - 1, -1):
            prefix = bare[:end]
            if prefix in self._e.verbs:
                weight = self._e.verbs[prefix]
                return "word", (-weight if _VERB_NEGATION.match(bare[end:]) else weight), True
            if prefix in self._e.stems:
                return "word", self._e.stems[prefix], True
        if _NEGATIVE_VERB.match(bare):
            return "negative_verb", NEGATIVE_VERB_WEIGHT, False
        return None

    def _phrase_at(self, tokens: Sequence[str], i: int) -> tuple[int, float] | None:
        first = tokens[i]
        for end in range(len(first), 1, -1):
            for pattern, weight in self._e.phrases.get(first[:end], ()):
                n = len(pattern)
                window = tokens[i : i + n]
                if len(window) == n and all(_word_matches(p, t) for p, t in zip(pattern, window, strict=True)):
                    return n, weight
        return None

    def score(self, tokens: Sequence[str], text: str = "") -> Polarity:
        """Score already folded word tokens (``classifiers.text.fold``) and the emoji in ``text``."""
        values: list[float] = []
        where: list[int] = []  # token index of each value
        negatable: list[bool] = []  # a plain polar word a following "değil"/"yok" may still flip
        boost, boost_until, negate_until = 1.0, -1, -1
        i = 0
        while i < len(tokens):
            phrase = self._phrase_at(tokens, i) if tokens[i][:2] in self._e.phrase_heads else None
            if phrase is not None:
                values.append(phrase[1] * (boost if i <= boost_until else 1.0))
                where.append(i + phrase[0] - 1)
                negatable.append(False)
                i += phrase[0]
                continue
            found = self.classify(tokens[i])
            if found is not None:
                kind, weight, can_flip = found
                if kind == "contrast":
                    values = [v * 0.5 for v in values]
                elif kind == "intensifier":
                    boost, boost_until = weight, i + 2
                elif kind == "negator_before":
                    negate_until = i + 3
                elif kind == "negator_after" and self._question_tag(tokens, i):
                    pass  # "güzel değil mi?" asks for agreement, it does not negate
                elif kind == "negator_after" or (kind == "negative_verb" and self._flippable(where, negatable, i)):
                    if self._flippable(where, negatable, i):
                        values[-1], negatable[-1] = -values[-1] * NEGATION_FACTOR, False
                    elif tokens[i].startswith("yok"):
                        values.append(ABSENCE_WEIGHT)
                        where.append(i)
                        negatable.append(False)
                elif weight:
                    if i <= boost_until:
                        weight, boost_until = weight * boost, -1
                    if i <= negate_until:
                        weight, negate_until, can_flip = -weight * NEGATION_FACTOR, -1, False
                    values.append(weight)
                    where.append(i)
                    negatable.append(can_flip)
            i += 1
        total, hits = float(sum(values)), len(values)
        if self._symbols is not None and text:
            for m in self._symbols.finditer(_URL.sub(" ", text.casefold())):
                total += self._e.symbols.get(m.group(), 0.0) or self._symbol_weight(m.group())
                hits += 1
        return Polarity(total, hits)

    def _symbol_weight(self, written: str) -> float:
        """Weight of a symbol written with a repeated last letter (":ddd" counts as ":d")."""
        return self._e.symbols.get(written.rstrip(written[-1]) + written[-1], 0.0)

    @staticmethod
    def _flippable(where: list[int], negatable: list[bool], i: int) -> bool:
        """A polar word just before token ``i`` that a following negation may flip ("sorun yaşamadım")."""
        return bool(where) and negatable[-1] and where[-1] >= i - 2

    @staticmethod
    def _question_tag(tokens: Sequence[str], i: int) -> bool:
        return i + 1 < len(tokens) and tokens[i + 1] in _QUESTION_PARTICLES
