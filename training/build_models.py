"""Rebuild the shipped models from ../shared/data, our annotations and our own examples, and measure them.

    .venv/bin/python training/build_models.py                 # cross-validate, then train and save all three
    .venv/bin/python training/build_models.py --cv-only       # figures only, nothing written to the package
    .venv/bin/python training/build_models.py --skip-cv       # train and save only

Figures go to training/REPORT.json (and the README quotes them). The rows of the shared data never leave it:
only the trained weights and the measured figures are written into the repository.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers.features import FeatureSpace  # noqa: E402
from classifiers.shipped import shipped_dir  # noqa: E402
from classifiers.training import Example, cross_validate, evaluate, grams_of, read_examples, train  # noqa: E402

# Şikayetvar's own tags on the İş Bankası complaints, as topics of our banking taxonomy (weak labels).
COMPLAINT_TOPICS = {
    "Kredi Kartı": "card",
    "Maximum Kart": "card",
    "Banka Kartı": "card",
    "Black Kart": "card",
    "Troy Kart": "card",
    "Maximum Genç Kart": "card",
    "Gold Kart": "card",
    "Sanal Kart": "card",
    "Maximiles Kart": "card",
    "Platinum Kart": "card",
    "Kredi": "loan",
    "İhtiyaç Kredisi": "loan",
    "Konut Kredisi": "loan",
    "Bireysel Kredi": "loan",
    "Anında Kredi": "loan",
    "Faizsiz Kredi": "loan",
    "Taşıt Kredisi": "loan",
    "Taksitli Nakit Avans": "loan",
    "Nakit Avans": "loan",
    "Borç": "billing",
    "Hesap": "bank_account",
    "Vadesiz Hesap": "bank_account",
    "Vadeli Hesap": "bank_account",
    "Mevduat Hesabı": "bank_account",
    "Maaş": "bank_account",
    "Para Çekme": "atm",
    "Para Yatırma": "atm",
    "EFT": "transfer",
    "Havale": "transfer",
    "FAST": "transfer",
    "Swift": "transfer",
    "Virman": "transfer",
    "Harcama İtirazı": "card_dispute",
    "Provizyon": "card_dispute",
    "Şifre": "account_access",
    "Sim Kart Bloke": "account_access",
    "Bilgi Güncelleme": "account_access",
    "Telefon Numarası Güncelleme": "account_access",
    "Maxipuan": "campaign",
    "Promosyon": "campaign",
    "Fatura Ödeme": "billing",
}
SENTIMENT_NAMES = {"olumsuz": "negative", "notr": "neutral", "olumlu": "positive"}


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def tweets(data: Path) -> list[Example]:
    rows = read_rows(data / "turkcell_tweets" / "train.csv")
    return [Example(r["text"], (SENTIMENT_NAMES[r["label"]],)) for r in rows]


def annotated(data: Path, column: str) -> list[Example]:
    """Tweets we labelled for intent or topics (training/annotations), checked against the text's hash."""
    rows = read_rows(data / "turkcell_tweets" / "train.csv")
    found = []
    for note in read_rows(ROOT / "training" / "annotations" / "turkcell_tweets.csv"):
        text = rows[int(note["row"])]["text"]
        if hashlib.sha1(text.encode("utf-8")).hexdigest()[:10] != note["sha1"]:
            raise SystemExit(f"annotation row {note['row']} no longer matches the data")
        labels = tuple(p for p in note[column].split("|") if p) if column == "topics" else (note[column],)
        found.append(Example(text, labels))
    return found


def complaints(data: Path) -> list[Example]:
    """Şikayetvar complaints with their tag as a banking topic (title and body, as the analyser reads them)."""
    found = []
    for r in read_rows(data / "sikayetvar_isbank" / "complaints.csv"):
        text = f"{r['title']}\n\n{r['full_text']}".strip()
        if len(r["full_text"]) < 40:
            continue
        topic = COMPLAINT_TOPICS.get(r["keywords"].strip())
        found.append(Example(text, (topic,) if topic else ()))
    return found


def ours(task: str) -> list[Example]:
    path = ROOT / "training" / "examples" / f"{task}.csv"
    return read_examples(path, task) if path.exists() else []


def common_topics(examples: list[Example], least: int = 5) -> list[Example]:
    """Examples with topics seen fewer than ``least`` times dropped from their label sets (nothing to learn)."""
    counts = Counter(label for e in examples for label in e.labels)
    return [Example(e.text, tuple(label for label in e.labels if counts[label] >= least)) for e in examples]


