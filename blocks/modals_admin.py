"""The `/release admin … new` modals, and reading their submitted values back.

Each input's block_id and action_id is the name of the core field it fills, so the
``fields`` of a core error land next to the right input without a translation table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    EmailInputElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
    StaticSelectElement,
    UrlInputElement,
)
from slack_sdk.models.views import View

from blocks.ids import CallbackId
from blocks.metadata import Metadata
from blocks.text import cut
from core.errors import ValidationFailed
from core.models.catalog import JiraBoard, Squad
from core.models.rbac import Permission, Role

SELECT_OPTIONS = 100
OPTION_TEXT = 75
PRODUCT_SEPARATOR = "|"

Values = Mapping[str, Mapping[str, Mapping[str, Any]]]


class AdminField(StrEnum):
    """block_id and action_id (the same string) of every admin modal input."""

    ROLE_NAME = "role_name"
    DESCRIPTION = "description"
    ROLE_FLAGS = "flags"
    USERNAME = "username"
    FULL_NAME = "full_name"
    EMAIL = "email"
    USER_ROLES = "role_ids"
    USER_SQUADS = "assigned_squad_ids"
    APPLICATION_ID = "application_id"
    APPLICATION_NAME = "application_name"
    TECHNOLOGIES = "technologies"
    PRODUCTS = "products"
    SQUAD_ID = "squad_id"
    SQUAD_NAME = "squad_name"
    SQUAD_BOARDS = "squad_jira_board_ids"
    BOARD_ID = "board_id"
    BOARD_NAME = "board_name"
    BOARD_LINK = "board_link"
    BOARD_TYPE = "board_type"


# The inputs of each form, in the order shown; a core error on another field goes to the first.
FORM_FIELDS: dict[CallbackId, tuple[AdminField, ...]] = {
    CallbackId.NEW_ROLE: (AdminField.ROLE_NAME, AdminField.DESCRIPTION, AdminField.ROLE_FLAGS),
    CallbackId.NEW_USER: (
        AdminField.USERNAME,
        AdminField.FULL_NAME,
        AdminField.EMAIL,
        AdminField.USER_ROLES,
        AdminField.USER_SQUADS,
    ),
    CallbackId.NEW_APPLICATION: (
        AdminField.APPLICATION_ID,
        AdminField.APPLICATION_NAME,
        AdminField.TECHNOLOGIES,
        AdminField.DESCRIPTION,
        AdminField.PRODUCTS,
    ),
    CallbackId.NEW_SQUAD: (AdminField.SQUAD_ID, AdminField.SQUAD_NAME, AdminField.SQUAD_BOARDS),
    CallbackId.NEW_BOARD: (
        AdminField.BOARD_ID,
        AdminField.BOARD_NAME,
        AdminField.BOARD_LINK,
        AdminField.BOARD_TYPE,
    ),
}

# Where an error about the whole form (pydantic's model validators, named "input") belongs.
WHOLE_FORM_FIELD: dict[CallbackId, AdminField] = {CallbackId.NEW_APPLICATION: AdminField.PRODUCTS}
WHOLE_FORM = "input"

FLAG_LABELS: dict[Permission, str] = {
    Permission.IS_APPROVAL_MANAGER: "Approval manager: sign off milestones, waive gates",
    Permission.CAN_CREATE_RELEASE: "Create releases and add products to them",
    Permission.CAN_EDIT_RELEASE_DESCRIPTION: "Edit release descriptions",
    Permission.CAN_DEFINE_FIXED_VERSIONS: "Define fixed versions",
    Permission.CAN_MANAGE_RUNBOOKS: "Manage runbooks, tasks and change tickets",
    Permission.CAN_MANAGE_QUALITY_GATES: "Manage quality gates and milestones",
    Permission.CAN_UPLOAD_ATTACHMENTS: "Register attachments",
    Permission.CAN_MANAGE_ROLES: "Manage roles, Slack links and the catalog",
    Permission.CAN_INVITE_USERS: "Add users",
    Permission.CAN_VIEW_ALL: "See every release, not only their squads'",
}
BOARD_TYPES = ("scrum", "kanban")


class AdminForm(Metadata):
    """Where the `/release admin … new` command was typed, to confirm there once saved."""

    channel_id: str | None = None
    response_url: str | None = None


# --- building -----------------------------------------------------------------------------


def role_modal(meta: AdminForm) -> View:
    flags = [Option(value=p.value, text=FLAG_LABELS[p], description=p.value) for p in Permission]
    return _form(
        CallbackId.NEW_ROLE,
        "New role",
        meta,
        [
            _text_input(AdminField.ROLE_NAME, "Name", placeholder="Release Manager"),
            _text_input(
                AdminField.DESCRIPTION,
                "Description",
                optional=True,
                multiline=True,
                max_length=3000,
            ),
            InputBlock(
                block_id=AdminField.ROLE_FLAGS,
                label="Permissions",
                optional=True,
                hint="A person holds every permission of every role they have.",
                element=CheckboxesElement(action_id=AdminField.ROLE_FLAGS, options=flags),
            ),
        ],
    )


def user_modal(meta: AdminForm, roles: Sequence[Role], squads: Sequence[Squad]) -> View:
    blocks: list[Block] = [
        _text_input(AdminField.USERNAME, "Username", placeholder="dana", max_length=64),
        _text_input(AdminField.FULL_NAME, "Full name", placeholder="Dana Weiss", max_length=150),
        InputBlock(
            block_id=AdminField.EMAIL,
            label="Email",
            hint="Their Slack email: they are linked by it the first time they use the bot.",
            element=EmailInputElement(action_id=AdminField.EMAIL),
        ),
    ]
    if roles:
        options = [(r.id, r.role_name) for r in roles]
        blocks.append(_multi_select(AdminField.USER_ROLES, "Roles", options))
    if squads:
        options = [(s.squad_id, f"{s.squad_name} ({s.squad_id})") for s in squads]
        blocks.append(_multi_select(AdminField.USER_SQUADS, "Squads", options))
    return _form(CallbackId.NEW_USER, "New user", meta, blocks)


def application_modal(meta: AdminForm) -> View:
    return _form(
        CallbackId.NEW_APPLICATION,
        "New application",
        meta,
        [
            _text_input(AdminField.APPLICATION_ID, "Application id", placeholder="payments"),
            _text_input(AdminField.APPLICATION_NAME, "Name", placeholder="Payments"),
            _text_input(
                AdminField.TECHNOLOGIES,
                "Technologies",
                optional=True,
                placeholder="Java, Kafka, PostgreSQL",
                hint="Separated by commas.",
            ),
            _text_input(
                AdminField.DESCRIPTION,
                "Description",
                optional=True,
                multiline=True,
                max_length=3000,
            ),
            _text_input(
                AdminField.PRODUCTS,
                "Products",
                optional=True,
                multiline=True,
                placeholder="payments-api | Payments API",
                hint="One product a line: product_id | Product name",
            ),
        ],
    )


def squad_modal(meta: AdminForm, boards: Sequence[JiraBoard]) -> View:
    blocks: list[Block] = [
        _text_input(AdminField.SQUAD_ID, "Squad id", placeholder="payments", max_length=64),
        _text_input(AdminField.SQUAD_NAME, "Name", placeholder="Payments", max_length=150),
    ]
    if boards:
        options = [(b.board_id, f"{b.board_name} ({b.board_id})") for b in boards]
        blocks.append(_multi_select(AdminField.SQUAD_BOARDS, "Jira boards", options))
    return _form(CallbackId.NEW_SQUAD, "New squad", meta, blocks)


def board_modal(meta: AdminForm) -> View:
    types = [Option(value=t, text=t) for t in BOARD_TYPES]
    return _form(
        CallbackId.NEW_BOARD,
        "New Jira board",
        meta,
        [
            _text_input(AdminField.BOARD_ID, "Board id", placeholder="PAY", max_length=64),
            _text_input(AdminField.BOARD_NAME, "Name", placeholder="Payments", max_length=150),
            InputBlock(
                block_id=AdminField.BOARD_LINK,
                label="Link",
                optional=True,
                element=UrlInputElement(action_id=AdminField.BOARD_LINK),
            ),
            InputBlock(
                block_id=AdminField.BOARD_TYPE,
                label="Type",
                element=StaticSelectElement(
                    action_id=AdminField.BOARD_TYPE, options=types, initial_option=types[0]
                ),
            ),
        ],
    )


def _form(callback_id: CallbackId, title: str, meta: AdminForm, blocks: list[Block]) -> View:
    return View(
        type="modal",
        callback_id=callback_id,
        title=title,
        submit="Create",
        close="Cancel",
        private_metadata=meta.encode(),
        blocks=blocks,
    )


def _text_input(
    field: AdminField,
    label: str,
    *,
    optional: bool = False,
    multiline: bool = False,
    placeholder: str | None = None,
    hint: str | None = None,
    max_length: int | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=field,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id=field, multiline=multiline, placeholder=placeholder, max_length=max_length
        ),
    )


def _multi_select(field: AdminField, label: str, choices: Sequence[tuple[str, str]]) -> InputBlock:
    shown = choices[:SELECT_OPTIONS]
    hint = (
        f"Only the first {SELECT_OPTIONS} are offered." if len(choices) > SELECT_OPTIONS else None
    )
    return InputBlock(
        block_id=field,
        label=label,
        optional=True,
        hint=hint,
        element=StaticMultiSelectElement(
            action_id=field,
            placeholder=f"Choose {label.lower()}",
            options=[Option(value=value, text=cut(text, OPTION_TEXT)) for value, text in shown],
        ),
    )


# --- reading ------------------------------------------------------------------------------


def read_role_form(values: Values) -> dict[str, Any]:
    chosen = set(_selected(values, AdminField.ROLE_FLAGS))
    return {
        "role_name": _text(values, AdminField.ROLE_NAME),
        "description": _text(values, AdminField.DESCRIPTION),
        **{p.value: p.value in chosen for p in Permission},
    }


def read_user_form(values: Values) -> dict[str, Any]:
    return {
        "username": _text(values, AdminField.USERNAME),
        "full_name": _text(values, AdminField.FULL_NAME),
        "email": _text(values, AdminField.EMAIL),
        "role_ids": _selected(values, AdminField.USER_ROLES),
        "assigned_squad_ids": _selected(values, AdminField.USER_SQUADS),
    }


def read_application_form(values: Values) -> dict[str, Any]:
    technologies = _text(values, AdminField.TECHNOLOGIES).split(",")
    return {
        "application_id": _text(values, AdminField.APPLICATION_ID),
        "application_name": _text(values, AdminField.APPLICATION_NAME),
        "technologies": [t.strip() for t in technologies if t.strip()],
        "description": _text(values, AdminField.DESCRIPTION),
        "products": read_product_lines(_text(values, AdminField.PRODUCTS)),
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


def read_squad_form(values: Values) -> dict[str, Any]:
    return {
        "squad_id": _text(values, AdminField.SQUAD_ID),
        "squad_name": _text(values, AdminField.SQUAD_NAME),
        "squad_jira_board_ids": _selected(values, AdminField.SQUAD_BOARDS),
    }


def read_board_form(values: Values) -> dict[str, Any]:
    return {
        "board_id": _text(values, AdminField.BOARD_ID),
        "board_name": _text(values, AdminField.BOARD_NAME),
        "board_link": _text(values, AdminField.BOARD_LINK) or None,
        "board_type": _choice(values, AdminField.BOARD_TYPE) or BOARD_TYPES[0],
    }


def field_errors(
    callback_id: CallbackId, fields: Mapping[str, str], message: str
) -> dict[str, str]:
    """A core error's fields as Slack's ``response_action: errors`` (block_id → text).

    ``message`` (the whole error) goes to the first input when no field matches one."""
    blocks = [str(f) for f in FORM_FIELDS[callback_id]]
    errors: dict[str, str] = {}
    for name, text in fields.items():
        block = name.split(".")[0]
        if block == WHOLE_FORM and callback_id in WHOLE_FORM_FIELD:
            block = WHOLE_FORM_FIELD[callback_id]
        if block in blocks:
            errors.setdefault(block, cut(text, 300))
    return errors or {blocks[0]: cut(message, 300)}


def _state(values: Values, field: AdminField) -> Mapping[str, Any]:
    return values.get(field, {}).get(field, {})


def _text(values: Values, field: AdminField) -> str:
    return str(_state(values, field).get("value") or "").strip()


def _selected(values: Values, field: AdminField) -> list[str]:
    options = _state(values, field).get("selected_options") or []
    return [str(o.get("value")) for o in options if isinstance(o, Mapping)]


def _choice(values: Values, field: AdminField) -> str | None:
    option = _state(values, field).get("selected_option")
    return str(option.get("value")) if isinstance(option, Mapping) else None
