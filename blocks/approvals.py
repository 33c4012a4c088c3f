"""Approval requests: the DM with Approve / Reject, and the same DM once decided."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from blocks.ids import ActionId, Origin
from blocks.message import Message, context, lines_section, section
from blocks.metadata import Metadata
from blocks.status import readiness_line
from blocks.text import day, esc, span, when
from core.models.release import ApprovalStatus, Decision, MilestoneApproval, Release
from core.rules.approvals import AlreadyDecided, AlreadyVoted, progress_line
from core.rules.readiness import MilestoneRef, ReadinessSummary, summarize
from core.services.approvals import PendingApproval


class ApprovalTarget(Metadata):
    """Which approval a button or modal is about. Only an address: never trusted for rights."""

    release: str
    product: str
    gate: str
    milestone: str
    origin: Origin = Origin.DM  # where the buttons are, so that surface is redrawn after

    @classmethod
    def of(cls, release: Release, ref: MilestoneRef) -> ApprovalTarget:
        return cls(
            release=release.id,
            product=ref.product_id,
            gate=ref.gate_name,
            milestone=ref.milestone.milestone_key,
        )

    @classmethod
    def of_pending(cls, pending: PendingApproval, origin: Origin) -> ApprovalTarget:
        return cls(
            release=pending.release_oid,
            product=pending.ref.product_id,
            gate=pending.ref.gate_name,
            milestone=pending.ref.milestone.milestone_key,
            origin=origin,
        )

    def ref_in(self, release: Release) -> MilestoneRef:
        """The milestone this target names, as it is in ``release`` (NotFound if gone)."""
        product = release.product(self.product)
        gate = product.gate(self.gate)
        milestone = gate.milestone(self.milestone)
        return MilestoneRef(product.product_id, product.product_name, gate.gate_name, milestone)


def approval_buttons(
    target: ApprovalTarget, *, block_id: str = "approval", extra: Sequence[ButtonElement] = ()
) -> ActionsBlock:
    """Approve / Reject (and ``extra`` buttons) for one approval. The value is only an
    address: rights are re-checked from storage on click."""
    value = target.encode()
    return ActionsBlock(
        block_id=block_id,
        elements=[
            ButtonElement(text="Approve", action_id=ActionId.APPROVE, value=value, style="primary"),
            ButtonElement(text="Reject", action_id=ActionId.REJECT, value=value, style="danger"),
            *extra,
        ],
    )


def _context_lines(release: Release, ref: MilestoneRef, tz: ZoneInfo) -> str:
    milestone = ref.milestone
    return "\n".join(
        [
            f"*{esc(release.release_id)}* · {esc(release.release_name)} · "
            f"{day(release.release_date)}",
            f"*Product:* {esc(ref.product_name)} (`{esc(ref.product_id)}`) · "
            f"*Gate:* {esc(ref.gate_name)}",
            f"*Milestone:* {esc(milestone.milestone_name)} (`{esc(milestone.milestone_key)}`, "
            f"{milestone.environment.value})",
            f"*When:* {span(milestone.start_date, milestone.end_date, tz)}",
        ]
    )


def policy_lines(approval: MilestoneApproval, tz: ZoneInfo) -> list[str]:
    """What the approval needs and how far it got, who voted, when it runs out, and why
    earlier votes were withdrawn; nothing for the policy of before (one decider, no votes)."""
    lines: list[str] = []
    if approval.policy is not None or approval.votes:
        lines.append(f"*Needs:* {esc(approval.effective_policy.describe())}")
        lines.append(f"*So far:* {esc(progress_line(approval))}")
    for vote in approval.votes:
        verb = "approved" if vote.decision is Decision.APPROVE else "rejected"
        lines.append(f"• {esc(vote.by_label)} {verb} at {when(vote.at, tz)}")
    if approval.expires_at is not None and approval.status is ApprovalStatus.PENDING:
        lines.append(f"*Expires:* {when(approval.expires_at, tz)} unless decided by then")
    withdrawal = approval.withdrawal
    if withdrawal is not None and approval.status is ApprovalStatus.PENDING:
        lines.append(
            f":warning: Earlier votes ({esc(', '.join(withdrawal.voters))}) were withdrawn: "
            f"{esc(withdrawal.reason)} at {when(withdrawal.at, tz)}"
        )
    return lines


def approval_request_message(
    release: Release,
    summary: ReadinessSummary,
    ref: MilestoneRef,
    tz: ZoneInfo,
    *,
    voted: bool = False,
) -> Message:
    """The request DM; ``voted``: the reader's vote is in, so no buttons (the approval waits
    for others)."""
    approval = ref.milestone.approval
    need = (
        " (approval manager sign-off)"
        if approval.requires_approval_manager and approval.policy is None
        else ""
    )
    head = (
        ":ballot_box_with_check: *Your vote is in*; waiting for the others"
        if voted
        else f":inbox_tray: *Your approval is requested*{need}"
    )
    blocks: list[Block] = [section(f"{head}\n{_context_lines(release, ref, tz)}")]
    policy = policy_lines(approval, tz)
    if policy:
        blocks.append(section("\n".join(policy)))
    blocks.append(context(f"Release readiness: {readiness_line(summary)}"))
    if not voted:
        blocks.append(approval_buttons(ApprovalTarget.of(release, ref)))
    text = f"Approval requested: {release.release_id} {esc(ref.milestone.milestone_name)}"
    return Message(text=text, blocks=blocks)


def approval_decided_message(release: Release, ref: MilestoneRef, tz: ZoneInfo) -> Message:
    """The DM once decided; while the approval still waits for others (a vote is in), the
    request without buttons."""
    approval = ref.milestone.approval
    if approval.status is ApprovalStatus.PENDING:
        return approval_request_message(release, summarize(release), ref, tz, voted=True)
    verb = "Approved" if approval.status is ApprovalStatus.APPROVED else "Rejected"
    emoji = ":white_check_mark:" if approval.status is ApprovalStatus.APPROVED else ":x:"
    at = when(approval.approved_at, tz) if approval.approved_at else "earlier"
    who = esc(approval.approver_username or "someone")
    roles = esc(", ".join(approval.approver_role_snapshot)) or "no roles"
    lines = [f"{emoji} *{verb}* by {who} ({roles}) at {at}"]
    if approval.comment:
        lines.append(f"> {esc(approval.comment)}")
    if len(approval.votes) > 1:
        lines += policy_lines(approval, tz)
    blocks: list[Block] = [
        section("\n".join(lines)),
        section(_context_lines(release, ref, tz)),
    ]
    text = f"{verb}: {release.release_id} {esc(ref.milestone.milestone_name)}"
    text += f" by {esc(approval.approver_username or 'someone')}"
    return Message(text=text, blocks=blocks)


def approval_withdrawn_message(release: Release, ref: MilestoneRef, tz: ZoneInfo) -> Message:
    """An approval DM once the milestone no longer needs approval: nothing left to decide."""
    blocks: list[Block] = [
        section(":heavy_minus_sign: *No longer needs approval*: its milestone's approval "
                "was dropped, so there is nothing to decide."),
        section(_context_lines(release, ref, tz)),
    ]  # fmt: skip
    text = f"No longer needs approval: {release.release_id} {esc(ref.milestone.milestone_name)}"
    return Message(text=text, blocks=blocks)


def votes_withdrawn_message(
    release: Release, ref: MilestoneRef, tz: ZoneInfo, *, reason: str, at: datetime
) -> Message:
    """A request DM of a round whose votes were withdrawn: what changed, and that a new
    request follows (no buttons here: this round is over)."""
    blocks: list[Block] = [
        section(
            f":leftwards_arrow_with_hook: *Withdrawn*: {esc(reason)} at {when(at, tz)}. "
            "What the votes looked at changed, so the approval is asked for again."
        ),
        section(_context_lines(release, ref, tz)),
    ]
    text = f"Votes withdrawn: {release.release_id} {esc(ref.milestone.milestone_name)}"
    return Message(text=text, blocks=blocks)


def approval_expired_message(release: Release, ref: MilestoneRef, tz: ZoneInfo) -> Message:
    """A request DM once its approval ran out of time: no buttons; how to ask again."""
    approval = ref.milestone.approval
    at = when(approval.expires_at, tz) if approval.expires_at else "its deadline"
    lines = [
        f":hourglass: *Expired* at {at} without a decision "
        f"({esc(progress_line(approval))}). It can be asked for again."
    ]
    blocks: list[Block] = [
        section("\n".join(lines)),
        section(_context_lines(release, ref, tz)),
    ]
    text = f"Approval expired: {release.release_id} {esc(ref.milestone.milestone_name)}"
    return Message(text=text, blocks=blocks)


def approval_expired_notice(
    release: Release, ref: MilestoneRef, tz: ZoneInfo, target: ApprovalTarget
) -> Message:
    """For who asked and the release managers: it ran out, with a button to ask again."""
    message = approval_expired_message(release, ref, tz)
    again = ButtonElement(text="Ask again", action_id=ActionId.REQUEST_AGAIN, value=target.encode())
    blocks = [*message.blocks, ActionsBlock(block_id="expired", elements=[again])]
    return Message(text=message.text, blocks=blocks)


def already_voted_text(refused: AlreadyVoted) -> str:
    return f":information_source: {esc(refused.message)}"


def already_decided_text(refused: AlreadyDecided, tz: ZoneInfo) -> str:
    """What a late click is told: who decided, and when on the clicker's own clock."""
    name, by = f"*{esc(refused.milestone_name)}*", esc(refused.decided_by)
    return f":information_source: {_already_decided(refused, tz, name, by)}"


