"""The topic taxonomy: built-in topic sets with their cues (data/taxonomy.toml) plus the user's own from config."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType

from classifiers.cues import Cues, check_cue, read_data
from store.errors import ConfigError

ALL_SETS = ("common", "telecom", "ecommerce", "banking")
SETS_KEY = "analysis.taxonomies"
TOPICS_KEY = "analysis.topics"

# Labels end up in CSV files (several split by "|" or ";") and in the database: one word, no separators.
_LABEL = re.compile(r"[^\W\d_][\w-]*\Z")
_TABLE = "topics"
_NO_EXTRA: Mapping[str, Sequence[str]] = MappingProxyType({})


class Taxonomy:
    """The topic labels in use and the cues that name them.

    ``labels`` keeps the order of the sets and of the labels within them, the user's new labels last.
    """

    def __init__(self, sets: Sequence[str], cues: Mapping[str, Sequence[str]]) -> None:
        self.sets: tuple[str, ...] = tuple(sets)
        self.labels: tuple[str, ...] = tuple(cues)
        self.cues: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {label: tuple(dict.fromkeys(found)) for label, found in cues.items()}
        )
        self._matcher = Cues({_TABLE: self.cues})

    def rule_scores(self, folded: str) -> dict[str, int]:
        """Cue hits per label in ``folded`` (``classifiers.text.fold``); labels without a hit are left out."""
        return self._matcher.count(folded)[_TABLE]

    def __repr__(self) -> str:
        return f"Taxonomy(sets={self.sets!r}, labels={len(self.labels)})"


@lru_cache(maxsize=1)
def builtin_sets() -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    """The topic sets that ship with Kulak: set name -> label -> cues."""
    raw = read_data("taxonomy.toml")
    return MappingProxyType(
        {name: MappingProxyType({label: tuple(cues) for label, cues in table.items()}) for name, table in raw.items()}
    )


def load_taxonomy(sets: Sequence[str] = ALL_SETS, extra: Mapping[str, Sequence[str]] = _NO_EXTRA) -> Taxonomy:
    """The built-in ``sets`` (config ``analysis.taxonomies``) merged with ``extra`` (config ``[analysis.topics]``).

    ``extra`` maps a label to cues: a new label, or more cues for a built-in one. A set name that does not exist,
    a malformed label or a malformed cue raises ``ConfigError`` naming the key and what was expected.
    """
    builtin = builtin_sets()
    if isinstance(sets, str) or not isinstance(sets, Sequence):
        raise ConfigError(f"expected a list of topic set names, got {sets!r}", key=SETS_KEY)
    chosen: list[str] = []
    cues: dict[str, list[str]] = {}
    for name in sets:
        if name not in builtin:
            known = ", ".join(f'"{s}"' for s in builtin)
            raise ConfigError(f"unknown topic set {name!r}; expected any of {known}", key=SETS_KEY)
        if name in chosen:
            continue
        chosen.append(name)
        for label, found in builtin[name].items():
            cues.setdefault(label, []).extend(found)
    if not isinstance(extra, Mapping):
        raise ConfigError(f"expected a table of label = [cues], got {extra!r}", key=TOPICS_KEY)
    for label, more in extra.items():
        cues.setdefault(_checked_label(label), []).extend(_checked_cues(label, more))
    return Taxonomy(chosen, cues)


def _checked_label(label: object) -> str:
    if not isinstance(label, str) or not _LABEL.match(label):
        raise ConfigError(
            f"topic label {label!r} must be one word: letters, digits, '_' or '-', starting with a letter",
            key=f"{TOPICS_KEY}.{label}",
        )
    return label


def _checked_cues(label: str, found: object) -> list[str]:
    key = f"{TOPICS_KEY}.{label}"
    if isinstance(found, str) or not isinstance(found, Sequence):
        raise ConfigError(f'expected a list of cues such as ["kargo*", "kurye"], got {found!r}', key=key)
    if not found:
        raise ConfigError("expected at least one cue", key=key)
    for cue in found:
        try:
            check_cue(cue)
        except ValueError as exc:
            raise ConfigError(str(exc), key=key) from None
    return list(found)
