"""The reject modal's submission: a reason is required; the core decides."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from blocks.ids import CallbackId
from blocks.modals_reject import REASON_LIMIT, RejectContext, RejectField
from blocks.text import cut
from bot import logs
from bot.actions.approvals import Surface, actor_of, decide
from bot.deps import BotDeps
from bot.errors import user_message
from core.errors import DomainError
from core.models.release import Decision

ERROR_LIMIT = 300


def reason_of(view: dict[str, Any]) -> str:
    values = (view.get("state") or {}).get("values") or {}
    field = (values.get(RejectField.REASON) or {}).get(RejectField.REASON) or {}
    return str(field.get("value") or "")


def field_error(error: BaseException) -> str:
    """What to show under the reason field."""
    if isinstance(error, DomainError):
        return cut(error.fields.get("comment") or error.message, ERROR_LIMIT)
    user_message(error)  # logs it with the ref
    return f"Something went wrong on our side (ref {logs.request_id.get()}). Please try again."


def register(app: AsyncApp, deps: BotDeps) -> None:
    @app.view(CallbackId.REJECT)
    async def rejected(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        view = body.get("view") or {}
        reason = reason_of(view)
        if len(reason) > REASON_LIMIT:
            message = f"At most {REASON_LIMIT} characters, please (this is {len(reason)})."
            await ack(response_action="errors", errors={RejectField.REASON: message})
            return
        try:
            meta = RejectContext.decode(view.get("private_metadata"))
            actor = actor_of(context)
            release = await decide(deps, actor, meta.target, Decision.REJECT, reason)
        except Exception as error:  # nothing was decided: say why, next to the reason
            await ack(response_action="errors", errors={RejectField.REASON: field_error(error)})
            return
        await ack()
        where = Surface(
            deps,
            client,
            str((body.get("user") or {}).get("id", "")),
            context.get("tz") or deps.default_tz,
            meta.origin,
            meta.channel,
            meta.ts,
            meta.response_url,
        )
        try:
            await where.decided(actor, release, meta.target)
        except Exception as error:
            user_message(error)  # logged with its ref; the decision itself is stored
