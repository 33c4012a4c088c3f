"""Deciding milestone approvals and finding the ones waiting for someone."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Self, TypeVar

from core.clock import Clock
from core.errors import DomainError, NotFound, PermissionDenied, RuleViolation
from core.models.approval import Vote
from core.models.events import ApprovalRef
from core.models.freeze import FreezeWindow
from core.models.notification import approval_key
from core.models.rbac import Permission
from core.models.release import (
    ApprovalStatus,
    Decision,
    Environment,
    MilestoneApproval,
    Release,
)
from core.models.timeline import TargetPath
from core.ports import ReleaseRepository
from core.rules import approvals, delegation, freeze
from core.rules.approvals import AlreadyDecided, AlreadyVoted, ApprovalPolicy
from core.rules.freeze import BREAK_GLASS_FIELD, Frozen
from core.rules.operations import CHANGE_MILESTONE
from core.rules.permissions import Actor, system_actor
from core.rules.readiness import MilestoneRef, ReleaseCard, card_of, milestone_refs
from core.services.identity import IdentityService
from core.services.outbox import Outbox
from core.services.release_changes import Recorded, ReleaseChanges

log = logging.getLogger(__name__)
Windows = Callable[[], Awaitable[Sequence[FreezeWindow]]]  # the freeze windows on now
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
    stand_ins: tuple[Actor, ...]  # the people away the viewer decides for (delegation)

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
        freezes: Windows,
    ) -> None:
        self._freezes = freezes
        self._identity = identity
        self._clock = clock
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
        break_glass: str | None = None,
    ) -> Release:
        """Vote once. The approval is decided when the policy is met or on a rejection; a
        vote that loses a race to another is counted after it (the write is conditional),
        one that loses to the deciding vote is told who decided and when (RULE_VIOLATION).

        ``read``: the release as the surface the decision is made from read it a moment ago
        (``Waiting.release``), not read again unless it changed since
        (``ReleaseChanges.apply``).

        Approving a prod milestone a freeze holds is refused with the freeze named, unless
        an approval manager breaks glass with a reason (``break_glass``), recorded."""
        stand_in_for: list[Actor] = []

        def change(
            release: Release, now: datetime, windows: Sequence[FreezeWindow] | None
        ) -> Recorded:
            product = release.product(product_id)
            gate = product.gate(gate_name)
            milestone = gate.milestone(milestone_key)
            before = milestone.approval.status
            if decision is Decision.APPROVE and milestone.environment is Environment.PROD:
                approvals.check_may_decide(
                    actor, milestone, self._policy, stand_in_for=stand_in_for, now=now
                )
                freeze.guard(
                    windows,
                    release,
                    product,
                    now,
                    break_glass=break_glass,
                    actor=actor,
                    what=f"approved {milestone_key} ({product_id} / {gate.gate_name})",
                )
            vote = approvals.decide(
                actor,
                milestone,
                decision,
                comment,
                now,
                self._policy,
                evidence=approvals.evidence_fingerprint(release, product_id),
                stand_in_for=stand_in_for,
            )
            approval = milestone.approval
            target = TargetPath(
                product_id=product_id, gate_name=gate.gate_name, milestone_key=milestone_key
            )
            return Recorded(
                _action(approval.status, decision),
                target,
                before={"status": before.value},
                after=_vote_fields(vote, approval),
                comment=vote.comment,
            )

        try:
            return await self._changes.apply_guarded(actor, ref, change, self._freezes, read=read)
        except (PermissionDenied, RuleViolation) as refused:
            # Not in their own name: perhaps for someone away who named them (read only
            # then, so that a vote in one's own name costs no read for delegations).
            if isinstance(refused, AlreadyDecided | AlreadyVoted):
                raise
            if isinstance(refused, Frozen) or refused.fields.get(BREAK_GLASS_FIELD):
                raise
            stand_in_for.extend(await self._stand_ins(actor))
            if not stand_in_for:
                raise
        return await self._changes.apply_guarded(actor, ref, change, self._freezes)

    async def request_again(
        self, actor: Actor, ref: str, product_id: str, gate_name: str, milestone_key: str
    ) -> Release:
        """Ask again for an approval that expired (who may change the milestone, or who asked
        for it): a new round with the same policy, by ``actor``."""

        def change(release: Release, now: datetime) -> Recorded:
            gate = release.product(product_id).gate(gate_name)
            milestone = gate.milestone(milestone_key)
            if milestone.approval.requested_by != actor.user_id:
                CHANGE_MILESTONE.require(actor)
            approvals.request_again(actor, milestone, now)
            target = TargetPath(
                product_id=product_id, gate_name=gate.gate_name, milestone_key=milestone_key
            )
            return Recorded(
                "approval.requested_again",
                target,
                before={"status": ApprovalStatus.EXPIRED.value},
                after={"status": ApprovalStatus.PENDING.value},
            )

        return await self._changes.apply(actor, ref, change)

    async def expire_due(self, now: datetime) -> list[str]:
        """Pending approvals whose time ran out become EXPIRED, each by one conditional
        write (another replica doing the same loses the race and finds nothing left to
        expire); the releases changed."""
        changed: list[str] = []
        for release in await self._releases.with_expired_approvals(now=now):
            if not any(r.milestone.approval.ran_out(now) for r in milestone_refs(release)):
                continue

            def change(release: Release, at: datetime) -> Recorded | None:
                refs = milestone_refs(release)
                expired = [r.milestone for r in refs if approvals.expire_due(r.milestone, at)]
                if not expired:
                    return None
                return Recorded(
                    "approval.expired",
                    after={"milestones": [m.milestone_key for m in expired]},
                )

            try:
                await self._changes.apply(system_actor(now), release.id, change)
            except DomainError as error:  # one release's refusal must not stop the others
                log.warning("approvals of %s not expired: %s", release.release_id, error)
                continue
            changed.append(release.release_id)
        return changed

    def check(
        self,
        actor: Actor,
        ref: MilestoneRef,
        stand_in_for: Sequence[Actor] = (),
        *,
        decision: Decision | None = None,
    ) -> None:
        """Raise unless the actor may decide this approval now (before asking for a reason)."""
        approvals.check_may_decide(
            actor,
            ref.milestone,
            self._policy,
            stand_in_for=stand_in_for,
            now=self._clock(),
            decision=decision,
        )

    async def check_now(
        self, actor: Actor, ref: MilestoneRef, *, decision: Decision | None = None
    ) -> None:
        """``check``; when refused in their own name, with whom they stand in for read now."""
        try:
            self.check(actor, ref, decision=decision)
        except (AlreadyDecided, AlreadyVoted):
            raise
        except (PermissionDenied, RuleViolation):
            stand_in_for = await self._stand_ins(actor)
            if not stand_in_for:
                raise
            self.check(actor, ref, stand_in_for, decision=decision)

    async def told_of_expiry(self, release: Release, ref: MilestoneRef) -> list[Actor]:
        """Who hears that an approval ran out: the release managers who see its release, and
        whoever asked for it (a user gone since is left out)."""
        managers = await self._identity.actors_with_any(frozenset({Permission.CAN_CREATE_RELEASE}))
        told = [a for a in managers if a.can_view(release)]
        asked = ref.milestone.approval.requested_by
        if asked and asked not in {a.user_id for a in told}:
            with contextlib.suppress(NotFound):
                told.append(await self._identity.actor_by_id(asked))
        return told

    async def holding_freeze(
        self, actor: Actor, release: Release, ref: MilestoneRef
    ) -> FreezeWindow:
        """The freeze holding this approval now, for an approval manager who may decide it:
        what a break-glass form names. Refused in words otherwise (the decision checks it all
        again)."""
        if not actor.has(Permission.IS_APPROVAL_MANAGER):
            raise PermissionDenied(
                "Only an approval manager can break glass to approve during a freeze. Ask one "
                "to do it, or wait until the freeze ends."
            )
        await self.check_now(actor, ref)
        product = release.product(ref.product_id)
        window = freeze.covering(await self._freezes(), release, product, self._clock())
        if window is None or ref.milestone.environment is not Environment.PROD:
            raise RuleViolation(
                f"No freeze holds milestone '{ref.milestone.milestone_key}' now: approve it "
                "with its Approve button, no break-glass needed."
            )
        return window

    async def deciders_of(
        self, release: Release, refs: list[MilestoneRef], *, as_if_pending: bool = False
    ) -> list[list[Actor]]:
        """For each of ``refs``, everyone who may vote on that pending approval now (in their
        own name or, as a delegate, for someone away) and can see its release (with
        ``as_if_pending``, who could have decided it before it was decided); the candidates
        are read once for all of them."""
        if not refs:
            return []
        rules = [rule for ref in refs for rule in ref.milestone.approval.effective_policy.rules]
        candidates = await self._identity.actors_with_any(DECIDING_FLAGS, rules=rules)
        candidates += await self._delegates_of(candidates)
        stand_ins = self._stand_ins_among(candidates)
        found: list[list[Actor]] = []
        for ref in refs:
            milestone = ref.milestone
            if as_if_pending:
                pending = milestone.approval.model_copy(
                    update={"status": ApprovalStatus.PENDING, "votes": []}
                )
                milestone = milestone.model_copy(update={"approval": pending})
            found.append(
                [
                    a
                    for a in candidates
                    if a.can_view(release)
                    and approvals.may_decide(
                        a, milestone, self._policy, stand_in_for=stand_ins.get(a.user_id, ())
                    )
                ]
            )
        return found

    async def pending_for(self, actor: Actor) -> list[PendingApproval]:
        """Pending approvals in releases the actor sees that the actor may decide now."""
        return (await self.waiting(actor)).pending

    async def waiting(self, actor: Actor) -> Waiting:
        """``pending_for``, with the releases it was worked out from."""
        read = await self._pending_releases(actor)
        stand_ins = tuple(await self._stand_ins(actor, shown=True))
        return Waiting(self._waiting_for(actor, read, stand_ins), read, stand_ins)

    async def pending_by_release(self, actor: Actor) -> list[tuple[Release, list[MilestoneRef]]]:
        """``pending_for``, release by release, with the releases as read."""
        read = await self._pending_releases(actor)
        return self._decidable(actor, read, await self._stand_ins(actor, shown=True))

    async def home(self, actor: Actor, *, releases: int) -> Home:
        """``pending_for`` and the newest ``releases`` the actor sees (as
        ``ReleaseService.list_releases`` lists them), read together."""
        actor.require_active()
        found = await self._releases.home(squads=actor.visible_squads(), limit=releases + 1)
        stand_ins = tuple(await self._stand_ins(actor, shown=True))
        return Home(
            self._waiting_for(actor, found.pending, stand_ins),
            found.pending,
            stand_ins,
            releases=found.page[:releases],
            more_releases=len(found.page) > releases,
        )

    def after(self, actor: Actor, shown: Shown, saved: Release) -> Shown:
        """The approvals list or App Home ``shown`` (read before ``saved`` was written) as if
        read again now: what waits for the actor worked out again with ``saved`` in place of
        the release read, so that a surface is drawn again after a decision without a read."""
        return shown.with_saved(saved, lambda read: self._waiting_for(actor, read, shown.stand_ins))

    async def _pending_releases(self, actor: Actor) -> list[Release]:
        actor.require_active()
        return await self._releases.with_pending_approvals(squads=actor.visible_squads())

    def _waiting_for(
        self, actor: Actor, releases: list[Release], stand_ins: Sequence[Actor]
    ) -> list[PendingApproval]:
        return _listed(self._decidable(actor, releases, stand_ins))

    def _decidable(
        self, actor: Actor, releases: list[Release], stand_ins: Sequence[Actor]
    ) -> list[tuple[Release, list[MilestoneRef]]]:
        grouped = [
            (release, [r for r in pending_in(release) if self._may(actor, r, stand_ins)])
            for release in releases
        ]
        return [(release, refs) for release, refs in grouped if refs]

    def _may(self, actor: Actor, ref: MilestoneRef, stand_in_for: Sequence[Actor] = ()) -> bool:
        return approvals.may_decide(
            actor, ref.milestone, self._policy, stand_in_for=stand_in_for, now=self._clock()
        )

    # --- delegation ---------------------------------------------------------------------

    async def _stand_ins(self, actor: Actor, *, shown: bool = False) -> list[Actor]:
        """The people away who named ``actor`` their delegate (``shown``: as kept for the
        lists people are shown; a vote reads them afresh). Delegation does not chain: only
        their own votes are cast for them, never those of people away who named them."""
        away = await self._identity.standing_in_for(actor.user_id, shown=shown)
        return [a for a in away if _still_qualified(a, actor, self._clock())]

    async def _delegates_of(self, candidates: list[Actor]) -> list[Actor]:
        """The delegates of those of ``candidates`` who are away, not among them already."""
        known = {c.user_id for c in candidates}
        wanted = set(delegation.delegate_ids(candidates, self._clock()).values()) - known
        return await self._identity.actors(wanted) if wanted else []

    def _stand_ins_among(self, candidates: list[Actor]) -> dict[str, list[Actor]]:
        """Delegate's user id → the candidates away who named them."""
        found: dict[str, list[Actor]] = {}
        by_id = {c.user_id: c for c in candidates}
        now = self._clock()
        for away, delegate in delegation.delegate_ids(candidates, now).items():
            who, stand_in = by_id[away], by_id.get(delegate)
            if stand_in is not None and _still_qualified(who, stand_in, now):
                found.setdefault(delegate, []).append(who)
        return found


