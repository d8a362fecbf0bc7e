"""The model features: n-grams as documented, and TF-IDF weights equal to scikit-learn's for the same grams."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.features import MAX_CHARS, FeatureSpace, Grams, char_grams, word_grams

TEXTS = [
    " kargom gelmedi hala @user ",
    " cok tesekkurler kuzey telekom 😍 ",
    " internet yine yok httpurl ",
    " kargom geldi tesekkurler ",
    " fatura 0 tl neden ",
]


def test_char_grams_cover_every_size_and_keep_spaces() -> None:
    grams = char_grams(" ab ")
    assert grams[:4] == [" ", "a", "b", " "]
    assert " a" in grams and "ab " in grams and " ab " in grams
    assert len(grams) == 4 + 3 + 2 + 1  # sizes 1..4 fit in four characters; 5 and 6 do not


def test_long_texts_are_read_up_to_the_limit() -> None:
    assert len(char_grams("a" * (MAX_CHARS * 3))) == len(char_grams("a" * MAX_CHARS))


def test_word_grams_are_words_and_neighbour_pairs() -> None:
    assert word_grams(" kargo gelmedi hala ") == ["kargo", "gelmedi", "hala", "kargo gelmedi", "gelmedi hala"]
    assert word_grams("  ") == []


def test_vectors_match_scikit_learn_tfidf() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    grams = [Grams.of(t) for t in TEXTS]
    space = FeatureSpace.fit(grams, min_df=1)
    ours = space.matrix(grams).toarray()  # type: ignore[attr-defined]
    for analyzer, columns in ((char_grams, space.chars), (word_grams, space.words)):
        vec = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, lowercase=False)
        theirs = vec.fit_transform(TEXTS).toarray()
        for gram, column in columns.items():
            np.testing.assert_allclose(ours[:, column], theirs[:, vec.vocabulary_[gram]], rtol=1e-5, atol=1e-6)


def test_min_df_and_cap_keep_the_most_common_grams() -> None:
    grams = [Grams.of(t) for t in TEXTS]
    space = FeatureSpace.fit(grams, min_df=2)
    assert "kargom" in space.words and "fatura" not in space.words  # in two texts / in one
    capped = FeatureSpace.fit(grams, min_df=1, max_features=10)
    assert len(capped.chars) == 10 and len(capped.words) == 5
    assert " " in capped.chars  # the space is in every text


@pytest.mark.parametrize("text", ["", " ", "🙂", " unknownword "])
def test_texts_without_known_grams_give_an_empty_or_unit_vector(text: str) -> None:
    space = FeatureSpace.fit([Grams.of(t) for t in TEXTS], min_df=1)
    idx, val = space.vector(Grams.of(text))
    assert len(idx) == len(val)
    if len(val):
        chars = val[idx < len(space.chars)]
        assert abs(float(np.dot(chars, chars)) - 1.0) < 1e-5


def _looked_up(space: FeatureSpace, text: str) -> list[int]:
    """Every character gram of ``text`` looked up as a string: what the keyed look-up must find."""
    return sorted(c for g in char_grams(text) if (c := space.chars.get(g)) is not None)


@pytest.mark.parametrize(
    "text",
    ["", "a", " kargom gelmedi hala @user ", "😍😍 ş İ ı \ud800 \U0010ffff x", "kargom " * (MAX_CHARS // 3)],
)
def test_keyed_look_up_finds_the_grams_a_string_look_up_finds(text: str) -> None:
    grams = [Grams.of(t) for t in [*TEXTS, "😍😍 ş İ ı \ud800 \U0010ffff x"]]
    space = FeatureSpace.fit(grams, min_df=1)
    assert sorted(space.char_columns(text).tolist()) == _looked_up(space, text)
    assert len(_looked_up(space, text)) > 0 or not text.strip()


def test_the_shipped_vocabulary_has_a_key_for_each_gram_and_finds_what_strings_find() -> None:
    from classifiers.linear import LinearModel
    from classifiers.shipped import shipped_dir

    space = LinearModel.load(shipped_dir("sentiment")).space
    assert space._char_index is not None  # no two of its grams share a key: the keyed look-up is used
    text = " kuzey telekom faturama uc aydir izinsiz ucret yansitiliyor, iade istiyorum 😡 "
    assert sorted(space.char_columns(text).tolist()) == _looked_up(space, text)


def test_a_space_without_character_grams_finds_none() -> None:
    space = FeatureSpace({}, {"kargo": 0}, np.ones(1, np.float32))
    assert space.char_columns(" kargo ").tolist() == []
    idx, _ = space.vector(Grams.of(" kargo "))
    assert idx.tolist() == [0]
