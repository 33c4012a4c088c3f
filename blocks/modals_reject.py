"""The modal that asks for a rejection's reason, and a small notice modal."""

from __future__ import annotations

from enum import StrEnum

from slack_sdk.models.blocks import InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from blocks.approvals import ApprovalTarget
from blocks.ids import CallbackId
from blocks.message import context, section
from blocks.metadata import Metadata
from blocks.text import esc

REASON_LIMIT = 2000


class RejectField(StrEnum):
    """block_id and action_id of the reason input (the same string for both)."""

    REASON = "reject_reason"


class Origin(StrEnum):
    """Where an Approve / Reject click came from, so that surface can be redrawn."""

    DM = "dm"
    LIST = "list"
    HOME = "home"
    OTHER = "other"


class RejectContext(Metadata):
    """The reject modal's private_metadata: which approval, and what to redraw afterwards."""

    target: ApprovalTarget
    origin: Origin = Origin.DM
    response_url: str | None = None
    channel: str | None = None
    ts: str | None = None


def reject_modal(meta: RejectContext) -> View:
    target = meta.target
    return View(
        type="modal",
        callback_id=CallbackId.REJECT,
        title="Reject approval",
        submit="Reject",
        close="Cancel",
        private_metadata=meta.encode(),
        blocks=[
            section(
                f":x: Rejecting milestone *{esc(target.milestone)}* of "
                f"{esc(target.product)} / {esc(target.gate)}."
            ),
            InputBlock(
                block_id=RejectField.REASON,
                label="Reason",
                hint="Everyone who was asked to decide sees it, and so does the timeline.",
                element=PlainTextInputElement(
                    action_id=RejectField.REASON,
                    multiline=True,
                    max_length=REASON_LIMIT,
                    placeholder="What must change before this can be approved?",
                ),
            ),
            context("The release's approvers are told at once; a decision is final."),
        ],
    )


def notice_modal(title: str, mrkdwn: str) -> View:
    """A read-only modal, e.g. to say the approval was decided meanwhile."""
    return View(
        type="modal",
        title=title[:24],
        close="Close",
        blocks=[section(mrkdwn)],
    )
