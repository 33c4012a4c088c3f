"""Concurrent changes to one release: none lost, an approval decided exactly once."""

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any

from core.models.rbac import Permission
from core.models.release import ApprovalStatus, Decision, Release
from core.models.timeline import TimelineEvent
from core.rules.approvals import AlreadyDecided, ApprovalPolicy
from core.services.container import build_services
from core.services.gates import GateDraft
from storage.engine import Database
from storage.instrumented import RoundTrips
from storage.wiring import open_repositories
from tests.support import FrozenClock, World, milestone


async def test_twenty_concurrent_gate_additions_are_all_kept(racing_world: World) -> None:
    world = racing_world
    await world.release()
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)

    await asyncio.gather(
        *(
            world.services.gates.add_gate(
                rhea, "REL-2026.12", "pay-api", GateDraft(gate_name=f"Gate {n}")
            )
            for n in range(20)
        )
    )

    stored = await world.repos.releases.get("REL-2026.12")
    names = {g.gate_name for g in stored.product("pay-api").quality_gates}
    assert names == {f"Gate {n}" for n in range(20)}
    events = await world.repos.timeline.for_release(stored.id, limit=100)
    assert sum(e.action == "gate.added" for e in events) == 20


async def test_two_concurrent_decisions_one_wins_other_told_who(racing_world: World) -> None:
    world = racing_world
    await world.release(gates=["Security scan"])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    maya = await world.actor("maya", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    draft = milestone("go-live", 0, approval_required=True, requires_approval_manager=True)
    await world.services.gates.add_milestone(rhea, "REL-2026.12", "pay-api", "Security scan", draft)

    results = await asyncio.gather(
        world.services.approvals.decide(
            arjun, "REL-2026.12", "pay-api", "Security scan", "go-live", Decision.APPROVE
        ),
        world.services.approvals.decide(
            maya, "REL-2026.12", "pay-api", "Security scan", "go-live", Decision.REJECT, "not yet"
        ),
        return_exceptions=True,
    )

    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, AlreadyDecided)]
    assert len(winners) == 1 and len(losers) == 1
    approval = (
        (await world.repos.releases.get("REL-2026.12"))
        .product("pay-api")
        .gate("Security scan")
        .milestone("go-live")
        .approval
    )
    assert approval.status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED)
    assert f"by {approval.approver_username}." in losers[0].message
    assert losers[0].decided_at == approval.approved_at  # shown on each reader's clock
    stored = await world.repos.releases.get("REL-2026.12")
    events = await world.repos.timeline.for_release(stored.id, limit=100)
    assert sum(e.action.startswith("approval.") for e in events) == 1


class CountsSaves:
    """The releases repository, counting the conditional writes tried."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.saves = 0

    async def save(self, release: Release, *, added: Sequence[TimelineEvent] = ()) -> Release:
        self.saves += 1
        saved: Release = await self.inner.save(release, added=added)
        return saved

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_concurrent_changes_to_one_release_take_turns_in_a_process(
    db: Database, clock: FrozenClock, policy: ApprovalPolicy
) -> None:
    """Sixteen CI reports on one release at once: each change is written once, not retried
    after losing the race to the others (which cost about forty writes a change)."""
    raced = RoundTrips(yield_each_call=True).wrap(db)
    stored = await open_repositories(raced)
    releases = CountsSaves(stored.releases)
    repos = dataclasses.replace(stored, releases=releases)
    services = build_services(repos, clock=clock, policy=policy)
    world = World(db=db, repos=repos, services=services, clock=clock)
    await world.release()
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    releases.saves = 0

    await asyncio.gather(
        *(
            world.services.gates.add_gate(
                rhea, "REL-2026.12", "pay-api", GateDraft(gate_name=f"Gate {n}")
            )
            for n in range(16)
        )
    )

    names = {
        g.gate_name
        for g in (await stored.releases.get("REL-2026.12")).product("pay-api").quality_gates
    }
    assert names == {f"Gate {n}" for n in range(16)}
    assert releases.saves == 16
