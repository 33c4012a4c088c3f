"""Saving the freeze window form (blocks/modals/freeze.py): read it into a draft, one core
call, then field errors in the modal (``response_action: errors``) or a confirmation where
`/release freeze new` was typed."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from blocks.freezes import freeze_planned_message
from blocks.ids import CallbackId
from blocks.modals.form_state import Form
from blocks.modals.freeze import FreezeFormOrigin, read_freeze_form
from bot.deps import BotDeps
from bot.identity import actor_of
from bot.views.form_input import ViewListener, confirm_saved, field_errors


def forms(deps: BotDeps) -> dict[str, ViewListener]:
    return {CallbackId.NEW_FREEZE: freeze_listener(deps)}


def freeze_listener(deps: BotDeps) -> ViewListener:
    async def on_submit(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        view = body.get("view") or {}
        form = Form(view)
        try:
            origin = FreezeFormOrigin.decode(view.get("private_metadata"))
            actor = actor_of(context)  # re-read from storage for every submission
            window = await deps.services.freezes.create(actor, read_freeze_form(form))
        except Exception as error:  # nothing was saved: say why, next to the field
            await ack(response_action="errors", errors=field_errors(error, form))
            return
        await ack()
        tz = context.get("tz") or deps.default_tz
        message = freeze_planned_message(window, deps.clock(), tz)
        user_id = str((body.get("user") or {}).get("id", ""))
        await confirm_saved(
            client, user_id, message, channel=origin.channel_id, response_url=origin.response_url
        )

    return on_submit
