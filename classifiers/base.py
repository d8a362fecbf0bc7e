"""What an analyser is (text in, Analysis out) and the registry the NLP stage picks one from by name."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from store.errors import ConfigError
from store.model import Analysis, Brand

# The rule baseline registers itself as "simple", the trained spaCy pipeline as "kulak".
ANALYZERS: dict[str, type[Analyzer]] = {}


@dataclass(frozen=True)
class MentionContext:
    """What the store knows about a mention beyond its words, for urgency: the author's reach and history."""

    followers: int | None = None  # the author's follower count, when the source reports it
    prior_contacts: int = 0  # earlier mentions by the same author on the same source, recently
    brand_hint: str | None = None  # the brand the crawl was about, when the source knows it


class Analyzer(Protocol):
    """Turns one text into an ``Analysis``. Must not raise on empty, emoji-only or odd input."""

    name: ClassVar[str]

    def __init__(self, brands: Sequence[Brand]) -> None: ...

    def analyze(
        self, text: str, *, brand_hint: str | None = None, context: MentionContext | None = None
    ) -> Analysis: ...


def register(cls: type[Analyzer]) -> type[Analyzer]:
    """Class decorator: make an analyser known under its ``name``."""
    ANALYZERS[cls.name] = cls
    return cls


# Analysers that ship with Kulak, imported on first use so that naming one is enough to get it.
_BUILTIN = {"simple": "classifiers.simple", "kulak": "classifiers.kulak"}


def analyzer_class(name: str) -> type[Analyzer]:
    """The analyser registered as ``name``; ``ConfigError`` listing the known names when there is none."""
    if name not in ANALYZERS and name in _BUILTIN:
        importlib.import_module(_BUILTIN[name])
    try:
        return ANALYZERS[name]
    except KeyError:
        known = ", ".join(sorted(set(ANALYZERS) | set(_BUILTIN)))
        raise ConfigError(f"no analyser named {name!r}; known: {known}") from None
