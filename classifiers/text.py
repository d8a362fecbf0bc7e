"""Turkish-aware normalisation: dotted/dotless I casefolding and ASCII folding for people who type without ç, ğ, ş."""

from __future__ import annotations

import re
import unicodedata

# Python's str.lower() follows the root locale: "I" -> "i" and "İ" -> "i" + U+0307 (combining dot above).
# Turkish wants "I" -> "ı" and "İ" -> "i", so both are mapped before the generic casefold.
_TR_UPPER = str.maketrans({"İ": "i", "I": "ı"})

# Letters people drop when they type on a phone or a non-Turkish keyboard; applied after casefolding.
_ASCII = str.maketrans(
    {
        "ç": "c",
        "ğ": "g",
        "ı": "i",
        "ö": "o",
        "ş": "s",
        "ü": "u",
        "â": "a",
        "î": "i",
        "û": "u",
        # Apostrophes and quotes that separate a proper noun from its suffix ("Turkcell’e").
        "’": "'",
        "‘": "'",
        "`": "'",
        "´": "'",
        "ʼ": "'",
    }
)

_ASCII_PAIRS = tuple((chr(key), value) for key, value in _ASCII.items())
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_REPEATS = re.compile(r"(\w)\1\1+")  # three or more; spelled so the regex engine compiles it to a faster loop
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+", re.UNICODE)


def turkish_casefold(text: str) -> str:
    """Casefold with Turkish rules: ``"İSTANBUL"`` -> ``"istanbul"``, ``"IŞIK"`` -> ``"ışık"``.

    Also drops a stray combining dot above that some keyboards or earlier lowercasing left behind ("i̇").
    """
    return unicodedata.normalize("NFC", text).translate(_TR_UPPER).casefold().replace("i\u0307", "i")


def ascii_fold(text: str) -> str:
    """Map Turkish letters to their plain look-alikes (ç->c, ğ->g, ı->i, ö->o, ş->s, ü->u) and strip other accents.

    Casefold first (``turkish_casefold``): ASCII uppercase letters keep their case here.
    """
    folded = text.translate(_ASCII)
    if folded.isascii():
        return folded
    return _COMBINING.sub("", unicodedata.normalize("NFKD", folded)).lower()  # "𝐊" decomposes to "K"


def squeeze_repeats(text: str) -> str:
    """Collapse a letter repeated three or more times to one ("harikaaaa" -> "harika", "çoook" -> "çok")."""
    return _REPEATS.sub(r"\1", text)


def fold_letters(text: str) -> str:
    """``ascii_fold(turkish_casefold(text))``, several times faster: it runs on every mention.

    Plain ``str.replace`` calls skip the per-character table lookups of ``str.translate``, and ASCII text (a
    quarter of tweets) needs only ``lower()``. The Unicode normalisation of the slow route is still applied to
    whatever is not plain ASCII by then, so both routes give the same string.
    """
    if text.isascii():
        return text.lower().replace("`", "'")
    text = text.replace("İ", "i").replace("I", "ı").casefold()
    for letter, plain in _ASCII_PAIRS:
        if letter in text:
            text = text.replace(letter, plain)
    if text.isascii():
        return text
    # .lower() again: compatibility letters ("𝐊𝐮𝐳𝐞𝐲" in bold from a styled-text app) decompose to capitals
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).lower()


def fold(text: str) -> str:
    """The matching form used by lexicons and rules: Turkish casefold, then ASCII fold, then squeezed repeats."""
    return squeeze_repeats(fold_letters(text))


def words(folded: str) -> list[str]:
    """Split an already folded text into words (letters, with one apostrophe suffix kept) and digit runs."""
    return _WORD.findall(folded)
