"""Where the analyser's models come from: the shipped ones, or a directory trained with `kulak train`."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from classifiers.linear import LinearModel
from store.errors import ConfigError, InputError

TRAINED_TASKS = ("sentiment", "intent", "topic")


def shipped_dir(task: str) -> Path:
    """The directory of the model for ``task`` inside the installed package."""
    return Path(str(resources.files("classifiers.models").joinpath(task)))


def load_models(directory: str | None = None) -> dict[str, LinearModel]:
    """One model per task: from ``directory/<task>`` when that exists, the shipped model otherwise.

    Loaded models are cached, so several pipelines share one copy of the weights.
    """
    found: dict[str, LinearModel] = {}
    for task in TRAINED_TASKS:
        own = Path(directory).expanduser() / task if directory else None
        if directory and not Path(directory).expanduser().is_dir():
            raise ConfigError(f"{directory} is not a directory", key="analysis.models")
        path = own if own is not None and own.is_dir() else shipped_dir(task)
        found[task] = _load(str(path.resolve()))
        if found[task].task != task:
            raise ConfigError(f"{path} holds a model for {found[task].task}, not {task}", key="analysis.models")
    return found


@lru_cache(maxsize=16)
def _load(path: str) -> LinearModel:
    try:
        return LinearModel.load(Path(path))
    except InputError as exc:
        raise ConfigError(str(exc), key="analysis.models") from None
