"""Deciding milestone approvals and finding the ones waiting for someone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Self, TypeVar

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
from core.rules.readiness import MilestoneRef, ReleaseCard, card_of, milestone_refs
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
class Waiting:
    """The approvals waiting for a person (``/release approvals``) and the releases they were
    worked out from, whole, as read (every one with an approval pending the person sees).

    A decision made from the list starts from its release as read here (``release``), and
    the list is drawn again from what was read, the saved release in its place
    (``ApprovalService.after``): neither is read a second time."""

    pending: list[PendingApproval]
    read: list[Release]

    def release(self, oid: str) -> Release | None:
        """The release ``oid`` names as read, if it had an approval pending then."""
        return next((r for r in self.read if r.id == oid), None)

    def with_saved(
        self, saved: Release, pending: Callable[[list[Release]], list[PendingApproval]]
    ) -> Self:
        """As if read again once ``saved`` was written: it takes the place of the release read
        (or joins them: its approval was not pending then), and what waits is worked out again
        from them by ``pending``."""
        read = [saved if r.id == saved.id else r for r in self.read]
        if self.release(saved.id) is None:
            read.append(saved)
        read = [r for r in read if pending_in(r)]
        return replace(self, read=read, pending=pending(read))


@dataclass(frozen=True, slots=True)
class Home(Waiting):
    """What App Home shows: the approvals waiting for this person and the newest releases."""

    releases: list[ReleaseCard]
    more_releases: bool

    def with_saved(
        self, saved: Release, pending: Callable[[list[Release]], list[PendingApproval]]
    ) -> Self:
        """As ``Waiting.with_saved``, the saved release's card drawn again too."""
        cards = [card_of(saved) if c.id == saved.id else c for c in self.releases]
        return replace(Waiting.with_saved(self, saved, pending), releases=cards)


Shown = TypeVar("Shown", bound=Waiting)


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
        *,
        read: Release | None = None,
    ) -> Release:
        """Decide once. The loser of a race is told who decided and when (RULE_VIOLATION).

        ``read``: the release as the surface the decision is made from read it a moment ago
        (``Waiting.release``), not read again unless it changed since
        (``ReleaseChanges.apply``)."""

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

        return await self._changes.apply(actor, ref, change, read=read)

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
        return (await self.waiting(actor)).pending

    async def waiting(self, actor: Actor) -> Waiting:
        """``pending_for``, with the releases it was worked out from."""
        read = await self._pending_releases(actor)
        return Waiting(self._waiting_for(actor, read), read)

    async def pending_by_release(self, actor: Actor) -> list[tuple[Release, list[MilestoneRef]]]:
        """``pending_for``, release by release, with the releases as read."""
        return self._decidable(actor, await self._pending_releases(actor))

    async def home(self, actor: Actor, *, releases: int) -> Home:
        """``pending_for`` and the newest ``releases`` the actor sees (as
        ``ReleaseService.list_releases`` lists them), read together."""
        actor.require_active()
        found = await self._releases.home(squads=actor.visible_squads(), limit=releases + 1)
        return Home(
            self._waiting_for(actor, found.pending),
            found.pending,
            releases=found.page[:releases],
            more_releases=len(found.page) > releases,
        )

    def after(self, actor: Actor, shown: Shown, saved: Release) -> Shown:
        """The approvals list or App Home ``shown`` (read before ``saved`` was written) as if
        read again now: what waits for the actor worked out again with ``saved`` in place of
        the release read, so that a surface is drawn again after a decision without a read."""
        return shown.with_saved(saved, lambda read: self._waiting_for(actor, read))

    async def _pending_releases(self, actor: Actor) -> list[Release]:
        actor.require_active()
        return await self._releases.with_pending_approvals(squads=actor.visible_squads())

    def _waiting_for(self, actor: Actor, releases: list[Release]) -> list[PendingApproval]:
        return _listed(self._decidable(actor, releases))

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
        ref
        for ref in milestone_refs(release)
        if ref.milestone.approval.status is ApprovalStatus.PENDING
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
