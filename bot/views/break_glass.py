"""The break-glass modal's submission: an approval manager approves during a freeze with a
reason; the core checks it all again (who, the reason, the freeze) and records the override."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from blocks.approvals import already_decided_words
from blocks.ids import BreakGlassField, CallbackId
from blocks.modals.break_glass import BreakGlassContext, read_break_glass_form
from blocks.modals.form_state import Form
from bot.approval_flow import Surface, decide
from bot.deps import BotDeps
from bot.identity import actor_of
from bot.views.form_input import ViewListener, field_errors
from core.models.release import Decision
from core.rules.approvals import AlreadyDecided


def forms(deps: BotDeps) -> dict[str, ViewListener]:
    async def broke_glass(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        view = body.get("view") or {}
        form = Form(view)
        tz = context.get("tz") or deps.default_tz
        try:
            reason = read_break_glass_form(form)
            meta = BreakGlassContext.decode(view.get("private_metadata"))
            actor = actor_of(context)
            release = await decide(deps, actor, meta.target, Decision.APPROVE, break_glass=reason)
        except AlreadyDecided as refused:  # who decided first, on the person's own clock
            told = already_decided_words(refused, tz)
            await ack(response_action="errors", errors={str(BreakGlassField.REASON): told})
            return
        except Exception as error:  # nothing was decided: say why, next to the reason
            errors = field_errors(error, form, focus=BreakGlassField.REASON)
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        user_id = str((body.get("user") or {}).get("id", ""))
        where = Surface(
            deps, client, user_id, tz, meta.origin, meta.response_url, meta.channel, meta.message_ts
        )
        await where.after_deciding(actor, release, meta.target, Decision.APPROVE)

    return {CallbackId.BREAK_GLASS: broke_glass}
