"""The milestone form draws itself again when a milestone is picked in it, its approval policy
filled in with what it is now (`blocks.modals.milestone.policy_inputs`).

Slack sends the pick as a block action (the select has ``dispatch_action``), acked blind; the
release is read as the form's save reads it, and the modal replaced with ``views.update``.
A failure leaves the form as it was: its save still works (the policy kept as it is)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from blocks.ids import CallbackId, EditField
from blocks.modals import EditingMetadata, Form, MilestonePick, milestone_modal, milestone_picks
from bot.deps import BotDeps
from bot.identity import actor_of
from bot.modals import replace_modal
from core.errors import DomainError

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: BotDeps) -> None:
    @app.action(EditField.MILESTONE)
    async def milestone_picked(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        view = body.get("view") or {}
        if view.get("callback_id") != CallbackId.MILESTONE or not view.get("id"):
            return
        try:
            meta = EditingMetadata.decode(view.get("private_metadata"))
            if not meta.release:
                return
            release = await deps.services.releases.get(actor_of(context), meta.release)
            value = Form(view).choice(EditField.MILESTONE)
            pick = MilestonePick.read(value, milestone_picks(release)) if value else None
            tz = context.get("tz") or deps.default_tz
            drawn = milestone_modal(release, meta, tz, picked=pick)
        except DomainError as error:  # the form's save says it, next to the field
            log.info("milestone form not drawn again: %s", error)
            return
        await replace_modal(client, str(view["id"]), drawn)
