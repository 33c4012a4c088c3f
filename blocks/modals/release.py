"""`/release new`: create a release."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from blocks.ids import CallbackId, EditField
from blocks.modals.form import (
    EditingMetadata,
    application_options,
    date_input,
    modal,
    multi_select_input,
    option,
    select_input,
    squad_options,
    text_input,
)
from blocks.modals.form_state import Form, present
from core.models.catalog import Application, Squad
from core.models.common import KEY_MAX, NAME_MAX, TEXT_MAX, parse
from core.models.release import ReleaseDraft

TITLE = "New release"
RELEASE_TYPES = ("minor", "major", "patch", "hotfix")
KEY_HINT = "Letters, digits and . _ : - (no spaces); people type it in commands."


def new_release_modal(
    metadata: EditingMetadata, squads: Sequence[Squad], applications: Sequence[Application]
) -> View:
    types = [option(t, t.capitalize()) for t in RELEASE_TYPES]
    blocks: list[Block] = [
        text_input(
            EditField.RELEASE_ID,
            "Release id",
            placeholder="REL-2027.02",
            hint=KEY_HINT,
            max_length=KEY_MAX,
        ),
        text_input(EditField.RELEASE_NAME, "Name", max_length=NAME_MAX),
        date_input(EditField.RELEASE_DATE, "Release date"),
        select_input(EditField.RELEASE_TYPE, "Type", options=types, initial=types[0]),
    ]
    if squads:
        blocks.append(
            multi_select_input(
                EditField.SQUADS,
                "Squads",
                squad_options(squads),
                hint="Members of these squads see the release.",
            )
        )
    if applications:
        blocks.append(
            multi_select_input(
                EditField.APPLICATIONS,
                "Applications in scope",
                application_options(applications),
                hint="Add their products afterwards with /release product <release>.",
            )
        )
    blocks.append(
        text_input(
            EditField.DESCRIPTION, "Description", optional=True, multiline=True, max_length=TEXT_MAX
        )
    )
    return modal(TITLE, CallbackId.NEW_RELEASE, blocks, metadata, submit="Create")


def read_release_form(form: Form) -> ReleaseDraft:
    return parse(
        ReleaseDraft,
        present(
            {
                "release_id": form.text(EditField.RELEASE_ID),
                "release_name": form.text(EditField.RELEASE_NAME),
                "release_date": form.date(EditField.RELEASE_DATE),
                "release_type": form.choice(EditField.RELEASE_TYPE),
                "squad_ids": form.choices(EditField.SQUADS),
                "scope_application_ids": form.choices(EditField.APPLICATIONS),
                "description": form.text(EditField.DESCRIPTION),
            }
        ),
    )
