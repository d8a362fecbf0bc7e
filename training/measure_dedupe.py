"""Measure the near-duplicate method of case grouping on our labelled pairs, and its speed; the README quotes it.

    .venv/bin/python training/measure_dedupe.py             # labelled pairs and speed
    .venv/bin/python training/measure_dedupe.py --shared    # also counts on ../shared/data (nothing of it printed)

The labelled pairs are tests/data/near_duplicates.csv (written by us): "dev" rows were used to choose the
method and its constants, "holdout" rows were written after the first choice and are the fairer figure.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers import dedupe  # noqa: E402

PAIRS = ROOT / "tests" / "data" / "near_duplicates.csv"
SHARED = ROOT.parent / "shared" / "data"
THRESHOLDS = (0.4, 0.5, 0.55, dedupe.THRESHOLD, 0.65, 0.7, 0.8)

Scored = list[tuple[float, bool, str, str, bool]]  # similarity, label, kind, split, share a band


def score_pairs(path: Path) -> Scored:
    scored: Scored = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            a, b = dedupe.fingerprint(row["a"]), dedupe.fingerprint(row["b"])
            banded = bool(set(dedupe.bands(a)) & set(dedupe.bands(b)))
            scored.append((dedupe.similarity(a, b), row["label"] == "1", row["kind"], row["split"], banded))
    return scored


def figures(scored: Scored, threshold: float) -> tuple[float, float, float, int, int]:
    """Precision, recall, F1, false positives and false negatives at ``threshold``."""
    tp = sum(1 for s, label, *_ in scored if s >= threshold and label)
    fp = sum(1 for s, label, *_ in scored if s >= threshold and not label)
    fn = sum(1 for s, label, *_ in scored if s < threshold and label)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, fp, fn


def report_pairs(scored: Scored) -> None:
    positives = sum(1 for _, label, *_ in scored if label)
    print(f"pairs: {len(scored)} ({positives} near-duplicates, {len(scored) - positives} not)")
    for split in ("all", "dev", "holdout"):
        rows = [r for r in scored if split in ("all", r[3])]
        print(f"\n[{split}] {len(rows)} pairs")
        for threshold in THRESHOLDS:
            p, r, f1, fp, fn = figures(rows, threshold)
            mark = "  <- THRESHOLD" if threshold == dedupe.THRESHOLD else ""
            print(f"  at {threshold:.2f}: precision {p:.3f}  recall {r:.3f}  F1 {f1:.3f}  (fp {fp}, fn {fn}){mark}")
    wrong = Counter(
        (kind, "missed" if label else "false link")
        for s, label, kind, _, _ in scored
        if (s >= dedupe.THRESHOLD) != label
    )
    print("\nmistakes at THRESHOLD by kind:", ", ".join(f"{k} {w}: {n}" for (k, w), n in sorted(wrong.items())))
    above = [banded for s, _, _, _, banded in scored if s >= dedupe.THRESHOLD]
    negatives = [banded for _, label, _, _, banded in scored if not label]
    print(f"pairs at or above THRESHOLD that share an index key: {sum(above)}/{len(above)}")
    print(f"negative pairs that share a key (mostly same brand, same topic): {np.mean(negatives):.2f}")


def timed(function: Callable[[], object], repeat: int) -> float:
    """Seconds per call, best of three runs."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            function()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def report_speed(texts: Sequence[str]) -> None:
    tweets = [t for t in texts if len(t) <= 280]
    long = [t for t in texts if len(t) > 400]
    for name, group in (("tweet-length", tweets), ("complaint-length", long)):

        def run(group: Sequence[str] = group) -> None:
            for text in group:
                dedupe.fingerprint(text)

        per_text = timed(run, 5) / len(group)
        mean = sum(map(len, group)) / len(group)
        print(
            f"fingerprint, {name} texts (mean {mean:.0f} chars): {1 / per_text:,.0f} texts/s ({per_text * 1e6:.0f} µs)"
        )
    a, b = dedupe.fingerprint(long[0]), dedupe.fingerprint(tweets[0])
    print(f"similarity: {timed(lambda: dedupe.similarity(a, b), 20_000) * 1e6:.1f} µs per pair")
    print(f"bands: {timed(lambda: dedupe.bands(a), 2_000) * 1e6:.0f} µs per fingerprint")


