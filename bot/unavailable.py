"""When the database cannot be reached, answer inside Slack's 3 s with "try again" —
where Slack shows an answer — and change nothing. The bot recovers by itself: the next
request simply reads storage again."""

from __future__ import annotations

from typing import Any

from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from blocks.modals.form import notice_view
from bot.acks import empty_ack, json_ack
from bot.after_ack import AfterAck
from bot.answers import DeliveredRespond

UNAVAILABLE_TEXT = (
    ":hourglass: releasebot cannot reach its database right now, so nothing was done. "
    "Please try again in a minute."
)


def unavailable_response(
    body: dict[str, Any],
    after_ack: AfterAck,
    client: AsyncWebClient,
    *,
    user_id: str,
    channel_id: str | None,
) -> BoltResponse:
    """The ack for a request that could not be served: a 200 so Slack does not retry, with
    the text on top of a submitted form, or by response_url (commands and clicks were acked
    before the database was asked; sent with the other after-ack work, and another way when
    the response_url does not take it)."""
    if body.get("type") == "view_submission":
        # Pushed on top of the form, so the person's input is still there to save again.
        notice = notice_view("Not saved", None, UNAVAILABLE_TEXT).to_dict()
        return json_ack({"response_action": "push", "view": notice})
    response_url = body.get("response_url")  # a signed body: Slack's own URL
    if isinstance(response_url, str) and response_url:
        respond = DeliveredRespond.to(response_url, client, channel_id=channel_id, user_id=user_id)

        async def tell() -> None:
            await respond(text=UNAVAILABLE_TEXT, response_type="ephemeral", replace_original=False)

        after_ack.submit(tell)
    return empty_ack()
