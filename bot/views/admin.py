"""Saving the `/release admin … new` forms: each form's reader (blocks/modals/admin.py) turns
its state into a core draft; here one core call saves it, then the listener answers either
field errors (``response_action: errors``) or an ephemeral confirmation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from blocks.admin import catalog_created_message, role_created_message, user_created_message
from blocks.ids import AdminField, CallbackId
from blocks.message import Message
from blocks.modals.admin import (
    AdminForm,
    read_application_form,
    read_board_form,
    read_role_form,
    read_squad_form,
    read_user_form,
)
from blocks.modals.form_state import Form
from bot.deps import BotDeps
from bot.identity import actor_of
from bot.views.form_input import ViewListener, as_given, confirm_saved, field_errors
from core.rules.permissions import Actor

# pydantic names an error about the whole model (an application's products) "input".
WHOLE_FORM = "input"

Save = Callable[[BotDeps, Actor, Form], Awaitable[Message]]


# --- one function per form: read (blocks/modals/admin.py), one core call, confirmation ----


async def save_role(deps: BotDeps, actor: Actor, form: Form) -> Message:
    role = await deps.services.roles.create(actor, read_role_form(form))
    return role_created_message(role)


async def save_user(deps: BotDeps, actor: Actor, form: Form) -> Message:
    draft = read_user_form(form)
    roles = await deps.services.roles.list_roles(actor)  # read first: a failure changes nothing
    user = await deps.services.users.create(actor, draft)
    return user_created_message(user, {r.id: r for r in roles})


async def save_application(deps: BotDeps, actor: Actor, form: Form) -> Message:
    app = await deps.services.catalog.create_application(actor, read_application_form(form))
    return catalog_created_message("Application", app.application_name, app.application_id)


async def save_squad(deps: BotDeps, actor: Actor, form: Form) -> Message:
    squad = await deps.services.catalog.create_squad(actor, read_squad_form(form))
    return catalog_created_message("Squad", squad.squad_name, squad.squad_id)


async def save_board(deps: BotDeps, actor: Actor, form: Form) -> Message:
    board = await deps.services.catalog.create_board(actor, read_board_form(form))
    return catalog_created_message("Jira board", board.board_name, board.board_id)


@dataclass(frozen=True)
class AdminEditor:
    save: Save
    # Core field names whose errors belong on another input.
    aliases: Mapping[str, str] = field(default_factory=dict)


FORMS: dict[CallbackId, AdminEditor] = {
    CallbackId.NEW_ROLE: AdminEditor(save_role),
    CallbackId.NEW_USER: AdminEditor(save_user),
    CallbackId.NEW_APPLICATION: AdminEditor(save_application, {WHOLE_FORM: AdminField.PRODUCTS}),
    CallbackId.NEW_SQUAD: AdminEditor(save_squad),
    CallbackId.NEW_BOARD: AdminEditor(save_board),
}


def forms(deps: BotDeps) -> dict[str, ViewListener]:
    return {callback_id: submission_listener(deps, editor) for callback_id, editor in FORMS.items()}


def submission_listener(deps: BotDeps, editor: AdminEditor) -> ViewListener:
    async def on_submit(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        view = body.get("view") or {}
        form = Form(view)
        try:
            origin = AdminForm.decode(view.get("private_metadata"))
            actor = actor_of(context)  # re-read from storage for every submission
            message = await editor.save(deps, actor, form)
        except Exception as error:  # nothing was saved: say why, next to the field
            # Core messages as they are; unexpected errors are logged with their ref.
            errors = field_errors(error, form, aliases=editor.aliases, wording=as_given)
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        user_id = str((body.get("user") or {}).get("id", ""))
        await confirm_saved(
            client, user_id, message, channel=origin.channel_id, response_url=origin.response_url
        )

    return on_submit
