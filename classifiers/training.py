"""`kulak train` and `kulak eval`: read a labelled CSV, fit a model, measure one, cross-validate."""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.blind import model_grams
from classifiers.features import FeatureSpace, Grams
from classifiers.linear import MULTI, SINGLE, LinearModel, fit_multi, fit_single
from store.errors import InputError

TASKS = ("sentiment", "intent", "topic")
SENTIMENTS = ("negative", "neutral", "positive")
INTENTS = ("complaint", "question", "suggestion", "praise", "sales", "other")
# Turkish names people use for the same labels (the Turkcell tweets say olumsuz / notr / olumlu).
ALIASES = {
    "sentiment": {"olumsuz": "negative", "notr": "neutral", "nötr": "neutral", "olumlu": "positive"},
    "intent": {
        "şikayet": "complaint",
        "sikayet": "complaint",
        "bilgi talebi": "question",
        "soru": "question",
        "öneri": "suggestion",
        "oneri": "suggestion",
        "memnuniyet": "praise",
        "teşekkür": "praise",
        "tesekkur": "praise",
        "satış": "sales",
        "satis": "sales",
        "satış talebi": "sales",
        "diğer": "other",
        "diger": "other",
    },
}
FIXED_LABELS = {"sentiment": SENTIMENTS, "intent": INTENTS}
MIN_PER_LABEL = 3
MAX_TEXT = 100_000


@dataclass(frozen=True)
class Example:
    text: str
    labels: tuple[str, ...]  # exactly one for sentiment and intent; any number (even none) for topics


def check_task(task: str) -> str:
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    return task


def read_examples(path: Path, task: str) -> list[Example]:
    """Rows of a ``text,label`` CSV; topics may carry several labels split by ``|`` or ``;``."""
    check_task(task)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = {"text", "label"} - set(reader.fieldnames or ())
        if missing:
            raise InputError(f"{path}: needs the columns text,label; missing {', '.join(sorted(missing))}")
        try:
            examples = [_example(row, task, f"{path}:{reader.line_num}") for row in reader]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"{path}:{reader.line_num}: not a readable CSV row ({exc})") from None
    if not examples:
        raise InputError(f"{path}: no rows")
    return examples


def _example(row: dict[str, Any], task: str, where: str) -> Example:
    text, raw = (row.get("text") or "").strip(), (row.get("label") or "").strip()
    if not text:
        raise InputError(f"{where}: empty text")
    if len(text) > MAX_TEXT:
        raise InputError(f"{where}: text longer than {MAX_TEXT} characters")
    parts = [p.strip() for p in raw.replace(";", "|").split("|") if p.strip()] if task == "topic" else [raw]
    labels = tuple(ALIASES.get(task, {}).get(p.casefold(), p.casefold()) for p in parts)
    allowed = FIXED_LABELS.get(task)
    if allowed is not None and (len(labels) != 1 or labels[0] not in allowed):
        raise InputError(f"{where}: label {raw!r} is not one of {', '.join(allowed)}")
    return Example(text, labels)


def grams_of(texts: Sequence[str]) -> list[Grams]:
    """Model features of each text, known brand names blinded (``classifiers.blind``) as the analyser does."""
    return [model_grams(t) for t in texts]


def train(task: str, examples: Sequence[Example], *, space: FeatureSpace | None = None, seed: int = 0) -> LinearModel:
    """Fit the model for ``task``; ``space`` shares one feature vocabulary between models (the shipped ones do)."""
    check_task(task)
    grams = grams_of([e.text for e in examples])
    space = space or FeatureSpace.fit(grams, min_df=2 if len(examples) >= 1000 else 1)
    x = space.matrix(grams)
    counts = Counter(label for e in examples for label in e.labels)
    few = sorted(label for label, n in counts.items() if n < MIN_PER_LABEL)
    if few:
        raise InputError(f"too few examples (under {MIN_PER_LABEL}) for: {', '.join(few)}")
    meta: dict[str, Any] = {"examples": len(examples), "label_counts": dict(sorted(counts.items()))}
    if task == "topic":
        labels = tuple(sorted(counts))
        if not labels:
            raise InputError("no topic labels in the data")
        y = np.array([[label in e.labels for label in labels] for e in examples], dtype=np.int8)
        if (y.sum(axis=0) == len(examples)).any():
            raise InputError("a topic that every example has cannot be learnt; add examples without it")
        weights, bias, thresholds = fit_multi(x, y, seed=seed)
        return LinearModel(task, MULTI, labels, space, weights, bias, thresholds, meta)
    labels = tuple(sorted(counts))
    if len(labels) < 2:
        raise InputError(f"need at least two labels to learn from, found {', '.join(labels) or 'none'}")
    index = {label: i for i, label in enumerate(labels)}
    y1 = np.array([index[e.labels[0]] for e in examples])
    weights, bias = fit_single(x, y1, len(labels), seed=seed)
    return LinearModel(task, SINGLE, labels, space, weights, bias, None, meta)


def evaluate(model: LinearModel, examples: Sequence[Example]) -> dict[str, Any]:
    """Accuracy (exact label set for topics), macro-F1, per-label figures and speed of ``model`` on ``examples``."""
    start = time.perf_counter()
    predicted: list[tuple[str, ...]] = []
    for example in examples:
        grams = model_grams(example.text)
        if model.kind == MULTI:
            predicted.append(tuple(label for label, _ in model.predict_many(grams)))
        else:
            predicted.append((model.predict(grams)[0],))
    elapsed = time.perf_counter() - start
    return {**scores([e.labels for e in examples], predicted), "docs_per_second": round(len(examples) / elapsed, 1)}


def scores(truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, Any]:
    """n, accuracy, macro_f1 and per_label precision/recall/f1/support for label sets."""
    labels = sorted({label for labels in (*truth, *predicted) for label in labels})
    per_label: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if label in t and label in p)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if label not in t and label in p)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if label in t and label not in p)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    supported = [v["f1"] for v in per_label.values() if v["support"]]
    exact = sum(1 for t, p in zip(truth, predicted, strict=True) if set(t) == set(p))
    return {
        "n": len(truth),
        "accuracy": round(exact / len(truth), 4) if truth else 0.0,
        "macro_f1": round(sum(supported) / len(supported), 4) if supported else 0.0,
        "per_label": per_label,
    }


def cross_validate(task: str, examples: Sequence[Example], *, folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Mean and per-fold accuracy and macro-F1 of ``train`` over ``folds`` stratified splits."""
    from sklearn.model_selection import KFold, StratifiedKFold

    firsts = [e.labels[0] if e.labels else "" for e in examples]
    splitter = (
        KFold(folds, shuffle=True, random_state=seed)
        if task == "topic"
        else StratifiedKFold(folds, shuffle=True, random_state=seed)
    )
    results = []
    for train_idx, test_idx in splitter.split(np.zeros(len(examples)), firsts):
        model = train(task, [examples[i] for i in train_idx], seed=seed)
        results.append(evaluate(model, [examples[i] for i in test_idx]))
    return {
        "folds": folds,
        "n": len(examples),
        "accuracy": round(float(np.mean([r["accuracy"] for r in results])), 4),
        "accuracy_std": round(float(np.std([r["accuracy"] for r in results])), 4),
        "macro_f1": round(float(np.mean([r["macro_f1"] for r in results])), 4),
        "macro_f1_std": round(float(np.std([r["macro_f1"] for r in results])), 4),
        "per_fold": [{"accuracy": r["accuracy"], "macro_f1": r["macro_f1"]} for r in results],
    }