def report_shared() -> None:
    """Counts only: how often different authors' real complaints would be linked, and previews found."""
    path = SHARED / "sikayetvar_isbank" / "complaints.csv"
    if not path.exists():
        print(f"\n--shared: {path} is absent, skipped")
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["full_text"].strip()]
    prints = [dedupe.fingerprint(f"{r['title']}\n{r['full_text']}") for r in rows]
    authors = [r["username"] for r in rows]
    index: dict[str, list[int]] = {}
    for i, fp in enumerate(prints):
        for key in dedupe.bands(fp):
            index.setdefault(key, []).append(i)
    linked: set[tuple[int, int]] = set()
    candidates = 0
    for i, fp in enumerate(prints):
        others = {j for key in dedupe.bands(fp) for j in index[key] if j > i}
        candidates += len(others)
        linked.update((i, j) for j in others if dedupe.is_near_duplicate(fp, prints[j]))
    everywhere = sum(
        1
        for i in range(len(prints))
        for j in range(i + 1, len(prints))
        if dedupe.is_near_duplicate(prints[i], prints[j])
    )
    different = [(i, j) for i, j in linked if authors[i] != authors[j]]
    involved = {i for pair in different for i in pair}
    total = len(rows) * (len(rows) - 1) // 2
    print(f"\nreal Şikayetvar complaints about one bank: {len(rows)} ({total:,} pairs)")
    print(f"  candidate pairs from shared keys: {candidates:,} ({candidates / total:.1%})")
    print(f"  pairs at or above THRESHOLD: {everywhere:,}, of which found through shared keys: {len(linked):,}")
    print(f"  linked pairs by different usernames: {len(different):,}; complaints involved: {len(involved)}")
    print(f"  linked pairs by the same username: {len(linked) - len(different)}")
    previews = [(fp, r["description_preview"]) for fp, r in zip(prints, rows, strict=True)]
    previews = [(fp, p) for fp, p in previews if len(p.strip()) > 60]
    found = sum(dedupe.is_near_duplicate(fp, dedupe.fingerprint(p)) for fp, p in previews)
    print(f"  listing previews (cut with '...') linked to their complaint: {found}/{len(previews)}")
    tweets_path = SHARED / "turkcell_tweets" / "train.csv"
    if tweets_path.exists():
        with tweets_path.open(encoding="utf-8", newline="") as handle:
            tweets = [r["text"] for r in csv.DictReader(handle)]
        sample = random.Random(5).sample(tweets, min(3000, len(tweets)))
        keys = [set(dedupe.bands(dedupe.fingerprint(t))) for t in sample]
        pairs = [(i, j) for i in range(len(sample)) for j in range(i + 1, len(sample))]
        shared = sum(1 for i, j in pairs if keys[i] & keys[j])
        small = sum(1 for k in keys if not k)
        print(f"real tweets about one operator: {len(sample)} sampled, {small} below MIN_SIZE (no bands)")
        print(f"  random pairs sharing a key: {shared / len(pairs):.1%}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", action="store_true", help="also count on ../shared/data (prints no text)")
    args = parser.parse_args(argv)
    print(
        f"method: MinHash, {dedupe.PERMUTATIONS} permutations, {dedupe.BANDS} bands of {dedupe.ROWS_PER_BAND} rows "
        "+ number keys; "
        f"THRESHOLD {dedupe.THRESHOLD}, MIN_SIZE {dedupe.MIN_SIZE}"
    )
    report_pairs(score_pairs(PAIRS))
    with PAIRS.open(encoding="utf-8", newline="") as handle:
        texts = sorted({t for row in csv.DictReader(handle) for t in (row["a"], row["b"])})
    print()
    report_speed(texts)
    if args.shared:
        report_shared()


if __name__ == "__main__":
    main()
