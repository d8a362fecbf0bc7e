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
# or days of waiting. One contact ("1 kez", "bir kez") is not a repeat.
_REPEATS = re.compile(
    r"(?<![\w.])(?:(?:[2-9]|[1-9]\d+)\.?|iki|uc|dort|bes|alti|yedi|sekiz|dokuz|on|birkac|bir suru"
    r"|ikinci|ucuncu|dorduncu|besinci|kacinci)\s*(?:kez|kere|defa|sefer|times|gundur|haftadir|aydir)(?!\w)"
)


def _phrase(cue: str) -> str:
    parts = []
    for word in fold(cue).split():
        stem = word.endswith("*")
        parts.append(re.escape(word.rstrip("*")) + (r"\w*" if stem else r"(?!\w)"))
    return r"\s+".join(parts)


def compile_cues(cues: Iterable[str]) -> re.Pattern[str]:
    """One regex for a list of cues, longest first so "abonelik iptal*" wins over "abonelik*".

    The word-start check comes once, before the alternatives, so most positions fail fast.
    """
    return re.compile(r"(?<!\w)(?:" + "|".join(_phrase(c) for c in sorted(set(cues), key=len, reverse=True)) + ")")


@dataclass(frozen=True)
class CueTable:
    """One compiled regex per label; ``count`` says how often each label's cues occur in a folded text."""

    patterns: Mapping[str, re.Pattern[str]]

    @classmethod
    def from_cues(cls, table: Mapping[str, Iterable[str]]) -> CueTable:
        return cls({label: compile_cues(cues) for label, cues in table.items()})

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.patterns)

    def count(self, folded: str) -> dict[str, int]:
        """Occurrences per label in ``folded`` (``classifiers.text.fold``); labels with none are left out."""
        found = {label: len(p.findall(folded)) for label, p in self.patterns.items()}
        return {label: n for label, n in found.items() if n}


def load_tables() -> dict[str, CueTable]:
    """The topic, intent and urgency tables of ``classifiers/data/cues.toml``, compiled."""
    raw = tomllib.loads(resources.files("classifiers.data").joinpath("cues.toml").read_text(encoding="utf-8"))
    return {name: CueTable.from_cues(raw[name]) for name in (TOPICS, INTENTS, URGENCY)}


def repeated_contact(folded: str) -> bool:
    """Numbers of contacts ("3 kez aradım") or days of waiting ("5 gündür") that say the customer tried before."""
    return _REPEATS.search(folded) is not None
