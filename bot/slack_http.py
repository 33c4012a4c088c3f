"""Slack's HTTP requests: authenticated before anything parses them, then parsed once.

Order matters. The signature and timestamp headers are checked for shape, then the
signature over the raw bytes (slack_sdk's ``SignatureVerifier``); only a request that
passes is decoded and parsed. Unauthenticated requests are answered 401 and logged as a
bounded, escaped summary, never their body. A signed but malformed body gets 400.
"""

from __future__ import annotations

import binascii
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

MAX_SKEW_SECONDS = 60 * 5  # Slack's own rule for replayed requests
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_SUMMARY_BYTES = 80


class Refused(Exception):
    """The request is answered with ``status`` and a short plain-text reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Authenticator:
    """Checks that Slack signed a request's exact bytes recently."""

    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        if not signing_secret.strip():
            raise ValueError("a signing secret is required to serve Slack over HTTP")
        self._verifier = SignatureVerifier(signing_secret)
        self._clock = clock

    def check(self, raw: bytes, headers: dict[str, str]) -> str:
        """The body as text, or ``Refused(401)`` unless Slack signed exactly it recently."""
        timestamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise Refused(401, "missing or malformed X-Slack-Request-Timestamp")
        if abs(self._clock() - int(timestamp)) > MAX_SKEW_SECONDS:
            raise Refused(401, "stale X-Slack-Request-Timestamp (more than 5 minutes off)")
        if not _SIGNATURE.fullmatch(signature):
            raise Refused(401, "missing or malformed X-Slack-Signature")
        try:
            text = raw.decode("utf-8")  # Slack signs UTF-8 text; the verifier decodes anyway
        except UnicodeDecodeError:
            raise Refused(401, "body is not UTF-8, so Slack cannot have signed it") from None
        if not self._verifier.is_valid(text, timestamp, signature):
            raise Refused(401, "invalid X-Slack-Signature")
        return text


def parse_body(text: str, content_type: str | None) -> dict[str, Any]:
    """Slack's body as a dict: a JSON object, or a form whose ``payload`` field holds one,
    or a plain form (slash commands). Anything else raises ``Refused(400)``."""
    try:
        if content_type == "application/json" or text.startswith("{"):
            return _object(json.loads(text))
        payload = _payload_field(text)
        if payload is not None:
            return _object(json.loads(payload))
        form = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" in form:
            return _object(json.loads(form["payload"]))
        return form
    except (ValueError, RecursionError):  # bad JSON, absurd nesting or numbers
        raise Refused(400, "malformed request body") from None


_PAYLOAD = "payload="
_PAYLOAD_FORM = re.compile(r"payload=[A-Za-z0-9_.~*+%-]*")  # what form encoding writes
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _payload_field(text: str) -> str | None:
    """The value of a form that is only ``payload=…`` (every interactivity request), decoded
    as ``parse_qsl`` would; None for any other form, which ``parse_qsl`` then reads.

    ``parse_qsl`` percent-decodes in Python, about a millisecond for a submitted modal's
    payload (thousands of escapes), spent before every click and form is acked. Here C does it:
    each ``%XX`` becomes quoted-printable's ``=XX`` for ``binascii.a2b_qp``. Anything form
    encoding would not write (a second field, a raw ``=``, space or line break, a character
    that is not ASCII, a ``%`` without two hex digits, bytes that are not UTF-8) goes the
    ``parse_qsl`` way.
    """
    if not _PAYLOAD_FORM.fullmatch(text) or _LONE_PERCENT.search(text):
        return None
    value = text[len(_PAYLOAD) :].replace("%", "=").replace("+", " ")
    try:
        return binascii.a2b_qp(value.encode("ascii")).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


class SlackRequest(AsyncBoltRequest):
    """An ``AsyncBoltRequest`` with a body we parsed ourselves.

    Works around slack-bolt's ``parse_body`` (slack_bolt/request/internals.py, still so in
    1.30): it treats any form body that merely *contains* the text "payload" as an
    interactivity payload, so a slash command whose text, channel or team name has that
    word is parsed as ``{}`` and answered 404 "unhandled request". Here a form is an
    interactivity payload only when it has a field named ``payload``. The raw body is kept
    for Bolt's own signature check.
    """

    def __init__(
        self,
        *,
        raw_body: str,
        body: dict[str, Any],
        query: str | dict[str, Any] | None,
        headers: dict[str, Any],
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(body="", query=query, headers=headers, context=context)
        self.raw_body = raw_body
        self.body = body
        self.context = build_async_context(AsyncBoltContext(context or {}), body)

    def to_copyable(self) -> AsyncBoltRequest:
        """Bolt copies requests for lazy listeners; a copy must not parse the text again."""
        return SlackRequest(
            raw_body=self.raw_body,
            body=json.loads(json.dumps(self.body)),
            query=dict(self.query),
            headers=dict(self.headers),
            context=self.context.to_copyable(),
        )


def summary(raw: bytes, headers: dict[str, str]) -> str:
    """What a log may say about an unauthenticated request: size, type and the first bytes,
    escaped so nothing in them can start a new log line or pass for a field."""
    content_type = headers.get("content-type", "-")[:60].encode("utf-8", "replace")
    more = "..." if len(raw) > _SUMMARY_BYTES else ""
    return (
        f"{len(raw)} bytes, content-type {content_type!r}, starting {raw[:_SUMMARY_BYTES]!r}{more}"
    )
