"""The one normal form every trained model reads, cheap to compute and mappable back to the text a person wrote."""

# ``norm``: Turkish casefold and ASCII fold (so "TEŞEKKÜRLER", "tesekkurler" and "teSekkUrler" meet), letters
# repeated three times or more squeezed ("berbaaat" -> "berbat"), links -> "httpurl", @handles -> "@user", digit
# runs -> "0", hashtags kept folded ("#kargogelmedi"), emoji and emoticons kept (they carry sentiment), spaces,
# line breaks and control characters collapsed to one space, and one space before and after.
# It is built with whole-string C-level steps (replace, casefold, a few regex passes) because it runs on every
# mention. The map back to the original is only needed to highlight what a rule found, so it is computed on
# first use by replaying the same steps one character at a time while remembering where each character came
# from. Both routes share the regexes, so they agree; if an exotic input ever makes them differ, the map falls
# back to proportional positions instead of failing.

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from classifiers.text import fold_letters, squeeze_repeats

URL_TOKEN = "httpurl"
HANDLE_TOKEN = "@user"
NUMBER_TOKEN = "0"
KINDS = ("url", "handle", "hashtag", "emoji", "number", "word")

# Tweets scraped without line breaks glue links to the word before them, so "https://" may start anywhere.
# A link ends before trailing punctuation: "(https://ornek.com)." keeps its ")." as text.
_LINKISH = re.compile(
    r"((?:[hH][tT][tT][pP][sS]?://|(?<!\w)[wW]{3}\.|(?<!\w)pic\.twitter\.com/)\S*[^\s.,;:!?)\]'\"’”])"
    r"|((?<![\w@])@\w+)"
)
# Substrings without which _LINKISH cannot match: most texts skip the regex.
_LINK_HINTS = ("@", "://", "ww.", "wW.", "Ww.", "WW.", "pic.twitter")
# A keycap's enclosing mark is a combining character that ascii_fold would strip: park it in a private-use slot.
_KEYCAP, _KEYCAP_PARKED = "\u20e3", "\ue0e3"
# "<3" is a heart and "1️⃣" a keycap emoji: their digits are not numbers.
# (Starting the pattern with \d rather than a look-behind lets the regex engine jump from digit to digit.)
_DIGITS = re.compile(r"\d(?<![<\d]\d)\d*(?![\d\ufe0f\ue0e3])")
_REPEATS = re.compile(r"(\w)\1\1+")  # the same rule as classifiers.text.squeeze_repeats
# Control, zero-width and direction characters count as spaces.
_SPACES = re.compile(r"[\s\x00-\x1f\x7f-\x9f\xad\u200b\u200e\u200f\u202a-\u202e\u2060-\u206f\ufeff]+")

_PICTO = (
    "\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff\u2190-\u21ff\u25a0-\u25ff"
    "\u2934\u2935\u3030\u303d\u3297\u3299\u00a9\u00ae\u203c\u2049\u2122\u2139"
)
_MODS = "\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f"
_EMOJI = (
    r"[\U0001f1e6-\U0001f1ff]{2}"  # a flag: two regional indicators
    r"|[0-9#*]\ufe0f?\u20e3"  # keycap
    rf"|[{_PICTO}][{_MODS}]*(?:\u200d[{_PICTO}][{_MODS}]*)*"  # pictograph, skin tone, variation, ZWJ chain
    r"|(?<![\w:/])(?:[:;=][-'^]?[)(\][DPpOo/\\|*]+|<3+|</3|[xX][dD]+|\^\^|-_-|T_T)(?!\w)"  # emoticons
)
_LETTERS = r"(?:[^\W\d_]|[\u0300-\u036f])*"  # letters, and the combining accents some keyboards send apart
_PIECES = re.compile(
    rf"(?P<hashtag>(?<![\w&])#[^\W_]\w*)|(?P<emoji>{_EMOJI})|(?P<number>\d+)"
    rf"|(?P<word>[^\W\d_]{_LETTERS}(?:['’][^\W\d_]{_LETTERS})?)"
)


@dataclass(frozen=True, slots=True)
class TextSpan:
    """One typed piece of the original text and where it ended up in ``norm``."""

    kind: str  # url | handle | hashtag | emoji | number | word
    start: int
    end: int
    norm_start: int
    norm_end: int


