"""`/release gate <release>`: add a quality gate, or change an existing gate's status."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import Block, DividerBlock
from slack_sdk.models.views import View

from blocks.ids import CallbackId, EditField
from blocks.message import context
from blocks.modals.form import (
    EditingMetadata,
    Group,
    Pick,
    break_glass_input,
    enum_options,
    modal,
    notice_view,
    option,
    select_input,
    text_input,
    user_input,
)
from blocks.modals.form_state import Form, present
from blocks.text import Readers, esc, when
from core.errors import ValidationFailed
from core.models.common import COMMENT_MAX, NAME_MAX, TEXT_MAX, parse
from core.models.release import GateStatus, Release
from core.rules.freeze import Frozen
from core.services.gates import GateChange, GateDraft

TITLE = "Quality gate"
NEW_GATE = "➕ New gate"


@dataclass(frozen=True)
class GatePick(Pick):
    """An existing gate, or (``gate_name`` None) a new gate in the product."""

    product_id: str
    gate_name: str | None = None


def gate_picks(release: Release) -> list[GatePick]:
    return [
        pick
        for p in release.products
        for pick in [
            GatePick(p.product_id),
            *(GatePick(p.product_id, g.gate_name) for g in p.sorted_gates()),
        ]
    ]


def gate_modal(release: Release, metadata: EditingMetadata) -> View:
    if not release.products:
        return notice_view(
            TITLE,
            CallbackId.GATE,
            f"*{esc(release.release_id)}* has no products yet; add one with "
            f"`/release product {esc(release.release_id)}` first.",
        )
    groups = [
        Group(
            f"{p.product_name} ({p.product_id})",
            [
                GatePick(p.product_id).option(NEW_GATE),
                *(
                    GatePick(p.product_id, g.gate_name).option(
                        f"{g.gate_name} · {_label(g.gate_status)}"
                    )
                    for g in p.sorted_gates()
                ),
            ],
        )
        for p in release.products
    ]
    blocks: list[Block] = [
        context(
            f"*{esc(release.release_id)}* · {esc(release.release_name)} — pick *New gate* to "
            "add one, or a gate to change its status."
        ),
        select_input(EditField.GATE, "Gate", groups=groups),
        select_input(
            EditField.GATE_STATUS,
            "New status",
            options=enum_options(GateStatus),
            optional=True,
            hint="For an existing gate. Waiving needs an approval manager and a comment.",
        ),
        text_input(
            EditField.COMMENT,
            "Comment",
            optional=True,
            multiline=True,
            max_length=COMMENT_MAX,
            hint="Why the status changes; required for a waiver.",
        ),
        break_glass_input(EditField.BREAK_GLASS, "to pass or waive a gate of a prod milestone"),
        DividerBlock(),
        context("*Gate details* — for a new gate; for an existing one, only what you fill in"),
        text_input(EditField.GATE_NAME, "Name of the new gate", optional=True, max_length=NAME_MAX),
        text_input(
            EditField.DESCRIPTION, "Description", optional=True, multiline=True, max_length=TEXT_MAX
        ),
        text_input(
            EditField.ORDER,
            "Order",
            optional=True,
            placeholder="10",
            hint="Gates are listed by this number (0–10000).",
        ),
        select_input(
            EditField.REQUIRED,
            "Required for the release?",
            options=[option("true", "Required"), option("false", "Optional")],
            optional=True,
            hint="A new gate is required unless you pick Optional.",
        ),
        user_input(EditField.OWNER, "Owner"),
    ]
    return modal(TITLE, CallbackId.GATE, blocks, metadata)


def _label(status: GateStatus) -> str:
    return status.value.replace("_", " ").capitalize()


def frozen_field_text(error: Frozen, readers: Readers) -> str:
    """A gate move a freeze holds, told under the status (plain text): which freeze, until
    when on the reader's clock, and how to go ahead."""
    return (
        f"The freeze '{error.window.name}' is on until {when(error.until, readers)}: passing "
        "or waiving a gate of a prod milestone waits until it ends. An approval manager can "
        "go ahead now by giving a break-glass reason below (recorded)."
    )


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateUpdate:
    gate_name: str
    change: GateChange


def read_gate_form(form: Form, pick: GatePick, *, owner_id: str | None) -> GateDraft | GateUpdate:
    """A new gate's draft, or what changes in the gate picked; ``owner_id``: the portal user
    of the owner picked, if any."""
    status, comment = form.choice(EditField.GATE_STATUS), form.text(EditField.COMMENT)
    break_glass = form.text(EditField.BREAK_GLASS)
    details = present(
        {
            "description": form.text(EditField.DESCRIPTION),
            "order": form.text(EditField.ORDER),
            "required": form.choice(EditField.REQUIRED),
            "owner_id": owner_id,
        }
    )
    if pick.gate_name is None:
        given = {
            EditField.GATE_STATUS: status,
            EditField.COMMENT: comment,
            EditField.BREAK_GLASS: break_glass,
        }
        filled = [block for block, value in given.items() if value]
        if filled:  # told under each, so each can be cleared
            why = "Only for an existing gate: add the gate, then change its status"
            raise ValidationFailed(
                "A new gate starts as not started.", fields=dict.fromkeys(filled, why)
            )
        return parse(
            GateDraft, {**present({"gate_name": form.text(EditField.GATE_NAME)}), **details}
        )
    if form.text(EditField.GATE_NAME):
        raise ValidationFailed(
            "Gates keep their name.",
            fields={EditField.GATE_NAME: "Only for a new gate; leave empty to change this one"},
        )
    typed = present({"gate_status": status, "comment": comment, "break_glass": break_glass})
    change = parse(GateChange, {**typed, **details})
    if change.model_copy(update={"break_glass": None}) == GateChange():  # a reason alone
        raise ValidationFailed(
            "Nothing to change.",
            fields={EditField.GATE_STATUS: "Pick a new status, or fill in what should change"},
        )
    return GateUpdate(pick.gate_name, change)
