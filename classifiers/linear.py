"""Trained linear text models: fit with scikit-learn, shipped as plain arrays, read back with numpy alone.

A single-label model (sentiment, intent) is two linear learners stacked: logistic regression on the
features, and per-class logistic regression on features scaled by naive-Bayes log-count ratios (NB-LR, strong on
short noisy texts); a small multinomial regression over both learners' out-of-fold scores weighs them and
calibrates the probabilities. Every step is linear, so the three fold into one weight matrix: analysing a text
is one sparse dot product. A multi-label model (topics) is one balanced logistic regression per label with a
threshold chosen on out-of-fold scores.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.features import FeatureSpace, FloatArray, Grams, IntArray
from store.errors import InputError

FORMAT = 1
SINGLE, MULTI = "single", "multi"


@dataclass(frozen=True)
class LinearModel:
    """What a trained model is at run time: feature space, weights, labels, and for multi-label the thresholds."""

    task: str
    kind: str
    labels: tuple[str, ...]
    space: FeatureSpace
    weights: FloatArray  # (features, labels)
    bias: FloatArray  # (labels,)
    thresholds: FloatArray | None = None  # multi-label only
    meta: dict[str, Any] = field(default_factory=dict)

    def proba(self, grams: Grams) -> FloatArray:
        """Probability of each label: softmax for single-label models, per-label sigmoid for multi-label."""
        return self.proba_of(*self.space.vector(grams))

    def proba_of(self, idx: IntArray, val: FloatArray) -> FloatArray:
        """``proba`` for a feature vector already computed in this model's space (models may share one)."""
        logits = val @ self.weights[idx] + self.bias if len(idx) else self.bias.copy()
        if self.kind == MULTI:
            sigmoid: FloatArray = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
            return sigmoid
        shifted = np.exp(logits - logits.max())
        softmax: FloatArray = (shifted / shifted.sum()).astype(np.float32)
        return softmax

    def predict(self, grams: Grams) -> tuple[str, float]:
        """The most likely label and its probability (single-label models)."""
        p = self.proba(grams)
        best = int(p.argmax())
        return self.labels[best], float(p[best])

    def predict_many(self, grams: Grams) -> list[tuple[str, float]]:
        """Labels at or above their threshold, most likely first (multi-label models)."""
        return self.above_threshold(self.proba(grams))

    def above_threshold(self, p: FloatArray) -> list[tuple[str, float]]:
        """The labels whose probability in ``p`` reaches their threshold, most likely first."""
        limits = self.thresholds if self.thresholds is not None else np.full(len(p), 0.5, np.float32)
        hits = [(self.labels[i], float(p[i])) for i in np.flatnonzero(p >= limits)]
        return sorted(hits, key=lambda item: -item[1])

    def save(self, directory: Path) -> None:
        """Write ``model.json``, ``vocab.json`` and ``weights.npz`` into ``directory`` (created if missing)."""
        directory.mkdir(parents=True, exist_ok=True)
        head = {"format": FORMAT, "task": self.task, "kind": self.kind, "labels": list(self.labels), **self.meta}
        (directory / "model.json").write_text(json.dumps(head, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        vocab = {"chars": _in_order(self.space.chars), "words": _in_order(self.space.words)}
        (directory / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        arrays = {"weights": self.weights.astype(np.float16), "bias": self.bias, "idf": self.space.idf}
        if self.thresholds is not None:
            arrays["thresholds"] = self.thresholds
        np.savez_compressed(directory / "weights.npz", **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, directory: Path) -> LinearModel:
        """Read a model written by ``save``; ``InputError`` saying what is missing or wrong otherwise."""
        try:
            head = json.loads((directory / "model.json").read_text(encoding="utf-8"))
            vocab_bytes = (directory / "vocab.json").read_bytes()
            vocab = json.loads(vocab_bytes)
            with np.load(directory / "weights.npz") as arrays:
                weights = arrays["weights"].astype(np.float32)
                bias = arrays["bias"].astype(np.float32)
                idf = arrays["idf"].astype(np.float32)
                thresholds = arrays["thresholds"].astype(np.float32) if "thresholds" in arrays else None
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{directory}: not a Kulak model ({type(exc).__name__}: {exc})") from exc
        if head.get("format") != FORMAT:
            raise InputError(f"{directory}: model format {head.get('format')!r}, this Kulak reads {FORMAT}")
        labels = tuple(head["labels"])
        space = _shared_space(vocab_bytes, vocab, idf)
        if weights.shape != (space.size, len(labels)) or idf.shape != (weights.shape[0],):
            raise InputError(f"{directory}: weights do not fit the vocabulary and labels")
        meta = {k: v for k, v in head.items() if k not in {"format", "task", "kind", "labels"}}
        return cls(head["task"], head["kind"], labels, space, weights, bias, thresholds, meta)


_SPACES: dict[str, FeatureSpace] = {}


def _shared_space(raw: bytes, vocab: dict[str, list[str]], idf: FloatArray) -> FeatureSpace:
    """One ``FeatureSpace`` object per distinct vocabulary, so models trained together share their features."""
    key = hashlib.sha1(raw + idf.tobytes()).hexdigest()
    space = _SPACES.get(key)
    if space is None:
        chars = {g: i for i, g in enumerate(vocab["chars"])}
        words = {g: i + len(chars) for i, g in enumerate(vocab["words"])}
        space = _SPACES[key] = FeatureSpace(chars, words, idf)
    return space


def _in_order(vocab: dict[str, int]) -> list[str]:
    return [g for g, _ in sorted(vocab.items(), key=lambda item: item[1])]


def _logits(model: Any, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """A fitted scikit-learn linear classifier as (features x classes) weights and biases."""
    coef, intercept = np.asarray(model.coef_, np.float64), np.asarray(model.intercept_, np.float64)
    if coef.shape[0] == 1 and n_classes == 2:  # binary: one logit for the second class
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
    return coef.T, intercept


def _base_learners(x: Any, y: np.ndarray, n: int, c_lr: float, c_nb: float) -> tuple[np.ndarray, np.ndarray]:
    """Weights and biases of LR (first ``n`` columns) and NB-LR one-vs-rest (next ``n``) fitted on ``x``, ``y``."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=c_lr, max_iter=3000).fit(x, y)
    w_lr, b_lr = _logits(lr, n)
    present = (x > 0).astype(np.float32)
    w_nb, b_nb = np.zeros((x.shape[1], n)), np.zeros(n)
    for k in range(n):
        ratio = _nb_ratio(present, y == k)
        model = LogisticRegression(C=c_nb, max_iter=3000).fit(x.multiply(ratio).tocsr(), y == k)
        w_nb[:, k] = model.coef_[0] * ratio
        b_nb[k] = model.intercept_[0]
    return np.hstack([w_lr, w_nb]), np.concatenate([b_lr, b_nb])


def _nb_ratio(present: Any, positive: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    p = np.asarray(present[positive].sum(axis=0)).ravel() + alpha
    q = np.asarray(present[~positive].sum(axis=0)).ravel() + alpha
    return np.asarray(np.log((p / p.sum()) / (q / q.sum())))


def fit_single(
    x: Any, y: np.ndarray, n_classes: int, *, folds: int = 3, c_lr: float = 10.0, c_nb: float = 3.0, seed: int = 0
) -> tuple[FloatArray, FloatArray]:
    """Stacked LR + NB-LR folded into one (features x classes) weight matrix and bias; ``y`` holds class indices."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    scores = np.zeros((x.shape[0], 2 * n_classes))
    splits = min(folds, int(np.bincount(y).min()))
    if splits >= 2:
        for train, test in StratifiedKFold(splits, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
            w, b = _base_learners(x[train], y[train], n_classes, c_lr, c_nb)
            scores[test] = x[test] @ w + b
    w, b = _base_learners(x, y, n_classes, c_lr, c_nb)
    if splits < 2:
        scores = x @ w + b
    stack = LogisticRegression(C=1.0, max_iter=2000).fit(scores, y)
    s_w, s_b = _logits(stack, n_classes)
    return (w @ s_w).astype(np.float32), (b @ s_w + s_b).astype(np.float32)


def fit_multi(
    x: Any, y: np.ndarray, *, folds: int = 3, c: float = 10.0, seed: int = 0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One balanced LR per label column of the 0/1 matrix ``y``, with F1-best thresholds from out-of-fold scores."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold

    n_labels = y.shape[1]
    weights, bias, thresholds = np.zeros((x.shape[1], n_labels)), np.zeros(n_labels), np.full(n_labels, 0.5)
    for k in range(n_labels):
        target = y[:, k]
        if target.min() == target.max():
            raise InputError(f"label column {k} has only {'positive' if target[0] else 'negative'} examples")
        oof = np.zeros(len(target))
        for train, test in KFold(folds, shuffle=True, random_state=seed).split(target):
            if target[train].min() == target[train].max():
                continue
            model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x[train], target[train])
            oof[test] = model.predict_proba(x[test])[:, 1]
        thresholds[k] = best_threshold(oof, target)
        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x, target)
        weights[:, k], bias[k] = model.coef_[0], model.intercept_[0]
    return weights.astype(np.float32), bias.astype(np.float32), thresholds.astype(np.float32)


def best_threshold(scores: np.ndarray, truth: np.ndarray, grid: Sequence[float] = ()) -> float:
    """The probability cut-off in [0.2, 0.8] that gives the best F1 on ``scores`` against 0/1 ``truth``."""
    best, best_f1 = 0.5, -1.0
    for t in grid or np.arange(0.2, 0.81, 0.05):
        predicted = scores >= t
        tp = float(np.sum(predicted & (truth == 1)))
        f1 = 2 * tp / (predicted.sum() + truth.sum()) if predicted.sum() + truth.sum() else 0.0
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(t), f1
    return best
