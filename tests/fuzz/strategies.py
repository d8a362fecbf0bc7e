"""Hypothesis strategies for hostile documents, and the checks every parser's output must pass."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from store.errors import KulakError
from store.model import RawMention

# Strings that have broken parsers before or are likely to: Unicode digits that str.isdigit() accepts and int()
# does not (or does), timestamps at the ends of the calendar, numbers that float() reads as nan or inf.
NASTY_STRINGS = (
    "",
    " ",
    "²",
    "٣",
    "١٢٣",
    "0",
    "-1",
    "nan",
    "inf",
    "-inf",
    "1e999",
    "9" * 5000,
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2026-02-30T10:00:00Z",
    "at://",
    "http://",
    "javascript:alert(1)",
    "\u202e\u200b",
    "\x00",
    "<!channel>",
    "&amp;lt;",
    "🙂" * 3,
)

JUNK: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.integers(min_value=10**20, max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(NASTY_STRINGS),
    st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(st.none(), st.integers(), st.text(max_size=5)), max_size=3),
    st.integers(min_value=10, max_value=60).map(lambda depth: _nested(depth)),
)


def _nested(depth: int) -> Any:
    node: Any = {"a": None}
    for level in range(depth):
        node = [node] if level % 2 else {"a": node}
    return node


@st.composite
def mutated(draw: st.DrawFn, value: Any) -> Any:
    """``value`` (a valid JSON document) with some nodes replaced by junk, some keys dropped, some items doubled."""
    roll = draw(st.integers(min_value=0, max_value=11))
    if roll == 0:
        return draw(JUNK)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if draw(st.integers(min_value=0, max_value=9)) == 0:
                continue  # the key goes missing
            out[key] = draw(mutated(item))
        if roll == 1:
            out[draw(st.text(max_size=8))] = draw(JUNK)
        return out
    if isinstance(value, list):
        items = [draw(mutated(item)) for item in value]
        if roll == 1 and items:
            items.append(items[0])  # the same item twice
        if roll == 2:
            items.append(draw(JUNK))
        return items
    return value


def json_body(valid: Any) -> st.SearchStrategy[bytes]:
    """A response body: the valid document mutated, or bytes that are not the document at all."""
    return st.one_of(
        mutated(valid).map(lambda doc: json.dumps(doc).encode()),
        mutated(valid).map(lambda doc: json.dumps(doc).encode()),
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
        st.sampled_from(
            [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b"1" * 10_000, b"null"]
        ),
    )


def aware(value: datetime | None) -> bool:
    """None, or an aware datetime that can be moved to UTC (what the store does with it)."""
    if value is None:
        return True
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        return False
    value.astimezone(UTC)  # raises OverflowError at the ends of the calendar
    return True


def check_mention(mention: Any, source: str, *, linkless: bool = False) -> None:
    """What the store and every stage after it rely on, whatever the source answered.

    ``linkless``: the source may have no page to link to (a feed entry without a link): the URL may be "".
    """
    assert isinstance(mention, RawMention)
    assert mention.source == source
    assert isinstance(mention.external_id, str) and mention.external_id.strip(), mention.external_id
    assert isinstance(mention.url, str), mention.url
    assert mention.url.startswith(("http://", "https://")) or (linkless and not mention.url), mention.url
    for text in (mention.text, mention.title, mention.author, mention.author_handle):
        assert isinstance(text, str)
    assert mention.language is None or isinstance(mention.language, str), mention.language
    assert aware(mention.published_at), mention.published_at
    assert aware(mention.fetched_at)
    json.dumps(mention.to_json(), allow_nan=False)  # storable as JSON, in PostgreSQL too (no NaN)


def parses_or_refuses(parse: Callable[[], Any]) -> Any:
    """Run ``parse``: a result, or None when it refused with a KulakError; any other exception fails the test."""
    try:
        return parse()
    except KulakError:
        return None
