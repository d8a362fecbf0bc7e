"""What every helpdesk adapter shares: the registry, building them from [[helpdesks]], HTTP errors translated."""

from __future__ import annotations

import abc
import email.utils
import importlib
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar
from urllib.parse import urlsplit

import httpx

from responders.alerts import CaseView
from responders.ticket_text import clip
from store.errors import ConfigError, CredentialsRejected, DeliveryError, DeliveryRejected, NotConfigured
from store.model import CaseChange

if TYPE_CHECKING:
    from config.settings import HelpdeskSettings, Settings
    from responders.alerts import Alerter

log = logging.getLogger(__name__)

# Modules that register a helpdesk type when imported (``@register``); a new type adds its module here.
MODULES = ("zendesk", "freshdesk", "jira", "webhook")
SHORT_WAIT = 5.0  # a 429 asking for at most this many seconds is waited out once; longer ones go back to the outbox
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
ERROR_TEXT = 300  # characters of the helpdesk's own error text kept in a DeliveryRejected message


class Helpdesk(abc.ABC):
    """A helpdesk that opens a case as a ticket (``{"op": "open"}``) and later updates it (``{"op": "update"}``)."""

    kind: ClassVar[str]  # the registry key, the `type` of a [[helpdesks]] table
    title: ClassVar[str]  # how messages name the product: "Zendesk"
    Options: ClassVar[type[Any]]
    required: ClassVar[tuple[str, ...]] = ()  # option keys that must not be empty
    secret_option: ClassVar[str] = "token_env"  # the option naming the secret's environment variable

    def __init__(self, name: str, client: httpx.Client, base_url: str, options: Any, secret: str) -> None:
        self.name = name  # the [[helpdesks]] table's name: routes and the outbox find the adapter by it
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.options = options
        self.secret = secret
        self.target = ""

    @classmethod
    def from_settings(cls, conf: HelpdeskSettings, settings: Settings, index: int = 0) -> Self:
        from config.loader import build_section

        where, prefix = settings.path or "defaults", f"helpdesks[{index}]"
        options = build_section(cls.Options, conf.options, where, prefix)
        if not conf.enabled:
            raise NotConfigured(f"helpdesk {conf.name!r} has enabled = false")
        url = conf.base_url.strip()
        if not is_web_url(url):
            raise ConfigError(f"expected the https:// root of your {cls.title}", source=where, key=f"{prefix}.base_url")
        if urlsplit(url).scheme == "http" and urlsplit(url).hostname not in LOCAL_HOSTS:
            # Credentials and customers' names would cross the network in the clear.
            raise ConfigError(
                "expected https:// (plain http only on this machine)", source=where, key=f"{prefix}.base_url"
            )
        if conf.timeout <= 0:
            raise ConfigError("expected more than 0 seconds", source=where, key=f"{prefix}.timeout")
        for key in (*cls.required, cls.secret_option):
            if not str(getattr(options, key)).strip():
                raise ConfigError(f"{cls.title} needs {key}", source=where, key=f"{prefix}.{key}")
        cls.check(options, where, prefix)
        env_name = getattr(options, cls.secret_option)
        secret = settings.secret(env_name)
        if not secret:
            raise NotConfigured(f"helpdesk {conf.name!r} ({cls.kind}) needs {env_name} set in the environment")
        client = httpx.Client(timeout=conf.timeout, headers={"User-Agent": settings.crawl.agent()})
        return cls(conf.name, client, url, options, secret)

    @classmethod
    def check(cls, options: Any, where: str, prefix: str) -> None:
        """Rules on the type's own keys beyond their types; raise ConfigError naming the key."""
        return None

    @abc.abstractmethod
    def render(self, case: CaseView) -> dict[str, Any]:
        """The self-contained payload that opens ``case`` here: ``{"op": "open", ...}``."""

    @abc.abstractmethod
    def render_change(self, case: CaseView, change: CaseChange) -> list[dict[str, Any]]:
        """Payloads (``{"op": "update", ...}``) that bring the ticket up to date after ``change``."""

    @abc.abstractmethod
    def open(self, payload: Mapping[str, Any], target: str, key: str) -> str:
        """Create the ticket unless it exists already; its id either way."""

    @abc.abstractmethod
    def update(self, payload: Mapping[str, Any], ref: str, key: str) -> None:
        """Apply one change to ticket ``ref``; a repeat with the same ``key`` adds nothing twice."""

    def send(
        self, payload: Mapping[str, Any], target: str | None = None, *, key: str = "", parent_ref: str | None = None
    ) -> str:
        op = payload.get("op")
        if op == "open":
            return self.open(payload, target or self.target, key)
        if op == "update":
            if not parent_ref:
                raise DeliveryRejected(f"{self.title} {self.name!r}: a change needs the ticket it updates")
            self.update(payload, parent_ref, key)
            return parent_ref
        raise DeliveryRejected(f"{self.title} {self.name!r}: unknown payload op {op!r}")

    def auth(self) -> httpx.Auth | None:
        """Credentials sent with every request (Basic auth for the ticketing APIs)."""
        return None

    def answer(self, response: httpx.Response) -> Any:
        """The JSON a successful call answered; DeliveryError when it is not JSON (a proxy page, a cut answer)."""
        try:
            return response.json()
        except ValueError as exc:
            raise DeliveryError(
                f"{self.title} {self.name!r} answered HTTP {response.status_code} without JSON"
            ) from exc

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """``method`` on ``base_url + path`` with this helpdesk's credentials, errors translated."""
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        what = f"{self.title} {self.name!r}"
        return request(self.client, method, url, what=what, secrets=(self.secret,), auth=self.auth(), **kwargs)


