"""The linear models: the folded stack predicts what its parts predict, and models survive a save and a load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from classifiers.features import FeatureSpace, Grams
from classifiers.linear import MULTI, SINGLE, LinearModel, _base_learners, best_threshold, fit_multi, fit_single
from store.errors import InputError

WORDS = {
    0: ["berbat", "rezalet", "gelmedi", "iptal", "kotu"],
    1: ["bilgi", "saat", "adres", "kampanya", "fiyat"],
    2: ["harika", "tesekkur", "super", "hizli", "memnun"],
}


def corpus(n: int = 90, seed: int = 3) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 3
        words = list(rng.choice(WORDS[label], 3)) + list(rng.choice([w for ws in WORDS.values() for w in ws], 1))
        texts.append(" " + " ".join(words) + " ")
        labels.append(label)
    return texts, np.array(labels)


def test_folded_stack_equals_base_learners_then_stacker() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    texts, y = corpus()
    grams = [Grams.of(t) for t in texts]
    space = FeatureSpace.fit(grams, min_df=1)
    x = csr_matrix(space.matrix(grams))
    weights, bias = fit_single(x, y, 3, folds=3, seed=0)
    # The same steps without folding: out-of-fold base scores, a stacker on them, then stacker(base(x)).
    oof = np.zeros((len(y), 6))
    for train, test in StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(len(y)), y):
        w, b = _base_learners(x[train], y[train], 3, 10.0, 3.0)
        oof[test] = x[test] @ w + b
    stacker = LogisticRegression(C=1.0, max_iter=2000).fit(oof, y)
    w, b = _base_learners(x, y, 3, 10.0, 3.0)
    expected = stacker.predict_proba(x @ w + b)
    logits = x @ weights + bias
    got = np.exp(logits - logits.max(axis=1, keepdims=True))
    got /= got.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert (got.argmax(axis=1) == y).mean() > 0.9


def model(tmp_path: Path) -> LinearModel:
    texts, y = corpus()
    grams = [Grams.of(t) for t in texts]
    space = FeatureSpace.fit(grams, min_df=1)
    weights, bias = fit_single(space.matrix(grams), y, 3)
    return LinearModel("sentiment", SINGLE, ("negative", "neutral", "positive"), space, weights, bias)


def test_a_saved_model_loads_back_and_predicts_the_same(tmp_path: Path) -> None:
    original = model(tmp_path)
    original.save(tmp_path / "m")
    loaded = LinearModel.load(tmp_path / "m")
    for text in (" berbat rezalet ", " harika tesekkur ", " adres bilgi ", " "):
        np.testing.assert_allclose(loaded.proba(Grams.of(text)), original.proba(Grams.of(text)), atol=2e-3)
        assert loaded.predict(Grams.of(text))[0] == original.predict(Grams.of(text))[0]
    assert loaded.predict(Grams.of(" berbat rezalet gelmedi "))[0] == "negative"


def test_models_saved_from_one_space_share_it_when_loaded(tmp_path: Path) -> None:
    original = model(tmp_path)
    original.save(tmp_path / "a")
    original.save(tmp_path / "b")
    assert LinearModel.load(tmp_path / "a").space is LinearModel.load(tmp_path / "b").space


@pytest.mark.parametrize("damage", ["missing", "format", "shape", "garbage"])
def test_a_damaged_model_is_a_clear_input_error(tmp_path: Path, damage: str) -> None:
    model(tmp_path).save(tmp_path / "m")
    target = tmp_path / "m"
    if damage == "missing":
        (target / "weights.npz").unlink()
    elif damage == "format":
        (target / "model.json").write_text('{"format": 99, "task": "sentiment", "kind": "single", "labels": []}')
    elif damage == "shape":
        (target / "model.json").write_text('{"format": 1, "task": "sentiment", "kind": "single", "labels": ["a"]}')
    else:
        (target / "vocab.json").write_text("not json")
    with pytest.raises(InputError, match=str(target)):
        LinearModel.load(target)


def test_multi_label_model_learns_each_label_with_a_threshold() -> None:
    texts, y = corpus(120)
    labels = np.stack([(y == 0), (y == 2), np.isin(y, (0, 1))], axis=1).astype(np.int8)
    grams = [Grams.of(t) for t in texts]
    space = FeatureSpace.fit(grams, min_df=1)
    weights, bias, thresholds = fit_multi(space.matrix(grams), labels)
    m = LinearModel("topic", MULTI, ("a", "b", "c"), space, weights, bias, thresholds)
    assert [label for label, _ in m.predict_many(Grams.of(" berbat rezalet iptal "))] in (["a", "c"], ["c", "a"])
    assert [label for label, _ in m.predict_many(Grams.of(" harika super memnun "))] == ["b"]
    assert all(0.2 <= t <= 0.8 for t in thresholds)


def test_a_label_every_example_has_cannot_be_learnt() -> None:
    texts, _ = corpus(30)
    grams = [Grams.of(t) for t in texts]
    space = FeatureSpace.fit(grams, min_df=1)
    with pytest.raises(InputError, match="only positive"):
        fit_multi(space.matrix(grams), np.ones((30, 1), dtype=np.int8))


def test_best_threshold_picks_the_f1_best_cut() -> None:
    scores = np.array([0.9, 0.7, 0.35, 0.3, 0.1, 0.05])
    truth = np.array([1, 1, 1, 0, 0, 0])
    assert best_threshold(scores, truth) == pytest.approx(0.35)
