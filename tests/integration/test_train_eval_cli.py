"""`kulak train` and `kulak eval` as an operator runs them: a model out, figures back, bad files refused clearly."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.integration.test_cli import kulak

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "training" / "examples"


def write_csv(path: Path, rows: list[tuple[str, str]], header: tuple[str, str] = ("text", "label")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def halves(path: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Every other row for training, the rest for testing: the same mix of labels in both."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [(r["text"], r["label"]) for r in csv.DictReader(handle)]
    return write_csv(tmp_path / "train.csv", rows[::2]), write_csv(tmp_path / "test.csv", rows[1::2])


@pytest.mark.parametrize("task", ["sentiment", "intent", "topic"])
def test_a_trained_model_is_measured_on_rows_it_never_saw(tmp_path: Path, task: str) -> None:
    train, test = halves(EXAMPLES / f"{task}.csv", tmp_path)
    made = kulak("train", task, "--data", str(train), "--out", str(tmp_path / "model"), "--json", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout)
    assert summary["task"] == task and summary["examples"] > 100
    assert {p.name for p in (tmp_path / "model").iterdir()} == {"model.json", "vocab.json", "weights.npz"}

    measured = kulak("eval", task, "--data", str(test), "--model", str(tmp_path / "model"), "--json", cwd=tmp_path)
    assert measured.returncode == 0, measured.stderr
    figures = json.loads(measured.stdout)
    assert set(figures) == {"n", "accuracy", "macro_f1", "per_label", "docs_per_second"}
    assert figures["n"] == summary["examples"] or abs(figures["n"] - summary["examples"]) <= 1
    assert figures["docs_per_second"] > 0
    assert set(next(iter(figures["per_label"].values()))) == {"precision", "recall", "f1", "support"}
    # Far better than chance on held-out rows of our own examples (chance: 1/3 sentiment, 1/6 intent).
    assert figures["macro_f1"] > {"sentiment": 0.55, "intent": 0.45, "topic": 0.35}[task]


def test_eval_without_a_model_uses_the_shipped_one_and_prints_a_table(tmp_path: Path) -> None:
    data = write_csv(
        tmp_path / "s.csv",
        [
            ("Kuzey Telekom rezalet, üç gündür internetim yok ve kimse dönmüyor", "olumsuz"),
            ("Mavi Kargo paketimi bir günde getirdi, çok teşekkürler", "olumlu"),
            ("Deniz GSM yeni tarifelerini bugün açıkladı", "notr"),
        ],
    )
    shown = kulak("eval", "sentiment", "--data", str(data), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("sentiment on 3 examples: accuracy")
    for label in ("negative", "neutral", "positive"):
        assert label in shown.stdout


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        ([("iyi", "olumlu")], ("metin", "label"), "needs the columns text,label; missing text"),
        ([("fena değil", "harika")], ("text", "label"), "label 'harika' is not one of negative, neutral, positive"),
        ([("", "olumlu")], ("text", "label"), "s.csv:2: empty text"),
        ([], ("text", "label"), "no rows"),
        (
            [("kötü", "olumsuz")] * 5 + [("iyi", "olumlu")],
            ("text", "label"),
            "too few examples (under 3) for: positive",
        ),
    ],
)
def test_a_bad_training_file_is_one_clear_error(
    tmp_path: Path, rows: list[tuple[str, str]], header: tuple[str, str], message: str
) -> None:
    data = write_csv(tmp_path / "s.csv", rows, header)
    result = kulak("train", "sentiment", "--data", str(data), "--out", str(tmp_path / "m"), cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "m").exists()


def test_unknown_task_and_wrong_model_are_refused(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "s.csv", [("iyi", "olumlu")])
    unknown = kulak("train", "emotion", "--data", str(data), "--out", str(tmp_path / "m"), cwd=tmp_path)
    assert unknown.returncode == 1 and "unknown task 'emotion'" in unknown.stderr
    intent_model = ROOT / "classifiers" / "models" / "intent"
    wrong = kulak("eval", "sentiment", "--data", str(data), "--model", str(intent_model), cwd=tmp_path)
    assert wrong.returncode == 1 and "holds a model for intent, not sentiment" in wrong.stderr
