"""`/release approvals` (and App Home): the approvals waiting for the viewer, with buttons."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from blocks.approvals import ApprovalTarget, approval_buttons
from blocks.ids import Origin
from blocks.message import Message, context, section
from blocks.text import MESSAGE_BLOCKS, esc, plural, span, when
from core.models.release import ApprovalStatus, Release
from core.rules.approvals import progress_line
from core.rules.readiness import MilestoneRef
from core.services.approvals import PendingApproval

# Approve / Reject clicked in the list carry this block_id prefix, so the handler knows to
# redraw the list (a DM is redrawn by the notifier, App Home is republished).
LIST_BLOCK = "approvals_list"
ENTRY_BLOCKS = 2


def pending_text(pending: PendingApproval, tz: ZoneInfo) -> str:
    ref = pending.ref
    milestone = ref.milestone
    approval = milestone.approval
    need = " · _approval manager sign-off_" if approval.requires_approval_manager else ""
    since = (
        f" · waiting since {when(approval.requested_at, tz, zone=False)}"
        if approval.requested_at
        else ""
    )
    return (
        f"*{esc(pending.release_id)}* · {esc(pending.release_name)}\n"
        f"*{esc(milestone.milestone_name)}* ({milestone.environment.value}) · "
        f"{esc(ref.product_name)} / {esc(ref.gate_name)}{need}\n"
        f"{span(milestone.start_date, milestone.end_date, tz)}{since}"
    )


def pending_blocks(
    pending: Sequence[PendingApproval],
    tz: ZoneInfo,
    *,
    room: int,
    block_prefix: str,
    origin: Origin,
) -> list[Block]:
    """Two blocks per approval (text, buttons), within ``room`` blocks; "… and N more" after."""
    shown = list(pending)
    if len(shown) * ENTRY_BLOCKS > room:
        shown = shown[: max(0, (room - 1) // ENTRY_BLOCKS)]
    blocks: list[Block] = []
    for index, item in enumerate(shown):
        blocks.append(section(pending_text(item, tz)))
        blocks.append(
            approval_buttons(
                ApprovalTarget.of_pending(item, origin), block_id=f"{block_prefix}:{index}"
            )
        )
    if len(shown) < len(pending):
        blocks.append(context(f"… and {len(pending) - len(shown)} more waiting for you"))
    return blocks


def approvals_list_message(
    pending: Sequence[PendingApproval], tz: ZoneInfo, *, notice: str | None = None
) -> Message:
    """``notice`` (mrkdwn) goes on top, e.g. what the viewer just decided."""
    blocks: list[Block] = [section(notice)] if notice else []
    if not pending:
        blocks.append(section(":tada: Nothing is waiting for your approval."))
        return Message(text="Nothing is waiting for your approval.", blocks=blocks)
    count = plural(len(pending), "approval")
    blocks.append(section(f":inbox_tray: *{count}* waiting for you"))
    blocks += pending_blocks(
        pending,
        tz,
        room=MESSAGE_BLOCKS - len(blocks),
        block_prefix=LIST_BLOCK,
        origin=Origin.LIST,
    )
    return Message(text=f"{count} waiting for you", blocks=blocks)


def decided_notice(release: Release, ref: MilestoneRef, tz: ZoneInfo) -> str:
    """What the viewer just decided, for the top of a redrawn list."""
    approval = ref.milestone.approval
    if approval.status is ApprovalStatus.PENDING:  # a vote in; others still needed
        return (
            f":ballot_box_with_check: Your vote on *{esc(ref.milestone.milestone_name)}* of "
            f"*{esc(release.release_id)}* is in; waiting for {esc(progress_line(approval))}."
        )
    approved = approval.status is ApprovalStatus.APPROVED
    emoji, verb = (":white_check_mark:", "approved") if approved else (":x:", "rejected")
    at = f" at {when(approval.approved_at, tz)}" if approval.approved_at else ""
    return (
        f"{emoji} You {verb} *{esc(ref.milestone.milestone_name)}* "
        f"({esc(ref.product_id)} / {esc(ref.gate_name)}) of *{esc(release.release_id)}*{at}."
    )
