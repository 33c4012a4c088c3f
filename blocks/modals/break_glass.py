"""Break glass during a freeze: the refusal of an approval that offers it to an approval
manager, and the modal that asks for the reason (recorded with the approval)."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement
from slack_sdk.models.views import View

from blocks.ids import ActionId, BreakGlassField, CallbackId
from blocks.message import Message, context, section
from blocks.modals.form import modal, text_input
from blocks.modals.form_state import Form
from blocks.modals.reject import RejectContext
from blocks.text import Readers, esc, plain, when
from core.models.common import COMMENT_MAX
from core.models.freeze import FreezeWindow

BREAK_GLASS_TITLE = "Break glass"
RECORDED = (
    "The override is recorded with your name and this reason: it is announced in the "
    "release's status and the daily digest, and listed in the audit."
)


class BreakGlassContext(RejectContext):
    """The break-glass modal's private_metadata, as the reject modal's: which approval, and
    what to redraw after (the message clicked is the refusal that offered it)."""


def break_glass_offer(refused: str, value: str) -> Message:
    """An approval refused during a freeze (``refused``: mrkdwn, the freeze named), told to
    an approval manager with *Break glass…* (the Approve button's own ``value``)."""
    button = ButtonElement(
        text="Break glass…", action_id=ActionId.BREAK_GLASS, value=value, style="danger"
    )
    blocks: list[Block] = [
        section(refused),
        ActionsBlock(block_id="break_glass", elements=[button]),
        context("Only if this cannot wait: you give a reason, and the override is recorded."),
    ]
    return Message(text=plain(refused, escaped=True), blocks=blocks)


def break_glass_modal(meta: BreakGlassContext, window: FreezeWindow, readers: Readers) -> View:
    target = meta.target
    return modal(
        BREAK_GLASS_TITLE,
        CallbackId.BREAK_GLASS,
        [
            section(
                f":rotating_light: Approving milestone *{esc(target.milestone)}* of "
                f"{esc(target.product)} / {esc(target.gate)} during the freeze "
                f"*{esc(window.name)}* (on until {when(window.closes_at, readers)})."
            ),
            text_input(
                BreakGlassField.REASON,
                "Why can this not wait?",
                multiline=True,
                max_length=COMMENT_MAX,
                placeholder="e.g. Fix for the card payment outage, agreed with the CTO",
                hint="Required. Everyone who reads the release's status sees it.",
            ),
            context(RECORDED),
        ],
        meta,
        submit="Break glass, approve",
    )


def read_break_glass_form(form: Form) -> str:
    """The reason as typed; the core checks it (required, its length) when deciding."""
    return form.text(BreakGlassField.REASON) or ""
