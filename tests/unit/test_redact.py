"""Redaction of log lines: every kind of secret and identifier is hidden, ordinary text is left as it is."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from config.loader import load_settings
from scheduler.logs import make_handler
from scheduler.redact import Redactor, redact_value, secrets_of

SLACK_TOKEN = "xoxb-1111-2222-AbCdEfGhIj"
redact = Redactor([SLACK_TOKEN, "db-password-77"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"token is {SLACK_TOKEN}.", "token is ***."),
        ("posting with xoxp-9-8-7-ffeeddccbbaa now", "posting with *** now"),  # not a configured value
        ("headers: {'Authorization': 'Bearer eyJhbGciOi.payload.sig'}", "headers: {'Authorization': 'Bearer ***'}"),
        ("Authorization: Token 0123456789abcdef", "Authorization: Token ***"),
        ("sent Bearer abcdefgh12345678 upstream", "sent Bearer *** upstream"),
        ("Basic a3V6ZXk6czNjcjN0LXBhc3M=", "Basic ***"),  # kuzey:s3cr3t-pass
        (
            "postgresql+psycopg://kulak:hunter2hunter2@db.local:5432/kulak",
            "postgresql+psycopg://kulak:***@db.local:5432/kulak",
        ),
        ("redis://:onlypassword@cache:6379/0", "redis://:***@cache:6379/0"),
        ("the value db-password-77 leaked", "the value *** leaked"),
        ("müşteri 0532 418 27 93 numarasından aradı", "müşteri [TELEFON] numarasından aradı"),
        ("+90 (542) 318 27 64", "[TELEFON]"),
        ("yazdı: zeynep.arslan@ornek.com.tr", "yazdı: [E-POSTA]"),
        ("TC kimlik 10000000146 ile", "TC kimlik [TCKN] ile"),
        ("IBAN TR33 0006 1005 1978 6457 8413 26 hesabıma", "IBAN [IBAN] hesabıma"),
        ("kart 4111 1111 1111 1111 çekildi", "kart [KART] çekildi"),
    ],
)
def test_each_kind_of_secret_and_identifier_is_hidden(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "run finished in 12.4s: {'mentions_new': 120, 'analyzed': 118, 'alerts_sent': 9}",
        "Şikayetvar kuzey-telekom: 24 new of 30 seen in 3.1 s",
        "sipariş no 123456789012 için kargo takip",  # an order number is not a person's
        "Basic plan of Deniz GSM is 250 TL a month",
        "the bearer of bad news",
        "listening for Slack actions on http://127.0.0.1:8787",
        "Slack message posted to #care-alerts (ts 1764000000.000200)",
        "Enabled sources: sikayetvar, eksisozluk",
        "",
    ],
)
def test_ordinary_log_text_is_left_as_it_is(text: str) -> None:
    assert redact(text) == text


def test_short_secret_values_are_not_blanked_everywhere() -> None:
    """A 3-character "secret" would turn every "abc" in the log into ***; real secrets are longer."""
    assert Redactor(["abc", ""]).secrets == ()
    assert Redactor(["abc"])("abc order") == "abc order"


def test_a_longer_secret_containing_a_shorter_one_is_hidden_whole() -> None:
    assert Redactor(["secret-1", "secret-1-and-more"])("x secret-1-and-more y") == "x *** y"


def test_nested_extra_values_are_redacted_and_plain_numbers_kept() -> None:
    value = {"who": ["0532 418 27 93", 5], "token": SLACK_TOKEN, "ok": True, "n": 3.5, "obj": Path("a@b.co")}
    assert redact_value(value, redact) == {
        "who": ["[TELEFON]", 5],
        "token": "***",
        "ok": True,
        "n": 3.5,
        "obj": "[E-POSTA]",
    }


def test_the_handler_hides_secrets_in_message_arguments_extras_and_tracebacks() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("kulak.test.redact")
    logger.handlers[:] = [make_handler("json", secrets=[SLACK_TOKEN], stream=stream)]
    logger.propagate = False
    try:
        try:
            raise RuntimeError(f"Slack said no to {SLACK_TOKEN} for ayse.kaya@ornek.com.tr")
        except RuntimeError:
            logger.exception(
                "customer record skipped: %s", "got '0533 765 43 21'", extra={"detail": "mail ali@ornek.com.tr"}
            )
    finally:
        logger.handlers.clear()
        logger.propagate = True
    line = json.loads(stream.getvalue())
    assert line["message"] == "customer record skipped: got '[TELEFON]'"
    assert line["detail"] == "mail [E-POSTA]"
    assert "Slack said no to *** for [E-POSTA]" in line["exc"]
    for leaked in (SLACK_TOKEN, "0533 765 43 21", "ali@ornek.com.tr", "ayse.kaya@ornek.com.tr"):
        assert leaked not in stream.getvalue()


def test_secrets_of_finds_every_secret_the_settings_hold_or_name(tmp_path: Path) -> None:
    config = tmp_path / "kulak.toml"
    config.write_text(
        '[[brands]]\nname = "Yıldız Bank"\n\n'
        '[[sources]]\nname = "x"\ntype = "x"\ntoken_env = "YILDIZ_X_TOKEN"\n\n'
        '[[helpdesks]]\nname = "desk"\ntype = "zendesk"\nbase_url = "https://yildiz.zendesk.com"\n'
        'email = "ops@yildiz.example"\ntoken_env = "DESK_API"\n',
        encoding="utf-8",
    )
    env = {
        "KULAK_SLACK_TOKEN": "xoxb-from-env-0001",
        "KULAK_IDENTITY_KEY": "identity-key-0123456789",
        "YILDIZ_X_TOKEN": "x-bearer-named-by-option",
        "DESK_API": "zendesk-token-named-by-option",
        "KULAK_REDDIT_SECRET": "reddit-default-name",  # a source's default *_env, named nowhere in the file
        "KULAK_LOG_FORMAT": "json",
        "HOME": "/home/kulak",
    }
    found = set(secrets_of(load_settings(config, env=env)))
    assert found == {
        "xoxb-from-env-0001",
        "identity-key-0123456789",
        "x-bearer-named-by-option",
        "zendesk-token-named-by-option",
        "reddit-default-name",
    }
