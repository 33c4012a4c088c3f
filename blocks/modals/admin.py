"""The `/release admin … new` modals and, beside each builder, its form's reader:
submitted state in, the core draft out (bot/views/admin.py saves it).

Each input's block_id and action_id is the name of the core field it fills, so the
``fields`` of a core error land next to the right input without a translation table.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    EmailInputElement,
    InputBlock,
    Option,
    StaticSelectElement,
    UrlInputElement,
)
from slack_sdk.models.views import View

from blocks.ids import AdminField, CallbackId
from blocks.metadata import Metadata
from blocks.modals.form import modal, multi_select_input, option, text_input
from blocks.modals.form_state import Form, split_list
from core.errors import ValidationFailed
from core.models.catalog import ApplicationDraft, JiraBoard, JiraBoardDraft, Squad, SquadDraft
from core.models.common import KEY_MAX, NAME_MAX, TEXT_MAX, parse
from core.models.rbac import Permission, Role, RoleDraft, UserDraft

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
    Permission.CAN_VIEW_AUDIT: "Export the audit trail (hash-linked, verifiable)",
}
BOARD_TYPES = ("scrum", "kanban")
PRODUCT_SEPARATOR = "|"


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
            text_input(AdminField.ROLE_NAME, "Name", placeholder="Release Manager"),
            _description_input(),
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
        text_input(AdminField.USERNAME, "Username", placeholder="dana", max_length=KEY_MAX),
        text_input(
            AdminField.FULL_NAME, "Full name", placeholder="Dana Weiss", max_length=NAME_MAX
        ),
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
            text_input(AdminField.APPLICATION_ID, "Application id", placeholder="payments"),
            text_input(AdminField.APPLICATION_NAME, "Name", placeholder="Payments"),
            text_input(
                AdminField.TECHNOLOGIES,
                "Technologies",
                optional=True,
                placeholder="Java, Kafka, PostgreSQL",
                hint="Separated by commas.",
            ),
            _description_input(),
            text_input(
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
        text_input(AdminField.SQUAD_ID, "Squad id", placeholder="payments", max_length=KEY_MAX),
        text_input(AdminField.SQUAD_NAME, "Name", placeholder="Payments", max_length=NAME_MAX),
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
            text_input(AdminField.BOARD_ID, "Board id", placeholder="PAY", max_length=KEY_MAX),
            text_input(AdminField.BOARD_NAME, "Name", placeholder="Payments", max_length=NAME_MAX),
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
    return modal(title, callback_id, blocks, meta, submit="Create")


def _multi_select(field: AdminField, label: str, choices: Sequence[tuple[str, str]]) -> InputBlock:
    options = [option(value, text) for value, text in choices]
    return multi_select_input(field, label, options, placeholder=f"Choose {label.lower()}")


def _description_input() -> InputBlock:
    return text_input(
        AdminField.DESCRIPTION, "Description", optional=True, multiline=True, max_length=TEXT_MAX
    )


# --- reading ------------------------------------------------------------------------------
# An empty text input reads as "": the core then says what an empty value lacks.


def read_role_form(form: Form) -> RoleDraft:
    chosen = set(form.choices(AdminField.ROLE_FLAGS))
    return parse(
        RoleDraft,
        {
            "role_name": _text(form, AdminField.ROLE_NAME),
            "description": _text(form, AdminField.DESCRIPTION),
            **{p.value: p.value in chosen for p in Permission},
        },
    )


def read_user_form(form: Form) -> UserDraft:
    return parse(
        UserDraft,
        {
            "username": _text(form, AdminField.USERNAME),
            "full_name": _text(form, AdminField.FULL_NAME),
            "email": _text(form, AdminField.EMAIL),
            "role_ids": form.choices(AdminField.USER_ROLES),
            "assigned_squad_ids": form.choices(AdminField.USER_SQUADS),
        },
    )


def read_application_form(form: Form) -> ApplicationDraft:
    return parse(
        ApplicationDraft,
        {
            "application_id": _text(form, AdminField.APPLICATION_ID),
            "application_name": _text(form, AdminField.APPLICATION_NAME),
            "technologies": split_list(form.text(AdminField.TECHNOLOGIES)),
            "description": _text(form, AdminField.DESCRIPTION),
            "products": _product_lines(_text(form, AdminField.PRODUCTS)),
        },
    )


def read_squad_form(form: Form) -> SquadDraft:
    return parse(
        SquadDraft,
        {
            "squad_id": _text(form, AdminField.SQUAD_ID),
            "squad_name": _text(form, AdminField.SQUAD_NAME),
            "squad_jira_board_ids": form.choices(AdminField.SQUAD_BOARDS),
        },
    )


def read_board_form(form: Form) -> JiraBoardDraft:
    return parse(
        JiraBoardDraft,
        {
            "board_id": _text(form, AdminField.BOARD_ID),
            "board_name": _text(form, AdminField.BOARD_NAME),
            "board_link": form.text(AdminField.BOARD_LINK),
            "board_type": form.choice(AdminField.BOARD_TYPE) or BOARD_TYPES[0],
        },
    )


def _text(form: Form, block: AdminField) -> str:
    return form.text(block) or ""


def _product_lines(text: str) -> list[dict[str, str]]:
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
