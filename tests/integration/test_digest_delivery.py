"""A digest through the outbox over the wire: Slack (message, then its charts as files in the thread) and SMTP."""

from __future__ import annotations

import email
import email.policy
import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine

from config.settings import DigestSettings, Settings, SmtpSettings
from loopback.slack import SlackServer
from responders.digest_charts import chart_key, digest_charts
from responders.digest_slack import digest_deliveries
from responders.email import SmtpMailer
from responders.job import deliver_pending
from responders.slack import SlackAlerter, slack_client
from store.errors import DeliveryError, DeliveryRejected, NotConfigured
from store.model import DeliveryStatus
from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.support.digest_sample import BRAND, EMPTY_BRAND, sample_digest

TOKEN = "xoxb-kulak-digest-secret"
PREFIX = "digest:week:2026-W47"
PASSWORD = "gizli-şifre-123"
RECIPIENTS = ["mudur@kuzey.example", "ekip@kuzey.example"]
SENDER = "Kulak <kulak@kulak.example>"


def deliver_all(uow: SqlAlchemyUnitOfWork, channels: dict[str, Any]) -> None:
    """Empty the outbox; a later pass (a minute on) sends what waited for its parent message."""
    now = datetime.now(UTC)
    for minutes in range(3):
        deliver_pending(uow, channels, now=now + timedelta(minutes=minutes))


# -- Slack ------------------------------------------------------------------------------------------------------
@pytest.fixture
def slack_server() -> Iterator[SlackServer]:
    with SlackServer(TOKEN, {"care-managers": "C0MANAGERS"}) as server:
        yield server


def test_the_digest_and_its_charts_reach_slack(engine: Engine, slack_server: SlackServer) -> None:
    digest = sample_digest()
    rows = digest_deliveries(digest, slack_channel="#care-managers", email_to=(), key_prefix=PREFIX)
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert all(uow.deliveries.enqueue(row) for row in rows)
        uow.commit()
    alerter = SlackAlerter(slack_client(TOKEN, slack_server.url + "/api/", max_wait=5), "#care-managers")
    deliver_all(uow, {"slack": alerter})

    with uow:
        sent = {row.key: uow.deliveries.get(row.key) for row in rows}
    assert all(d is not None and d.status is DeliveryStatus.SENT for d in sent.values()), sent
    busy, empty = (slack_server.posted("#care-managers")[i] for i in (0, 1))
    assert [busy.text, empty.text] == [rows[0].payload["text"], rows[2].payload["text"]]
    assert busy.blocks == rows[0].payload["blocks"] and EMPTY_BRAND in empty.text
    parent = sent[f"{PREFIX}:slack:#care-managers:{BRAND}"]
    assert parent is not None and parent.external_ref == f"C0MANAGERS/{busy.ts}"

    charts = digest_charts(digest)
    files = slack_server.files
    assert [f.filename for f in files] == [
        f"digest-2026-W47-1-{n}.png" for n in ("timeline", "sources", "sentiment", "topics")
    ]
    assert [f.content for f in files] == [
        charts[chart_key(0, n)].png for n in ("timeline", "sources", "sentiment", "topics")
    ]
    assert {(f.channel, f.thread_ts) for f in files} == {("C0MANAGERS", busy.ts)}  # in the digest's thread
    assert files[0].title == f"{BRAND} · Zaman içinde bahsetmeler"
    assert files[0].initial_comment is not None and files[0].initial_comment.startswith("Grafikler · Kuzey Telekom")
    [complete] = slack_server.received("/api/files.completeUploadExternal")
    assert complete.headers["authorization"] == f"Bearer {TOKEN}"


def test_an_upload_needs_the_message_it_belongs_to(slack_server: SlackServer) -> None:
    [_, upload, *_] = digest_deliveries(sample_digest(), slack_channel="#care-managers", email_to=(), key_prefix="p")
    alerter = SlackAlerter(slack_client(TOKEN, slack_server.url + "/api/", max_wait=5), "#care-managers")
    with pytest.raises(DeliveryRejected, match="thread"):
        alerter.send(upload.payload, "#care-managers", key=upload.key)
    since = datetime.now(UTC)
    assert (
        alerter.find_sent(upload.payload, "#care-managers", key=upload.key, since=since, parent_ref="C0X/1.2") is None
    )
    assert slack_server.files == [] and slack_server.received() == []


