"""Boolean brand queries (AND, OR, NOT, parentheses, "phrases") and the Turkish word patterns aliases share."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import NamedTuple, Protocol

from classifiers.text import fold, turkish_casefold
from store.errors import ConfigError

# A closed list of noun endings, written with archiphonemes: A = a/e and I = ı/i/u/ü by vowel harmony, D = d/t
# and C = c/ç by the last consonant; a part in parentheses is a buffer used only where it is needed ("(y)A":
# "garantiye" but "getire"; "(I)m": "garantim" but "getirim"). Verb endings ("getirdi", "getirmek", "getirsene")
# are never generated, which is what keeps the verb "getir" apart from the brand Getir.
_PLURAL = ("", "lAr")
_POSSESSIVE = ("", "(I)m", "(s)I", "(I)mIz", "lArI")  # 2nd person left out: "getirin(iz)" is an imperative
_CASES = ("", "(y)I", "(y)A", "DA", "DAn", "(n)In", "(y)lA", "CA")
_CASES_AFTER_3RD = ("", "nI", "nA", "nDA", "nDAn", "(n)In", "(y)lA")  # "faturasında": the n of a 3rd person
_DERIVATIONS = ("lI", "sIz", "CI", "lIk")  # "Turkcell'li", "turkcellsiz", "turkcellci", "turkcelllik"
_PERSONAL = ("(y)Im", "(y)Iz", "sIn")  # only after a derivation ("turkcellciyim"), else "getiriz" would count
_VOWELS = frozenset("aeıioöuü")
_BACK = frozenset("aıou")
_VOICELESS = frozenset("çfhkpsşt")
_HIGH = dict(zip("aeıioöuü", "ıiıiuüuü", strict=True))  # the 4-way I after each vowel
_ANY_STATES = tuple((v, end) for v in sorted(_VOWELS) for end in (v, "r", "k"))  # open, voiced, voiceless
_State = tuple[str, str]  # (last vowel, last letter) of the word so far
_PLAIN_VOWELS = str.maketrans("âîû", "aiu")


@cache
def _attach(state: _State, template: str) -> tuple[str, _State]:
    vowel, last = state
    out: list[str] = []
    for buffered, letter in re.findall(r"\((.)\)|(.)", template):
        if buffered and (buffered in "AI") == (last in _VOWELS):
            continue  # "(y)" only after a vowel, "(I)" only after a consonant
        letter = buffered or letter
        if letter == "A":
            letter = "a" if vowel in _BACK else "e"
        elif letter == "I":
            letter = _HIGH[vowel]
        elif letter in "DC":
            letter = ("t" if letter == "D" else "ç") if last in _VOICELESS else letter.lower()
        out.append(letter)
        last = letter
        vowel = letter if letter in _VOWELS else vowel
    return "".join(out), (vowel, last)


def _nominal(state: _State) -> Iterator[str]:
    for plural in _PLURAL:
        s1, st1 = _attach(state, plural)
        for possessive in _POSSESSIVE:
            s2, st2 = _attach(st1, possessive)
            cases = _CASES_AFTER_3RD if possessive.endswith("I") else _CASES
            for case in cases:
                s3, st3 = _attach(st2, case)
                yield s1 + s2 + s3
                yield s1 + s2 + s3 + _attach(st3, "DIr")[0]
                if case in ("DA", "(n)In"):  # "turkcelldeki", "turkcellinkiler"
                    for tail in ("", "lAr", "nI", "nA", "nDA", "nDAn", "nIn", "lArI", "lArA", "lArDA", "lArDAn"):
                        yield s1 + s2 + s3 + "ki" + _attach(("i", "i"), tail)[0]


@cache
def _ending_set(states: tuple[_State, ...]) -> frozenset[str]:
    found: set[str] = set()
    for state in states:
        found.update(_nominal(state))
        for derivation in _DERIVATIONS:
            stem, after = _attach(state, derivation)
            found.update(stem + rest for rest in _nominal(after))
            found.update(stem + _attach(after, personal)[0] for personal in _PERSONAL)
    return frozenset(map(fold, found))


def _endings_after(word: str, strict: bool) -> frozenset[str]:
    """The folded endings ``word`` may take; with ``strict``, only those its vowel harmony allows."""
    word = turkish_casefold(word).translate(_PLAIN_VOWELS)
    vowels = [c for c in word if c in _VOWELS]
    if strict and vowels and word[-1].isalpha():
        return _ending_set(((vowels[-1], word[-1]),))
    return _ending_set(_ANY_STATES)  # spelling does not show how "Vodafone", "Apple" or "GSM" are said


def _flex(word: str) -> str:
    """A folded word as a regex where a doubled letter may appear once: squeezed "turkcelllll" still matches."""
    return re.sub(r"([^\W\d_])\1", r"\1{1,2}", re.escape(word))


def _anchor(folded_words: list[str]) -> str:
    """The longest piece of text every match contains (split at doubled letters): a cheap ``in`` test first."""
    return max(re.sub(r"([^\W\d_])\1", r"\1 \1", " ".join(folded_words)).split(), key=len, default="")


class Words:
    """Whole words or phrases in folded text, the last word followed by an optional ending.

    ``ending``: "turkish" allows an apostrophe and any letters ("Turkcell'den") or an ending from a closed list
    ("turkcellden"); with ``strict`` the list follows the vowel harmony of the last word ("şoka", never "şoke").
    "any" allows any letters (a prefix), "none" none but an apostrophe ending (handles, hashtags). ``glue`` lets
    the words run together ("turktelekom"). The regex takes any letters after the words and the ending is then
    looked up in a set, which compiles fast and costs one lookup per hit.
    """

    def __init__(self, phrases: Iterable[str], *, strict: bool = False, glue: bool = False, ending: str = "turkish"):
        alternatives: list[str] = []
        self._endings: list[frozenset[str] | None] = []
        self._tails: list[str] = []
        anchors: set[str] = set()
        fixed = None if ending == "any" else frozenset({""})
        unique = {fold(p): p for p in phrases if fold(p).split()}
        for folded in sorted(unique, key=len, reverse=True):  # longest first: "turk telekom" before "turk"
            parts = folded.split()
            rest = [parts[0][1:], *parts[1:]]
            body = (r"[\s_-]*" if glue else r"\s+").join(map(re.escape if ending == "none" else _flex, rest))
            # The word-start check follows the first letter so the regex engine can skip ahead to that letter.
            start = re.escape(folded[0]) + (r"(?<![\w@#].)" if ending == "none" else r"(?<!\w.)")
            alternatives.append(start + body + r"(?:(')[^\W\d_]*|([^\W\d_]*))")
            self._tails.append(parts[-1][-1] if parts[-1][-2:-1] == parts[-1][-1:] else "")
            self._endings.append(_endings_after(unique[folded].split()[-1], strict) if ending == "turkish" else fixed)
            anchors.add(_anchor(parts))
        self.anchors = tuple(sorted(anchors))
        self._pattern = re.compile("(?:" + "|".join(alternatives) + r")(?!\w)") if alternatives else None

    def hits(self, folded: str) -> Iterator[bool]:
        """For each place the words occur, whether an apostrophe sets off the ending (so a proper noun)."""
        if self._pattern is None or not any(a in folded for a in self.anchors):
            return
        for found in self._pattern.finditer(folded):
            index, plain = divmod((found.lastindex or 1) - 1, 2)  # two groups per phrase: "'", or the ending
            if not plain:
                yield True
                continue
            endings, tail, ending = self._endings[index], self._tails[index], found.group(index * 2 + 2)
            if endings is None or ending in endings or (tail and tail + ending in endings):
                yield False

    def search(self, folded: str) -> bool:
        return next(self.hits(folded), None) is not None

    def spans(self, folded: str) -> Iterator[tuple[int, int]]:
        """Where the words themselves occur (start, end), their ending left out: "turkcell" of "turkcellden"."""
        if self._pattern is None or not any(a in folded for a in self.anchors):
            return
        for found in self._pattern.finditer(folded):
            index, plain = divmod((found.lastindex or 1) - 1, 2)
            group = index * 2 + 1 + plain
            if plain:
                endings, tail, ending = self._endings[index], self._tails[index], found.group(group)
                if not (endings is None or ending in endings or (tail and tail + ending in endings)):
                    continue
            yield found.start(), found.start(group)


class Node(Protocol):
    def matches(self, folded: str) -> bool: ...


@dataclass(frozen=True)
class Term:
    """A word, ``word*`` prefix, ``@handle``, ``#hashtag`` or "quoted phrase", compiled once."""

    text: str
    words: Words = field(compare=False)

    def matches(self, folded: str) -> bool:
        return self.words.search(folded)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Operation:
    """``operands`` joined by "AND" (all must match) or "OR" (one must), or the single operand of "NOT"."""

    operator: str
    operands: tuple[Node, ...]

    def matches(self, folded: str) -> bool:
        if self.operator == "NOT":
            return not self.operands[0].matches(folded)
        found = (operand.matches(folded) for operand in self.operands)
        return all(found) if self.operator == "AND" else any(found)

    def __str__(self) -> str:
        if self.operator == "NOT":
            return f"NOT {self.operands[0]}"
        return "(" + f" {self.operator} ".join(map(str, self.operands)) + ")"


