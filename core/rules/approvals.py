"""Rule 3 and approval policies: a milestone's approval is NOT_REQUIRED, or PENDING until its
policy is met by distinct people (APPROVED), someone rejects it (REJECTED) or it runs out of
time (EXPIRED). Votes are kept with who cast them, their roles then and what they looked at.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import PermissionDenied, RuleViolation, ValidationFailed
from core.models.approval import ONE_APPROVAL_MANAGER, ONE_DECIDER, Policy, Vote, Withdrawal
from core.models.common import COMMENT_MAX
from core.models.rbac import Permission
from core.models.release import (
    ApprovalStatus,
    Decision,
    Environment,
    Milestone,
    MilestoneApproval,
    Release,
)
from core.rules.evidence import Evidence, describe_change, evidence_of, fingerprint
from core.rules.permissions import Actor
from core.rules.readiness import milestone_refs


@dataclass(frozen=True)
class ApprovalPolicy:
    """Deployment-wide approval settings (ALLOW_SELF_APPROVAL)."""

    allow_self_approval: bool = False


def new_approval(
    required: bool,
    requires_approval_manager: bool,
    now: datetime,
    *,
    policy: Policy | None = None,
    requested_by: Actor | None = None,
) -> MilestoneApproval:
    approval = MilestoneApproval(
        required=required,
        requires_approval_manager=(
            policy.needs_approval_manager if policy is not None else requires_approval_manager
        ),
        policy=policy,
    )
    if required:
        _ask(approval, now, requested_by)
    return approval


def _ask(approval: MilestoneApproval, now: datetime, by: Actor | None) -> None:
    """A new round of asking: pending from now, no votes, ``by`` the requester."""
    approval.status = ApprovalStatus.PENDING
    approval.requested_at = now
    approval.votes = []
    approval.approver_user_id = approval.approver_username = approval.comment = None
    approval.approver_role_snapshot = []
    approval.approved_at = None
    if by is not None:
        approval.requested_by, approval.requested_by_username = by.user_id, by.user.username
    hours = approval.effective_policy.expires_after_hours
    approval.expires_at = now + timedelta(hours=hours) if hours else None


def change_settings(
    actor: Actor,
    milestone: Milestone,
    required: bool,
    requires_approval_manager: bool,
    now: datetime,
    *,
    policy: Policy | None = None,
) -> None:
    """Change whether a milestone needs approval and what its policy is; a decided approval
    is final. Any change is a new round of asking, by ``actor``.

    Lowering the bar of a pending approval that needs an approval manager (dropping the
    approval, or the manager requirement) is itself an approval manager's call.
    """
    current = milestone.approval
    if policy is not None:
        requires_approval_manager = policy.needs_approval_manager
    wanted = (required, requires_approval_manager, policy)
    if (current.required, current.requires_approval_manager, current.policy) == wanted:
        return
    if current.is_decided:
        raise RuleViolation(
            f"The approval of milestone '{milestone.milestone_key}' was already "
            f"{current.status.value.lower()}; its settings can no longer change.",
            fields={"approval_required": "Already decided"},
        )
    check_settings(required, requires_approval_manager, policy)
    lowers_bar = current.requires_approval_manager and not (required and requires_approval_manager)
    if lowers_bar and not actor.has(Permission.IS_APPROVAL_MANAGER):
        raise PermissionDenied(
            f"Milestone '{milestone.milestone_key}' needs an approval manager's sign-off; "
            "only an approval manager can remove that requirement.",
            fields={"approval_required": "Needs an approval manager"},
        )
    if current.required and current.policy is not None:
        # A policy someone set is relaxed only by an approval manager (the default one, of
        # before policies, as before: only its approval manager's sign-off is protected).
        new = policy or (ONE_APPROVAL_MANAGER if requires_approval_manager else ONE_DECIDER)
        relaxed = not required or weaker(new, current.policy)
        if relaxed and not actor.has(Permission.IS_APPROVAL_MANAGER):
            raise PermissionDenied(
                f"Milestone '{milestone.milestone_key}' needs "
                f"{current.policy.describe()}; only an approval manager can ask for fewer "
                "approvers or drop the approval.",
                fields={"approval_policy": "Fewer approvers: an approval manager's call"},
            )
    milestone.approval = new_approval(
        required, requires_approval_manager, now, policy=policy, requested_by=actor
    )


def check_settings(required: bool, requires_approval_manager: bool, policy: Policy | None) -> None:
    """A policy agrees with the other approval settings: approvers need an approval, and an
    approval manager's sign-off needs an approval manager's rule."""
    if policy is None:
        return
    if not required:
        raise ValidationFailed(
            "Approvers are named but the milestone needs no approval; ask for approval, or "
            "leave the approvers empty.",
            fields={"approval_policy": "Needs approval to name approvers"},
        )
    if requires_approval_manager and not policy.needs_approval_manager:
        raise ValidationFailed(
            "An approval manager's sign-off is asked for but no rule names an Approval "
            "Manager; add one (e.g. 1 × Approval Manager) or drop the sign-off.",
            fields={"approval_policy": "Add an Approval Manager rule"},
        )


def weaker(new: Policy, old: Policy) -> bool:
    """Whether ``new`` asks less than ``old``: some rule of ``old`` is not in ``new`` with at
    least as many people. (Different roles cannot be compared, so replacing one is weaker.)"""
    kept = {(r.role.casefold() if r.role else None, tuple(r.flags)): r.count for r in new.rules}
    return any(
        kept.get((r.role.casefold() if r.role else None, tuple(r.flags)), 0) < r.count
        for r in old.rules
    )


def after_edit(
    actor: Actor, was: Milestone, milestone: Milestone, settings: ApprovalPolicy, now: datetime
) -> list[str]:
    """What an edit of a milestone does to its approval: a decided one's environment is
    final; a pending one moved to another environment is asked for again (its votes were for
    the other); votes of whoever now owns it or asked for it no longer count (unless
    self-approval is allowed). Returns who lost a vote."""
    approval = milestone.approval
    if milestone.environment is not was.environment and approval.required:
        if approval.is_decided:
            raise RuleViolation(
                f"Milestone '{milestone.milestone_key}' was {approval.status.value.lower()} for "
                f"{was.environment.value}; its environment can no longer change.",
                fields={"environment": "Already decided for this environment"},
            )
        if approval.status is ApprovalStatus.PENDING:
            _ask(approval, now, actor)
    if approval.status is not ApprovalStatus.PENDING or settings.allow_self_approval:
        return []
    selves = {p for p in (milestone.owner_id, approval.requested_by) if p is not None}
    return [v.by_label for v in drop_votes(approval, selves)]


def drop_votes(approval: MilestoneApproval, people: Collection[str]) -> list[Vote]:
    """Remove the votes of ``people`` (theirs, or cast by them); the votes removed."""
    dropped = [v for v in approval.votes if v.of_any(people)]
    approval.votes = [v for v in approval.votes if not v.of_any(people)]
    return dropped


def covered_changed(actor: Actor, milestone: Milestone) -> None:
    """Someone changed what a pending approval covers (not its owner): they are who asked."""
    approval = milestone.approval
    if approval.status is ApprovalStatus.PENDING:
        approval.requested_by, approval.requested_by_username = actor.user_id, actor.user.username


def request_again(actor: Actor, milestone: Milestone, now: datetime) -> None:
    """Ask again for an approval that expired: a new round with the same policy."""
    approval = milestone.approval
    if approval.status is not ApprovalStatus.EXPIRED:
        raise RuleViolation(
            f"The approval of milestone '{milestone.milestone_key}' is "
            f"{approval.status.value.lower().replace('_', ' ')}; only an expired approval "
            "can be asked for again.",
        )
    _ask(approval, now, actor)


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


class AlreadyVoted(RuleViolation):
    """The same person's second vote (a double click): counted once, told when."""

    def __init__(self, milestone: Milestone, vote: Vote) -> None:
        self.vote = vote
        self.milestone_key = milestone.milestone_key
        done = "approved" if vote.decision is Decision.APPROVE else "rejected"
        super().__init__(
            f"Your vote on milestone '{milestone.milestone_key}' is in already: {vote.by_label} "
            f"{done}. Waiting for {progress_line(milestone.approval)}."
        )


