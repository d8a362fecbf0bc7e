"""What an analyser is (text in, Analysis out) and the registry the NLP stage picks one from by name."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import ClassVar, Protocol

from store.errors import ConfigError
from store.model import Analysis, Brand

# The rule baseline registers itself as "simple"; trained analysers will register beside it.
ANALYZERS: dict[str, type[Analyzer]] = {}


class Analyzer(Protocol):
    """Turns one text into an ``Analysis``. Must not raise on empty, emoji-only or odd input."""

    name: ClassVar[str]

    def __init__(self, brands: Sequence[Brand]) -> None: ...

    def analyze(self, text: str, *, brand_hint: str | None = None) -> Analysis: ...


def register(cls: type[Analyzer]) -> type[Analyzer]:
    """Class decorator: make an analyser known under its ``name``."""
    ANALYZERS[cls.name] = cls
    return cls


# Analysers that ship with Kulak, imported on first use so that naming one is enough to get it.
_BUILTIN = {"simple": "classifiers.simple"}


def analyzer_class(name: str) -> type[Analyzer]:
    """The analyser registered as ``name``; ``ConfigError`` listing the known names when there is none."""
    if name not in ANALYZERS and name in _BUILTIN:
        importlib.import_module(_BUILTIN[name])
    try:
        return ANALYZERS[name]
    except KeyError:
        known = ", ".join(sorted(set(ANALYZERS) | set(_BUILTIN)))
        raise ConfigError(f"no analyser named {name!r}; known: {known}") from None
