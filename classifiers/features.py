"""The n-gram features every trained model reads, computed the same way when training and when analysing.

A text is read in its normalised form (``classifiers.normalize``): casefolded, ASCII-folded, links, handles and
digits replaced. Two blocks of features come out of it: character 1-6-grams (they see Turkish suffixes, typos
and emoji) and word 1-2-grams. Each block is weighted TF-IDF style (1 + log count, times idf) and scaled to
unit length on its own, so long complaints and short tweets land on the same scale.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise, repeat

import numpy as np
import numpy.typing as npt

CHAR_SIZES = (1, 2, 3, 4, 5, 6)
MAX_CHARS = 3000  # the first 3,000 normalised characters decide; a 50 KB paste is not read to the end
_WORD = re.compile(r"\w+")

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]
KeyArray = npt.NDArray[np.uint64]
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd: a gram's key is its code points as digits in this base, modulo 2**64


def char_grams(norm: str) -> list[str]:
    """Every character n-gram of ``norm`` for n in ``CHAR_SIZES`` (spaces included: they mark word edges)."""
    text = norm[:MAX_CHARS]
    size = len(text)
    return [text[i : i + n] for n in CHAR_SIZES for i in range(size - n + 1)]


def word_grams(norm: str) -> list[str]:
    """Words and pairs of neighbouring words of ``norm``."""
    tokens = _WORD.findall(norm[:MAX_CHARS])
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


def _codes(text: str) -> KeyArray:
    """Each character's code point plus one (so no digit is zero), as the keys below count them."""
    raw = text.encode("utf-32-le", "surrogatepass")
    return np.frombuffer(raw, dtype=np.uint32).astype(np.uint64) + np.uint64(1)


def char_keys(text: str) -> KeyArray:
    """A 64-bit key for every gram ``char_grams(text)`` lists, in the same order, computed without making the
    grams: looking each gram string up was most of the time a text's features took."""
    codes = _codes(text[:MAX_CHARS])
    keys = np.zeros(len(codes), np.uint64)
    parts = []
    for n in CHAR_SIZES:
        if n > len(codes):
            break
        keys = keys[: len(codes) - n + 1] * _MIX + codes[n - 1 :]  # wraps modulo 2**64, as meant
        parts.append(keys)
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)


def gram_keys(grams: Sequence[str]) -> KeyArray:
    """The key ``char_keys`` gives each of ``grams``, in order (grams of one length are keyed together)."""
    keys = np.zeros(len(grams), np.uint64)
    by_length: dict[int, list[int]] = {}
    for i, gram in enumerate(grams):
        by_length.setdefault(len(gram), []).append(i)
    for n, where in by_length.items():
        codes = _codes("".join(grams[i] for i in where)).reshape(len(where), n)
        folded = np.zeros(len(where), np.uint64)
        for column in range(n):
            folded = folded * _MIX + codes[:, column]
        keys[where] = folded
    return keys


@dataclass(frozen=True)
class Grams:
    """The raw features of one text, computed once and shared by every model: the text its character grams come
    from, and its word grams in order."""

    text: str  # normalised, cut to MAX_CHARS
    words: list[str]

    @classmethod
    def of(cls, norm: str) -> Grams:
        return cls(norm[:MAX_CHARS], word_grams(norm))

    @cached_property
    def chars(self) -> list[str]:
        """Every character gram in order (training counts them; analysing looks their keys up instead)."""
        return char_grams(self.text)