def baseline_cv(examples: Sequence[Example], folds: int, seed: int) -> dict[str, float]:
    """The stock scikit-learn model of the issue: TF-IDF char 2-5 + word 1-2 grams, logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline, make_union

    texts = np.array([e.text for e in examples], dtype=object)
    y = np.array([e.labels[0] for e in examples])
    accs, f1s, speeds = [], [], []
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, y):
        vec = make_union(
            TfidfVectorizer(analyzer="char", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        )
        model = make_pipeline(vec, LogisticRegression(max_iter=3000)).fit(list(texts[tr]), y[tr])
        start = time.perf_counter()
        predicted = model.predict(list(texts[te]))
        speeds.append(len(te) / (time.perf_counter() - start))
        accs.append(accuracy_score(y[te], predicted))
        f1s.append(f1_score(y[te], predicted, average="macro"))
    return {
        "accuracy": round(float(np.mean(accs)), 4),
        "macro_f1": round(float(np.mean(f1s)), 4),
        "macro_f1_std": round(float(np.std(f1s)), 4),
        "per_fold_macro_f1": [round(float(f), 4) for f in f1s],
        "docs_per_second": round(float(np.mean(speeds)), 1),
    }


def cv_with_extra(task: str, tested: list[Example], extra: list[Example], folds: int, seed: int) -> dict[str, Any]:
    """Cross-validate on ``tested``; ``extra`` examples join every training fold but are never tested on."""
    from sklearn.model_selection import KFold

    results = []
    for tr, te in KFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(tested))):
        model = train(task, [tested[i] for i in tr] + extra, seed=seed)
        results.append(evaluate(model, [tested[i] for i in te]))
    return {
        "folds": folds,
        "n_tested": len(tested),
        "n_extra": len(extra),
        "accuracy": round(float(np.mean([r["accuracy"] for r in results])), 4),
        "macro_f1": round(float(np.mean([r["macro_f1"] for r in results])), 4),
        "macro_f1_std": round(float(np.std([r["macro_f1"] for r in results])), 4),
        "per_label_f1": {
            label: round(float(np.mean([r["per_label"].get(label, {}).get("f1", 0.0) for r in results])), 4)
            for label in sorted({k for r in results for k in r["per_label"]})
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cv-only", action="store_true")
    parser.add_argument("--skip-cv", action="store_true")
    parser.add_argument("--only", choices=["sentiment", "intent", "topic"])
    args = parser.parse_args()
    report_path = ROOT / "training" / "REPORT.json"
    report: dict[str, Any] = json.loads(report_path.read_text()) if report_path.exists() else {}

    sentiment = tweets(args.data) + ours("sentiment")
    intent_tweets, topic_tweets = annotated(args.data, "intent"), annotated(args.data, "topics")
    bank = complaints(args.data)
    random.Random(args.seed).shuffle(bank)
    intent_extra = ours("intent") + [Example(e.text, ("complaint",)) for e in bank[:300]]
    topic_tested = topic_tweets + [e for e in bank]
    topic_extra = ours("topic")
    tasks = [args.only] if args.only else ["sentiment", "intent", "topic"]

    if not args.skip_cv:
        if "sentiment" in tasks:
            only_tweets = tweets(args.data)
            print("sentiment: baseline ...", flush=True)
            report["sentiment_baseline_cv"] = baseline_cv(only_tweets, args.folds, args.seed)
            print(report["sentiment_baseline_cv"], flush=True)
            print("sentiment: kulak ...", flush=True)
            report["sentiment_cv"] = cross_validate("sentiment", only_tweets, folds=args.folds, seed=args.seed)
            print(report["sentiment_cv"], flush=True)
        if "intent" in tasks:
            report["intent_cv"] = cv_with_extra("intent", intent_tweets, intent_extra, args.folds, args.seed)
            print(report["intent_cv"], flush=True)
        if "topic" in tasks:
            kept = common_topics(topic_tested + topic_extra)
            tested, extra = kept[: len(topic_tested)], kept[len(topic_tested) :]
            report["topic_cv"] = cv_with_extra("topic", tested, extra, args.folds, args.seed)
            print(report["topic_cv"], flush=True)
        report["measured"] = datetime.now(UTC).date().isoformat()
        report_path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    if args.cv_only:
        return
    everything = {
        "sentiment": sentiment,
        "intent": intent_tweets + intent_extra,
        "topic": common_topics(topic_tested + topic_extra),
    }
    # One feature vocabulary for the three shipped models: the analyser computes each text's features once.
    texts = list(dict.fromkeys(e.text for task in ("sentiment", "intent", "topic") for e in everything[task]))
    space = FeatureSpace.fit(grams_of(texts), min_df=3, max_features=300_000)
    for task in tasks:
        start = time.perf_counter()
        model = train(task, everything[task], space=space, seed=args.seed)
        model.meta.update({"version": 1, "trained": datetime.now(UTC).date().isoformat()})
        model.save(shipped_dir(task))
        print(f"{task}: {len(everything[task])} examples, {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
