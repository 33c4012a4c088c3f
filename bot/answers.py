"""Answers that reach the person even when their ``response_url`` does not work.

A command, a click in a message or a form opened from either is answered through its
``response_url`` (it can be ephemeral in any channel, and replace an earlier answer). That
post can fail: Slack refuses an expired or already used one (30 minutes, five posts), or does
not answer. Then the same message goes another way: ephemeral in the channel it was asked
in, else (the bot is not there, or the channel is unknown) by DM. Nobody is left wondering
whether their command, click or form did anything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.webhook_response import WebhookResponse

from bot.slack_client import error_code

log = logging.getLogger(__name__)


class DeliveredRespond(AsyncRespond):
    """``respond`` whose answer goes elsewhere (``post_elsewhere``) when the response_url
    does not take it."""

    def __init__(
        self,
        respond: AsyncRespond,
        client: AsyncWebClient,
        *,
        channel_id: str | None,
        user_id: str,
    ) -> None:
        super().__init__(response_url=respond.response_url, proxy=respond.proxy, ssl=respond.ssl)
        self._respond = respond
        self._client = client
        self._channel_id = channel_id
        self._user_id = user_id

    @classmethod
    def to(
        cls, response_url: str, client: AsyncWebClient, *, channel_id: str | None, user_id: str
    ) -> DeliveredRespond:
        """For a response_url kept for later (a form's private_metadata, a slow decision)."""
        return cls(
            AsyncRespond(response_url=response_url), client, channel_id=channel_id, user_id=user_id
        )

    async def __call__(  # type: ignore[override]
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[Any] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        **more: Any,
    ) -> WebhookResponse:
        answered = await self.through_url(
            text,
            blocks=blocks,
            response_type=response_type,
            replace_original=replace_original,
            **more,
        )
        if answered is not None:
            return answered
        await self.elsewhere(text, blocks, in_channel=response_type == "in_channel")
        return WebhookResponse(url="", status_code=200, body="ok", headers={})

    async def through_url(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[Any] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        **more: Any,
    ) -> WebhookResponse | None:
        """The answer through the response_url only; None (logged) when it was not taken."""
        try:
            answered = await self._respond(
                text,
                blocks=blocks,
                response_type=response_type,
                replace_original=replace_original,
                **more,
            )
        except Exception as error:  # no answer, or a refused URL
            log.warning("response_url failed (%s); answering another way", type(error).__name__)
            return None
        if answered.status_code < 300:
            return answered
        log.warning("response_url answered %s; answering another way", answered.status_code)
        return None

    async def elsewhere(
        self,
        text: str | dict[str, Any],
        blocks: Sequence[Any] | None = None,
        *,
        in_channel: bool = False,
    ) -> None:
        """The answer the response_url did not take, by ``post_elsewhere``."""
        plain = text if isinstance(text, str) else str(text.get("text", ""))
        await post_elsewhere(
            self._client,
            {"text": plain, "blocks": blocks},
            user_id=self._user_id,
            channel=self._channel_id,
            in_channel=in_channel,
        )


def delivered(
    respond: AsyncRespond, client: AsyncWebClient, body: dict[str, Any]
) -> DeliveredRespond:
    """Bolt's ``respond`` for a click in a message (block_actions), answered elsewhere when
    its response_url fails: to the clicker, in the channel of the message clicked."""
    return DeliveredRespond(
        respond,
        client,
        channel_id=channel_of(body),
        user_id=str((body.get("user") or {}).get("id", "")),
    )


def channel_of(body: dict[str, Any]) -> str | None:
    """The channel a click came from: Slack's ``channel``, else the message's container."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    return str(channel) if channel else None


async def post_elsewhere(
    client: AsyncWebClient,
    message: dict[str, Any],
    *,
    user_id: str,
    channel: str | None,
    in_channel: bool = False,
) -> None:
    """Where an answer goes when its response_url does not work: in ``channel`` (to the
    person only, unless ``in_channel``), else, the bot not being there, by DM."""
    if channel:
        try:
            if in_channel:
                await client.chat_postMessage(channel=channel, **message)
            else:
                await client.chat_postEphemeral(channel=channel, user=user_id, **message)
            return
        except SlackApiError as error:
            log.info("answer not posted in %s (%s); sending a DM", channel, error_code(error))
    await client.chat_postMessage(channel=user_id, **message)
