"""When the database cannot be reached, answer inside Slack's 3 s with "try again" —
where Slack shows an answer — and change nothing. The bot recovers by itself: the next
request simply reads storage again."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from slack_bolt.response import BoltResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

log = logging.getLogger(__name__)

UNAVAILABLE_TEXT = (
    ":hourglass: releasebot cannot reach its database right now, so nothing was done. "
    "Please try again in a minute."
)
_pending: set[asyncio.Task[Any]] = set()


def unavailable_response(body: dict[str, Any]) -> BoltResponse:
    """The ack for a request that could not be served: a 200 so Slack does not retry, with
    the text where Slack shows the ack (commands, form submissions), or by response_url."""
    if body.get("command"):
        text = json.dumps({"response_type": "ephemeral", "text": UNAVAILABLE_TEXT})
        return _json(text)
    if body.get("type") == "view_submission":
        return _json(json.dumps({"response_action": "push", "view": _notice_view()}))
    response_url = body.get("response_url")  # a signed body: Slack's own URL
    if isinstance(response_url, str) and response_url:
        webhook = AsyncWebhookClient(response_url)
        _later(
            webhook.send(text=UNAVAILABLE_TEXT, response_type="ephemeral", replace_original=False)
        )
    return BoltResponse(status=200, body="")


def _notice_view() -> dict[str, Any]:
    """Pushed on top of the form, so the person's input is still there to save again."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Not saved"},
        "close": {"type": "plain_text", "text": "Back"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": UNAVAILABLE_TEXT}}],
    }


def _json(text: str) -> BoltResponse:
    return BoltResponse(status=200, body=text, headers={"content-type": "application/json"})


def _later(send: Any) -> None:
    async def run() -> None:
        try:
            await send
        except Exception as error:  # the person clicks again; nothing to undo
            log.warning("could not tell the person to try again: %r", error)

    task = asyncio.get_running_loop().create_task(run())
    _pending.add(task)
    task.add_done_callback(_pending.discard)
