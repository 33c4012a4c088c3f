"""Acks a middleware answers itself, without running a listener: always a 200, so Slack
does not retry a request that was answered on purpose."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.response import BoltResponse


def json_ack(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
    )


def ephemeral_ack(text: str) -> BoltResponse:
    """A slash command's ack that the person sees, and only they."""
    return json_ack({"response_type": "ephemeral", "text": text})


def empty_ack() -> BoltResponse:
    return BoltResponse(status=200, body="")
