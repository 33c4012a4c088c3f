"""Field errors point at the field that is wrong (issue 8): a wrong value in each field of
the Product form, and samples from the other forms, answered next to that field with
nothing stored; then the same form, corrected, saves."""

from __future__ import annotations

from typing import Any

import pytest

from blocks.ids import CallbackId
from blocks.modals.form_state import Form
from bot.devtools.harness import LocalBot
from bot.views.admin import FORMS as ADMIN_FORMS
from bot.views.editing import EDITORS
from bot.views.form_input import as_given, field_errors
from core.errors import ValidationFailed
from core.models.attachment import AttachmentDraft
from core.models.catalog import ApplicationDraft, JiraBoardDraft, SquadDraft
from core.models.rbac import UserDraft
from core.models.release import Change, FixedVersion, ReleaseDraft
from core.services.gates import GateChange, GateDraft, MilestoneChange, MilestoneDraft
from core.services.runbooks import RunbookDraft, TaskChange
from tests.bot.modal_support import (
    multi,
    open_form,
    option_value,
    option_value_in,
    release,
    select,
    snapshot,
    submit,
    text,
)

REL = "REL-2027.01"
GOOD_VERSION = {
    "version_key": text("identity-auth-4.1.0"),
    "version_name": text("Auth Service 4.1.0"),
    "version_status": select("RELEASED"),
}


async def product_form(bot: LocalBot) -> tuple[dict[str, Any], str, str]:
    """The Product form, a product of the release (to set its version) and a catalog
    product (to add)."""
    view = await open_form(bot, "URHEA", f"product {REL}")
    in_release = option_value_in(view, "product", f"In {REL}", "Auth Service")
    catalog = option_value_in(view, "product", "Add from Payments", "Fraud Scoring")
    return view, in_release, catalog


async def test_a_wrong_version_name_is_told_under_version_name_and_can_be_fixed(
    bot: LocalBot,
) -> None:
    view, in_release, _ = await product_form(bot)
    before = await snapshot(bot)

    wrong = await submit(
        bot,
        "URHEA",
        view,
        product=select(in_release),
        **{**GOOD_VERSION, "version_name": text("Auth\x07Service")},
    )

    assert wrong["errors"] == {"version_name": "must not contain control characters"}
    assert await snapshot(bot) == before

    fixed = await submit(bot, "URHEA", view, product=select(in_release), **GOOD_VERSION)

    assert fixed is None
    version = (await release(bot, REL)).product("identity-auth").fixed_version
    assert version is not None and version.version_name == "Auth Service 4.1.0"


async def test_each_wrong_field_of_the_product_form_is_told_under_that_field(
    bot: LocalBot,
) -> None:
    view, in_release, catalog = await product_form(bot)
    before = await snapshot(bot)
    version = {"product": select(in_release), **GOOD_VERSION}
    cases: list[tuple[dict[str, Any], dict[str, str]]] = [
        (
            {**version, "version_key": text("auth 4.1")},
            {
                "version_key": "Use letters, digits and . _ : - only, starting with a letter "
                "or digit"
            },
        ),
        ({**version, "version_name": text("")}, {"version_name": "Required"}),
        (
            {**version, "version_status": select("SHIPPED")},
            {"version_status": "Input should be 'UNRELEASED', 'RELEASED' or 'ARCHIVED'"},
        ),
        (
            {**version, "participating_squad_ids": multi("payments")},
            {"participating_squad_ids": "Only when adding a product"},
        ),
        (
            {**version, "product": select("gone-product")},
            {"product": "No longer there; close the form and open it again"},
        ),
        # Fixed-version fields filled in while adding a catalog product: each one is told,
        # so a version name (or status) alone is not pinned on the version key.
        (
            {"product": select(catalog), "version_name": text("Fraud 1.0")},
            {"version_name": "Add the product first, then pick it again to set its fixed version"},
        ),
        (
            {"product": select(catalog), "version_status": select("RELEASED")},
            {
                "version_status": "Add the product first, then pick it again to set its "
                "fixed version"
            },
        ),
    ]

    for values, expected in cases:
        answer = await submit(bot, "URHEA", view, **values)
        assert answer["response_action"] == "errors", values
        assert answer["errors"] == expected, values

    assert await snapshot(bot) == before


