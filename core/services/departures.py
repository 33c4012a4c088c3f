"""What disabling a user does beyond the status (issue 13, "people who come and go").

Disabled, a person is refused everywhere at once (every request reads the user) and is no
longer a decider (only ACTIVE users are, ``IdentityService.actors_with_any``). What would
outlive the status is undone here, after the status was written, for the API and Slack
alike (``UserService.set_status`` and ``change_access`` call ``after_disabled``):

- their delegations end first (nothing can hold them up): theirs, and every one naming
  them as the delegate (``DelegationService.end_all_of``, so the usual events follow).
- their votes on approvals still PENDING stop counting: each is removed (votes of their
  own, and those they cast for someone away), one release change per milestone, recorded
  in the timeline ("vote of dana dropped: account disabled"). Decided approvals keep their
  votes: a decision is history.

The status is written already, so nothing here is raised to whoever disabled them: a
release that refuses the change (archived since it was read, changed by others all along)
is logged and the others go on; storage failing stops the rest. What was left is said in
``Departure.not_undone``. Idempotent: everything is read afresh, so disabling again finishes
what was left and drops nothing twice. Re-enabling gives nothing back: dropped votes stay
dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from core.clock import Clock
from core.errors import DomainError, NotFound
from core.models.rbac import User
from core.models.release import ApprovalStatus, MilestoneApproval, Release
from core.models.timeline import TargetPath
from core.ports import ReleaseRepository
from core.rules import approvals
from core.rules.permissions import system_actor
from core.rules.readiness import milestone_refs
from core.services.delegation import DelegationService
from core.services.outbox import Outbox
from core.services.release_changes import Recorded, ReleaseChanges

log = logging.getLogger(__name__)
DROPPED = "approval.vote_dropped"


@dataclass
class Departure:
    """What disabling one user undid: votes dropped (release id, milestone key) and how
    many delegations ended; ``not_undone``: in words, what could not be (disabling again
    retries it)."""

    votes_dropped: list[tuple[str, str]] = field(default_factory=list)
    delegations_ended: int = 0
    not_undone: list[str] = field(default_factory=list)


class Departures:
    def __init__(
        self,
        releases: ReleaseRepository,
        outbox: Outbox,
        clock: Clock,
        delegation: DelegationService,
    ) -> None:
        self._releases = releases
        self._changes = ReleaseChanges(releases, outbox, clock)
        self._clock = clock
        self._delegation = delegation

    async def after_disabled(self, user: User) -> Departure:
        """Undo what would outlive the status (see the module docstring); never raises."""
        done = Departure()
        try:
            await self._end_delegations(user, done)
            await self._drop_votes(user, done)
        except Exception as error:  # storage failed: the status is written, the rest waits
            log.exception("clean-up after disabling %s stopped: %r", user.username, error)
            done.not_undone.append(
                "the rest of the clean-up (storage failed); disable them again to finish it"
            )
        return done

    async def _end_delegations(self, user: User, done: Departure) -> None:
        try:
            done.delegations_ended = len(await self._delegation.end_all_of(user))
        except DomainError as refused:
            log.warning("delegations of %s not all ended: %s", user.username, refused.message)
            done.not_undone.append(f"delegations: {refused.message}")

    async def _drop_votes(self, user: User, done: Departure) -> None:
        """Release by release: one that refuses is logged and the others go on."""
        for release in await self._releases.with_pending_approvals(squads=None):
            try:
                await self._drop_all(release, user, done)
            except DomainError as refused:
                log.warning(
                    "votes of %s not dropped in %s: %s",
                    user.username,
                    release.release_id,
                    refused.message,
                )
                done.not_undone.append(f"votes in {release.release_id}: {refused.message}")

    async def _drop_all(self, release: Release, user: User, done: Departure) -> None:
        targets = [
            TargetPath(
                product_id=ref.product_id,
                gate_name=ref.gate_name,
                milestone_key=ref.milestone.milestone_key,
            )
            for ref in milestone_refs(release)
            if _counted(ref.milestone.approval, user.id)
        ]
        for target in targets:
            release, dropped = await self._drop(release, target, user)
            if dropped:
                done.votes_dropped.append((release.release_id, target.milestone_key or ""))

    async def _drop(self, release: Release, target: TargetPath, user: User) -> tuple[Release, bool]:
        """One release change: the user's votes on this pending approval removed. The
        release as saved (or as read, when there was nothing left to drop); a release that
        refuses the change raises (``DomainError``)."""
        dropped: list[str] = []

        def change(release: Release, _now: datetime) -> Recorded | None:
            dropped.clear()
            try:
                product = release.product(target.product_id or "")
                gate = product.gate(target.gate_name or "")
                approval = gate.milestone(target.milestone_key or "").approval
            except NotFound:
                return None  # the milestone went since it was read, and its votes with it
            if not _counted(approval, user.id):
                return None  # decided meanwhile, or dropped already by another run
            dropped.extend(v.by_label for v in approvals.drop_votes(approval, (user.id,)))
            return Recorded(
                DROPPED,
                target,
                before={"votes": list(dropped)},
                after={
                    "status": approval.status.value,
                    "progress": approvals.progress_line(approval),
                },
                comment=f"vote of {user.username} dropped: account disabled",
            )

        actor = system_actor(self._clock())
        saved = await self._changes.apply(actor, release.id, change, read=release)
        return saved, bool(dropped)


def _counted(approval: MilestoneApproval, user_id: str) -> bool:
    """A pending approval with a vote of ``user_id``'s, or cast by them."""
    return approval.status is ApprovalStatus.PENDING and any(
        v.of_any((user_id,)) for v in approval.votes
    )
