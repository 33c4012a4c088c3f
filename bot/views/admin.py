"""Saving the `/release admin … new` forms: read the values, one core call, then either
field errors (``response_action: errors``) or an ephemeral confirmation."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from blocks.admin import catalog_created_message, role_created_message, user_created_message
from blocks.ids import CallbackId
from blocks.message import Message
from blocks.modals_admin import (
    AdminForm,
    Values,
    field_errors,
    read_application_form,
    read_board_form,
    read_role_form,
    read_squad_form,
    read_user_form,
)
from bot.deps import BotDeps
from bot.errors import NotLinked, user_message
from core.errors import DomainError, ValidationFailed
from core.models.catalog import ApplicationDraft, JiraBoardDraft, SquadDraft
from core.models.common import parse
from core.models.rbac import RoleDraft, UserDraft
from core.rules.permissions import Actor

log = logging.getLogger(__name__)

Save = Callable[[BotDeps, Actor, Values], Awaitable[Message]]


async def save_role(deps: BotDeps, actor: Actor, values: Values) -> Message:
    role = await deps.services.roles.create(actor, parse(RoleDraft, read_role_form(values)))
    return role_created_message(role)


async def save_user(deps: BotDeps, actor: Actor, values: Values) -> Message:
    draft = parse(UserDraft, read_user_form(values))
    roles = await deps.services.roles.list_roles(actor)  # read first: a failure changes nothing
    user = await deps.services.users.create(actor, draft)
    deps.identities.forget()  # someone who wrote to the bot may now be linked by this email
    return user_created_message(user, {r.id: r for r in roles})


async def save_application(deps: BotDeps, actor: Actor, values: Values) -> Message:
    draft = parse(ApplicationDraft, read_application_form(values))
    app = await deps.services.catalog.create_application(actor, draft)
    return catalog_created_message("Application", app.application_name, app.application_id)


async def save_squad(deps: BotDeps, actor: Actor, values: Values) -> Message:
    squad = await deps.services.catalog.create_squad(
        actor, parse(SquadDraft, read_squad_form(values))
    )
    return catalog_created_message("Squad", squad.squad_name, squad.squad_id)


async def save_board(deps: BotDeps, actor: Actor, values: Values) -> Message:
    draft = parse(JiraBoardDraft, read_board_form(values))
    board = await deps.services.catalog.create_board(actor, draft)
    return catalog_created_message("Jira board", board.board_name, board.board_id)


FORMS: dict[CallbackId, Save] = {
    CallbackId.NEW_ROLE: save_role,
    CallbackId.NEW_USER: save_user,
    CallbackId.NEW_APPLICATION: save_application,
    CallbackId.NEW_SQUAD: save_squad,
    CallbackId.NEW_BOARD: save_board,
}


def register(app: AsyncApp, deps: BotDeps) -> None:
    for callback_id, save in FORMS.items():
        app.view(str(callback_id))(submission_listener(deps, callback_id, save))


def submission_listener(
    deps: BotDeps, callback_id: CallbackId, save: Save
) -> Callable[..., Awaitable[None]]:
    async def on_submit(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        view = body.get("view") or {}
        try:
            origin = AdminForm.decode(view.get("private_metadata"))
            actor = context.get("actor")  # re-read from storage for every submission
            if actor is None:
                raise NotLinked()
            message = await save(deps, actor, (view.get("state") or {}).get("values") or {})
        except DomainError as error:
            await ack(response_action="errors", errors=errors_for(callback_id, error))
            return
        except Exception as error:  # logged with its ref; the form stays open to retry
            text = user_message(error).replace(":boom: ", "").replace("`", "")
            await ack(response_action="errors", errors=field_errors(callback_id, {}, text))
            return
        await ack()
        await confirm(client, origin, str((body.get("user") or {}).get("id", "")), message)

    return on_submit


def errors_for(callback_id: CallbackId, error: DomainError) -> dict[str, str]:
    """Input errors keep their own words; any other error is told whole at its field."""
    if isinstance(error, ValidationFailed):
        return field_errors(callback_id, error.fields, error.message)
    return field_errors(callback_id, dict.fromkeys(error.fields, error.message), error.message)


async def confirm(
    client: AsyncWebClient, origin: AdminForm, slack_user_id: str, message: Message
) -> None:
    """Ephemeral where the command was typed; a DM when that answer URL no longer works."""
    if origin.response_url:
        try:
            sent = await AsyncWebhookClient(origin.response_url).send(
                **message.to_dict(), response_type="ephemeral", replace_original=False
            )
            if sent.status_code == 200:
                return
            log.info("response_url answered %s; confirming by DM", sent.status_code)
        except Exception:
            log.info("response_url failed; confirming by DM", exc_info=True)
    await client.chat_postMessage(channel=slack_user_id, **message.to_dict())