def _vote_fields(vote: Vote, approval: MilestoneApproval) -> dict[str, object]:
    """What the timeline keeps of a vote: whose, their roles then, who cast it for them, and
    (while the approval still waits) how far it has got."""
    fields: dict[str, object] = {
        "status": approval.status.value,
        "approver_user_id": vote.user_id,
        "approver_role_snapshot": vote.role_snapshot,
    }
    if vote.cast_by_username is not None:
        fields["cast_by"] = vote.cast_by_username
    if approval.status is ApprovalStatus.PENDING:
        fields["progress"] = approvals.progress_line(approval)
    return fields


def _still_qualified(away: Actor, delegate: Actor, now: datetime) -> bool:
    """Whether ``delegate`` may still vote for ``away``: an admin approved the delegation, or
    they still hold every role of the person away (checked at each vote, not only when the
    delegation was set: roles change)."""
    named = away.user.active_delegation(now)
    if named is None or named.delegate_user_id != delegate.user_id:
        return False
    return named.admin_approved_by is not None or not delegation.missing_roles(away, delegate)


def _action(status: ApprovalStatus, decision: Decision) -> str:
    if status is ApprovalStatus.PENDING:
        return "approval.voted"
    return "approval.approved" if decision is Decision.APPROVE else "approval.rejected"


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
