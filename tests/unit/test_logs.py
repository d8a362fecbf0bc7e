"""Log lines: one per event, JSON or text, with the ids of their context; the log settings and their env names."""

from __future__ import annotations

import io
import json
import logging
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.loader import load_settings
from scheduler import logs
from scheduler.logs import ContextFilter, current_ids, log_context, make_handler
from store.errors import ConfigError


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own writing JSON lines to a buffer."""
    stream = io.StringIO()
    logger = logging.getLogger("kulak.test.logs")
    logger.handlers[:] = [make_handler("json", stream=stream)]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.handlers.clear()
    logger.propagate = True


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def fail() -> None:
    raise RuntimeError("first line\nsecond line of the error")


def test_a_json_line_has_the_stable_fields_and_the_ids_from_extra(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = capture
    logger.warning(
        "mention %s of %s", 42, "Kuzey Telekom", extra={"mention_id": 42, "case_id": 7, "delivery": "slack:1"}
    )
    [line] = lines(stream)
    assert list(line)[:4] == ["at", "level", "logger", "message"]
    assert line["level"] == "WARNING" and line["logger"] == "kulak.test.logs"
    assert line["message"] == "mention 42 of Kuzey Telekom"
    assert (line["mention_id"], line["case_id"], line["delivery"]) == (42, 7, "slack:1")
    assert line["at"].endswith("+00:00")


def test_an_exception_and_a_multiline_message_stay_one_json_line(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = capture
    try:
        fail()
    except RuntimeError:
        logger.exception("delivery failed\nwhile posting")
    [line] = lines(stream)
    assert line["message"] == "delivery failed\nwhile posting"
    assert "Traceback" in line["exc"] and "second line of the error" in line["exc"]


def test_the_text_format_is_one_line_with_ids_and_the_traceback_escaped() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("kulak.test.text")
    logger.handlers[:] = [make_handler("text", stream=stream)]
    logger.propagate = False
    try:
        with log_context(job="crawl", source="sikayetvar"):
            try:
                fail()
            except RuntimeError:
                logger.exception("crawl of %s failed", "sikayetvar:Mavi Kargo", extra={"brand": "Mavi Kargo"})
    finally:
        logger.handlers.clear()
        logger.propagate = True
    text = stream.getvalue()
    assert text.count("\n") == 1
    assert " ERROR kulak.test.text: crawl of sikayetvar:Mavi Kargo failed [job=crawl source=sikayetvar" in text
    assert "[job=crawl source=sikayetvar brand=Mavi Kargo] | Traceback" in text
    assert "\\nRuntimeError: first line\\nsecond line of the error" in text


def test_context_ids_nest_and_are_gone_after_their_block(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = capture
    with log_context(job="crawl", source="sikayetvar"):
        with log_context(brand="Mavi Kargo", source="eksisozluk", mention_id=None):
            logger.info("inner")
            assert current_ids() == {"job": "crawl", "source": "eksisozluk", "brand": "Mavi Kargo"}
        logger.info("outer", extra={"source": "from-extra"})  # extra= is more precise than the block
    logger.info("outside")
    inner, outer, outside = lines(stream)
    assert (inner["job"], inner["source"], inner["brand"]) == ("crawl", "eksisozluk", "Mavi Kargo")
    assert "mention_id" not in inner
    assert (outer["job"], outer["source"]) == ("crawl", "from-extra") and "brand" not in outer
    assert not {"job", "source", "brand"} & set(outside)
    assert current_ids() == {}


def test_context_ids_are_reset_when_the_block_raises() -> None:
    with pytest.raises(ZeroDivisionError), log_context(case_id=3):
        _ = 1 / 0
    assert current_ids() == {}


def test_an_id_named_like_a_record_attribute_is_refused() -> None:
    with pytest.raises(ValueError, match="message"), log_context(message="x"):
        pass


def test_a_pickled_context_filter_keeps_the_ids_of_its_block() -> None:
    """What a Scrapy child process gets: the parent's handler pieces, pickled inside the crawl's block."""
    with log_context(job="crawl", source="trustpilot"):
        copied = pickle.loads(pickle.dumps(ContextFilter()))
    record = logging.makeLogRecord({"msg": "from the child"})
    assert copied.filter(record)
    assert (record.job, record.source) == ("crawl", "trustpilot")  # type: ignore[attr-defined]


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="xml"):
        make_handler("xml")


@pytest.fixture
def root_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, sys.excepthook
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    sys.excepthook = hook
    logging.captureWarnings(False)


def test_configure_sends_everything_through_one_redacting_handler(root_restored: None) -> None:
    logs.configure("debug", "json", secrets=["hunter2-very-secret"])
    root = logging.getLogger()
    assert len(root.handlers) == 1 and root.level == logging.DEBUG and logs.writes_json()
    assert logging.getLogger("scrapy").level == logging.WARNING  # chatty libraries keep to warnings
    stream = io.StringIO()
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    logging.getLogger("some.library").info("password hunter2-very-secret")
    assert json.loads(stream.getvalue())["message"] == "password ***"
    logs.configure("INFO", "text")
    assert not logs.writes_json()


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "kulak.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_log_format_is_text_or_json_and_a_wrong_one_names_the_key(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, ""), env={}).log.format == "text"
    assert load_settings(write(tmp_path, '[log]\nformat = "json"\n'), env={}).log.format == "json"
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, '[log]\nformat = "yaml"\n'), env={})
    assert caught.value.key == "log.format" and "yaml" in str(caught.value)
    with pytest.raises(ConfigError) as old:
        load_settings(write(tmp_path, "[log]\njson = true\n"), env={})
    assert old.value.key == "log.json" and "format" in str(old.value)  # the old switch says what replaced it


def test_short_environment_names_set_the_log_format_and_level(tmp_path: Path) -> None:
    path = write(tmp_path, '[log]\nlevel = "WARNING"\n')
    settings = load_settings(path, env={"KULAK_LOG_FORMAT": "json", "KULAK_LOG_LEVEL": "DEBUG"})
    assert (settings.log.format, settings.log.level) == ("json", "DEBUG")
    both = load_settings(path, env={"KULAK_LOG_FORMAT": "json", "KULAK_LOG__FORMAT": "text"})
    assert both.log.format == "text"  # the full name wins over the short one
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={"KULAK_LOG_FORMAT": "jsn"})
    assert caught.value.key == "log.format"
