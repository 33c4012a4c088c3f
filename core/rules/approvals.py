"""Rule 3: milestone approvals are NOT_REQUIRED, or PENDING until decided exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.errors import PermissionDenied, RuleViolation, ValidationFailed
from core.models.common import COMMENT_MAX
from core.models.rbac import Permission
from core.models.release import ApprovalStatus, Decision, Milestone, MilestoneApproval
from core.rules.permissions import Actor


@dataclass(frozen=True)
class ApprovalPolicy:
    """Deployment-wide approval settings (ALLOW_SELF_APPROVAL)."""

    allow_self_approval: bool = False


def new_approval(
    required: bool, requires_approval_manager: bool, now: datetime
) -> MilestoneApproval:
    if not required:
        return MilestoneApproval(requires_approval_manager=requires_approval_manager)
    return MilestoneApproval(
        required=True,
        requires_approval_manager=requires_approval_manager,
        status=ApprovalStatus.PENDING,
        requested_at=now,
    )


def change_settings(
    actor: Actor,
    milestone: Milestone,
    required: bool,
    requires_approval_manager: bool,
    now: datetime,
) -> None:
    """Change whether a milestone needs approval; a decided approval is final.

    Lowering the bar of a pending approval that needs an approval manager (dropping the
    approval, or the manager requirement) is itself an approval manager's call.
    """
    current = milestone.approval
    wanted = (required, requires_approval_manager)
    if (current.required, current.requires_approval_manager) == wanted:
        return
    if current.is_decided:
        raise RuleViolation(
            f"The approval of milestone '{milestone.milestone_key}' was already "
            f"{current.status.value.lower()}; its settings can no longer change.",
            fields={"approval_required": "Already decided"},
        )
    lowers_bar = current.requires_approval_manager and not (required and requires_approval_manager)
    if lowers_bar and not actor.has(Permission.IS_APPROVAL_MANAGER):
        raise PermissionDenied(
            f"Milestone '{milestone.milestone_key}' needs an approval manager's sign-off; "
            "only an approval manager can remove that requirement.",
            fields={"approval_required": "Needs an approval manager"},
        )
    milestone.approval = new_approval(required, requires_approval_manager, now)


class AlreadyDecided(RuleViolation):
    """A decided approval is not decided again (rule 3): who decided it, and when.

    The message names no time, as the core knows no reader: the bot shows ``decided_at`` on
    the reader's own clock (`blocks.approvals.already_decided_text`)."""

    def __init__(self, milestone: Milestone) -> None:
        approval = milestone.approval
        self.milestone_key = milestone.milestone_key
        self.milestone_name = milestone.milestone_name
        self.status = approval.status
        self.decided_by = approval.approver_username or approval.approver_user_id or "someone"
        self.decided_at = approval.approved_at
        super().__init__(
            f"Milestone '{milestone.milestone_key}' was already {self.status.value.lower()} "
            f"by {self.decided_by}."
        )


def check_may_decide(actor: Actor, milestone: Milestone, policy: ApprovalPolicy) -> None:
    """Raise unless the actor may decide this milestone's approval now."""
    approval = milestone.approval
    if approval.is_decided:
        raise AlreadyDecided(milestone)
    if approval.status is ApprovalStatus.NOT_REQUIRED:
        raise RuleViolation(
            f"Milestone '{milestone.milestone_key}' does not need approval; "
            "there is nothing to decide."
        )
    actor.require_active()
    if approval.requires_approval_manager:
        if not actor.has(Permission.IS_APPROVAL_MANAGER):
            raise PermissionDenied(
                f"Milestone '{milestone.milestone_key}' must be decided by an approval manager; "
                "ask one to review it."
            )
    elif not (
        actor.has(Permission.IS_APPROVAL_MANAGER) or actor.has(Permission.CAN_MANAGE_QUALITY_GATES)
    ):
        raise PermissionDenied(
            "You need the 'is_approval_manager' or 'can_manage_quality_gates' permission to "
            f"decide milestone '{milestone.milestone_key}'."
        )
    if milestone.owner_id == actor.user_id and not policy.allow_self_approval:
        raise PermissionDenied(
            f"You own milestone '{milestone.milestone_key}', so another approver must decide it."
        )


def may_decide(actor: Actor, milestone: Milestone, policy: ApprovalPolicy) -> bool:
    try:
        check_may_decide(actor, milestone, policy)
    except (PermissionDenied, RuleViolation):
        return False
    return True


def decide(
    actor: Actor,
    milestone: Milestone,
    decision: Decision,
    comment: str | None,
    now: datetime,
    policy: ApprovalPolicy,
) -> None:
    """Record the decision with the approver's user id, role snapshot and time."""
    check_may_decide(actor, milestone, policy)
    text = (comment or "").strip() or None
    if text is not None and len(text) > COMMENT_MAX:
        raise ValidationFailed(
            f"The comment is {len(text)} characters; keep it within {COMMENT_MAX}.",
            fields={"comment": f"At most {COMMENT_MAX} characters"},
        )
    if decision is Decision.REJECT and text is None:
        raise ValidationFailed(
            f"Rejecting milestone '{milestone.milestone_key}' needs a reason.",
            fields={"comment": "A rejection needs a reason"},
        )
    approval = milestone.approval
    approval.status = (
        ApprovalStatus.APPROVED if decision is Decision.APPROVE else ApprovalStatus.REJECTED
    )
    approval.approver_user_id = actor.user_id
    approval.approver_username = actor.user.username
    approval.approver_role_snapshot = actor.role_names
    approval.approved_at = now
    approval.comment = text
