"""Rule 2: milestones sort by start date, never end before they start, never overlap in a gate."""

from datetime import timedelta

import pytest

from core.errors import (
    Duplicate,
    ErrorCode,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from core.models.rbac import Permission
from core.models.release import QualityGate
from core.rules.permissions import Actor
from core.services.gates import MilestoneChange
from tests.support import T0, World, milestone

REL = "REL-2026.12"
GATE = "Security scan"


@pytest.fixture
def world(any_world: World) -> World:
    """Every test here runs on the in-memory fakes and on the storage adapters."""
    return any_world


async def _setup(world: World, gates: tuple[str, ...] = (GATE,)) -> Actor:
    await world.release(gates=list(gates))
    return await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)


async def _stored_gate(world: World, gate: str = GATE) -> QualityGate:
    return (await world.repos.releases.get(REL)).product("pay-api").gate(gate)


async def test_milestone_ending_before_it_starts_is_refused(world: World) -> None:
    rhea = await _setup(world)
    before = await world.snapshot()
    backwards = milestone("scan-uat", 3).model_copy(update={"end_date": T0 + timedelta(days=2)})

    with pytest.raises(ValidationFailed) as refused:
        await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, backwards)

    assert refused.value.code is ErrorCode.VALIDATION_ERROR
    assert "end_date" in refused.value.fields
    assert "before it starts" in refused.value.message
    assert await world.snapshot() == before


async def test_overlapping_milestone_is_refused_naming_the_other(world: World) -> None:
    rhea = await _setup(world)
    await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, milestone("dev-run", 0, 3))
    before = await world.snapshot()

    with pytest.raises(RuleViolation) as refused:
        await world.services.gates.add_milestone(
            rhea, REL, "pay-api", GATE, milestone("uat-run", 2, 3)
        )

    assert refused.value.code is ErrorCode.RULE_VIOLATION
    assert "'dev-run'" in refused.value.message
    assert "overlaps" in refused.value.message
    assert await world.snapshot() == before


async def test_milestone_may_start_exactly_when_the_previous_ends(world: World) -> None:
    rhea = await _setup(world)
    await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, milestone("dev-run", 0, 2))

    await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, milestone("uat-run", 2, 2))

    keys = [m.milestone_key for m in (await _stored_gate(world)).milestones]
    assert keys == ["dev-run", "uat-run"]


async def test_overlap_with_a_milestone_of_another_gate_is_allowed(world: World) -> None:
    rhea = await _setup(world, gates=(GATE, "Perf test"))
    await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, milestone("scan", 0, 3))

    await world.services.gates.add_milestone(
        rhea, REL, "pay-api", "Perf test", milestone("load", 1, 3)
    )

    assert [m.milestone_key for m in (await _stored_gate(world, "Perf test")).milestones] == [
        "load"
    ]


async def test_milestones_are_kept_sorted_by_start_date_after_adds(world: World) -> None:
    rhea = await _setup(world)
    for key, day in [("prod", 10), ("dev", 0), ("uat", 5)]:
        await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, milestone(key, day))

    assert [m.milestone_key for m in (await _stored_gate(world)).milestones] == [
        "dev",
        "uat",
        "prod",
    ]


async def test_moving_a_milestone_earlier_resorts_the_gate(world: World) -> None:
    rhea = await _setup(world)
    for key, day in [("dev", 0), ("uat", 5)]:
        await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, milestone(key, day))

    await world.services.gates.update_milestone(
        rhea,
        REL,
        "pay-api",
        GATE,
        "uat",
        MilestoneChange(start_date=T0 - timedelta(days=3), end_date=T0 - timedelta(days=2)),
    )

    gate = await _stored_gate(world)
    assert [m.milestone_key for m in gate.milestones] == ["uat", "dev"]
    assert gate.milestone("uat").start_date == T0 - timedelta(days=3)


async def test_update_that_would_overlap_is_refused_and_nothing_changes(world: World) -> None:
    rhea = await _setup(world)
    for key, day in [("dev", 0), ("uat", 5)]:
        await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, milestone(key, day))
    before = await world.snapshot()

    with pytest.raises(RuleViolation) as refused:
        await world.services.gates.update_milestone(
            rhea, REL, "pay-api", GATE, "dev", MilestoneChange(end_date=T0 + timedelta(days=6))
        )

    assert "'uat'" in refused.value.message
    assert await world.snapshot() == before


async def test_update_ending_before_the_start_is_refused(world: World) -> None:
    rhea = await _setup(world)
    await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, milestone("dev", 2))
    before = await world.snapshot()

    with pytest.raises(ValidationFailed) as refused:
        await world.services.gates.update_milestone(
            rhea, REL, "pay-api", GATE, "dev", MilestoneChange(end_date=T0)
        )

    assert "end_date" in refused.value.fields
    assert await world.snapshot() == before


async def test_duplicate_milestone_key_in_a_gate_is_refused(world: World) -> None:
    rhea = await _setup(world)
    await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, milestone("dev", 0))
    before = await world.snapshot()

    with pytest.raises(Duplicate) as refused:
        await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, milestone("dev", 9))

    assert refused.value.code is ErrorCode.DUPLICATE
    assert "'dev'" in refused.value.message
    assert await world.snapshot() == before


async def test_updating_an_unknown_milestone_names_the_known_ones(world: World) -> None:
    rhea = await _setup(world)
    for key, day in [("dev", 0), ("uat", 5)]:
        await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, milestone(key, day))
    before = await world.snapshot()

    with pytest.raises(NotFound) as refused:
        await world.services.gates.update_milestone(
            rhea, REL, "pay-api", GATE, "prod", MilestoneChange(milestone_name="Prod")
        )

    assert "'prod'" in refused.value.message
    assert "dev, uat" in refused.value.message
    assert await world.snapshot() == before


async def test_adding_a_milestone_needs_the_gate_permission(world: World) -> None:
    await world.release(gates=[GATE])
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied) as refused:
        await world.services.gates.add_milestone(arjun, REL, "pay-api", GATE, milestone("dev", 0))

    assert "'can_manage_quality_gates'" in refused.value.message
    assert await world.snapshot() == before
