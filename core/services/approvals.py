"""Deciding milestone approvals and finding the ones waiting for someone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.clock import Clock
from core.errors import NotFound
from core.models.events import ApprovalRef
from core.models.notification import approval_key
from core.models.rbac import Permission
from core.models.release import ApprovalStatus, Decision, Release
from core.models.timeline import TargetPath
from core.ports import ReleaseRepository
from core.rules import approvals
from core.rules.approvals import ApprovalPolicy
from core.rules.permissions import Actor
from core.rules.readiness import MilestoneRef, ReleaseCard
from core.services.identity import IdentityService
from core.services.outbox import Outbox
from core.services.release_changes import Recorded, ReleaseChanges

DECIDING_FLAGS = frozenset({Permission.IS_APPROVAL_MANAGER, Permission.CAN_MANAGE_QUALITY_GATES})


@dataclass(frozen=True, slots=True)
class PendingApproval:
    release_oid: str
    release_id: str
    release_name: str
    ref: MilestoneRef


@dataclass(frozen=True, slots=True)
class Home:
    """What App Home shows: the approvals waiting for this person and the newest releases."""

    pending: list[PendingApproval]
    releases: list[ReleaseCard]
    more_releases: bool


class ApprovalService:
    def __init__(
        self,
        releases: ReleaseRepository,
        outbox: Outbox,
        clock: Clock,
        policy: ApprovalPolicy,
        identity: IdentityService,
    ) -> None:
        self._identity = identity
        self._releases = releases
        self._changes = ReleaseChanges(releases, outbox, clock)
        self._policy = policy

    @property
    def policy(self) -> ApprovalPolicy:
        return self._policy

    async def decide(
        self,
        actor: Actor,
        ref: str,
        product_id: str,
        gate_name: str,
        milestone_key: str,
        decision: Decision,
        comment: str | None = None,
    ) -> Release:
        """Decide once. The loser of a race is told who decided and when (RULE_VIOLATION)."""

        def change(release: Release, now: datetime) -> Recorded:
            gate = release.product(product_id).gate(gate_name)
            milestone = gate.milestone(milestone_key)
            approvals.decide(actor, milestone, decision, comment, now, self._policy)
            target = TargetPath(
                product_id=product_id, gate_name=gate.gate_name, milestone_key=milestone_key
            )
            return Recorded(
                "approval.approved" if decision is Decision.APPROVE else "approval.rejected",
                target,
                before={"status": ApprovalStatus.PENDING.value},
                after={
                    "status": milestone.approval.status.value,
                    "approver_user_id": actor.user_id,
                    "approver_role_snapshot": milestone.approval.approver_role_snapshot,
                },
                comment=milestone.approval.comment,
            )

        return await self._changes.apply(actor, ref, change)

    def check(self, actor: Actor, ref: MilestoneRef) -> None:
        """Raise unless the actor may decide this approval now (before asking for a reason)."""
        approvals.check_may_decide(actor, ref.milestone, self._policy)

    async def deciders_of(
        self, release: Release, refs: list[MilestoneRef], *, as_if_pending: bool = False
    ) -> list[list[Actor]]:
        """For each of ``refs``, everyone who may decide that pending approval now and can see
        its release (with ``as_if_pending``, who could have decided it before it was
        decided); the candidates are read once for all of them."""
        if not refs:
            return []
        candidates = await self._identity.actors_with_any(DECIDING_FLAGS)
        found: list[list[Actor]] = []
        for ref in refs:
            milestone = ref.milestone
            if as_if_pending:
                pending = milestone.approval.model_copy(update={"status": ApprovalStatus.PENDING})
                milestone = milestone.model_copy(update={"approval": pending})
            found.append(
                [
                    a
                    for a in candidates
                    if a.can_view(release) and approvals.may_decide(a, milestone, self._policy)
                ]
            )
        return found

    async def pending_for(self, actor: Actor) -> list[PendingApproval]:
        """Pending approvals in releases the actor sees that the actor may decide now."""
        return _listed(await self.pending_by_release(actor))

    async def pending_by_release(self, actor: Actor) -> list[tuple[Release, list[MilestoneRef]]]:
        """``pending_for``, release by release, with the releases as read."""
        actor.require_active()
        releases = await self._releases.with_pending_approvals(squads=actor.visible_squads())
        return self._decidable(actor, releases)

    async def home(self, actor: Actor, *, releases: int) -> Home:
        """``pending_for`` and the newest ``releases`` the actor sees (as
        ``ReleaseService.list_releases`` lists them), read together."""
        actor.require_active()
        found = await self._releases.home(squads=actor.visible_squads(), limit=releases + 1)
        pending = _listed(self._decidable(actor, found.pending))
        return Home(pending, found.page[:releases], more_releases=len(found.page) > releases)

    def _decidable(
        self, actor: Actor, releases: list[Release]
    ) -> list[tuple[Release, list[MilestoneRef]]]:
        grouped = [
            (release, [r for r in pending_in(release) if self._may(actor, r)])
            for release in releases
        ]
        return [(release, refs) for release, refs in grouped if refs]

    def _may(self, actor: Actor, ref: MilestoneRef) -> bool:
        return approvals.may_decide(actor, ref.milestone, self._policy)


def _listed(by_release: list[tuple[Release, list[MilestoneRef]]]) -> list[PendingApproval]:
    """One list, the soonest milestone first."""
    found = [
        PendingApproval(release.id, release.release_id, release.release_name, ref)
        for release, refs in by_release
        for ref in refs
    ]
    found.sort(key=lambda p: (p.ref.milestone.start_date, p.release_id))
    return found


def pending_in(release: Release) -> list[MilestoneRef]:
    return [
        MilestoneRef(product.product_id, product.product_name, gate.gate_name, milestone)
        for product, gate in release.gates()
        for milestone in gate.milestones
        if milestone.approval.status is ApprovalStatus.PENDING
    ]


def key_of(release_oid: str, ref: MilestoneRef) -> str:
    """The stable name of one approval (see ``approval_key``)."""
    return approval_key(release_oid, ref.product_id, ref.gate_name, ref.milestone.milestone_key)


def still_requested(ref: MilestoneRef, requested_at: datetime | None) -> bool:
    """Still pending in the round asked for then: a later round is asked for by its own
    event, a decided or dropped approval not at all."""
    approval = ref.milestone.approval
    return approval.status is ApprovalStatus.PENDING and approval.requested_at == requested_at


def milestone_ref(release: Release, approval: ApprovalRef) -> MilestoneRef | None:
    """The milestone an event names, as the release has it now (None: no longer there)."""
    try:
        product = release.product(approval.product_id)
        milestone = product.gate(approval.gate_name).milestone(approval.milestone_key)
    except NotFound:
        return None
    return MilestoneRef(product.product_id, product.product_name, approval.gate_name, milestone)