@dataclass(frozen=True, slots=True)
class Normalized:
    """A text in its model form ``norm``, with a lazily built map back to ``original``."""

    original: str
    norm: str
    # Filled on first use: "sources" (per norm character, the original span it came from) and "spans".
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def spans(self) -> tuple[TextSpan, ...]:
        """URLs, handles, hashtags, emoji, numbers and words of ``original``, in order, with their ``norm`` offsets."""
        if "spans" not in self._cache:
            self._cache["spans"] = _typed_spans(self.original, self.norm, self._sources())
        spans: tuple[TextSpan, ...] = self._cache["spans"]
        return spans

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The span of ``original`` that produced ``norm[start:end]`` (whole links and handles, squeezed letters).

        Offsets are clamped to ``norm``; an empty span maps to the position where its character came from.
        """
        size = len(self.norm)
        start, end = max(0, min(start, size)), max(0, min(end, size))
        sources = self._sources()
        if start >= size:
            return len(self.original), len(self.original)
        if end <= start:
            return sources[start][0], sources[start][0]
        return sources[start][0], max(sources[i][1] for i in range(start, end))

    def _sources(self) -> list[tuple[int, int]]:
        if "sources" not in self._cache:
            self._cache["sources"] = _sources(self.original, self.norm)
        sources: list[tuple[int, int]] = self._cache["sources"]
        return sources


def normalize(text: str) -> Normalized:
    """``text`` in the form the models read; see the module notes for what changes and why."""
    text = text if isinstance(text, str) else ""
    cleaned = _LINKISH.sub(_link_token, text) if _has_link(text) else text
    if not cleaned.isascii():
        if _KEYCAP in cleaned:
            cleaned = cleaned.replace(_KEYCAP, _KEYCAP_PARKED)
        cleaned = unicodedata.normalize("NFKC", cleaned)
    folded = squeeze_repeats(_DIGITS.sub(NUMBER_TOKEN, fold_letters(cleaned)))
    # Printable text has no space but " " (and no control character), and str.split is the fastest way to squeeze.
    core = " ".join(folded.split()) if folded.isprintable() else _SPACES.sub(" ", folded).strip(" ")
    if _KEYCAP_PARKED in core:
        core = core.replace(_KEYCAP_PARKED, _KEYCAP)
    return Normalized(text, f" {core} " if core else " ")


def _has_link(text: str) -> bool:
    return any(hint in text for hint in _LINK_HINTS)


def _links(text: str) -> list[re.Match[str]]:
    return list(_LINKISH.finditer(text)) if _has_link(text) else []


def _link_token(m: re.Match[str]) -> str:
    if m.group(1) is None:
        return HANDLE_TOKEN
    # A link glued to the word before it ("tıklayınhttps://...") is set apart, so the word stays a word.
    return f" {URL_TOKEN}" if m.start() and m.string[m.start() - 1].isalnum() else URL_TOKEN


_CHAR_CACHE: dict[str, str] = {}


def _fold_char(ch: str) -> str:
    """One character through the same steps ``normalize`` applies to a whole string."""
    folded = _CHAR_CACHE.get(ch)
    if folded is None:
        folded = _KEYCAP_PARKED if ch == _KEYCAP else fold_letters(unicodedata.normalize("NFKC", ch))
        if len(_CHAR_CACHE) < 10_000:  # a 50 KB text of rare scripts must not grow the cache without end
            _CHAR_CACHE[ch] = folded
    return folded


Sources = list[tuple[str, int, int]]  # each output character with the original span it came from


def _replay(pattern: re.Pattern[str], out: Sources, replace: str | None) -> Sources:
    """Apply ``pattern`` to the characters of ``out``: each match becomes ``replace`` (or its first character)."""
    text = "".join(c for c, _, _ in out)
    result: Sources = []
    pos = 0
    for m in pattern.finditer(text):
        result.extend(out[pos : m.start()])
        token = m.group()[0] if replace is None else replace
        first, last = out[m.start()][1], max(e for _, _, e in out[m.start() : m.end()])
        result.extend((c, first, last) for c in token)
        pos = m.end()
    result.extend(out[pos:])
    return result


def _fold_chars(text: str, start: int, end: int, out: Sources) -> None:
    """Fold ``text[start:end]`` character by character into ``out``; links and handles are added by the caller."""
    emitted = False
    for i in range(start, end):
        folded = _fold_char(text[i])
        if folded:
            out.extend((c, i, i + 1) for c in folded)
            emitted = True
        elif emitted and out[-1][2] == i:  # a dropped accent belongs to the letter before it
            out[-1] = (out[-1][0], out[-1][1], i + 1)


def _sources(original: str, norm: str) -> list[tuple[int, int]]:
    """For each character of ``norm``, the ``(start, end)`` of the original text it came from."""
    out: Sources = []
    pos = 0
    for m in _links(original):
        _fold_chars(original, pos, m.start(), out)
        out.extend((c, m.start(), m.end()) for c in _link_token(m))
        pos = m.end()
    _fold_chars(original, pos, len(original), out)
    out = _replay(_DIGITS, out, NUMBER_TOKEN)
    out = _replay(_REPEATS, out, None)
    out = _replay(_SPACES, out, " ")
    while out and out[0][0] == " ":
        out.pop(0)
    while out and out[-1][0] == " ":
        out.pop()
    end = len(original)
    padded = [(0, 0), *((s, e) for _, s, e in out), (end, end)] if out else [(0, end)]
    if "".join(c for c, _, _ in out).replace(_KEYCAP_PARKED, _KEYCAP) == norm[1:-1] and len(padded) == len(norm):
        return padded
    # The two routes disagree (some rare composition across characters): spread norm evenly over the original.
    size = max(1, len(norm))
    return [(i * end // size, max(i * end // size, (i + 1) * end // size)) for i in range(size)]


def _typed_spans(original: str, norm: str, sources: list[tuple[int, int]]) -> tuple[TextSpan, ...]:
    """Typed pieces of ``original``, each with the ``norm`` range whose characters came from inside it."""
    starts = [s for s, _ in sources]
    pieces: list[tuple[str, int, int]] = []
    pos = 0
    for link in _links(original):
        pieces.extend(_pieces(original, pos, link.start()))
        pieces.append(("url" if link.group(1) else "handle", link.start(), link.end()))
        pos = link.end()
    pieces.extend(_pieces(original, pos, len(original)))
    spans = []
    last = len(sources) - 1  # the trailing pad came from nowhere in particular
    for kind, start, end in pieces:
        first = bisect_left(starts, start, 1, max(1, last))
        stop = first
        while stop < last and starts[stop] < end:
            stop += 1
        while first < stop and norm[first] == " ":  # the space set before a glued link belongs to no piece
            first += 1
        spans.append(TextSpan(kind, start, end, first, max(first, stop)))
    return tuple(spans)


def _pieces(text: str, start: int, end: int) -> list[tuple[str, int, int]]:
    pieces = []
    for m in _PIECES.finditer(text, start, end):
        stop = m.end()
        while stop < end and not _fold_char(text[stop]):  # an accent left over after the piece belongs to it
            stop += 1
        pieces.append((m.lastgroup or "word", m.start(), stop))
    return pieces
