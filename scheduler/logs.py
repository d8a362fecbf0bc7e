"""Logging, configured once by the CLI: one line per event on stderr, text or JSON, with ids and nothing secret."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType, TracebackType
from typing import Any

from scheduler.redact import Redactor, redact_value

FORMATS = ("text", "json")
# The ids a line may carry, in the order they are shown; stages pass them with extra=, jobs with log_context.
ID_FIELDS = ("job", "source", "brand", "mention_id", "case_id", "delivery")
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_NOISY = ("scrapy", "twisted", "apscheduler.executors", "alembic", "httpx", "httpcore", "filelock")
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_CONTEXT: ContextVar[Mapping[str, Any]] = ContextVar("kulak_log_context", default=_EMPTY)


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Inside the block, every record (from any logger, in this thread or task) carries ``ids``.

    Blocks nest: an inner block adds to (or overrides) the outer ids, and each block's ids are gone after it.
    An id given as None is left out. An explicit ``extra=`` on a log call wins over the block's ids.
    """
    reserved = sorted(set(ids) & _STANDARD)
    if reserved:
        raise ValueError(f"log ids cannot be named like LogRecord attributes: {', '.join(reserved)}")
    token = _CONTEXT.set(MappingProxyType({**_CONTEXT.get(), **{k: v for k, v in ids.items() if v is not None}}))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_ids() -> dict[str, Any]:
    """The ids of the enclosing :func:`log_context` blocks."""
    return dict(_CONTEXT.get())


class ContextFilter(logging.Filter):
    """Copies the ids of the enclosing :func:`log_context` blocks (and ``fixed`` ones) onto each record."""

    def __init__(self, fixed: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.fixed = dict(fixed or {})

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in {**self.fixed, **_CONTEXT.get()}.items():
            if key not in record.__dict__:
                setattr(record, key, value)
        return True

    def __reduce__(self) -> tuple[Any, ...]:
        # A child process that sets up its logging from a pickled copy (a Scrapy crawl) keeps the ids of the
        # block that started it: context variables do not cross a process boundary.
        return (ContextFilter, ({**self.fixed, **_CONTEXT.get()},))


class RedactFilter(logging.Filter):
    """Hides secrets and personal identifiers in the message, every extra field, and the traceback."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redactor(_message(record)), None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD:
                setattr(record, key, redact_value(value, self.redactor))
        if record.exc_info and not record.exc_text:
            record.exc_text = _PLAIN.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        return True


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except (TypeError, ValueError, KeyError):  # arguments that do not fit the format: keep both, do not crash
        return f"{record.msg} {record.args!r}"


_PLAIN = logging.Formatter()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: at, level, logger, message, the ids present, other extras, and ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        extras = _extras(record)
        data.update((key, extras.pop(key)) for key in ID_FIELDS if key in extras)
        for key, value in sorted(extras.items()):
            data.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exc"] = record.exc_text
        if record.stack_info:
            data["stack"] = record.stack_info
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [id=value ...] | traceback``, with line breaks written as ``\\n``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        extras = _extras(record)
        ids = " ".join(f"{key}={extras[key]}" for key in ID_FIELDS if key in extras)
        if ids:
            line += f" [{ids}]"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += f" | {record.exc_text}"
        if record.stack_info:
            line += f" | {self.formatStack(record.stack_info)}"
        # One event, one line: a log shipper or grep never sees half a traceback.
        return line.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def make_handler(fmt: str = "text", secrets: Iterable[str] = (), stream: Any = None) -> logging.Handler:
    """A handler writing one line per event to ``stream`` (stderr), ids added and secrets hidden."""
    if fmt.lower() not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(JsonFormatter() if fmt.lower() == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactFilter(Redactor(secrets)))  # after the ids, so they are checked too
    return handler


def configure(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Send every log record, from any library, through one stderr handler; call once, from the CLI."""
    root = logging.getLogger()
    root.handlers[:] = [make_handler(fmt, secrets)]
    root.setLevel(level.upper())
    # Scrapy and friends are chatty at INFO; their warnings still come through.
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # Python's warnings and uncaught exceptions would otherwise print several bare lines on stderr.
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught


def writes_json() -> bool:
    """Whether :func:`configure` set up JSON lines (the CLI then reports its last error as one)."""
    return any(isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers)


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    logging.getLogger("kulak").critical("uncaught %s", kind.__name__, exc_info=(kind, exc, tb))
