"""Build Settings from defaults < kulak.toml < KULAK_* environment < CLI flags, with errors that name the key."""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from config.checks import check_routes, check_service_levels
from config.settings import (
    CUSTOMER_FIELDS,
    LANGUAGES,
    SEND_TIME_KEYS,
    Settings,
    check_send_time,
    parse_duration,
)
from store.errors import ConfigError

ENV_PREFIX = "KULAK_"
# Variables that are not settings keys: they choose the file or carry secrets, handled on their own.
ENV_SPECIAL = {"KULAK_CONFIG"}
# Short names operators expect for the two keys they change most; KULAK_LOG__FORMAT and KULAK_LOG__LEVEL win.
ENV_ALIASES = {"KULAK_LOG_FORMAT": ("log", "format"), "KULAK_LOG_LEVEL": ("log", "level")}


def find_config(explicit: str | Path | None, env: Mapping[str, str]) -> Path | None:
    """The config path: --config, else KULAK_CONFIG, else ./kulak.toml if it exists."""
    if explicit:
        return Path(explicit)
    if env.get("KULAK_CONFIG"):
        return Path(env["KULAK_CONFIG"])
    default = Path("kulak.toml")
    return default if default.exists() else None


def load_settings(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read and check the settings; raise ConfigError naming the file and key on any mistake."""
    env = os.environ if env is None else env
    config_path = find_config(path, env)
    data: dict[str, Any] = {}
    source = "defaults"
    if config_path is not None:
        source = str(config_path)
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError("file not found", source=source) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read: {exc}", source=source) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not valid TOML: {exc}", source=source) from exc
        except ValueError as exc:  # a path with a NUL character ("embedded null byte")
            raise ConfigError(f"cannot read: {exc}", source=source) from None
    _layer_env(data, env)
    for dotted, value in (overrides or {}).items():
        _set_dotted(data, dotted.split("."), value)
    settings: Settings = _build(Settings, data, source, "")
    settings = _with_secrets(settings, env)
    settings = dataclasses.replace(settings, path=str(config_path) if config_path else None, environ=dict(env))
    _check(settings, source)
    return settings


def _layer_env(data: dict[str, Any], env: Mapping[str, str]) -> None:
    """KULAK_SECTION__KEY=value sets [section] key; values are parsed as TOML when they can be."""
    for alias, dotted in ENV_ALIASES.items():
        if env.get(alias):
            _set_dotted(data, list(dotted), env[alias])
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name or name in ENV_SPECIAL:
            continue
        keys = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        try:
            value: Any = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        _set_dotted(data, keys, value)


def _set_dotted(data: dict[str, Any], keys: list[str], value: Any) -> None:
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set {'.'.join(keys)}: {key} is not a table")
    node[keys[-1]] = value


def _with_secrets(settings: Any, env: Mapping[str, str]) -> Any:
    """Fill every field marked secret_env from its environment variable, recursively."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        secret = f.metadata.get("secret_env")
        if secret:
            changes[f.name] = env.get(secret) or None
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes[f.name] = _with_secrets(value, env)
    return dataclasses.replace(settings, **changes)


def _build(cls: type[Any], data: Any, source: str, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"expected a table, got {_describe(data)}", source=source, key=prefix or "(top level)")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    extra = next((f.name for f in dataclasses.fields(cls) if f.metadata.get("extra")), None)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{prefix}.{key}" if prefix else key
        f = fields.get(key)
        if f is None and extra is not None:  # a key of the component's own, checked by the component
            kwargs.setdefault(extra, {})[key] = value
            continue
        if f is None:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"unknown key; expected one of: {known}", source=source, key=where)
        if f.metadata.get("secret_env"):
            raise ConfigError(
                f"secrets are read only from the environment: set {f.metadata['secret_env']} instead",
                source=source,
                key=where,
            )
        kwargs[key] = _convert(hints[key], value, source, where)
    return cls(**kwargs)


def build_section(cls: type[Any], data: Any, source: str, prefix: str) -> Any:
    """``data`` (a TOML table) as the dataclass ``cls``, with errors naming ``source`` and ``prefix.key``.

    For components that own their keys (a source type's options): they check them when they are built.
    """
    return _build(cls, data, source, prefix)


def _convert(tp: Any, value: Any, source: str, where: str) -> Any:
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, source, where)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, source, where)  # type: ignore[arg-type]
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"expected a list, got {_describe(value)}", source=source, key=where)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, source, f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"expected a list of {len(args)} values, got {len(value)}", source=source, key=where)
        return tuple(_convert(a, v, source, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"expected a table, got {_describe(value)}", source=source, key=where)
        return {str(k): _convert(args[1], v, source, f"{where}.{k}") for k, v in value.items()}
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (str, int, float, bool):
        if type(value) is not tp:
            raise ConfigError(f"expected {_TYPE_NAMES[tp]}, got {_describe(value)}", source=source, key=where)
        return value
    raise ConfigError(f"unsupported setting type {tp!r}", source=source, key=where)  # pragma: no cover


_TYPE_NAMES = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}


