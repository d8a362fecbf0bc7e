"""Keyword cues for topics, intents and urgency reasons (from data/cues.toml), matched on folded text."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources

from classifiers.text import fold

TOPICS = "topics"
INTENTS = "intents"
URGENCY = "urgency"

# "3 kez aradım", "5. kez yazıyorum", "ikinci kez", "iki defa", "3 times", "5 gündür": two or more contacts,
# or days of waiting. One contact ("1 kez", "bir kez") is not a repeat. The pattern starts with what it counts
# (no look-behind) so the engine can skip ahead; the word-start check is done on each hit.
_REPEATS = re.compile(
    r"(?:(\d+)\.?|iki|uc|dort|bes|alti|yedi|sekiz|dokuz|on|birkac|bir suru|ikinci|ucuncu|dorduncu|besinci"
    r"|kacinci)\s*(?:kez|kere|defa|sefer|times|gundur|haftadir|aydir)(?!\w)"
)
_WORD = re.compile(r"\w+")


def _phrase(cue: str) -> str:
    parts = []
    for word in fold(cue).split():
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
        folded = fold(cue)
        first = _WORD.match(folded)
        if first is None:
            raise ValueError(f"cue {cue!r} in {table}.{label} must start with a letter or digit")
        key = first.group()
        simple = " " not in folded and folded.rstrip("*") == key
        entry = _Cue(table, label, len(folded), None if simple else re.compile(_phrase(cue)))
        stem = folded.endswith("*") if simple else folded[first.end() : first.end() + 1] == "*"
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


def load_cues() -> Cues:
    """The topic, intent and urgency cues of ``classifiers/data/cues.toml``."""
    raw = tomllib.loads(resources.files("classifiers.data").joinpath("cues.toml").read_text(encoding="utf-8"))
    return Cues({name: raw[name] for name in (TOPICS, INTENTS, URGENCY)})


def repeated_contact(folded: str) -> bool:
    """Numbers of contacts ("3 kez aradım") or days of waiting ("5 gündür") that say the customer tried before."""
    for m in _REPEATS.finditer(folded):
        before = folded[m.start() - 1] if m.start() else " "
        if before.isalnum() or before in "._":
            continue
        if m.group(1) is None or int(m.group(1)) >= 2:
            return True
    return False
