"""Fuzz the text helpers every post passes through: Slack mrkdwn escaping and links, and Turkish normalisation."""

from __future__ import annotations

import functools
import re
import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from classifiers.features import FeatureSpace, char_grams
from classifiers.linear import LinearModel
from classifiers.normalize import normalize
from classifiers.shipped import shipped_dir
from classifiers.text import fold
from responders.slack_text import _BIDI, escape, escaped_clip, link, plain, slack_len

# Text as posts carry it: any Unicode, with more of the characters that matter here than chance would give.
POSTS = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from("<>&|!@#*_~`:İIıiŞşĞğ \n\t\u200b\u200d\u202e\u2066\ufe0f\u20e3👍🏽"),
    ),
    max_size=200,
)
ENTITY_OR_PLAIN = re.compile(r"&(?!amp;|lt;|gt;)|[<>]")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@given(text=POSTS)
@example(text="<!channel> <@U024BE7LH> <https://kotu.test|Kuzey Telekom> &lt;")
def test_escaped_text_cannot_ping_or_link_and_reads_back(text: str) -> None:
    escaped = escape(text)
    assert ENTITY_OR_PLAIN.search(escaped) is None
    assert _unescape(escaped) == text


@given(text=POSTS, limit=st.integers(min_value=2, max_value=60))
@example(text="&" * 40, limit=7)
@example(text="👍🏽" * 30, limit=5)
@example(text="\ud800" * 3, limit=2)  # a lone surrogate, as JSON's "\ud800" escape gives
def test_escaped_clip_fits_slack_and_never_cuts_an_entity(text: str, limit: int) -> None:
    clipped = escaped_clip(text, limit)
    assert slack_len(clipped) <= limit
    assert ENTITY_OR_PLAIN.search(clipped) is None
    kept = clipped.removesuffix("…")
    assert escape(text).startswith(kept), (text, clipped)


@given(url=st.one_of(POSTS, st.builds("https://{}".format, POSTS)), label=POSTS)
@example(url="https://kuzey.test/a|b>c <!here>", label="<!channel>")
@example(url="javascript:alert(1)//https://x", label="x")
@example(url="https://[::1", label="x")  # urlsplit raises ValueError on a broken IPv6 host
@example(url="https://\ud800", label="x")  # UnicodeEncodeError in quote()
def test_a_link_is_http_only_and_cannot_break_out(url: str, label: str) -> None:
    made = link(url, label)
    if made is None:
        return
    assert made.lower().startswith("<http") and made.endswith(">")
    target, bar, text = made[1:-1].partition("|")
    assert bar and not re.search(r"[<>|\s]", target), made
    assert _unescape(text) == label and ENTITY_OR_PLAIN.search(text) is None


@given(text=POSTS)
@example(text="\x1b[31mkırmızı\x1b[0m \u202emetin")
def test_plain_text_has_no_control_or_direction_characters(text: str) -> None:
    cleaned = plain(text)
    assert all(ch in "\n\t" or unicodedata.category(ch) != "Cc" for ch in cleaned)
    assert not set(cleaned) & _BIDI


@given(text=POSTS)
@example(text="İSTANBUL IŞIK ııı İİİ 1️⃣ <3 https://x.test/a?b=1 @kuzey #KargoGelmedi")
@example(text="e\u0301\u0301\u0301 Ü\u0308 \ufe0f\u20e3")
@example(text="\u0130\u0307" * 10)
def test_normalisation_never_fails_and_maps_back_inside_the_text(text: str) -> None:
    normalized = normalize(text)
    norm = normalized.norm
    assert norm.startswith(" ") and norm.endswith(" ")
    assert not re.search(r"[\x00-\x1f\x7f\u200b\u202e\u2066]", norm)
    assert "  " not in norm
    for span in normalized.spans:
        assert 0 <= span.start <= span.end <= len(text)
        assert 0 <= span.norm_start <= span.norm_end <= len(norm)
    start, end = normalized.to_original(0, len(norm))
    assert 0 <= start <= end <= len(text)


@given(text=POSTS)
@example(text="𝐊𝐮𝐳𝐞𝐲 𝑨")  # styled capitals decomposed to "K" after lowercasing, so brand aliases missed them
def test_folding_twice_changes_nothing(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded


@given(word=st.text(alphabet="abcçdefgğhıijklmnoöprsştuüvyz", min_size=1, max_size=20))
@example(word="ışık iğne")
def test_a_turkish_word_folds_the_same_in_capitals(word: str) -> None:
    capitals = word.replace("i", "İ").replace("ı", "I").upper()  # Turkish upper case: i -> İ, ı -> I
    assert fold(capitals) == fold(word), (word, capitals)


# Normalised text is mostly ASCII letters and spaces: drawn that way, most of its grams are in the vocabulary.
NORMALISED = st.text(alphabet=st.one_of(st.sampled_from("abcdefghiklmnoprstuyz  #@."), st.characters()), max_size=300)


@given(text=NORMALISED)
@example(text=" kargom hala gelmedi, iade istiyorum ")
def test_keyed_character_grams_are_the_grams_a_string_look_up_finds(text: str) -> None:
    space = _shipped_space()
    wanted = sorted(c for g in char_grams(text) if (c := space.chars.get(g)) is not None)
    assert sorted(space.char_columns(text).tolist()) == wanted


@functools.cache
def _shipped_space() -> FeatureSpace:
    return LinearModel.load(shipped_dir("sentiment")).space
