"""Hide secrets and personal identifiers in log text, so an operator can ship logs anywhere."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from classifiers.pii import mask_pii

if TYPE_CHECKING:
    from config.settings import Settings

MASK = "***"
# A shorter value would blank ordinary words and numbers all over the log; real tokens and passwords are longer.
MIN_SECRET_LENGTH = 6
# Environment variables whose values are secrets even when no setting names them (a source's default *_env).
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|CLIENT_ID|_KEY$|DATABASE_URL")

# Every credential pattern below starts with one of these; most log lines have none and skip the substitutions.
_HINT = re.compile(r"xox|xapp|://|bearer|basic|authorization", re.IGNORECASE)
_SLACK_TOKEN = re.compile(r"\b(?:xox[a-z]|xapp)-[0-9A-Za-z-]{6,}")
_AUTH_HEADER = re.compile(
    r"""(authorization["']?\s*[:=]\s*["']?)((?:bearer|basic|token|bot)\s+)?[^\s"',;}]+""", re.IGNORECASE
)
_BEARER = re.compile(r"\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)
_BASIC = re.compile(r"\b(basic\s+)([A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"\b([a-z][a-z0-9+.-]*://[^\s/@:]*:)[^\s/@]+@", re.IGNORECASE)


class Redactor:
    """``redactor(text)``: ``text`` with secrets as ``***`` and identifiers as the masker's tags ([TELEFON] ...).

    Hidden: the given secret values; Slack tokens (``xoxb-...``); the credential of an ``Authorization`` header,
    a ``Bearer`` token or a ``Basic`` user:password; the password in ``scheme://user:password@host``; and phone
    numbers, e-mail addresses, TC kimlik numbers, IBANs and card numbers (``classifiers.pii``).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        kept = {s.strip() for s in secrets if s and len(s.strip()) >= MIN_SECRET_LENGTH}
        # Longest first, so a secret that contains another is hidden whole.
        self.secrets = tuple(sorted(kept, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        if _HINT.search(text):
            text = _SLACK_TOKEN.sub(MASK, text)
            text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2) or ''}{MASK}", text)
            text = _BEARER.sub(rf"\g<1>{MASK}", text)
            text = _BASIC.sub(_basic, text)
            text = _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
        # The masker returns at once when there is no "@" and no run of three digits: most log lines.
        return mask_pii(text)


def _basic(match: re.Match[str]) -> str:
    """A ``Basic`` credential is hidden when it decodes to user:password; "Basic plan" is left as it is."""
    try:
        decoded = base64.b64decode(match.group(2) + "=" * (-len(match.group(2)) % 4), validate=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    return f"{match.group(1)}{MASK}" if b":" in decoded else match.group(0)


def redact_value(value: Any, redactor: Redactor) -> Any:
    """``value`` with every string in it redacted; numbers, booleans and None as they are, anything else as text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redactor(value)
    if isinstance(value, dict):
        return {str(k): redact_value(v, redactor) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v, redactor) for v in value]
    return redactor(str(value))


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value the settings hold or point to, for :class:`Redactor`.

    That is each field marked ``secret_env`` that is set, the variables named by a source's or helpdesk's
    ``*_env`` options, and any ``KULAK_*`` variable whose name says it is a secret (``..._TOKEN``, ``..._SECRET``,
    ``..._KEY``, ``..._PASSWORD``), which covers the ``*_env`` defaults a table does not spell out.
    """
    found: list[str] = []
    _collect(settings, found)
    env = os.environ if settings.environ is None else settings.environ
    options = [table.options for table in settings.sources] + [table.options for table in settings.helpdesks]
    names = {v for table in options for k, v in table.items() if k.endswith("_env") and isinstance(v, str)}
    names.update(name for name in env if name.startswith("KULAK_") and _SECRET_NAME.search(name))
    found.extend(env[name] for name in sorted(names) if env.get(name))
    return found


def _collect(node: Any, found: list[str]) -> None:
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if f.metadata.get("secret_env"):
            if isinstance(value, str) and value:
                found.append(value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            _collect(value, found)
        elif isinstance(value, tuple):
            for item in value:
                if dataclasses.is_dataclass(item) and not isinstance(item, type):
                    _collect(item, found)