@dataclass(frozen=True)
class FeatureSpace:
    """Feature name -> column, with the inverse document frequency of each column.

    Columns ``[0, len(chars))`` are character grams, the rest word grams.
    """

    chars: dict[str, int]
    words: dict[str, int]
    idf: FloatArray

    @property
    def size(self) -> int:
        return len(self.chars) + len(self.words)

    def vector(self, grams: Grams) -> tuple[IntArray, FloatArray]:
        """The sparse feature vector of one text: column indices and their values."""
        c_idx, c_val = self._weighted(self.char_columns(grams.text))
        w_idx, w_val = self._block(grams.words, self.words)
        return np.concatenate((c_idx, w_idx)), np.concatenate((c_val, w_val))

    @cached_property
    def _char_index(self) -> tuple[KeyArray, IntArray] | None:
        """The character vocabulary's keys, sorted, and their columns; None if two grams share a key (then the
        grams themselves are looked up)."""
        keys = gram_keys(list(self.chars))
        columns = np.fromiter(self.chars.values(), dtype=np.int32, count=len(self.chars))
        order = np.argsort(keys, kind="stable")
        keys, columns = keys[order], columns[order]
        if len(keys) > 1 and bool(np.any(keys[1:] == keys[:-1])):
            return None
        return keys, columns

    def char_columns(self, text: str) -> IntArray:
        """The column of every character gram of ``text`` that is in the vocabulary, one per occurrence. (A gram
        outside the vocabulary whose key equals one inside it, about one chance in 10**14 a gram, counts as it.)"""
        index = self._char_index
        if index is None or not len(index[0]):
            looked_up = np.fromiter(map(self.chars.get, char_grams(text), repeat(-1)), np.int32)
            return looked_up[looked_up >= 0]
        keys, columns = index
        wanted = char_keys(text)
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        found: IntArray = columns[at[keys[at] == wanted]]
        return found

    def _block(self, grams: list[str], vocab: dict[str, int]) -> tuple[IntArray, FloatArray]:
        # Looked up and counted in numpy, not in a Python loop: this ran for every gram of every text analysed.
        found = np.fromiter(map(vocab.get, grams, repeat(-1)), dtype=np.int32, count=len(grams))
        return self._weighted(found[found >= 0])

    def _weighted(self, found: IntArray) -> tuple[IntArray, FloatArray]:
        """Columns found (one per occurrence) as one block's weights: 1 + log count, times idf, unit length."""
        columns, tf = np.unique(found, return_counts=True)
        if not len(columns):
            return np.zeros(0, np.int32), np.zeros(0, np.float32)
        values = (1.0 + np.log(tf.astype(np.float32))) * self.idf[columns]
        norm = float(np.sqrt(np.dot(values, values)))
        scaled: FloatArray = (values / norm if norm > 0 else values).astype(np.float32)
        return columns, scaled

    def matrix(self, texts: Iterable[Grams]) -> object:
        """A scipy CSR matrix of many texts (training and evaluation only)."""
        from scipy.sparse import csr_matrix

        indptr, indices, data = [0], [], []
        for grams in texts:
            idx, val = self.vector(grams)
            indices.append(idx)
            data.append(val)
            indptr.append(indptr[-1] + len(idx))
        return csr_matrix(
            (
                np.concatenate(data) if data else np.zeros(0, np.float32),
                np.concatenate(indices) if indices else np.zeros(0, np.int32),
                np.asarray(indptr),
            ),
            shape=(len(indptr) - 1, self.size),
        )

    @classmethod
    def fit(cls, texts: Sequence[Grams], *, min_df: int = 2, max_features: int | None = None) -> FeatureSpace:
        """Learn the vocabulary (grams in at least ``min_df`` texts, most frequent first) and smoothed idf."""
        n = len(texts)
        blocks: list[dict[str, int]] = []
        dfs: list[list[int]] = []
        for part in ("chars", "words"):
            df: Counter[str] = Counter()
            for grams in texts:
                df.update(set(getattr(grams, part)))
            kept = [(g, d) for g, d in df.items() if d >= min_df]
            kept.sort(key=lambda item: (-item[1], item[0]))
            if max_features is not None:
                kept = kept[: max_features if part == "chars" else max_features // 2]
            blocks.append({g: i for i, (g, _) in enumerate(kept)})
            dfs.append([d for _, d in kept])
        chars, words = blocks
        words = {g: i + len(chars) for g, i in words.items()}
        df_all = np.asarray(dfs[0] + dfs[1], dtype=np.float64)
        idf = (np.log((1.0 + n) / (1.0 + df_all)) + 1.0).astype(np.float32)
        return cls(chars, words, idf)
