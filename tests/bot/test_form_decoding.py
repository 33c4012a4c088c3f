"""Slack's ``payload=…`` forms are decoded in C (bot/slack_http.py ``_payload_field``): the
result must be exactly what ``parse_qsl`` gives, for anything Slack or anyone else may send."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, quote, urlencode

from hypothesis import given, strategies as st

from bot.slack_http import _payload_field, parse_body


def by_the_standard(form: str) -> str | None:
    return dict(parse_qsl(form, keep_blank_values=True)).get("payload")


@given(st.text())
def test_any_encoded_payload_decodes_as_parse_qsl_does(value: str) -> None:
    for form in (urlencode({"payload": value}), "payload=" + quote(value, safe="")):
        assert _payload_field(form) == by_the_standard(form) == value


@given(st.text(alphabet="%=+&ab9Fé\n \r", max_size=40))
def test_odd_forms_are_left_to_parse_qsl_or_read_the_same(tail: str) -> None:
    form = "payload=" + tail
    fast = _payload_field(form)
    assert fast is None or fast == by_the_standard(form)


def test_what_form_encoding_does_not_write_goes_the_standard_way() -> None:
    for form in (
        "payload=%7B%7D&token=x",  # a second field
        "payload=100%",  # a lone percent
        "payload=a=b",  # a raw '='
        "payload=caf\u00e9",  # not ASCII
        "payload=%FF",  # not UTF-8
        "token=x&payload=%7B%7D",
    ):
        assert _payload_field(form) is None


def test_a_submitted_view_reads_the_same_either_way() -> None:
    payload = {
        "type": "view_submission",
        "view": {"title": {"type": "plain_text", "text": "Nouvelle “release” — é ✓ 100% & more"}},
    }
    form = urlencode({"payload": json.dumps(payload)})
    assert parse_body(form, "application/x-www-form-urlencoded") == payload