# --- counting ---------------------------------------------------------------------------

Holder = tuple[list[str], list[Permission]]  # role names, role flags


def _holder(actor: Actor) -> Holder:
    return actor.role_names, sorted(actor.permissions)


def _filled(policy: Policy, holders: Sequence[Holder]) -> list[int]:
    """People per rule when each person counts once across all rules: a maximum matching of
    people to the rules' places (few people, a few places: augmenting paths suffice)."""
    places = [i for i, rule in enumerate(policy.rules) for _ in range(rule.count)]
    taken: list[int | None] = [None] * len(places)

    def place(person: int, seen: set[int]) -> bool:
        for slot, rule in enumerate(places):
            if slot in seen or not policy.rules[rule].admits(*holders[person]):
                continue
            seen.add(slot)
            holder = taken[slot]
            if holder is None or place(holder, seen):
                taken[slot] = person
                return True
        return False

    for person in range(len(holders)):
        place(person, set())
    counts = [0] * len(policy.rules)
    for slot, holder in enumerate(taken):
        if holder is not None:
            counts[places[slot]] += 1
    return counts


def _approvals(approval: MilestoneApproval) -> list[Holder]:
    return [
        (v.role_snapshot, v.flag_snapshot) for v in approval.votes if v.decision is Decision.APPROVE
    ]


