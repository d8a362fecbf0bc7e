"""Digests by e-mail: an outbox channel sending HTML with inline charts over SMTP, never a password in clear."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import smtplib
import ssl
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from store.errors import ConfigError, DeliveryError, DeliveryRejected, NotConfigured

if TYPE_CHECKING:
    from config.settings import Settings

log = logging.getLogger(__name__)
SERVER_TEXT = 200  # how much of the server's answer an error message quotes


class SmtpMailer:
    """Send outbox e-mails (payload: subject, html, text, images {content id: base64 PNG}) through one SMTP server.

    TLS from the first byte (``use_ssl``) or upgraded with STARTTLS (refused when the server does not offer it);
    a login only over TLS. Returns the Message-ID, made from the outbox key, so a retried e-mail keeps its id.
    """

    name: ClassVar[str] = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        *,
        username: str = "",
        password: str | None = None,
        starttls: bool = True,
        use_ssl: bool = False,
        ca_file: Path | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.target = ", ".join(recipients)
        self.username = username
        self._password = password or ""
        self.starttls, self.use_ssl, self.timeout = starttls, use_ssl, timeout
        try:
            self.context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"cannot read CA certificates from {ca_file}: {exc}", key="smtp.ca_file") from exc

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpMailer:
        smtp = settings.smtp
        if not smtp.host:
            raise NotConfigured("no SMTP server: set [smtp] host")
        if not settings.digests.email_to:
            raise NotConfigured("nobody to e-mail: set digests.email_to")
        ca_file = None
        if smtp.ca_file:
            ca_file = Path(smtp.ca_file).expanduser()
            if not ca_file.is_absolute():  # relative to the config file, like every other path in it
                ca_file = (Path(settings.path).parent if settings.path else Path.cwd()) / ca_file
        return cls(
            smtp.host,
            smtp.port,
            smtp.sender,
            settings.digests.email_to,
            username=smtp.username,
            password=smtp.password,
            starttls=smtp.starttls,
            use_ssl=smtp.ssl,
            ca_file=ca_file,
            timeout=smtp.timeout,
        )

    def send(
        self, payload: Mapping[str, Any], target: str | None = None, *, key: str = "", parent_ref: str | None = None
    ) -> str:
        """Send the e-mail to ``target`` (comma-separated addresses); returns its Message-ID."""
        recipients = [a.strip() for a in (target or self.target).split(",") if a.strip()]
        if not recipients:
            raise DeliveryRejected("the e-mail has no recipients")
        message = self.message(payload, recipients, key)
        refused = self._deliver(message, recipients)
        if refused:  # the others have it: sending again would give them a second copy
            log.warning("%d of %d recipients refused the e-mail %s", len(refused), len(recipients), key)
        log.info("e-mail sent through %s to %d recipients", self.host, len(recipients) - len(refused))
        return str(message["Message-ID"])

    def message(self, payload: Mapping[str, Any], recipients: Sequence[str], key: str = "") -> EmailMessage:
        """Plain text and, as its alternative, the HTML with its images attached inline under their Content-IDs."""
        message = EmailMessage()
        try:
            message["Subject"] = str(payload["subject"])
            message["From"] = self.sender
            message["To"] = ", ".join(recipients)
            message["Date"] = format_datetime(datetime.now(UTC))
            message["Message-ID"] = message_id(key, self.sender)
            message["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies leave it alone
            message.set_content(str(payload["text"]))
            message.add_alternative(str(payload["html"]), subtype="html")
            if payload.get("language"):  # after the content: setting content clears every Content-* header
                message["Content-Language"] = str(payload["language"])
            html = next(p for p in message.iter_parts() if p.get_content_type() == "text/html")
            for cid, png in (payload.get("images") or {}).items():
                name = f"{cid.partition('@')[0]}.png"
                data = base64.b64decode(png, validate=True)
                html.add_related(data, "image", "png", cid=f"<{cid}>", disposition="inline", filename=name)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:  # ValueError: a header with a line break
            raise DeliveryRejected(f"the e-mail payload is malformed: {type(exc).__name__}: {exc}") from exc
        return message

    def _deliver(self, message: EmailMessage, recipients: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        envelope_from = parseaddr(self.sender)[1] or self.sender
        try:
            server = (
                smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.context)
                if self.use_ssl
                else smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            )
            with server:
                server.ehlo()
                secure = self.use_ssl
                if not secure and self.starttls:
                    if not server.has_extn("starttls"):
                        raise DeliveryRejected(
                            f"{self.host}:{self.port} does not offer STARTTLS; not sending without TLS "
                            "(smtp.ssl for port 465, or smtp.starttls = false for a relay you trust)"
                        )
                    server.starttls(context=self.context)
                    server.ehlo()
                    secure = True
                if self.username:
                    if not secure:
                        raise DeliveryRejected("not sending the SMTP password over a connection without TLS")
                    self._login(server)
                return server.send_message(message, envelope_from, list(recipients))
        except DeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as exc:  # the server's answer is not quoted: it may echo the login
            kind = DeliveryRejected if exc.smtp_code >= 500 else DeliveryError
            raise kind(f"{self.host} refused the SMTP login (code {exc.smtp_code})") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            kind = DeliveryRejected if all(code >= 500 for code in codes) else DeliveryError
            raise kind(f"{self.host} refused every recipient (codes {codes})") from exc
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, helo refused, ...
            kind = DeliveryRejected if exc.smtp_code >= 500 else DeliveryError
            raise kind(f"{self.host} answered {exc.smtp_code}: {self._quote(exc.smtp_error)}") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryRejected(f"{self.host} does not support what was asked: {self._quote(exc)}") from exc
        except smtplib.SMTPException as exc:  # disconnected and the like
            raise DeliveryError(f"SMTP with {self.host} failed: {type(exc).__name__}: {self._quote(exc)}") from exc
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryRejected(f"{self.host}'s certificate is not trusted: {exc.verify_message}") from exc
        except (ssl.SSLError, OSError) as exc:  # refused, reset, timed out, TLS handshake cut short
            raise DeliveryError(
                f"{self.host}:{self.port} unreachable: {type(exc).__name__}: {self._quote(exc)}"
            ) from exc

    def _login(self, server: smtplib.SMTP) -> None:
        """Log in; a login or password beyond ASCII (smtplib encodes ASCII only) goes as UTF-8 AUTH PLAIN (RFC 4616)."""
        if (self.username + self._password).isascii():
            server.login(self.username, self._password)
            return
        if "plain" not in server.esmtp_features.get("auth", "").lower().split():
            raise DeliveryRejected(f"{self.host} offers no AUTH PLAIN, the only way to send a non-ASCII password")
        secret = b"\0" + self.username.encode("utf-8") + b"\0" + self._password.encode("utf-8")
        code, answer = server.docmd("AUTH", "PLAIN " + base64.b64encode(secret).decode("ascii"))
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, answer)

    def _quote(self, what: object) -> str:
        """A server's or library's words for an error message, short and never holding the password."""
        text = what.decode("utf-8", "replace") if isinstance(what, bytes) else str(what)
        text = " ".join(text.split())[:SERVER_TEXT]
        return text.replace(self._password, "***") if self._password else text


def message_id(key: str, sender: str) -> str:
    """``<hash-of-key@sender's domain>``: the same for every try of one outbox row (random without a key)."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "kulak.localhost"
    local = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] if key else uuid.uuid4().hex
    return f"<{local}@{domain}>"
