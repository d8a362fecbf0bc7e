"""`kulak train` and `kulak eval`: the command-line faces of classifiers.training."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, TextIO

from classifiers.linear import LinearModel
from classifiers.shipped import shipped_dir
from classifiers.training import check_task, evaluate, read_examples, train
from store.errors import InputError


def train_command(task: str, data: Path, out: Path, stream: TextIO, *, as_json: bool = False) -> dict[str, Any]:
    """Train ``task`` on ``data`` and save the model in ``out``; print what was learnt."""
    check_task(task)
    examples = read_examples(data, task)
    start = time.perf_counter()
    model = train(task, examples)
    model.meta.update({"version": 1, "trained_from": data.name})
    try:
        model.save(out)
    except OSError as exc:
        raise InputError(f"{out}: cannot write the model ({exc.strerror or exc})") from None
    summary = {
        "task": task,
        "examples": len(examples),
        "labels": model.meta["label_counts"],
        "features": model.space.size,
        "seconds": round(time.perf_counter() - start, 1),
        "size_bytes": sum(f.stat().st_size for f in out.iterdir()),
        "out": str(out),
    }
    if as_json:
        stream.write(json.dumps(summary, ensure_ascii=False) + "\n")
    else:
        labels = ", ".join(f"{label} {n}" for label, n in summary["labels"].items())
        stream.write(
            f"trained {task} on {summary['examples']} examples ({labels}) in {summary['seconds']} s; "
            f"{summary['features']} features, {summary['size_bytes'] / 1e6:.1f} MB in {out}\n"
        )
    return summary


def eval_command(
    task: str, data: Path, model_dir: Path | None, stream: TextIO, *, as_json: bool = False
) -> dict[str, Any]:
    """Measure a model (the shipped one unless ``model_dir``) on a labelled CSV and print the figures."""
    check_task(task)
    directory = model_dir or shipped_dir(task)
    model = LinearModel.load(directory)
    if model.task != task:
        raise InputError(f"{directory} holds a model for {model.task}, not {task}")
    result = evaluate(model, read_examples(data, task))
    if as_json:
        stream.write(json.dumps(result, ensure_ascii=False) + "\n")
        return result
    stream.write(
        f"{task} on {result['n']} examples: accuracy {result['accuracy']:.3f}, macro-F1 {result['macro_f1']:.3f}, "
        f"{result['docs_per_second']:.0f} docs/s\n"
    )
    stream.write(f"{'label':<20}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}\n")
    for label, row in result["per_label"].items():
        stream.write(
            f"{label:<20}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['f1']:>10.3f}{row['support']:>10}\n"
        )
    return result
