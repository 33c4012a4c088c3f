"""Saving the `/release admin … new` forms: read the values, one core call, then either
field errors (``response_action: errors``) or an ephemeral confirmation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from blocks.admin import catalog_created_message, role_created_message, user_created_message
from blocks.ids import AdminField, CallbackId
from blocks.message import Message
from blocks.modals.admin import BOARD_TYPES, AdminForm
from blocks.modals.form_state import Form, split_list
from bot.deps import BotDeps
from bot.errors import NotLinked
from bot.views.form_input import as_given, confirm_saved, field_errors
from core.errors import ValidationFailed
from core.models.catalog import ApplicationDraft, JiraBoardDraft, SquadDraft
from core.models.common import parse
from core.models.rbac import Permission, RoleDraft, UserDraft
from core.rules.permissions import Actor

PRODUCT_SEPARATOR = "|"
# pydantic names an error about the whole model (an application's products) "input".
WHOLE_FORM = "input"

Save = Callable[[BotDeps, Actor, Form], Awaitable[Message]]


# --- reading ------------------------------------------------------------------------------


def _text(form: Form, block: AdminField) -> str:
    return form.text(block) or ""


def read_role_form(form: Form) -> dict[str, Any]:
    chosen = set(form.choices(AdminField.ROLE_FLAGS))
    return {
        "role_name": _text(form, AdminField.ROLE_NAME),
        "description": _text(form, AdminField.DESCRIPTION),
        **{p.value: p.value in chosen for p in Permission},
    }


def read_user_form(form: Form) -> dict[str, Any]:
    return {
        "username": _text(form, AdminField.USERNAME),
        "full_name": _text(form, AdminField.FULL_NAME),
        "email": _text(form, AdminField.EMAIL),
        "role_ids": form.choices(AdminField.USER_ROLES),
        "assigned_squad_ids": form.choices(AdminField.USER_SQUADS),
    }


def read_application_form(form: Form) -> dict[str, Any]:
    return {
        "application_id": _text(form, AdminField.APPLICATION_ID),
        "application_name": _text(form, AdminField.APPLICATION_NAME),
        "technologies": split_list(form.text(AdminField.TECHNOLOGIES)),
        "description": _text(form, AdminField.DESCRIPTION),
        "products": read_product_lines(_text(form, AdminField.PRODUCTS)),
    }


def read_product_lines(text: str) -> list[dict[str, str]]:
    """``product_id | Product name`` a line; blank lines are skipped."""
    products = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        product_id, separator, name = line.partition(PRODUCT_SEPARATOR)
        if not separator or not product_id.strip() or not name.strip():
            raise ValidationFailed(
                f"Products: line {number} is not `product_id | Product name`.",
                fields={AdminField.PRODUCTS: f"Line {number}: write product_id | Product name"},
            )
        products.append({"product_id": product_id.strip(), "product_name": name.strip()})
    return products


def read_squad_form(form: Form) -> dict[str, Any]:
    return {
        "squad_id": _text(form, AdminField.SQUAD_ID),
        "squad_name": _text(form, AdminField.SQUAD_NAME),
        "squad_jira_board_ids": form.choices(AdminField.SQUAD_BOARDS),
    }


def read_board_form(form: Form) -> dict[str, Any]:
    return {
        "board_id": _text(form, AdminField.BOARD_ID),
        "board_name": _text(form, AdminField.BOARD_NAME),
        "board_link": form.text(AdminField.BOARD_LINK),
        "board_type": form.choice(AdminField.BOARD_TYPE) or BOARD_TYPES[0],
    }


# --- saving -------------------------------------------------------------------------------


async def save_role(deps: BotDeps, actor: Actor, form: Form) -> Message:
    role = await deps.services.roles.create(actor, parse(RoleDraft, read_role_form(form)))
    return role_created_message(role)


async def save_user(deps: BotDeps, actor: Actor, form: Form) -> Message:
    draft = parse(UserDraft, read_user_form(form))
    roles = await deps.services.roles.list_roles(actor)  # read first: a failure changes nothing
    user = await deps.services.users.create(actor, draft)
    return user_created_message(user, {r.id: r for r in roles})


async def save_application(deps: BotDeps, actor: Actor, form: Form) -> Message:
    draft = parse(ApplicationDraft, read_application_form(form))
    app = await deps.services.catalog.create_application(actor, draft)
    return catalog_created_message("Application", app.application_name, app.application_id)


async def save_squad(deps: BotDeps, actor: Actor, form: Form) -> Message:
    squad = await deps.services.catalog.create_squad(
        actor, parse(SquadDraft, read_squad_form(form))
    )
    return catalog_created_message("Squad", squad.squad_name, squad.squad_id)


async def save_board(deps: BotDeps, actor: Actor, form: Form) -> Message:
    draft = parse(JiraBoardDraft, read_board_form(form))
    board = await deps.services.catalog.create_board(actor, draft)
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


def register(app: AsyncApp, deps: BotDeps) -> None:
    for callback_id, editor in FORMS.items():
        app.view(str(callback_id))(submission_listener(deps, editor))


def submission_listener(deps: BotDeps, editor: AdminEditor) -> Callable[..., Awaitable[None]]:
    async def on_submit(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        view = body.get("view") or {}
        form = Form(view)
        try:
            origin = AdminForm.decode(view.get("private_metadata"))
            actor = context.get("actor")  # re-read from storage for every submission
            if actor is None:
                raise NotLinked()
            message = await editor.save(deps, actor, form)
        except Exception as error:  # nothing was saved: say why, next to the field
            # Core messages as they are; unexpected errors are logged with their ref.
            errors = field_errors(error, form, aliases=editor.aliases, wording=as_given)
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        user_id = str((body.get("user") or {}).get("id", ""))
        await confirm_saved(client, user_id, message, response_url=origin.response_url)

    return on_submit
