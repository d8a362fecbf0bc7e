"""The whole analysis chain on tweet-length texts, against a scikit-learn TF-IDF + logistic regression run beside it.

    make bench        (or: .venv/bin/pytest -q -s tests/benchmarks/test_bench_nlp.py)

Prints texts/second of both, their ratio, and the peak memory of a process that loads the analyser and
analyses every text, beside one that only loads a blank spaCy pipeline.
"""

from __future__ import annotations

import csv
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from classifiers.kulak import KulakAnalyzer
from store.model import Brand

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 3
BRANDS = [
    Brand("Kuzey Telekom", aliases=("Kuzey Telekom",), handles=("@kuzeytelekom",)),
    Brand("Mavi Kargo", aliases=("Mavi Kargo",)),
    Brand("Getir", ambiguous=True, context=("sipariş", "kurye")),
]


def tweet_length_texts() -> tuple[list[str], list[str]]:
    """Our own written examples no longer than a tweet, repeated to about 3,000 texts, with their labels."""
    with (ROOT / "training" / "examples" / "sentiment.csv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if len(r["text"]) <= 280]
    times = max(1, 3000 // len(rows))
    return [r["text"] for r in rows] * times, [r["label"] for r in rows] * times


def median_seconds(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def peak_rss_mb(code: str) -> float:
    """Peak resident memory of a fresh Python process running ``code``.

    Read from VmHWM, which starts afresh at exec; ``getrusage``'s ru_maxrss would carry this (large) pytest
    process's peak over into the child."""
    probe = f"{code}\nprint(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    return int(done.stdout.split()[-1]) / 1024


def test_whole_chain_against_tfidf_logistic_regression() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    texts, labels = tweet_length_texts()
    baseline = make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="char", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        ),
        LogisticRegression(max_iter=2000),
    ).fit(texts, labels)
    analyzer = KulakAnalyzer(BRANDS)
    analyzer.analyze("ısınma turu")

    base_s = median_seconds(lambda: baseline.predict(texts))
    ours_s = median_seconds(lambda: [analyzer.analyze(t) for t in texts])
    ours_rate, base_rate = len(texts) / ours_s, len(texts) / base_s
    chars = statistics.median(len(t) for t in texts)
    print(
        f"\nkulak analyser, whole chain: {ours_rate:,.0f} texts/s (median {chars:.0f} chars, one core); "
        f"scikit-learn TF-IDF + LR predict (sentiment only, batched): {base_rate:,.0f} texts/s; "
        f"ratio {ours_rate / base_rate:.2f}"
    )
    # The target is 1,000 texts/s a core. The batched baseline runs at about 7,500-8,000 texts/s on this
    # machine (measured 2026-11-23), so 1,000 texts/s is a ratio of about 0.13: below 0.12 the chain has
    # fallen under the target, whatever the machine's speed.
    assert ours_rate / base_rate > 0.12


def test_peak_memory_of_the_analyser() -> None:
    blank = peak_rss_mb("import spacy; spacy.blank('tr'); spacy.blank('en')")
    loaded = peak_rss_mb(
        "import csv\n"
        "from classifiers.kulak import KulakAnalyzer\n"
        "a = KulakAnalyzer([])\n"
        "rows = list(csv.DictReader(open('training/examples/sentiment.csv', encoding='utf-8')))\n"
        "for _ in range(5):\n"
        "    [a.analyze(r['text']) for r in rows]\n"
    )
    print(f"\npeak memory: analyser loaded and run {loaded:.0f} MB; blank spaCy tr+en {blank:.0f} MB")
    assert loaded - blank < 400
