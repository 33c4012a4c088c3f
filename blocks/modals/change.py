"""`/release change <release>`: create or update the release's change ticket and its CTASKs."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, Option
from slack_sdk.models.views import View

from blocks.ids import BP_SIGNED_OFF, CallbackId, EditField
from blocks.message import context
from blocks.modals.form import (
    EditingMetadata,
    checkbox_input,
    enum_options,
    modal,
    notice_view,
    option,
    select_input,
    text_input,
)
from blocks.modals.form_state import Form, present, split_list
from blocks.modals.lines import LINE_SEPARATOR, parse_ctask_lines
from blocks.text import esc
from core.models.common import KEY_MAX, TEXT_MAX, parse
from core.models.release import Change, ChangeStatus, ChangeType, CTask, CTaskStatus, Release

TITLE = "Change ticket"
CTASK_HINT = (
    f"One CTASK per line: id | description | status ({', '.join(CTaskStatus)}). "
    "Assignees, times and dependencies of the CTASKs you keep stay as they are; "
    "a CTASK you remove is dropped."
)


def ctask_line(ctask: CTask) -> str:
    description = ctask.description.replace("\n", " ")
    return f"{ctask.ctask_id} {LINE_SEPARATOR} {description} {LINE_SEPARATOR} {ctask.status.value}"


def change_modal(release: Release, metadata: EditingMetadata) -> View:
    chg = release.chg
    lines = "\n".join(ctask_line(c) for c in chg.ctasks) if chg else ""
    if len(lines) > TEXT_MAX:
        return notice_view(
            TITLE,
            CallbackId.CHANGE,
            f"The change {esc(chg.change_id if chg else '')} of *{esc(release.release_id)}* has "
            "too many CTASKs to edit in Slack; edit it in the portal.",
        )
    types = enum_options(ChangeType)
    statuses = enum_options(ChangeStatus)
    signed = option(BP_SIGNED_OFF, "Business sign-off received")
    what = (
        f"updating *{esc(chg.change_id)}* (all its fields are below)"
        if chg
        else "no change ticket yet: this creates it"
    )
    blocks: list[Block] = [
        context(f"*{esc(release.release_id)}* · {esc(release.release_name)} — {what}"),
        text_input(
            EditField.CHANGE_ID,
            "Change id",
            initial=chg.change_id if chg else None,
            placeholder="CHG0031245",
            max_length=KEY_MAX,
        ),
        select_input(
            EditField.CHANGE_TYPE,
            "Type",
            options=types,
            initial=_initial(types, chg.change_type.value if chg else ChangeType.NORMAL.value),
        ),
        select_input(
            EditField.STATUS,
            "Status",
            options=statuses,
            initial=_initial(statuses, chg.status.value if chg else ChangeStatus.NEW.value),
        ),
        text_input(
            EditField.AFFECTED_CI,
            "Affected CIs",
            optional=True,
            initial=", ".join(chg.affected_ci) if chg else None,
            placeholder="payments-api, payments-ledger",
            hint="Comma-separated.",
        ),
        checkbox_input(
            EditField.BP_SIGNOFF, "Business sign-off", signed, checked=bool(chg and chg.bp_signoff)
        ),
        text_input(
            EditField.CTASKS,
            "CTASKs",
            optional=True,
            multiline=True,
            initial=lines or None,
            max_length=TEXT_MAX,
            placeholder="CHG0031245-T1 | Deploy to production | TODO",
            hint=CTASK_HINT,
        ),
    ]
    return modal(TITLE, CallbackId.CHANGE, blocks, metadata)


def _initial(options: list[Option], value: str) -> Option | None:
    return next((o for o in options if o.value == value), None)


def read_change_form(form: Form) -> Change:
    """The form shows each CTASK's id, description and status; the core keeps the rest
    (assignee, times, dependencies, files) of the CTASKs kept."""
    lines = parse_ctask_lines(form.text(EditField.CTASKS), field=EditField.CTASKS)
    ctasks = [
        {
            "ctask_id": line.ctask_id,
            **present({"description": line.description, "status": line.status}),
        }
        for line in lines
    ]
    return parse(
        Change,
        {
            **present(
                {
                    "change_id": form.text(EditField.CHANGE_ID),
                    "change_type": form.choice(EditField.CHANGE_TYPE),
                    "status": form.choice(EditField.STATUS),
                }
            ),
            "affected_ci": split_list(form.text(EditField.AFFECTED_CI)),
            "bp_signoff": BP_SIGNED_OFF in form.choices(EditField.BP_SIGNOFF),
            "ctasks": ctasks,
        },
    )
