"""The modal that asks for a rejection's reason."""

from __future__ import annotations

from slack_sdk.models.views import View

from blocks.approvals import ApprovalTarget
from blocks.ids import CallbackId, Origin, RejectField
from blocks.message import context, section
from blocks.metadata import Metadata
from blocks.modals.form import modal, notice_view, text_input
from blocks.modals.form_state import Form
from blocks.text import esc
from core.models.common import COMMENT_MAX


class RejectContext(Metadata):
    """The reject modal's private_metadata: which approval, and what to redraw afterwards."""

    target: ApprovalTarget
    origin: Origin = Origin.DM
    response_url: str | None = None
    # The message whose Reject was clicked, when it is one: where to answer if its
    # response_url fails, and whether the reaction to the decision updates it anyway.
    channel: str | None = None
    message_ts: str | None = None


def reject_modal(meta: RejectContext) -> View:
    target = meta.target
    return modal(
        "Reject approval",
        CallbackId.REJECT,
        [
            section(
                f":x: Rejecting milestone *{esc(target.milestone)}* of "
                f"{esc(target.product)} / {esc(target.gate)}."
            ),
            text_input(
                RejectField.REASON,
                "Reason",
                multiline=True,
                max_length=COMMENT_MAX,
                placeholder="What must change before this can be approved?",
                hint="Everyone who was asked to decide sees it, and so does the timeline.",
            ),
            context("The release's approvers are told at once; a decision is final."),
        ],
        meta,
        submit="Reject",
    )


def notice_modal(title: str, mrkdwn: str) -> View:
    """A read-only modal, e.g. to say the approval was decided meanwhile: the editing
    modals' ``notice_view`` without a callback_id (kept for the approval and App Home
    listeners, which import it from here)."""
    return notice_view(title, None, mrkdwn)


def read_reject_form(form: Form) -> str:
    """The reason as typed; the core checks it (required, its length) when deciding."""
    return form.text(RejectField.REASON) or ""
