"""How well the rule baseline's sentiment does on real tweets (../shared/data, read in place, never copied)."""

# Measured when this test was written: accuracy 0.605 on all 13,832 rows of turkcell_tweets/train.csv (3 classes).
# The thresholds and word lists were tuned looking only at rows whose index is not a multiple of 5 (0.607 there);
# the rows whose index is a multiple of 5 were kept aside and score 0.599. Published trained models reach about
# 0.69 on the corpus' own held-out test split: the bar a trained analyser should clear.

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from classifiers.simple import SimpleAnalyzer

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
TWEETS = SHARED_DATA / "turkcell_tweets" / "train.csv"
LABELS = {"olumsuz": "negative", "notr": "neutral", "olumlu": "positive"}
FLOOR = 0.57  # measured 0.605, minus a margin for small rule changes


@pytest.mark.skipif(not TWEETS.is_file(), reason=f"shared data not present: {TWEETS} (see ../shared/data/README.md)")
def test_sentiment_accuracy_on_turkcell_tweets() -> None:
    with TWEETS.open(encoding="utf-8", newline="") as handle:
        rows = [(row["text"], LABELS[row["label"]]) for row in csv.DictReader(handle)]
    analyzer = SimpleAnalyzer([])
    predicted = [analyzer.analyze(text).sentiment.label for text, _ in rows]
    right = Counter(gold for (_, gold), guess in zip(rows, predicted, strict=True) if gold == guess)
    total = Counter(gold for _, gold in rows)
    accuracy = sum(right.values()) / len(rows)
    held_out = [(gold, guess) for i, ((_, gold), guess) in enumerate(zip(rows, predicted, strict=True)) if i % 5 == 0]
    held_accuracy = sum(gold == guess for gold, guess in held_out) / len(held_out)
    recall = {label: round(right[label] / total[label], 3) for label in sorted(total)}
    print(f"\nsimple/1 on {len(rows)} tweets: accuracy {accuracy:.4f}, held-out fifth {held_accuracy:.4f}")
    print(f"recall per class: {recall}")
    assert len(rows) > 10_000
    assert accuracy >= FLOOR, f"accuracy {accuracy:.4f} fell below the floor {FLOOR}"