@dataclass(frozen=True)
class Query:
    """A parsed query; ``matches`` takes text folded with ``classifiers.text.fold``. ``str()`` shows the grouping."""

    source: str
    root: Node

    def matches(self, folded: str) -> bool:
        return self.root.matches(folded)

    def __str__(self) -> str:
        return str(self.root)


_QUOTES = '"“”„'
_TOKEN = re.compile(  # "-" before a term means NOT; anything up to a space, a parenthesis or a quote is a word
    rf"(?P<paren>[()])|(?P<phrase>[{_QUOTES}][^{_QUOTES}]*[{_QUOTES}])|(?P<open>[{_QUOTES}])"
    rf"|(?P<NOT>-(?=[^\s)]))|(?P<word>[^\s(){_QUOTES}]+)"
)


class _Token(NamedTuple):
    kind: str  # word, phrase, AND, OR, NOT, (, )
    text: str
    column: int  # 1-based, for error messages


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = list(self._scan())
        self.at = 0

    def fail(self, column: int, message: str) -> ConfigError:
        return ConfigError(f"bad query {self.source!r} at column {column}: {message}")

    def _scan(self) -> Iterator[_Token]:
        for found in _TOKEN.finditer(self.source):
            kind, text = found.lastgroup or "", found.group()
            if kind == "open":
                raise self.fail(found.start() + 1, "this quote is never closed")
            if kind == "paren" or (kind == "word" and text in ("AND", "OR", "NOT")):
                kind = text
            yield _Token(kind, text, found.start() + 1)

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def parse(self) -> Node:
        if not self.tokens:
            raise self.fail(1, "the query is empty")
        node = self.any_of()
        if (extra := self.peek()) is not None:  # only an unmatched ")" can be left over
            raise self.fail(extra.column, "this ')' has no matching '('")
        return node

    def any_of(self) -> Node:
        parts = [self.all_of()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.at += 1
            parts.append(self.all_of())
        return parts[0] if len(parts) == 1 else Operation("OR", tuple(parts))

    def all_of(self) -> Node:
        parts = [self.negation()]
        while (token := self.peek()) is not None and token.kind not in ("OR", ")"):
            if token.kind == "AND":  # otherwise implied: "a b" means "a AND b"
                self.at += 1
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else Operation("AND", tuple(parts))

    def negation(self) -> Node:
        token = self.peek()
        if token is None or token.kind != "NOT":
            return self.atom()
        self.at += 1
        return Operation("NOT", (self.negation(),))

    def atom(self) -> Node:
        token = self.peek()
        after = f" after {self.tokens[self.at - 1].text!r}" if self.at else ""
        if token is None:
            raise self.fail(len(self.source) + 1, f"expected a term, a phrase or '('{after}, found the end")
        self.at += 1
        if token.kind in ("word", "phrase"):
            return self.term(token)
        if token.kind != "(":
            raise self.fail(token.column, f"expected a term, a phrase or '('{after}, found {token.text!r}")
        node = self.any_of()
        if (closing := self.peek()) is None or closing.kind != ")":
            raise self.fail(token.column, "this '(' is never closed")
        self.at += 1
        return node

    def term(self, token: _Token) -> Term:
        text = (token.text[1:-1] if token.kind == "phrase" else token.text).strip()
        prefix = text.endswith("*")
        text = text.rstrip("*").rstrip()
        if not re.search(r"[^\W_]", text):
            raise self.fail(token.column, f"{token.text!r} has no letters or digits to look for")
        tag = text[0] in "@#" and len(text.split()) == 1 and not prefix
        return Term(token.text, Words([text], ending="none" if tag else "any" if prefix else "turkish"))


def parse_query(text: str) -> Query:
    """Parse a brand query; raise ``ConfigError`` naming the column and what was expected when it is malformed.

    - terms match like brand aliases: whole words, any case or diacritics, with a Turkish ending
      ("fatura" finds "faturamı", "Fatura'dan"); ``fatur*`` is a prefix; ``@handle`` and ``#tag`` match exactly;
    - "quoted phrases" match their words in order (the last word may take an ending);
    - ``AND``, ``OR`` and ``NOT`` are operators only in capitals: "and", "or", "ve", "veya" are ordinary words;
    - ``NOT`` binds tightest, then ``AND`` (also implied between neighbours, "a b" = "a AND b"), then ``OR``;
      ``-term`` is short for ``NOT term``; parentheses group.
    """
    try:
        return Query(text, _Parser(text).parse())
    except RecursionError:  # hundreds of nested "(" or "NOT": no real query looks like that
        raise ConfigError(f"bad query {text[:40]!r}...: nested too deeply") from None