def already_decided_words(refused: AlreadyDecided, tz: ZoneInfo) -> str:
    """The same as plain text, for under a form's field (where Slack shows no markup)."""
    return _already_decided(refused, tz, refused.milestone_name, refused.decided_by)


def _already_decided(refused: AlreadyDecided, tz: ZoneInfo, name: str, by: str) -> str:
    verb = refused.status.value.lower()
    at = f" at {when(refused.decided_at, tz)}" if refused.decided_at else ""
    return f"{name} was already {verb} by {by}{at}. Nothing changed."


class NotReached(StrEnum):
    """Why an approval request DM did not reach someone who may decide."""

    NOT_LINKED = "not_linked"  # no Slack account linked (none has their email)
    REFUSED = "refused"  # Slack refused for good (deactivated, DMs from the app refused…)
    NOT_YET = "not_yet"  # Slack failed for now: retried


@dataclass(frozen=True)
class Unreached:
    username: str
    why: NotReached


def unreached_deciders_message(
    release: Release, refs: Sequence[MilestoneRef], unreached: Sequence[Unreached]
) -> Message:
    """For the person who made a change: who its approval requests did not reach, why, and
    what happens next."""
    names = ", ".join(f"*{esc(ref.milestone.milestone_name)}*" for ref in refs)
    lines = [f"• *{esc(u.username)}*: {_why(u)}" for u in unreached]
    blocks: list[Block] = [
        section(
            f":warning: Not everyone who may decide {names} of *{esc(release.release_id)}* "
            "could be asked by DM:"
        ),
        lines_section(lines, more="decider", limit=2900),
        context("Everyone else who may decide was asked by DM."),
    ]
    text = f"Not everyone could be asked to decide on {esc(release.release_id)}"
    return Message(text=text, blocks=blocks)


def _why(unreached: Unreached) -> str:
    """Why, in words, and what happens next."""
    if unreached.why is NotReached.NOT_YET:
        return "Slack did not take the DM yet. I keep trying, and they see it in their App Home."
    if unreached.why is NotReached.REFUSED:
        return (
            "Slack refused the DM (their account may be deactivated, or not accept messages "
            "from this app). They can still decide from their App Home or `/release approvals`."
        )
    return (
        "no Slack account is linked to them (none here has their email). Link them with "
        f"`/release admin link @them {esc(unreached.username)}`: they are asked as soon as "
        "they are linked."
    )
