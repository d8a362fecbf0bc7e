"""Keyword cues matched on folded text: intents and urgency reasons (data/cues.toml), topics (data/taxonomy.toml)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from classifiers.text import fold

INTENTS = "intents"
URGENCY = "urgency"

_WORD = re.compile(r"\w+")
_STARS = re.compile(r"\*{2,}(?=\s|$)")


def check_cue(cue: object) -> str:
    """The folded form of ``cue``, or ``ValueError`` saying why it cannot be a cue.

    A cue is one or more words; each word starts with a letter or digit, and a trailing ``*`` makes it a stem.
    """
    if not isinstance(cue, str):
        raise ValueError(f"cue {cue!r} is not a string")
    folded = _STARS.sub("*", " ".join(fold(cue).split()))
    if not folded:
        raise ValueError("a cue cannot be empty")
    for word in folded.split():
        if _WORD.match(word) is None:
            raise ValueError(f"cue {cue!r}: each word must start with a letter or digit ({word!r} does not)")
    return folded


def _phrase(folded: str) -> str:
    parts = []
    for word in folded.split():
        stem = word.endswith("*")
        parts.append(re.escape(word.rstrip("*")) + (r"\w*" if stem else r"(?!\w)"))
    return r"\s+".join(parts)


@dataclass(frozen=True)
class _Cue:
    table: str
    label: str
    length: int  # longer cues are tried first, so "abonelik iptal*" wins over "abonelik*"
    verify: re.Pattern[str] | None  # None: the index key alone decides (one plain word or stem)


class Cues:
    """Counts cue occurrences per table and label in one pass over the words of a folded text.

    Cues are indexed by their first word (or its stem), so a text costs one dictionary look-up per word and
    prefix length instead of one regex pass per label. Within a label a stretch of text counts once.
    """

    def __init__(self, tables: Mapping[str, Mapping[str, Iterable[str]]]) -> None:
        self.tables = {name: tuple(table) for name, table in tables.items()}
        self._exact: dict[str, list[_Cue]] = {}
        self._stems: dict[str, list[_Cue]] = {}
        for name, table in tables.items():
            for label, cues in table.items():
                for cue in set(cues):
                    self._add(name, label, cue)
        for index in (self._exact, self._stems):
            for options in index.values():
                options.sort(key=lambda c: -c.length)
        self._stem_lengths = sorted({len(k) for k in self._stems})
        self._cache: dict[str, tuple[_Cue, ...]] = {}  # word -> its candidate cues; words repeat a lot

    def _add(self, table: str, label: str, cue: str) -> None:
        try:
            folded = check_cue(cue)
        except ValueError as exc:
            raise ValueError(f"{table}.{label}: {exc}") from None
        head = folded.split()[0]
        first = _WORD.match(head)
        if first is None:  # check_cue rules this out; kept so the types say so too
            raise ValueError(f"{table}.{label}: cue {cue!r} must start with a letter or digit")
        key = first.group()
        # Only a first word that is all word characters plus a final "*" is a prefix; "s*ktir" is a literal.
        stem = head == key + "*"
        simple = " " not in folded and head in (key, key + "*")
        entry = _Cue(table, label, len(folded), None if simple else re.compile(_phrase(folded)))
        (self._stems if stem else self._exact).setdefault(key, []).append(entry)

    def count(self, folded: str) -> dict[str, dict[str, int]]:
        """Occurrences per table and label in ``folded`` (``classifiers.text.fold``); empty labels left out."""
        counts: dict[str, dict[str, int]] = {name: {} for name in self.tables}
        busy: dict[tuple[str, str], int] = {}  # (table, label) -> end of its last match
        for word in _WORD.finditer(folded):
            start = word.start()
            for cue in self._candidates(word.group()):
                key = (cue.table, cue.label)
                if busy.get(key, -1) > start:
                    continue
                if cue.verify is None:
                    end = word.end()
                else:
                    found = cue.verify.match(folded, start)
                    if found is None:
                        continue
                    end = found.end()
                busy[key] = end
                labels = counts[cue.table]
                labels[cue.label] = labels.get(cue.label, 0) + 1
        return counts

    def _candidates(self, word: str) -> tuple[_Cue, ...]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        found = list(self._exact.get(word, ()))
        for n in self._stem_lengths:
            if n > len(word):
                break
            found.extend(self._stems.get(word[:n], ()))
        found.sort(key=lambda c: -c.length)
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[word] = result = tuple(found)
        return result


def read_data(name: str) -> dict[str, Any]:
    """A TOML file of ``classifiers/data``, parsed."""
    return tomllib.loads(resources.files("classifiers.data").joinpath(name).read_text(encoding="utf-8"))


def load_cues(tables: Sequence[str] = (INTENTS, URGENCY)) -> Cues:
    """The intent and urgency cues of ``classifiers/data/cues.toml`` (or just the ``tables`` asked for)."""
    raw = read_data("cues.toml")
    return Cues({name: raw[name] for name in tables})
