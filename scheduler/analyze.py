"""`kulak analyze`: JSON Lines in, one JSON line of analysis out per input line, bad lines answered in place."""

from __future__ import annotations

import json
from typing import Any, TextIO

from config.settings import Settings
from scheduler.bootstrap import build_analyzer

MAX_TEXT = 100_000


def analyze_stream(settings: Settings, lines: TextIO, out: TextIO) -> int:
    """Analyse each non-blank line; returns how many lines were not valid input."""
    analyzer = build_analyzer(settings)
    bad = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record, error = _parse(line)
        if error is not None:
            bad += 1
            result: dict[str, Any] = {"id": record.get("id"), "line": number, "error": error}
        else:
            result = {"id": record.get("id"), **analyzer.analyze(record["text"]).to_json()}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return bad


def _parse(line: str) -> tuple[dict[str, Any], str | None]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {}, f"not valid JSON: {exc.msg} at column {exc.colno}"
    if not isinstance(record, dict):
        return {}, 'expected a JSON object like {"id": "1", "text": "..."}'
    if isinstance(record.get("id"), (dict, list)):
        return {}, '"id" must be a string or a number'
    text = record.get("text")
    if not isinstance(text, str):
        return record, '"text" is missing or not a string'
    if len(text) > MAX_TEXT:
        return record, f'"text" is longer than {MAX_TEXT} characters'
    return record, None
