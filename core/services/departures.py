"""What disabling a user does beyond the status (issue 13, "people who come and go").

Disabled, a person is refused everywhere at once (every request reads the user) and is no
longer a decider (only ACTIVE users are, ``IdentityService.actors_with_any``). What would
outlive the status is undone here, after the status was written, for the API and Slack
alike (``UserService.set_status`` and ``change_access`` call ``after_disabled``):

- their votes on approvals still PENDING stop counting: each is removed (votes of their
  own, and those they cast for someone away), one release change per milestone, recorded
  in the timeline ("vote of dana dropped: account disabled"). Decided approvals keep their
  votes: a decision is history.
- their delegations end: theirs, and every one naming them as the delegate
  (``DelegationService.end_all_of``, so the usual events follow).

Idempotent: everything is read afresh, so a retry (or disabling again) drops nothing twice.
Re-enabling gives nothing back: dropped votes stay dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from core.clock import Clock
from core.errors import NotFound, RuleViolation
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
    many delegations ended."""

    votes_dropped: list[tuple[str, str]] = field(default_factory=list)
    delegations_ended: int = 0


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
        done = Departure()
        for release in await self._releases.with_pending_approvals(squads=None):
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
        done.delegations_ended = len(await self._delegation.end_all_of(user))
        return done

    async def _drop(self, release: Release, target: TargetPath, user: User) -> tuple[Release, bool]:
        """One release change: the user's votes on this pending approval removed. The
        release as saved (or as read, when there was nothing left to drop)."""
        dropped: list[str] = []

        def change(release: Release, _now: datetime) -> Recorded | None:
            dropped.clear()
            product = release.product(target.product_id or "")
            milestone = product.gate(target.gate_name or "").milestone(target.milestone_key or "")
            approval = milestone.approval
            if not _counted(approval, user.id):
                return None  # decided meanwhile, or dropped already by another run
            gone = [v for v in approval.votes if user.id in (v.user_id, v.cast_by_user_id)]
            approval.votes = [v for v in approval.votes if v not in gone]
            dropped.extend(v.by_label for v in gone)
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
        try:
            saved = await self._changes.apply(actor, release.id, change, read=release)
        except (NotFound, RuleViolation) as refused:
            # The milestone went, or the release was archived, since it was read: no
            # longer pending anywhere it counts. Logged, and the others go on.
            log.info("vote of %s not dropped in %s: %s", user.username, release.release_id, refused)
            return release, False
        return saved, bool(dropped)


def _counted(approval: MilestoneApproval, user_id: str) -> bool:
    """A pending approval with a vote of ``user_id``'s, or cast by them."""
    return approval.status is ApprovalStatus.PENDING and any(
        user_id in (v.user_id, v.cast_by_user_id) for v in approval.votes
    )