def _describe(value: Any) -> str:
    kind = {bool: "true/false", int: "a number", float: "a number", str: "a string", list: "a list", dict: "a table"}
    return f"{kind.get(type(value), type(value).__name__)} ({value!r})"[:80]


def _check(settings: Settings, source: str) -> None:
    """Rules that span keys or values: unique brand names, sane ranges."""
    seen: set[str] = set()
    for i, brand in enumerate(settings.brands):
        key = f"brands[{i}]"
        if not brand.name.strip():
            raise ConfigError("every brand needs a name", source=source, key=f"{key}.name")
        folded = brand.name.casefold()
        if folded in seen:
            raise ConfigError(f"brand name {brand.name!r} is used twice", source=source, key=f"{key}.name")
        seen.add(folded)
        if brand.ambiguous and not (brand.context or brand.handles or brand.hashtags):
            raise ConfigError(
                "an ambiguous brand needs context words (or handles/hashtags) to tell it apart",
                source=source,
                key=f"{key}.context",
            )
        for j, handle in enumerate(brand.handles):
            if not handle.startswith("@"):
                raise ConfigError(
                    f"expected a handle starting with @, got {handle!r}", source=source, key=f"{key}.handles[{j}]"
                )
        for j, tag in enumerate(brand.hashtags):
            if not tag.startswith("#"):
                raise ConfigError(
                    f"expected a hashtag starting with #, got {tag!r}", source=source, key=f"{key}.hashtags[{j}]"
                )
    _check_sources(settings, source)
    if settings.analysis.reach_followers < 1:
        raise ConfigError("expected at least 1", source=source, key="analysis.reach_followers")
    if settings.analysis.repeat_days < 0:
        raise ConfigError("expected 0 or more days", source=source, key="analysis.repeat_days")
    _check_customers(settings, source)
    check_routes(settings, source)
    check_service_levels(settings, source)
    _check_schedule(settings, source)
    _check_digests(settings, source)
    if settings.log.level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError("expected DEBUG, INFO, WARNING or ERROR", source=source, key="log.level")
    if settings.log.format.lower() not in {"text", "json"}:
        shown = settings.log.format[:20]
        raise ConfigError(f'expected "text" or "json", got {shown!r}', source=source, key="log.format")
    if not 0.0 <= settings.tickets.min_sentiment_score <= 1.0:
        raise ConfigError("expected a number from 0 to 1", source=source, key="tickets.min_sentiment_score")
    _check_paths(settings, source)


#: Settings that are paths: what each must be, and whether it is read from the config file's folder (else from the
#: working directory). One that does not exist yet is left to the component (made later, or reported when used).
PATH_KEYS = {
    "customers.file": ("file", True),
    "smtp.ca_file": ("file", True),
    "replies.templates": ("directory", True),
    "digests.out_dir": ("directory", True),
    "store.sqlite_path": ("file", False),
    "analysis.models": ("directory", False),
}


def _check_paths(settings: Settings, source: str) -> None:
    for key, (kind, from_config) in PATH_KEYS.items():
        section, name = key.split(".")
        value = getattr(getattr(settings, section), name)
        if not value:
            continue
        if "\x00" in value:  # the OS would refuse it with a ValueError deep inside whatever opens it
            raise ConfigError(f"expected a path to a {kind}, got one with a NUL character", source=source, key=key)
        path = resolve_path(settings, value) if from_config else Path(value).expanduser()
        try:
            is_dir = path.is_dir() if path.exists() or path.is_symlink() else None
            if is_dir is None:
                continue
            path.stat()  # a symlink loop or a dangling link fails here
        except OSError as exc:
            problem = f"expected a {kind}; {path} cannot be read: {exc.strerror}"
            raise ConfigError(problem, source=source, key=key) from None
        if is_dir != (kind == "directory"):
            found = "a directory" if is_dir else "a file"
            raise ConfigError(f"expected a {kind}, but {path} is {found}", source=source, key=key)


def _check_schedule(settings: Settings, source: str) -> None:
    schedule = settings.schedule
    for name in ("stage_interval", "check_interval", "misfire_grace", "stop_timeout"):
        try:
            if parse_duration(getattr(schedule, name)) <= 0:
                raise ValueError("expected a duration above zero")
        except ValueError as exc:
            raise ConfigError(str(exc), source=source, key=f"schedule.{name}") from None
    if not 0.0 <= schedule.jitter <= 1.0:
        raise ConfigError("expected a fraction from 0 to 1", source=source, key="schedule.jitter")
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", schedule.purge_at):
        raise ConfigError(f"expected HH:MM, got {schedule.purge_at[:20]!r}", source=source, key="schedule.purge_at")
    if not re.fullmatch(r"[a-z0-9_]{1,40}", schedule.worker):
        shown = schedule.worker[:50]
        raise ConfigError(
            f"expected 1-40 lowercase letters, digits or _, got {shown!r}", source=source, key="schedule.worker"
        )
    if schedule.threads < 1:
        raise ConfigError("expected at least 1", source=source, key="schedule.threads")


