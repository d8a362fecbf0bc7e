"""Text for Slack: escaping what came from outside, Slack's limits and lengths, links that cannot break out."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import quote, urlsplit

# Slack's limits (reference/sources.md; fields and context text from the Block Kit reference).
MAX_BLOCKS = 50
HEADER_TEXT = 150
SECTION_TEXT = 3000
FIELD_TEXT = 2000
MAX_FIELDS = 10
CONTEXT_TEXT = 2000
FALLBACK_TEXT = 4000  # Slack truncates past 40,000; notifications want far less
FALLBACK_EXCERPT = 300
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_ESCAPING = str.maketrans({**_ESCAPES, **dict.fromkeys(_BIDI)})  # one C pass: every alert escapes whole texts


def escape(text: str) -> str:
    """Escape text from outside for mrkdwn so it cannot ping (``<!channel>``, ``<@U…>``) or forge links; bidi
    overrides and isolates are dropped, so a post cannot reorder what the agent reads (or the text after it)."""
    return text.translate(_ESCAPING)


def slack_len(text: str) -> int:
    """Length in UTF-16 code units: never less than Slack's count, whichever way Slack counts."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2  # a lone surrogate (JSON "\\ud800") counts as one


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` (with an ellipsis when cut)."""
    return escaped_clip(text, limit, escaping=False)


def escaped_clip(text: str, limit: int, *, escaping: bool = True) -> str:
    """``text`` escaped and cut to ``limit`` with an ellipsis, never inside an ``&amp;``-style entity."""
    whole = escape(text) if escaping else text
    if slack_len(whole) <= limit:
        return whole
    pieces: list[str] = []
    used = 0
    for ch in text:
        if escaping and ch in _BIDI:
            continue
        piece = _ESCAPES.get(ch, ch) if escaping else ch
        size = slack_len(piece)
        if used + size > limit - 1:
            break
        pieces.append(piece)
        used += size
    return "".join(pieces).rstrip() + "…"


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object; ``verbatim`` so Slack does not auto-link URLs or channel names written in it."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def link(url: str, label: str) -> str | None:
    """A mrkdwn link to an http(s) URL, or None for anything else (``javascript:``, ``file:``, garbage)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        # Percent-encode what would end the link early ("|", ">", spaces) or is not a URL character at all.
        safe_url = quote(url, safe=":/?#[]@!$&'()*+,;=%~")
    except ValueError:  # a broken IPv6 host, or a lone surrogate quote() cannot encode (UnicodeEncodeError)
        return None
    return f"<{escape(safe_url)}|{escape(label)}>"


def without_bidi(text: str) -> str:
    """``text`` without bidi overrides, embeddings and isolates (U+202A-202E, U+2066-2069): what outsiders wrote
    cannot reorder what is shown after it (a report's next cell, a file name)."""
    return "".join(ch for ch in text if ch not in _BIDI) if any(ch in _BIDI for ch in text) else text


def plain(text: str) -> str:
    """Text safe for a terminal: no control characters (ANSI escapes) and no bidi overrides."""
    return "".join(ch for ch in text if ch in "\n\t" or (unicodedata.category(ch) != "Cc" and ch not in _BIDI))