def request(
    client: httpx.Client, method: str, url: str, *, what: str, secrets: tuple[str, ...] = (), **kwargs: Any
) -> httpx.Response:
    """Send one request; wait out one short 429; raise DeliveryError (retry later) or DeliveryRejected (for good)."""
    for attempt in (1, 2):
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"{what} timed out: {type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            raise DeliveryError(f"{what} unreachable: {type(exc).__name__}: {redact(str(exc), secrets)}") from exc
        status = response.status_code
        if response.is_success:
            return response
        if status == 429:
            wait = retry_after(response)
            if attempt == 1 and wait is not None and wait <= SHORT_WAIT:
                log.info("%s asked to wait %.1f s (429); waiting once", what, wait)
                time.sleep(wait)
                continue
            shown = "unknown" if wait is None else f"{wait:g} s"
            raise DeliveryError(f"{what} rate limited the request (HTTP 429, Retry-After {shown})", retry_after=wait)
        # Some APIs quote the request in their errors: the credentials sent (Basic is only base64) are hidden too.
        sent = response.request.headers.get("authorization", "")
        text = redact(error_text(response), (sent, sent.partition(" ")[2], *secrets))
        if status >= 500 or status == 408:
            raise DeliveryError(f"{what} failed: HTTP {status}: {text}")
        if status == 401:
            raise CredentialsRejected(f"{what} refused Kulak's credentials: HTTP 401: {text}")
        raise DeliveryRejected(f"{what} refused {method} {httpx.URL(url).path}: HTTP {status}: {text}")
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the ``Retry-After`` header asks for (a number or an HTTP date), None when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds()) if when.tzinfo else None


def error_text(response: httpx.Response) -> str:
    """The helpdesk's own words for an error (Zendesk ``details``, Freshdesk ``errors[]``, Jira ``errorMessages``)."""
    try:
        data = response.json()
    except ValueError:
        return clip(" ".join(response.text.split()) or response.reason_phrase, ERROR_TEXT)
    return clip("; ".join(_messages(data)) or response.reason_phrase, ERROR_TEXT)


def _messages(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data] if data.strip() else []
    if isinstance(data, list):
        return [m for item in data for m in _messages(item)]
    if not isinstance(data, dict):
        return []
    if "field" in data and "message" in data:  # Freshdesk: {"field", "message", "code"}
        return [f"{data['field']}: {data['message']}"]
    found: list[str] = []
    for key in ("error", "title", "description", "message", "errorMessages"):
        found += _messages(data.get(key))
    for key in ("errors", "details"):  # Jira {"field": "text"}, Zendesk {"field": [{"description"}]}
        value = data.get(key)
        if isinstance(value, dict):
            found += [f"{field}: {m}" for field, inner in value.items() for m in _messages(inner)]
        else:
            found += _messages(value)
    return found


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[secret]")
    return text


def is_web_url(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) URL (not ``javascript:``, not a bare path, not garbage)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


# -- the registry ------------------------------------------------------------------------------------
HELPDESKS: dict[str, type[Helpdesk]] = {}
H = TypeVar("H", bound=type[Helpdesk])


def register(cls: H) -> H:
    """Class decorator: make a helpdesk type known under its ``kind`` (the `type` in kulak.toml)."""
    HELPDESKS[cls.kind] = cls
    return cls


def helpdesk_types() -> dict[str, type[Helpdesk]]:
    """Registry key -> adapter class, every shipped module imported."""
    for module in MODULES:
        importlib.import_module(f"responders.{module}")
    return dict(sorted(HELPDESKS.items()))


def build_helpdesks(settings: Settings, off: dict[str, str] | None = None) -> list[Alerter]:
    """The enabled ``[[helpdesks]]`` as adapters; those that switched themselves off are named in ``off``."""
    types, where = helpdesk_types(), settings.path or "defaults"
    built: list[Alerter] = []
    names: set[str] = set()
    for index, conf in enumerate(settings.helpdesks):
        prefix = f"helpdesks[{index}]"
        if not conf.name.strip():
            raise ConfigError("every helpdesk needs a name", source=where, key=f"{prefix}.name")
        if conf.name in names:
            raise ConfigError(f"helpdesk name {conf.name!r} is used twice", source=where, key=f"{prefix}.name")
        names.add(conf.name)
        cls = types.get(conf.type)
        if cls is None:
            known = ", ".join(types)
            raise ConfigError(
                f"unknown type {conf.type!r}; expected one of: {known}", source=where, key=f"{prefix}.type"
            )
        try:
            built.append(cls.from_settings(conf, settings, index))
        except NotConfigured as exc:
            log.info("Helpdesk %s is off: %s", conf.name, exc, extra={"helpdesk": conf.name})
            if off is not None:
                off[conf.name] = str(exc)
    if built:
        log.info("Enabled helpdesks: %s", ", ".join(h.name for h in built))
    return built