def progress(approval: MilestoneApproval) -> list[tuple[str, int, int]]:
    """Per rule: its label, the people counted, the people needed."""
    policy = approval.effective_policy
    counts = _filled(policy, _approvals(approval))
    return [(r.label, n, r.count) for r, n in zip(policy.rules, counts, strict=True)]


def progress_line(approval: MilestoneApproval) -> str:
    """ "QA Lead 1/1 · Payments Owner 1/2"."""
    return " · ".join(f"{label} {have}/{need}" for label, have, need in progress(approval))


def _met(approval: MilestoneApproval) -> bool:
    return all(have >= need for _, have, need in progress(approval))


def _would_count(approval: MilestoneApproval, holder: Holder) -> bool:
    policy, holders = approval.effective_policy, _approvals(approval)
    return sum(_filled(policy, [*holders, holder])) > sum(_filled(policy, holders))


# --- who may vote -----------------------------------------------------------------------


@dataclass(frozen=True)
class Voter:
    """Whose vote a click is: the person's own, or (``cast_by``) that of someone away who
    named them as delegate."""

    principal: Actor
    cast_by: Actor | None = None


def _voted(approval: MilestoneApproval, user_id: str) -> Vote | None:
    """A vote by, or cast by, this person."""
    return next((v for v in approval.votes if v.of_any((user_id,))), None)


def _refusal(
    principal: Actor,
    milestone: Milestone,
    settings: ApprovalPolicy,
    cast_by: Actor | None,
    decision: Decision | None,
) -> PermissionDenied | RuleViolation | None:
    approval, key = milestone.approval, milestone.milestone_key
    policy = approval.effective_policy
    whose = "you" if cast_by is None else principal.user.username
    holder = _holder(principal)
    if not any(rule.admits(*holder) for rule in policy.rules):
        if approval.policy is None and not approval.requires_approval_manager:
            return PermissionDenied(
                "You need the 'is_approval_manager' or 'can_manage_quality_gates' permission "
                f"to decide milestone '{key}'."
            )
        if approval.policy is None:
            return PermissionDenied(
                f"Milestone '{key}' must be decided by an approval manager; ask one to review it."
            )
        return PermissionDenied(
            f"Milestone '{key}' needs {policy.describe()}; {whose} hold none of those roles."
        )
    if not settings.allow_self_approval:
        people = {principal.user_id} | ({cast_by.user_id} if cast_by else set())
        if milestone.owner_id in people:
            return PermissionDenied(
                f"You own milestone '{key}', so another approver must decide it."
                if milestone.owner_id == (cast_by or principal).user_id
                else f"{principal.user.username} owns milestone '{key}', so another approver "
                "must decide it."
            )
        if approval.requested_by in people:
            return PermissionDenied(
                f"You asked for the approval of milestone '{key}' (or last changed what it "
                "covers), so others must decide it."
            )
    if _voted(approval, principal.user_id) is not None:
        return RuleViolation(f"{principal.user.username} has voted on milestone '{key}' already.")
    # A rejection by anyone a rule admits decides; an approval must add to what is missing.
    if decision is not Decision.REJECT and not _would_count(approval, holder):
        return RuleViolation(
            f"Milestone '{key}' has the votes {whose} could give already "
            f"({progress_line(approval)}); it waits for other roles."
        )
    return None


def check_may_decide(
    actor: Actor,
    milestone: Milestone,
    policy: ApprovalPolicy,
    *,
    stand_in_for: Sequence[Actor] = (),
    now: datetime | None = None,
    decision: Decision | None = None,
) -> Voter:
    """Raise unless the actor may vote on this approval now; whose vote it would be.

    ``stand_in_for``: the people away who named the actor as their delegate (their own
    delegates are not passed on: delegation does not chain). The actor's own vote comes
    first; else the first of theirs that would count. ``now``: a pending approval whose
    time ran out is refused as an expired one, before the scheduler marks it so.
    ``decision``: a rejection needs no place left in the policy (None: as an approval)."""
    approval = milestone.approval
    if approval.is_decided:
        raise AlreadyDecided(milestone)
    key = milestone.milestone_key
    if approval.status is ApprovalStatus.NOT_REQUIRED:
        raise RuleViolation(
            f"Milestone '{key}' does not need approval; there is nothing to decide."
        )
    ran_out = now is not None and approval.ran_out(now)
    if approval.status is ApprovalStatus.EXPIRED or ran_out:
        raise RuleViolation(
            f"The approval of milestone '{key}' expired before it was decided; it has to be "
            "asked for again first."
        )
    actor.require_active()
    prior = _voted(approval, actor.user_id)
    if prior is not None:
        raise AlreadyVoted(milestone, prior)
    own = _refusal(actor, milestone, policy, None, decision)
    if own is None:
        return Voter(actor)
    for away in stand_in_for:
        if away.is_active and _refusal(away, milestone, policy, actor, decision) is None:
            return Voter(away, cast_by=actor)
    raise own