def _check_digests(settings: Settings, source: str) -> None:
    digests, crisis = settings.digests, settings.crisis
    if digests.language not in LANGUAGES:
        raise ConfigError(f"expected one of {', '.join(LANGUAGES)}", source=source, key="digests.language")
    for kind, spec in digests.send_times().items():
        try:
            check_send_time(kind, spec)
        except ValueError as exc:
            raise ConfigError(str(exc), source=source, key=f"digests.{SEND_TIME_KEYS[kind]}") from None
    names = {b.name for b in settings.brands}
    for index, brand in enumerate(digests.brands):
        if brand not in names:
            raise ConfigError(f"no [[brands]] table is named {brand!r}", source=source, key=f"digests.brands[{index}]")
    for index, address in enumerate(digests.email_to):
        if not re.fullmatch(r"[^@\s<>,]+@[^@\s<>,]+", address):
            shown = address[:80]
            raise ConfigError(f"not an e-mail address: {shown!r}", source=source, key=f"digests.email_to[{index}]")
    if digests.top < 1:
        raise ConfigError("expected at least 1", source=source, key="digests.top")
    if not 0 < settings.smtp.port < 65536:
        raise ConfigError("expected a port from 1 to 65535", source=source, key="smtp.port")
    for name in ("interval", "window", "calm_for"):
        try:
            if parse_duration(getattr(crisis, name)) <= 0:
                raise ValueError("expected a duration above zero")
        except ValueError as exc:
            raise ConfigError(str(exc), source=source, key=f"crisis.{name}") from None
    if crisis.baseline_weeks < 1:
        raise ConfigError("expected at least 1 week", source=source, key="crisis.baseline_weeks")
    if crisis.min_mentions < 1:
        raise ConfigError("expected at least 1", source=source, key="crisis.min_mentions")
    if not 0.0 < crisis.significance < 0.5:
        raise ConfigError("expected a probability above 0 and below 0.5", source=source, key="crisis.significance")


def _check_customers(settings: Settings, source: str) -> None:
    customers = settings.customers
    for name in customers.columns:
        if name not in CUSTOMER_FIELDS:
            raise ConfigError(
                f"unknown customer field {name!r}; expected one of {', '.join(CUSTOMER_FIELDS)}",
                source=source,
                key=f"customers.columns.{name}",
            )
    for kind, pattern in customers.number_patterns.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(
                f"not a regular expression: {exc}", source=source, key=f"customers.number_patterns.{kind}"
            ) from None
    if not 0 < customers.suggest <= customers.auto_link <= 1:
        raise ConfigError("expected 0 < suggest <= auto_link <= 1", source=source, key="customers.auto_link")
    if settings.cases.window_hours < 0:
        raise ConfigError("expected 0 or more hours", source=source, key="cases.window_hours")
    if settings.cases.duplicate_days < 0:
        raise ConfigError("expected 0 or more days", source=source, key="cases.duplicate_days")


def _check_sources(settings: Settings, source: str) -> None:
    names: set[str] = set()
    brands = {b.name for b in settings.brands}
    for i, conf in enumerate(settings.sources):
        key = f"sources[{i}]"
        if not conf.name.strip():
            raise ConfigError("every source needs a name", source=source, key=f"{key}.name")
        if conf.name in names:
            raise ConfigError(f"source name {conf.name!r} is used twice", source=source, key=f"{key}.name")
        names.add(conf.name)
        if not conf.type.strip():
            raise ConfigError("every source needs a type", source=source, key=f"{key}.type")
        for j, brand in enumerate(conf.brands):
            if brand not in brands:
                raise ConfigError(f"no [[brands]] table is named {brand!r}", source=source, key=f"{key}.brands[{j}]")
        for name in ("interval", "silence"):
            try:
                parse_duration(getattr(conf, name))
            except ValueError as exc:
                raise ConfigError(str(exc), source=source, key=f"{key}.{name}") from None
        low, high = conf.delay
        if low < 0 or high < low:
            raise ConfigError("expected [min, max] with 0 <= min <= max", source=source, key=f"{key}.delay")
        for name in ("concurrency", "max_pages", "max_failures"):
            if getattr(conf, name) < 1:
                raise ConfigError("expected at least 1", source=source, key=f"{key}.{name}")
        if conf.timeout <= 0:
            raise ConfigError("expected more than 0", source=source, key=f"{key}.timeout")
    crawl = settings.crawl
    if crawl.retries < 0 or crawl.backoff < 0 or crawl.max_wait < 0 or crawl.max_page_bytes < 1024:
        raise ConfigError(
            "expected retries, backoff and max_wait of 0 or more and max_page_bytes of at least 1024",
            source=source,
            key="crawl",
        )


def resolve_path(settings: Settings, relative: str) -> Path:
    """A path from the config: ``~`` is the home folder, a relative one is taken from the config file's folder."""
    p = Path(relative).expanduser()
    if p.is_absolute() or settings.path is None:
        return p
    return Path(settings.path).parent / p