# -- SMTP -------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kulak-test-smtp")])
    now = datetime.now(UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@dataclass
class Inbox:
    """An aiosmtpd handler keeping what arrived, and an authenticator that knows one login."""

    received: list[tuple[str, list[str], bytes, bool]] = field(default_factory=list)  # from, to, bytes, over TLS
    logins: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.ssl is not None))
        return "250 Message accepted for delivery"

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append(auth_data.login)
        known = (auth_data.login, auth_data.password) == (b"kulak", PASSWORD.encode())
        return AuthResult(success=known, handled=False)  # not handled: aiosmtpd answers 535 on failure


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smtp_server(inbox: Inbox, certificate: tuple[Path, Path] | None, **options: Any) -> Controller:
    """An SMTP server on 127.0.0.1 offering (and requiring) STARTTLS with ``certificate``, plain without one."""
    if certificate is not None:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(*certificate)
        options.update(tls_context=tls, require_starttls=True)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=inbox, **options)
    controller.start()
    return controller


@pytest.fixture
def inbox(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    controller = smtp_server(box, certificate)
    yield box, controller.port
    controller.stop()


def mailer(port: int, ca_file: Path | None, password: str = PASSWORD, **options: Any) -> SmtpMailer:
    return SmtpMailer(
        "127.0.0.1",
        port,
        SENDER,
        RECIPIENTS,
        username="kulak",
        password=password,
        ca_file=ca_file,
        timeout=10,
        **options,
    )


def test_the_digest_email_arrives_over_starttls_with_its_charts_inline(
    engine: Engine, inbox: tuple[Inbox, int], certificate: tuple[Path, Path]
) -> None:
    box, port = inbox
    digest = sample_digest()
    [row] = digest_deliveries(digest, slack_channel=None, email_to=RECIPIENTS, key_prefix=PREFIX)
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.deliveries.enqueue(row)
        uow.commit()
    deliver_all(uow, {"email": mailer(port, certificate[0])})
    with uow:
        sent = uow.deliveries.get(row.key)
    assert sent is not None and sent.status is DeliveryStatus.SENT, sent

    [(mail_from, rcpt_tos, raw, over_tls)] = box.received
    assert (mail_from, rcpt_tos, over_tls, box.logins) == ("kulak@kulak.example", RECIPIENTS, True, [b"kulak"])
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "Haftalık özet 16–22 Kasım 2026 · Kuzey Telekom, Mavi Kargo"
    assert message["To"] == ", ".join(RECIPIENTS) and message["Content-Language"] == "tr"
    assert message["Message-ID"] == sent.external_ref and message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "Bahsetmeler: 1.234 (+12\u00a0%)" in text.get_content()
    body = html.get_content()
    assert "Kuzey Telekom" in body and "1.234 (+12\u00a0%)" in body and "&lt;!channel&gt;" in body
    assert "<script" not in body and PASSWORD not in raw.decode("utf-8", "replace")
    cids = re.findall(r'src="cid:([^"]+)"', body)
    images = {
        part["Content-ID"]: part.get_content() for part in message.walk() if part.get_content_maintype() == "image"
    }
    charts = digest_charts(digest)
    assert len(cids) == 4 and {f"<{cid}>" for cid in cids} == set(images)
    assert sorted(images.values()) == sorted(c.png for c in charts.values())  # the bytes survived the trip


def test_a_retried_email_keeps_its_message_id(inbox: tuple[Inbox, int], certificate: tuple[Path, Path]) -> None:
    box, port = inbox
    [row] = digest_deliveries(sample_digest("en"), slack_channel=None, email_to=RECIPIENTS, key_prefix=PREFIX)
    sender = mailer(port, certificate[0])
    first, second = (sender.send(row.payload, row.target, key=row.key) for _ in range(2))
    assert first == second and first.startswith("<") and first.endswith("@kulak.example>")
    assert len(box.received) == 2


def test_a_wrong_password_is_rejected_and_never_shown(
    inbox: tuple[Inbox, int], certificate: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    box, port = inbox
    wrong = "yanlis-parola-987"
    [row] = digest_deliveries(sample_digest(), slack_channel=None, email_to=RECIPIENTS, key_prefix=PREFIX)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DeliveryRejected, match="login") as caught:
        mailer(port, certificate[0], password=wrong).send(row.payload, row.target, key=row.key)
    assert wrong not in str(caught.value) and wrong not in caplog.text
    assert set(box.logins) == {b"kulak"} and box.received == []  # smtplib tries PLAIN, then LOGIN


def test_no_starttls_on_offer_means_nothing_is_sent(certificate: tuple[Path, Path]) -> None:
    box = Inbox()
    controller = smtp_server(box, None)  # plain SMTP only
    try:
        [row] = digest_deliveries(sample_digest(), slack_channel=None, email_to=RECIPIENTS, key_prefix=PREFIX)
        with pytest.raises(DeliveryRejected, match="STARTTLS"):
            mailer(controller.port, certificate[0]).send(row.payload, row.target, key=row.key)
        with pytest.raises(DeliveryRejected, match="without TLS"):  # nor a password in clear, even when asked to
            mailer(controller.port, certificate[0], starttls=False).send(row.payload, row.target, key=row.key)
    finally:
        controller.stop()
    assert box.received == [] and box.logins == []


def test_an_untrusted_certificate_is_rejected(inbox: tuple[Inbox, int]) -> None:
    box, port = inbox
    [row] = digest_deliveries(sample_digest(), slack_channel=None, email_to=RECIPIENTS, key_prefix=PREFIX)
    with pytest.raises(DeliveryRejected, match="not trusted"):
        mailer(port, None).send(row.payload, row.target, key=row.key)  # the system's CAs do not know it
    assert box.received == [] and box.logins == []


def test_tls_from_the_first_byte(certificate: tuple[Path, Path]) -> None:
    box = Inbox()
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(*certificate)
    # aiosmtpd offers AUTH on TLS from the first byte only when not told to wait for STARTTLS
    controller = Controller(
        box, hostname="127.0.0.1", port=free_port(), ssl_context=tls, authenticator=box, auth_require_tls=False
    )
    controller.start()
    try:
        [row] = digest_deliveries(sample_digest(), slack_channel=None, email_to=RECIPIENTS[:1], key_prefix=PREFIX)
        mailer(controller.port, certificate[0], use_ssl=True).send(row.payload, row.target, key=row.key)
    finally:
        controller.stop()
    [(_, rcpt_tos, _, _)] = box.received  # the server speaks nothing but TLS
    assert rcpt_tos == RECIPIENTS[:1] and box.logins == [b"kulak"]


def test_a_server_that_is_down_is_worth_another_try() -> None:
    [row] = digest_deliveries(sample_digest(), slack_channel=None, email_to=RECIPIENTS, key_prefix=PREFIX)
    with pytest.raises(DeliveryError) as caught:
        mailer(free_port(), None).send(row.payload, row.target, key=row.key)
    assert not isinstance(caught.value, DeliveryRejected) and PASSWORD not in str(caught.value)


def test_the_mailer_from_settings(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    (tmp_path / "tls").mkdir()
    (tmp_path / "tls" / "ca.pem").write_bytes(certificate[0].read_bytes())
    smtp = SmtpSettings(host="smtp.kuzey.example", ca_file="tls/ca.pem", username="kulak", password=PASSWORD)
    settings = Settings(smtp=smtp, digests=DigestSettings(email_to=tuple(RECIPIENTS)), path=str(tmp_path / "k.toml"))
    built = SmtpMailer.from_settings(settings)  # the CA file is found next to the config file
    assert built.target == ", ".join(RECIPIENTS) and built.name == "email"
    with pytest.raises(NotConfigured, match="host"):
        SmtpMailer.from_settings(Settings(digests=DigestSettings(email_to=("a@x.example",))))
    with pytest.raises(NotConfigured, match="email_to"):
        SmtpMailer.from_settings(Settings(smtp=SmtpSettings(host="smtp.kuzey.example")))