async def test_a_product_someone_added_meanwhile_is_told_under_product(bot: LocalBot) -> None:
    view, _, catalog = await product_form(bot)
    assert await submit(bot, "URHEA", view, product=select(catalog)) is None
    before = await snapshot(bot)

    again = await submit(bot, "URHEA", view, product=select(catalog))

    assert list(again["errors"]) == ["product"]
    assert "already has product 'payments-fraud'" in again["errors"]["product"]
    assert await snapshot(bot) == before


# --- samples from the other forms -----------------------------------------------------------


async def test_a_gate_removed_meanwhile_is_told_under_the_gate_picker(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", "gate REL-2026.12")
    picked = option_value_in(view, "gate", "checkout-web", "Performance test")
    stored = await release(bot, "REL-2026.12")
    product = stored.product("checkout-web")
    product.quality_gates = [g for g in product.quality_gates if g.gate_name != "Performance test"]
    await bot.runtime.repos.releases.save(stored)
    before = await snapshot(bot)

    answer = await submit(bot, "URHEA", view, gate=select(picked), description=text("WCAG 2.2"))

    # Not under "Gate name" (the input for a *new* gate's name, with the same field name).
    assert list(answer["errors"]) == ["gate"]
    assert "has no gate 'Performance test'" in answer["errors"]["gate"]
    assert await snapshot(bot) == before


async def test_a_milestone_removed_meanwhile_is_told_under_the_milestone_picker(
    bot: LocalBot,
) -> None:
    view = await open_form(bot, "URHEA", "milestone REL-2026.12")
    picked = option_value_in(view, "milestone", "Performance test", "perf-stage")
    stored = await release(bot, "REL-2026.12")
    gate = stored.product("checkout-web").gate("Performance test")
    gate.milestones = [m for m in gate.milestones if m.milestone_key != "perf-stage"]
    await bot.runtime.repos.releases.save(stored)
    before = await snapshot(bot)

    answer = await submit(bot, "URHEA", view, milestone=select(picked), status=select("DONE"))

    assert list(answer["errors"]) == ["milestone"]
    assert "perf-stage" in answer["errors"]["milestone"]
    assert await snapshot(bot) == before


async def test_a_status_and_a_comment_for_a_new_gate_are_each_told(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", "gate REL-2026.12")

    answer = await submit(
        bot,
        "URHEA",
        view,
        gate=select(option_value_in(view, "gate", "checkout-web", "New gate")),
        gate_name=text("DAST"),
        gate_status=select("PASSED"),
        comment=text("done already"),
    )

    why = "Only for an existing gate: add the gate, then change its status"
    assert answer["errors"] == {"gate_status": why, "comment": why}


async def test_a_bad_attachment_label_is_told_under_label_and_nothing_is_stored(
    bot: LocalBot,
) -> None:
    view = await open_form(bot, "URHEA", "attach REL-2026.12")
    before = await snapshot(bot)

    answer = await submit(
        bot,
        "URHEA",
        view,
        target=select(option_value(view, "target", "The release itself")),
        file_name=text("uat-report.pdf"),
        file_url=text("https://artifacts.example.com/uat-report.pdf"),
        sha256=text("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        file_size=text("482133"),
        label=text("UAT\x00report"),
    )

    assert answer["errors"] == {"label": "must not contain control characters"}
    assert await snapshot(bot) == before  # the file was not registered either


async def test_a_bad_board_link_is_told_under_board_link(bot: LocalBot) -> None:
    before = len(bot.slack.of("views.open"))
    await bot.driver.command("UADMIN", "admin boards new")
    [*_, opened] = await bot.slack.wait_for("views.open", before + 1)
    view = opened.params["view"]

    answer = await submit(
        bot,
        "UADMIN",
        view,
        board_id=text("PAY"),
        board_name=text("Payments board"),
        board_link=text("ftp://jira.example.com/PAY"),
    )

    assert list(answer["errors"]) == ["board_link"]


# --- every field a save can report has a place in its form ----------------------------------

# Field names each form's save can report: its core models' fields, and what the core's
# rules and lookups name. Fields a form never sends (a change ticket's attachments, an
# attachment target's runbook) cannot be wrong in it and are left out.
REPORTED: dict[str, tuple[str, list[str]]] = {
    CallbackId.NEW_RELEASE: ("new", [*ReleaseDraft.model_fields]),
    CallbackId.ADD_PRODUCT: (
        f"product {REL}",
        [*FixedVersion.model_fields, "product_id", "application_id", "participating_squad_ids"],
    ),
    CallbackId.GATE: (
        "gate REL-2026.12",
        [*GateDraft.model_fields, *GateChange.model_fields, "product_id"],
    ),
    CallbackId.MILESTONE: (
        "milestone REL-2026.12",
        [*MilestoneDraft.model_fields, *MilestoneChange.model_fields, "product_id", "gate_name"],
    ),
    CallbackId.RUNBOOK: ("runbook REL-2026.12", [*RunbookDraft.model_fields, "tasks.1.task_name"]),
    CallbackId.TASK: (
        "task REL-2026.12",
        [*TaskChange.model_fields, "runbook_id", "task_name"],
    ),
    CallbackId.CHANGE: (
        "change REL-2026.12",
        [*(f for f in Change.model_fields if f != "attachment_refs"), "ctasks.0.status"],
    ),
    CallbackId.ATTACH: (
        "attach REL-2026.12",
        [
            *AttachmentDraft.model_fields,
            "label",
            "release_id",
            "product_id",
            "gate_name",
            "milestone_key",
            "ctask_id",
        ],
    ),
}


@pytest.mark.parametrize("callback_id", list(REPORTED))
async def test_every_field_a_form_can_report_lands_on_one_of_its_inputs(
    bot: LocalBot, callback_id: str
) -> None:
    command, names = REPORTED[callback_id]
    [editor] = [e for e in EDITORS if e.callback_id == callback_id]
    view = await open_form(bot, "URHEA", command)
    form = Form(view)

    misplaced = {}
    for name in names:
        error = ValidationFailed("wrong", fields={name: "wrong"})
        placed = field_errors(error, form, aliases=editor.aliases, focus=editor.focus(form))
        [(block, said)] = placed.items()
        if block not in form.input_blocks or not said.endswith("wrong") or said.startswith(name):
            misplaced[name] = block
    assert misplaced == {}


ADMIN_REPORTED: dict[str, tuple[str, list[str]]] = {
    CallbackId.NEW_ROLE: ("admin role new", ["role_name", "description"]),
    CallbackId.NEW_USER: (
        "admin user new",
        [f for f in UserDraft.model_fields if f != "password"],
    ),
    CallbackId.NEW_APPLICATION: (
        "admin apps new",
        [*ApplicationDraft.model_fields, "products.0.product_id", "input"],
    ),
    CallbackId.NEW_SQUAD: (
        "admin squads new",
        [f for f in SquadDraft.model_fields if f != "member_ids"],
    ),
    CallbackId.NEW_BOARD: ("admin boards new", [*JiraBoardDraft.model_fields]),
}


@pytest.mark.parametrize("callback_id", list(ADMIN_REPORTED))
async def test_every_field_an_admin_form_can_report_lands_on_one_of_its_inputs(
    bot: LocalBot, callback_id: CallbackId
) -> None:
    command, names = ADMIN_REPORTED[callback_id]
    editor = ADMIN_FORMS[callback_id]
    await bot.driver.command("UADMIN", command)
    [opened] = await bot.slack.wait_for("views.open")
    view = opened.params["view"]
    if "submit" not in view:  # "Loading…", filled in by views.update
        [updated] = await bot.slack.wait_for("views.update")
        view = updated.params["view"]
    form = Form(view)

    misplaced = {}
    for name in names:
        error = ValidationFailed("wrong", fields={name: "wrong"})
        placed = field_errors(error, form, aliases=editor.aliases, wording=as_given)
        [(block, said)] = placed.items()
        if block not in form.input_blocks or said != "wrong":
            misplaced[name] = block
    assert misplaced == {}
