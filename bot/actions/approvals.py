"""Approve / Reject buttons, from an approval DM, the approvals list or App Home; *Break
glass…* on an approval refused during a freeze.

The button value is only an address (ApprovalTarget): the core re-checks the person's rights
from storage (the identity middleware re-resolves the actor for these actions). After a
decision every DM of that approval is updated, and the surface the click came from redrawn
(bot/approval_flow.py, shared with the reject modal's submission).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from blocks.approvals import ApprovalTarget
from blocks.ids import ActionId, CallbackId, Origin
from blocks.modals.break_glass import BREAK_GLASS_TITLE, BreakGlassContext
from blocks.modals.reject import RejectContext, notice_modal, reject_modal
from blocks.text import esc
from bot.answers import channel_of
from bot.approval_flow import Surface, break_glass_form, refusal, reject_refusal
from bot.deps import BotDeps
from bot.errors import user_message
from bot.identity import actor_of
from bot.modals import Replaced, open_modal, replace_modal, show_modal
from core.errors import DomainError
from core.models.release import Decision

log = logging.getLogger(__name__)
TRIGGER_ERRORS = frozenset({"expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"})


@dataclass(frozen=True)
class Click:
    """An Approve / Reject click, parsed from Slack's block_actions payload."""

    user_id: str
    value: str
    origin: Origin
    response_url: str | None
    trigger_id: str | None
    channel_id: str | None = None  # the message clicked, when it is one
    message_ts: str | None = None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Click:
        action = (body.get("actions") or [{}])[0]
        value = str(action.get("value") or "")
        message_ts = (body.get("container") or {}).get("message_ts")
        return cls(
            user_id=str((body.get("user") or {}).get("id", "")),
            value=value,
            origin=_origin(value),
            response_url=body.get("response_url"),
            trigger_id=body.get("trigger_id"),
            channel_id=channel_of(body),
            message_ts=str(message_ts) if message_ts else None,
        )


def _origin(value: str) -> Origin:
    """Where the buttons are, as the button's own typed value says (a value that does not
    decode is refused when the decision reads it; meanwhile it counts as a DM)."""
    try:
        return ApprovalTarget.decode(value).origin
    except DomainError:
        return Origin.DM


def not_opened(error: Exception, button: str = "Reject") -> str:
    """Why the modal of ``button`` did not open. A trigger_id that expired on the way (Slack
    gives 3 s from the click) is not our bug: ask for another click."""
    if isinstance(error, SlackApiError) and error.response.get("error") in TRIGGER_ERRORS:
        log.warning("%s modal not opened: %s", button, error.response.get("error"))
        return f":hourglass: Slack took too long to open the form. Please click *{button}* again."
    return user_message(error)


def register(app: AsyncApp, deps: BotDeps) -> None:
    def surface(click: Click, client: AsyncWebClient, context: dict[str, Any]) -> Surface:
        return Surface(
            deps,
            client,
            click.user_id,
            context.get("tz") or deps.default_tz,
            click.origin,
            click.response_url,
            click.channel_id,
            click.message_ts,
        )

    @app.action(ActionId.APPROVE)
    async def approve(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        click = Click.parse(body)
        await surface(click, client, context).decide(context, click.value, Decision.APPROVE)

    @app.action(ActionId.REJECT)
    async def reject(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        click = Click.parse(body)
        where = surface(click, client, context)
        try:  # the trigger_id lives 3 s: open the modal first, check afterwards
            meta = RejectContext(
                target=ApprovalTarget.decode(click.value),
                origin=click.origin,
                response_url=click.response_url,
                channel=click.channel_id,
                message_ts=click.message_ts,
            )
            view_id = await show_modal(client, click.trigger_id or "", reject_modal(meta))
        except Exception as error:  # told on the surface itself: never with this trigger_id again
            await where.tell(not_opened(error), context.get("actor"))
            return
        refused = await reject_refusal(deps, context, meta.target, where.tz)
        if refused is None:  # the form asks for a reason
            return
        # No point asking for a reason: say why at once, in place of the form.
        shown = await replace_modal(client, view_id, notice_modal("Cannot reject", refused))
        if shown is Replaced.NOT_SHOWN:
            # The form still asks for a reason (submitting it would be refused): say why here.
            await where.tell(f"{refused}\nClose the Reject form.", context.get("actor"))

    @app.action(ActionId.BREAK_GLASS)
    async def break_glass(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """*Break glass…* on an approval refused during a freeze: a form asking for the reason,
        naming the freeze (loaded after the modal opens: the trigger_id lives 3 s); a person
        who may not break glass is told why in it instead."""
        await ack()
        click = Click.parse(body)
        where = surface(click, client, context)
        try:
            target = ApprovalTarget.decode(click.value)
            meta = BreakGlassContext(
                target=target,
                origin=target.origin,
                response_url=click.response_url,
                channel=click.channel_id,
                message_ts=click.message_ts,
            )

            async def build() -> View:
                return await break_glass_form(deps, context, meta, where.tz)

            await open_modal(
                client,
                click.trigger_id or "",
                BREAK_GLASS_TITLE,
                CallbackId.BREAK_GLASS,
                "the freeze",
                build,
            )
        except Exception as error:  # told on the surface itself
            await where.tell(not_opened(error, "Break glass…"), context.get("actor"))

    @app.action(ActionId.REQUEST_AGAIN)
    async def request_again(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """*Ask again* on an expiry notice: a new round of asking, by the clicker."""
        await ack()
        click = Click.parse(body)
        where = surface(click, client, context)
        try:
            actor = actor_of(context)
            target = ApprovalTarget.decode(click.value)
            await deps.services.approvals.request_again(
                actor, target.release, target.product, target.gate, target.milestone
            )
        except Exception as error:
            await where.tell(refusal(error, where.tz), context.get("actor"))
            return
        await where.tell(
            f":inbox_tray: Asked again: everyone who may decide *{esc(target.milestone)}* "
            "gets a new request.",
            actor,
        )
