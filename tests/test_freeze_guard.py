"""Freeze windows hold approvals of prod milestones in scope and moves of their gates to
PASSED or WAIVED, unless an approval manager breaks glass with a reason (recorded)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.errors import PermissionDenied, ValidationFailed
from core.models.events import BrokeGlass
from core.models.freeze import FreezeDraft, FreezeScope
from core.models.rbac import Permission
from core.models.release import ApprovalStatus, CiStatus, Decision, Environment
from core.models.statuses import GateStatus
from core.rules.freeze import Frozen
from core.rules.permissions import Actor
from core.services.gates import CiReport, GateChange, MilestoneChange
from tests.support import World, milestone

REL = "REL-2026.12"
APP = "app-rel-2026-12"
GATE = "Regression suite"


@pytest.fixture
def world(any_world: World) -> World:
    return any_world


async def _rhea(world: World) -> Actor:
    user = await world.repos.users.find_by_email("rhea@example.com")
    if user is not None:
        return await world.services.identity.actor_for(user)
    return await world.actor(
        "rhea",
        Permission.CAN_MANAGE_QUALITY_GATES,
        Permission.CAN_CREATE_RELEASE,
        Permission.CAN_VIEW_ALL,
    )


async def _setup(world: World, environment: Environment = Environment.PROD) -> None:
    await world.release(gates=[GATE])
    await world.services.gates.add_milestone(
        await _rhea(world),
        REL,
        "pay-api",
        GATE,
        milestone("go-live", 0, approval_required=True, environment=environment),
    )


async def _freeze(world: World, scope: FreezeScope | None = None, hours: int = 48) -> None:
    now = world.clock.now
    await world.services.freezes.create(
        await _rhea(world),
        FreezeDraft(
            name="Holiday freeze",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=hours),
            time_zone="Europe/Berlin",
            scope=scope or FreezeScope(),
        ),
    )


async def _arjun(world: World) -> Actor:
    return await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)


def _approve(world: World, actor: Actor, break_glass: str | None = None) -> Any:
    return world.services.approvals.decide(
        actor, REL, "pay-api", GATE, "go-live", Decision.APPROVE, break_glass=break_glass
    )


async def _status(world: World) -> ApprovalStatus:
    release = await world.repos.releases.get(REL)
    return release.product("pay-api").gate(GATE).milestone("go-live").approval.status


async def test_a_prod_approval_during_a_freeze_is_refused_naming_it(world: World) -> None:
    await _setup(world)
    await _freeze(world)
    arjun = await _arjun(world)
    before = await world.snapshot()

    with pytest.raises(Frozen) as refused:
        await _approve(world, arjun)

    assert "Holiday freeze" in refused.value.message
    assert "break glass" in refused.value.message
    assert await world.snapshot() == before


async def test_an_approval_manager_breaks_glass_with_a_reason_and_it_is_recorded(
    world: World,
) -> None:
    await _setup(world)
    await _freeze(world)

    await _approve(world, await _arjun(world), break_glass="Card outage fix, CEO approved")

    assert await _status(world) is ApprovalStatus.APPROVED
    release = await world.repos.releases.get(REL)
    [record] = release.break_glass
    assert (record.freeze_name, record.by, record.reason) == (
        "Holiday freeze",
        "arjun",
        "Card outage fix, CEO approved",
    )
    assert record.what.startswith("approved go-live")
    entries = await world.repos.timeline.for_release(release.id, limit=100)
    audit = [e for e in entries if e.action == "freeze.break_glass"]
    assert audit and audit[0].comment == "Card outage fix, CEO approved"
    events = [e for entry in entries for e in entry.events if isinstance(e, BrokeGlass)]
    assert [e.freeze_name for e in events] == ["Holiday freeze"]


async def test_breaking_glass_needs_an_approval_manager_and_a_reason(world: World) -> None:
    await _setup(world)
    await _freeze(world)
    kim = await world.actor("kim", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    arjun = await _arjun(world)
    await world.services.gates.update_gate(
        await _rhea(world), REL, "pay-api", GATE, GateChange(gate_status=GateStatus.FAILED)
    )
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="only an approval manager can break glass"):
        await world.services.gates.update_gate(
            kim,
            REL,
            "pay-api",
            GATE,
            GateChange(gate_status=GateStatus.PASSED, break_glass="need it"),
        )
    with pytest.raises(ValidationFailed, match="needs a reason"):
        await _approve(world, arjun, break_glass="   ")

    assert await world.snapshot() == before


async def test_what_a_freeze_does_not_hold_goes_ahead(world: World) -> None:
    """A rejection, a gate failing, and anything out of its scope or after it ended."""
    await _setup(world)
    await _freeze(world, FreezeScope(application_ids=["app-other"]))
    arjun = await _arjun(world)

    await _approve(world, arjun)  # another application's freeze

    assert await _status(world) is ApprovalStatus.APPROVED


async def test_a_non_prod_approval_and_a_rejection_are_not_held(world: World) -> None:
    await _setup(world, Environment.UAT)
    await _freeze(world)

    await _approve(world, await _arjun(world))

    assert await _status(world) is ApprovalStatus.APPROVED


async def test_a_freeze_that_ended_holds_nothing(world: World) -> None:
    await _setup(world)
    await _freeze(world, hours=2)
    world.clock.advance(hours=3)

    await _approve(world, await _arjun(world))

    assert await _status(world) is ApprovalStatus.APPROVED


async def test_gates_of_prod_milestones_do_not_pass_during_a_freeze(world: World) -> None:
    await _setup(world)
    await _freeze(world, FreezeScope(squad_ids=["payments"]))
    rhea = await _rhea(world)
    before = await world.snapshot()

    with pytest.raises(Frozen):
        await world.services.gates.update_gate(
            rhea, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.PASSED)
        )
    with pytest.raises(Frozen):
        await world.services.gates.report_result(
            rhea, REL, "pay-api", GATE, CiReport(status=CiStatus.PASSED)
        )
    assert await world.snapshot() == before

    await world.services.gates.report_result(  # failing is never held
        rhea, REL, "pay-api", GATE, CiReport(status=CiStatus.FAILED)
    )
    release = await world.repos.releases.get(REL)
    assert release.product("pay-api").gate(GATE).gate_status is GateStatus.FAILED


async def test_a_gate_without_prod_milestones_passes_during_a_freeze(world: World) -> None:
    await _setup(world, Environment.UAT)
    await _freeze(world)

    await world.services.gates.update_gate(
        await _rhea(world), REL, "pay-api", GATE, GateChange(gate_status=GateStatus.PASSED)
    )

    release = await world.repos.releases.get(REL)
    assert release.product("pay-api").gate(GATE).gate_status is GateStatus.PASSED


async def test_a_rejection_during_a_freeze_is_not_held(world: World) -> None:
    await _setup(world)
    await _freeze(world)

    await world.services.approvals.decide(
        await _arjun(world), REL, "pay-api", GATE, "go-live", Decision.REJECT, "not now"
    )

    assert await _status(world) is ApprovalStatus.REJECTED


async def test_a_passed_gates_milestone_made_prod_during_a_freeze_is_held(world: World) -> None:
    await _setup(world, Environment.UAT)
    rhea = await _rhea(world)
    await world.services.gates.update_gate(
        rhea, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.PASSED)
    )
    await _freeze(world)
    before = await world.snapshot()

    with pytest.raises(Frozen):
        await world.services.gates.update_milestone(
            rhea, REL, "pay-api", GATE, "go-live", MilestoneChange(environment=Environment.PROD)
        )

    assert await world.snapshot() == before
