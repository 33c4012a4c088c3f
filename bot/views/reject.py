"""The reject modal's submission: a reason is required; the core decides."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from blocks.approvals import already_decided_words
from blocks.ids import CallbackId, RejectField
from blocks.modals.form_state import Form
from blocks.modals.reject import RejectContext, read_reject_form
from bot.approval_flow import Surface, decide
from bot.deps import BotDeps
from bot.identity import actor_of
from bot.views.form_input import ViewListener, field_errors
from core.models.release import Decision
from core.rules.approvals import AlreadyDecided

# The core names the reason "comment".
ALIASES = {"comment": RejectField.REASON}


def forms(deps: BotDeps) -> dict[str, ViewListener]:
    async def rejected(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        view = body.get("view") or {}
        form = Form(view)
        try:
            reason = read_reject_form(form)
            meta = RejectContext.decode(view.get("private_metadata"))
            actor = actor_of(context)
            release = await decide(deps, actor, meta.target, Decision.REJECT, reason)
        except AlreadyDecided as refused:  # who decided first, on the person's own clock
            tz = context.get("tz") or deps.default_tz
            told = already_decided_words(refused, tz)
            await ack(response_action="errors", errors={str(RejectField.REASON): told})
            return
        except Exception as error:  # nothing was decided: say why, next to the reason
            errors = field_errors(error, form, aliases=ALIASES, focus=RejectField.REASON)
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        user_id = str((body.get("user") or {}).get("id", ""))
        tz = context.get("tz") or deps.default_tz
        where = Surface(
            deps, client, user_id, tz, meta.origin, meta.response_url, meta.channel, meta.message_ts
        )
        await where.after_deciding(actor, release, meta.target, Decision.REJECT)

    return {CallbackId.REJECT: rejected}