def may_decide(
    actor: Actor,
    milestone: Milestone,
    policy: ApprovalPolicy,
    *,
    stand_in_for: Sequence[Actor] = (),
    now: datetime | None = None,
) -> bool:
    try:
        check_may_decide(actor, milestone, policy, stand_in_for=stand_in_for, now=now)
    except (PermissionDenied, RuleViolation):
        return False
    return True


def check_comment(milestone: Milestone, decision: Decision, comment: str | None) -> str | None:
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
    return text


def decide(
    actor: Actor,
    milestone: Milestone,
    decision: Decision,
    comment: str | None,
    now: datetime,
    policy: ApprovalPolicy,
    *,
    evidence: str = "",
    stand_in_for: Sequence[Actor] = (),
) -> Vote:
    """Record a vote with whose it is, the roles they hold now, the time and ``evidence``
    (the fingerprint of what it looked at). A rejection decides at once; approvals decide
    when every rule of the policy is met."""
    voter = check_may_decide(
        actor, milestone, policy, stand_in_for=stand_in_for, now=now, decision=decision
    )
    text = check_comment(milestone, decision, comment)
    principal, cast_by = voter.principal, voter.cast_by
    vote = Vote(
        user_id=principal.user_id,
        username=principal.user.username,
        role_snapshot=principal.role_names,
        flag_snapshot=sorted(principal.permissions),
        decision=decision,
        comment=text,
        at=now,
        cast_by_user_id=cast_by.user_id if cast_by else None,
        cast_by_username=cast_by.user.username if cast_by else None,
        evidence=evidence,
    )
    approval = milestone.approval
    approval.votes.append(vote)
    if decision is Decision.REJECT or _met(approval):
        approval.status = (
            ApprovalStatus.APPROVED if decision is Decision.APPROVE else ApprovalStatus.REJECTED
        )
        approval.approver_user_id = vote.user_id
        approval.approver_username = vote.by_label
        approval.approver_role_snapshot = vote.role_snapshot
        approval.approved_at = now
        approval.comment = text
        approval.expires_at = None  # decided: nothing left to run out
    return vote


# --- expiry and stale evidence ----------------------------------------------------------


def expire_due(milestone: Milestone, now: datetime) -> bool:
    """A pending approval whose time ran out becomes EXPIRED; whether it did now."""
    approval = milestone.approval
    if approval.ran_out(now):
        approval.status = ApprovalStatus.EXPIRED
        return True
    return False


def withdraws_on_change(milestone: Milestone) -> bool:
    """Whether votes are withdrawn when what they looked at changes: the policy's switch,
    on by default for prod milestones."""
    switch = milestone.approval.effective_policy.withdraw_when_evidence_changes
    if switch is None:
        return milestone.environment is Environment.PROD
    return switch


def evidence_fingerprint(release: Release, product_id: str) -> str:
    return fingerprint(evidence_of(release.product(product_id)))


@dataclass(frozen=True)
class Withdrawn:
    product_id: str
    gate_name: str
    milestone: Milestone
    withdrawal: Withdrawal


def withdraw_stale(
    release: Release, before: dict[str, Evidence], now: datetime, by: Actor
) -> list[Withdrawn]:
    """Withdraw the votes whose evidence changed (``before``: each product's evidence before
    the change): their approval is asked for again, by ``by`` (who changed the evidence).
    Votes from before fingerprints were kept (no ``evidence``) are never stale."""
    found: list[Withdrawn] = []
    evidence: dict[str, tuple[Evidence, str]] = {}  # per product, worked out once if needed
    for ref in milestone_refs(release):
        milestone, approval = ref.milestone, ref.milestone.approval
        votes = [v for v in approval.votes if v.evidence]
        if not votes or approval.status is ApprovalStatus.EXPIRED:
            continue
        if not withdraws_on_change(milestone):
            continue
        if ref.product_id not in evidence:
            items = evidence_of(release.product(ref.product_id))
            evidence[ref.product_id] = items, fingerprint(items)
        items, current = evidence[ref.product_id]
        stale = [v for v in votes if v.evidence != current]
        if not stale:
            continue
        withdrawal = Withdrawal(
            reason=describe_change(before.get(ref.product_id, {}), items),
            at=now,
            voters=[v.by_label for v in stale],
        )
        _ask(approval, now, by)
        approval.withdrawal = withdrawal
        found.append(Withdrawn(ref.product_id, ref.gate_name, milestone, withdrawal))
    return found
