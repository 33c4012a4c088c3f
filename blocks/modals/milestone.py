"""`/release milestone <release>`: add or update a milestone, with its approval settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, DividerBlock
from slack_sdk.models.views import View

from blocks.ids import Approval, CallbackId, EditField
from blocks.message import context
from blocks.modals.form import (
    EditingMetadata,
    Group,
    Pick,
    datetime_input,
    enum_options,
    modal,
    notice_view,
    option,
    select_input,
    text_input,
    user_input,
)
from blocks.modals.form_state import Form, present
from blocks.text import esc
from core.errors import ValidationFailed
from core.models.common import KEY_MAX, NAME_MAX, parse
from core.models.release import Environment, Milestone, MilestoneStatus, Release
from core.services.gates import MilestoneChange, MilestoneDraft

TITLE = "Milestone"
NEW_MILESTONE = "➕ New milestone"
APPROVAL_OPTIONS = [
    option(Approval.NONE, "No approval needed"),
    option(Approval.REQUIRED, "Approval required"),
    option(Approval.MANAGER, "Approval manager sign-off required"),
]


@dataclass(frozen=True)
class MilestonePick(Pick):
    """An existing milestone, or (``milestone_key`` None) a new one in the gate."""

    product_id: str
    gate_name: str
    milestone_key: str | None = None


def milestone_picks(release: Release) -> list[MilestonePick]:
    return [
        pick
        for product, gate in release.gates()
        for pick in [
            MilestonePick(product.product_id, gate.gate_name),
            *(
                MilestonePick(product.product_id, gate.gate_name, m.milestone_key)
                for m in gate.milestones
            ),
        ]
    ]


def span(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """``03 Dec 09:00 → 05 Dec 17:00`` in the viewer's time zone."""
    return f"{start.astimezone(tz):%d %b %H:%M} → {end.astimezone(tz):%d %b %H:%M}"


def _milestone_label(milestone: Milestone, tz: ZoneInfo) -> str:
    approval = milestone.approval.status.value.replace("_", " ").lower()
    dates = span(milestone.start_date, milestone.end_date, tz)
    return f"{milestone.milestone_key} · {dates} · {approval}"


def milestone_modal(release: Release, metadata: EditingMetadata, tz: ZoneInfo) -> View:
    gates = release.gates()
    if not gates:
        return notice_view(
            TITLE,
            CallbackId.MILESTONE,
            f"*{esc(release.release_id)}* has no quality gates yet; add one with "
            f"`/release gate {esc(release.release_id)}` first.",
        )
    groups = [
        Group(
            f"{product.product_id} · {gate.gate_name}",
            [
                MilestonePick(product.product_id, gate.gate_name).option(NEW_MILESTONE),
                *(
                    MilestonePick(product.product_id, gate.gate_name, m.milestone_key).option(
                        _milestone_label(m, tz)
                    )
                    for m in gate.milestones
                ),
            ],
        )
        for product, gate in gates
    ]
    blocks: list[Block] = [
        context(
            f"*{esc(release.release_id)}* · {esc(release.release_name)} — pick *New milestone* "
            f"in a gate, or a milestone to change. Times are in your time zone ({esc(tz.key)}); "
            "milestones of one gate must not overlap."
        ),
        select_input(EditField.MILESTONE, "Milestone", groups=groups),
        text_input(
            EditField.MILESTONE_KEY,
            "Key of the new milestone",
            optional=True,
            placeholder="uat-signoff",
            max_length=KEY_MAX,
            hint="Letters, digits and . _ : - (no spaces). Only for a new milestone.",
        ),
        context("For an existing milestone, only the fields you fill in change."),
        text_input(EditField.MILESTONE_NAME, "Name", optional=True, max_length=NAME_MAX),
        select_input(
            EditField.ENVIRONMENT,
            "Environment",
            options=[option(e.value, e.value.upper()) for e in Environment],
            optional=True,
        ),
        datetime_input(EditField.START, "Starts", optional=True),
        datetime_input(EditField.END, "Ends", optional=True),
        select_input(
            EditField.STATUS,
            "Status",
            options=enum_options(MilestoneStatus),
            optional=True,
            hint="A new milestone is Not started unless you pick another.",
        ),
        user_input(EditField.OWNER, "Owner", hint="An owner may not approve their own milestone."),
        DividerBlock(),
        select_input(
            EditField.APPROVAL,
            "Approval",
            options=APPROVAL_OPTIONS,
            optional=True,
            hint="Approvers get a DM with Approve / Reject as soon as the approval is pending.",
        ),
    ]
    return modal(TITLE, CallbackId.MILESTONE, blocks, metadata)


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneUpdate:
    milestone_key: str
    change: MilestoneChange


def read_milestone_form(
    form: Form, pick: MilestonePick, *, owner_id: str | None
) -> MilestoneDraft | MilestoneUpdate:
    """A new milestone's draft, or what changes in the milestone picked; ``owner_id``: the
    portal user of the owner picked, if any."""
    required, manager = _approval(form.choice(EditField.APPROVAL))
    values = present(
        {
            "milestone_name": form.text(EditField.MILESTONE_NAME),
            "environment": form.choice(EditField.ENVIRONMENT),
            "start_date": form.unix_time(EditField.START),
            "end_date": form.unix_time(EditField.END),
            "status": form.choice(EditField.STATUS),
            "owner_id": owner_id,
            "approval_required": required,
            "requires_approval_manager": manager,
        }
    )
    key = form.text(EditField.MILESTONE_KEY)
    if pick.milestone_key is None:
        return parse(MilestoneDraft, {**present({"milestone_key": key}), **values})
    if key and key != pick.milestone_key:
        raise ValidationFailed(
            "Milestones keep their key.",
            fields={EditField.MILESTONE_KEY: "Only for a new milestone; leave it empty"},
        )
    change = parse(MilestoneChange, values)
    if change == MilestoneChange():
        raise ValidationFailed(
            "Nothing to change.", fields={EditField.MILESTONE_NAME: "Fill in what should change"}
        )
    return MilestoneUpdate(pick.milestone_key, change)


def _approval(value: str | None) -> tuple[bool | None, bool | None]:
    """(approval_required, requires_approval_manager); (None, None) leaves them as they are."""
    if value is None:
        return None, None
    try:
        return Approval(value).settings
    except ValueError:
        raise ValidationFailed(
            "Unknown approval setting.", fields={EditField.APPROVAL: "Pick one of the options"}
        ) from None
