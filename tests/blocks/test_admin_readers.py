"""Each `/release admin … new` form's reader: submitted state in, the core draft out, or the
refusal placed under the field to fix — pure, without Slack or storage."""

from __future__ import annotations

from typing import Any

import pytest

from blocks.ids import AdminField
from blocks.modals.admin import (
    read_application_form,
    read_board_form,
    read_role_form,
    read_squad_form,
    read_user_form,
)
from blocks.modals.form_state import Form
from core.errors import ValidationFailed
from core.models.catalog import ApplicationDraft, JiraBoardDraft, Product, SquadDraft
from core.models.rbac import Permission, RoleDraft, UserDraft

State = dict[str, Any]


def submitted(**values: State) -> Form:
    """A submitted view whose ``block_id`` (the action_id too) holds each state."""
    return Form({"state": {"values": {block: {block: s} for block, s in values.items()}}})


def text(value: str) -> State:
    return {"type": "plain_text_input", "value": value}


def select(value: str) -> State:
    return {"type": "static_select", "selected_option": {"value": value}}


def multi(*values: str) -> State:
    return {"type": "multi_static_select", "selected_options": [{"value": v} for v in values]}


def checked(*values: str) -> State:
    return {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}


def refusal(read: Any, form: Form) -> dict[str, str]:
    """The fields a reader refuses, with what each is told."""
    with pytest.raises(ValidationFailed) as caught:
        read(form)
    return dict(caught.value.fields)


# --- role -----------------------------------------------------------------------------------


def test_the_role_form_reads_into_a_role_draft_with_the_flags_ticked() -> None:
    form = submitted(
        **{
            AdminField.ROLE_NAME: text(" Release Manager "),
            AdminField.DESCRIPTION: text("Runs the monthly release"),
            AdminField.ROLE_FLAGS: checked(
                Permission.CAN_CREATE_RELEASE, Permission.IS_APPROVAL_MANAGER, "can_fly"
            ),
        }
    )

    assert read_role_form(form) == RoleDraft(
        role_name="Release Manager",
        description="Runs the monthly release",
        can_create_release=True,
        is_approval_manager=True,
    )


def test_the_role_form_refuses_a_role_without_a_name() -> None:
    form = submitted(**{AdminField.ROLE_FLAGS: checked(Permission.CAN_VIEW_ALL)})

    assert refusal(read_role_form, form) == {
        AdminField.ROLE_NAME: "String should have at least 1 character"
    }


# --- user -----------------------------------------------------------------------------------


def test_the_user_form_reads_into_a_user_draft_with_their_roles_and_squads() -> None:
    form = submitted(
        **{
            AdminField.USERNAME: text("dana"),
            AdminField.FULL_NAME: text("Dana Weiss"),
            AdminField.EMAIL: {"type": "email_text_input", "value": "Dana.Weiss@Example.com"},
            AdminField.USER_ROLES: multi("role-1", "role-2"),
            AdminField.USER_SQUADS: multi("payments"),
        }
    )

    assert read_user_form(form) == UserDraft(
        username="dana",
        full_name="Dana Weiss",
        email="dana.weiss@example.com",
        role_ids=["role-1", "role-2"],
        assigned_squad_ids=["payments"],
    )


def test_the_user_form_refuses_an_email_that_is_no_email() -> None:
    form = submitted(
        **{
            AdminField.USERNAME: text("dana"),
            AdminField.FULL_NAME: text("Dana Weiss"),
            AdminField.EMAIL: text("dana at example"),
        }
    )

    assert refusal(read_user_form, form) == {
        AdminField.EMAIL: "value is not a valid email address: An email address must have an "
        "@-sign."
    }


# --- application ----------------------------------------------------------------------------


def test_the_application_form_reads_technologies_and_product_lines() -> None:
    form = submitted(
        **{
            AdminField.APPLICATION_ID: text("payments"),
            AdminField.APPLICATION_NAME: text("Payments"),
            AdminField.TECHNOLOGIES: text("Java, Kafka,, PostgreSQL "),
            AdminField.DESCRIPTION: text("Money in, money out"),
            AdminField.PRODUCTS: text("payments-api | Payments API\n\n  fraud |Fraud Scoring  "),
        }
    )

    assert read_application_form(form) == ApplicationDraft(
        application_id="payments",
        application_name="Payments",
        technologies=["Java", "Kafka", "PostgreSQL"],
        description="Money in, money out",
        products=[
            Product(product_id="payments-api", product_name="Payments API"),
            Product(product_id="fraud", product_name="Fraud Scoring"),
        ],
    )


def test_the_application_form_refuses_a_product_line_without_its_name() -> None:
    named = {AdminField.APPLICATION_ID: text("payments"), AdminField.APPLICATION_NAME: text("P")}

    # Blank lines are skipped but counted, so the number is the line the person sees.
    unnamed = submitted(**named, **{AdminField.PRODUCTS: text("api | API\n\nfraud")})
    assert refusal(read_application_form, unnamed) == {
        AdminField.PRODUCTS: "Line 3: write product_id | Product name"
    }

    # About the products as a whole: pydantic names it "input" (the bot shows it under
    # Products).
    twice = submitted(**named, **{AdminField.PRODUCTS: text("api | API\napi | Other API")})
    assert refusal(read_application_form, twice) == {
        "input": "product ids must be unique within an application"
    }


# --- squad ----------------------------------------------------------------------------------


def test_the_squad_form_reads_into_a_squad_draft_with_its_boards() -> None:
    form = submitted(
        **{
            AdminField.SQUAD_ID: text("payments"),
            AdminField.SQUAD_NAME: text("Payments"),
            AdminField.SQUAD_BOARDS: multi("PAY", "FRAUD"),
        }
    )

    assert read_squad_form(form) == SquadDraft(
        squad_id="payments", squad_name="Payments", squad_jira_board_ids=["PAY", "FRAUD"]
    )


def test_the_squad_form_refuses_an_id_with_a_space() -> None:
    form = submitted(
        **{AdminField.SQUAD_ID: text("pay ments"), AdminField.SQUAD_NAME: text("Payments")}
    )

    assert refusal(read_squad_form, form) == {
        AdminField.SQUAD_ID: "String should match pattern '^[A-Za-z0-9][A-Za-z0-9._:-]*$'"
    }


# --- Jira board -----------------------------------------------------------------------------


def test_the_board_form_reads_into_a_board_draft_scrum_unless_told() -> None:
    form = submitted(
        **{
            AdminField.BOARD_ID: text("PAY"),
            AdminField.BOARD_NAME: text("Payments"),
            AdminField.BOARD_LINK: {"type": "url_text_input", "value": "https://jira.example/PAY"},
            AdminField.BOARD_TYPE: select("kanban"),
        }
    )

    assert read_board_form(form) == JiraBoardDraft(
        board_id="PAY",
        board_name="Payments",
        board_link="https://jira.example/PAY",
        board_type="kanban",
    )
    unlinked = submitted(**{AdminField.BOARD_ID: text("PAY"), AdminField.BOARD_NAME: text("P")})
    assert read_board_form(unlinked) == JiraBoardDraft(board_id="PAY", board_name="P")


def test_the_board_form_refuses_a_link_that_is_not_a_web_address() -> None:
    form = submitted(
        **{
            AdminField.BOARD_ID: text("PAY"),
            AdminField.BOARD_NAME: text("Payments"),
            AdminField.BOARD_LINK: text("ftp://jira.example/PAY"),
        }
    )

    assert refusal(read_board_form, form) == {
        AdminField.BOARD_LINK: "String should match pattern '^https?://[^\\s<>|]+$'"
    }
