"""Fuzz what agents and operators hand Kulak: Slack action payloads, customer records, the TOML config."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from classifiers.customers import Columns, read_records, to_customer
from classifiers.identity import IdentityKey
from config.loader import load_settings
from responders.slack_actions import read_command, read_interactions, signature, verify
from tests.fuzz.strategies import NASTY_STRINGS, mutated, parses_or_refuses

REPO = Path(__file__).resolve().parents[2]
BUTTON = {
    "type": "block_actions",
    "user": {"id": "U024BE7LH", "username": "ayse"},
    "channel": {"id": "C0KUZEY"},
    "actions": [
        {"action_id": "kulak_claim", "value": "42"},
        {"action_id": "kulak_fix_sentiment", "selected_option": {"value": "42:negative"}},
    ],
}
CUSTOMER = {
    "external_id": "C-1001",
    "name": "Ayşe Yılmaz",
    "email": "ayse.yilmaz@example.com",
    "phone": "0532 123 45 67",
    "city": "İzmir",
    "vip": "evet",
    "segment": "bireysel",
    "handles": "x:@ayse_y sikayetvar:ayse.y",
}
KEY = IdentityKey("fuzz-identity-key-of-at-least-32-bytes!")


def _form(payload: str) -> bytes:
    return urlencode({"payload": payload}).encode()


@given(doc=mutated(BUTTON), raw=st.one_of(st.none(), st.text(max_size=80), st.sampled_from(NASTY_STRINGS)))
@example(doc={**BUTTON, "user": "U1"}, raw=None)  # AttributeError: str has no .get
@example(doc={**BUTTON, "actions": 5}, raw=None)
@example(doc={**BUTTON, "actions": ["kulak_claim"]}, raw=None)
@example(doc={**BUTTON, "actions": [{"action_id": "kulak_claim", "selected_option": "42"}]}, raw=None)
@example(doc={**BUTTON, "actions": [{"action_id": "kulak_claim", "value": "²"}]}, raw=None)
@example(doc={**BUTTON, "actions": [{"action_id": "kulak_claim", "value": "9" * 5000}]}, raw=None)
@example(doc=None, raw="[" * 100_000)
def test_any_button_payload_gives_actions_or_an_input_error(doc: object, raw: str | None) -> None:
    body = _form(json.dumps(doc) if raw is None else raw)
    interactions = parses_or_refuses(lambda: read_interactions(body))
    for interaction in interactions or ():
        assert isinstance(interaction.action.ticket_id, int) and 0 <= interaction.action.ticket_id < 10**18
        assert interaction.user and isinstance(interaction.action.value, str)


@given(body=st.binary(max_size=200))
def test_any_form_body_gives_a_command_or_an_input_error(body: bytes) -> None:
    parses_or_refuses(lambda: read_command(body))
    parses_or_refuses(lambda: read_interactions(body))


@given(timestamp=st.one_of(st.text(max_size=15), st.sampled_from(NASTY_STRINGS)), given_sig=st.text(max_size=70))
@example(timestamp="²", given_sig="")
@example(timestamp="9" * 5000, given_sig="")
def test_any_signature_headers_are_verified_or_refused(timestamp: str, given_sig: str) -> None:
    headers = {"x-slack-request-timestamp": timestamp, "x-slack-signature": given_sig}
    body = b"payload=%7B%7D"
    assert parses_or_refuses(lambda: verify("s3cret", headers, body, 1_772_400_000.0)) is None
    if (
        timestamp.isascii()
        and timestamp.isdigit()
        and len(timestamp) < 12
        and abs(int(timestamp) - 1_772_400_000) <= 300
    ):
        verify("s3cret", {**headers, "x-slack-signature": signature("s3cret", timestamp, body)}, body, 1_772_400_000.0)


@given(record=mutated(CUSTOMER))
@example(record={**CUSTOMER, "handles": 5})  # TypeError: int is not iterable
@example(record={**CUSTOMER, "handles": {"x": "@a"}})
def test_any_customer_record_gives_a_customer_or_an_input_error(record: object) -> None:
    columns = Columns(handles={"instagram": "instagram"}, numbers={"order": "orders"})
    customer = parses_or_refuses(lambda: to_customer(record, columns, KEY))
    if customer is not None:
        assert customer.external_id and customer.name
        assert all(i.hash and isinstance(i.display, str) for i in customer.identifiers)


@given(
    body=st.one_of(st.binary(max_size=200), mutated([CUSTOMER]).map(lambda d: json.dumps(d).encode())),
    suffix=st.sampled_from([".csv", ".json", ".jsonl"]),
)
@example(body=b"[" * 100_000, suffix=".json")
@example(body=b"[" * 100_000, suffix=".jsonl")
def test_any_customer_file_gives_records_or_an_input_error(
    body: bytes, suffix: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("customers") / f"people{suffix}"
    path.write_bytes(body)

    def read_all() -> None:
        for _, record in read_records(path):
            parses_or_refuses(lambda record=record: to_customer(record, Columns(), KEY))

    parses_or_refuses(read_all)


EXAMPLE_TOML = (REPO / "config" / "kulak.example.toml").read_text(encoding="utf-8")


@st.composite
def configs(draw: st.DrawFn) -> str:
    """The example config with one line changed: removed, cut, its value swapped, or a table header mangled."""
    lines = EXAMPLE_TOML.splitlines()
    at = draw(st.integers(min_value=0, max_value=len(lines) - 1))
    line = lines[at]
    how = draw(st.integers(min_value=0, max_value=3))
    if how == 0:
        lines[at] = ""
    elif how == 1:
        lines[at] = line[: draw(st.integers(min_value=0, max_value=len(line)))]
    elif how == 2 and "=" in line:
        value = draw(
            st.sampled_from(
                [
                    "-1",
                    "0",
                    "1e309",
                    "nan",
                    "inf",
                    '"../../etc/passwd"',
                    "[]",
                    "{}",
                    '""',
                    "99999999999999999999",
                    "true",
                    '"\\u0000"',
                    "[[1]]",
                    "2026-01-01",
                ]
            )
        )
        lines[at] = f"{line.split('=', 1)[0]}= {value}"
    else:
        lines.insert(at, draw(st.sampled_from(["[brands]", "[[store]]", "[sources.x]", "x = 1", "[[sources]]"])))
    return "\n".join(lines)


@given(text=configs())
def test_any_config_file_gives_settings_or_a_config_error(text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("config") / "kulak.toml"
    path.write_text(text, encoding="utf-8")
    parses_or_refuses(lambda: load_settings(path, env={}))
