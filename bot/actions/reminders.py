"""Snooze buttons on reminder DMs, answered in the DM even when the response_url fails."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from blocks.ids import ActionId
from blocks.reminders import SnoozeRequest, snoozed_message
from blocks.text import when
from bot.answers import delivered
from bot.deps import BotDeps
from bot.errors import user_message
from bot.identity import actor_of


def register(app: AsyncApp, deps: BotDeps) -> None:
    @app.action(re.compile(f"^{ActionId.SNOOZE}_"))
    async def snooze(
        ack: AsyncAck,
        body: dict[str, Any],
        context: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        respond = delivered(respond, client, body)
        try:
            actor = actor_of(context)
            request = SnoozeRequest.decode(str(body["actions"][0].get("value") or ""))
            until = await deps.services.reminders.snooze(
                actor, request.approval_key, request.choice.value
            )
            tz = context.get("tz") or deps.default_tz
            await respond(
                **snoozed_message(when(until, tz)).to_dict(),
                replace_original=False,
                response_type="ephemeral",
            )
        except Exception as error:  # every failure is answered
            await respond(
                text=user_message(error), replace_original=False, response_type="ephemeral"
            )
