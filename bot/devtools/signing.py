"""Sign requests exactly as Slack does (v0 HMAC-SHA256 of ``v0:{timestamp}:{body}``)."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier


def signed_headers(
    secret: str, body: str, *, timestamp: int | None = None, content_type: str
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        "Content-Type": content_type,
    }


def form_body(fields: dict[str, str]) -> str:
    """A slash command's body."""
    return urlencode(fields)


def payload_body(payload: dict[str, Any]) -> str:
    """An interaction's body: ``payload=<json>`` form-encoded."""
    return urlencode({"payload": json.dumps(payload)})
