"""Rule 1: gate status. WAIVED only by an approval manager and with a comment; the rest needs
can_manage_quality_gates; names unique per product; every waiver in the timeline."""

import pytest

from core.errors import Duplicate, ErrorCode, NotFound, PermissionDenied, ValidationFailed
from core.models.rbac import Permission
from core.models.release import GateStatus, QualityGate
from core.services.gates import GateChange, GateDraft
from tests.support import World

REL = "REL-2026.12"
GATE = "Security scan"


@pytest.fixture
def world(any_world: World) -> World:
    """Every test here runs on the in-memory fakes and on the storage adapters."""
    return any_world


async def _stored_gate(world: World, product: str = "pay-api", gate: str = GATE) -> QualityGate:
    return (await world.repos.releases.get(REL)).product(product).gate(gate)


async def test_approval_manager_waives_a_gate_with_a_comment(world: World) -> None:
    await world.release(gates=[GATE])
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)

    await world.services.gates.update_gate(
        arjun, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.WAIVED, comment="known CVE")
    )

    gate = await _stored_gate(world)
    assert gate.gate_status is GateStatus.WAIVED
    assert gate.comment == "known CVE"


async def test_gate_manager_who_is_not_approval_manager_cannot_waive(world: World) -> None:
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied) as refused:
        await world.services.gates.update_gate(
            rhea, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.WAIVED, comment="pls")
        )

    assert refused.value.code is ErrorCode.PERMISSION_DENIED
    assert "only by an approval manager" in refused.value.message
    assert await world.snapshot() == before


async def test_waiver_without_a_comment_is_refused(world: World) -> None:
    await world.release(gates=[GATE])
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(ValidationFailed) as refused:
        await world.services.gates.update_gate(
            arjun, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.WAIVED)
        )

    assert refused.value.code is ErrorCode.VALIDATION_ERROR
    assert "comment" in refused.value.fields
    assert "needs a comment" in refused.value.message
    assert await world.snapshot() == before


async def test_approval_manager_without_gate_permission_cannot_set_other_statuses(
    world: World,
) -> None:
    await world.release(gates=[GATE])
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied) as refused:
        await world.services.gates.update_gate(
            arjun, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.PASSED)
        )

    assert "'can_manage_quality_gates'" in refused.value.message
    assert await world.snapshot() == before


async def test_gate_manager_sets_a_status_and_the_timeline_records_it(world: World) -> None:
    release = await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)

    await world.services.gates.update_gate(
        rhea, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.FAILED, comment="2 highs")
    )

    assert (await _stored_gate(world)).gate_status is GateStatus.FAILED
    latest = (await world.repos.timeline.for_release(release.id, limit=1))[0]
    assert (latest.action, latest.actor.username) == ("gate.updated", "rhea")
    assert latest.after == {"gate_status": "FAILED", "comment": "2 highs"}


async def test_waiver_is_reconstructible_from_the_timeline_alone(world: World) -> None:
    release = await world.release(gates=[GATE])
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    world.clock.advance(hours=3)

    await world.services.gates.update_gate(
        arjun, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.WAIVED, comment="known CVE")
    )

    waived = [
        e
        for e in await world.repos.timeline.for_release(release.id, limit=50)
        if e.action == "gate.waived"
    ]
    assert len(waived) == 1
    event = waived[0]
    assert (event.actor.user_id, event.actor.username) == (arjun.user_id, "arjun")
    assert (event.target.product_id, event.target.gate_name) == ("pay-api", GATE)
    assert event.before is not None and event.before["gate_status"] == "NOT_STARTED"
    assert event.after is not None and event.after["gate_status"] == "WAIVED"
    assert event.comment == "known CVE"
    assert event.at == world.clock.now


async def test_gate_names_are_unique_in_a_product_ignoring_case(world: World) -> None:
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(Duplicate) as refused:
        await world.services.gates.add_gate(
            rhea, REL, "pay-api", GateDraft(gate_name="SECURITY SCAN")
        )

    assert refused.value.code is ErrorCode.DUPLICATE
    assert "gate_name" in refused.value.fields
    assert await world.snapshot() == before


async def test_same_gate_name_in_another_product_is_allowed(world: World) -> None:
    await world.release(products=["pay-api", "pay-web"], gates=[GATE])

    release = await world.repos.releases.get(REL)

    assert [p.gate(GATE).gate_name for p in release.products] == [GATE, GATE]


async def test_unknown_product_is_not_found_and_names_the_known_ones(world: World) -> None:
    await world.release(products=["pay-api", "pay-web"], gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(NotFound) as refused:
        await world.services.gates.add_gate(rhea, REL, "pay-app", GateDraft(gate_name="Perf"))

    assert refused.value.code is ErrorCode.RESOURCE_NOT_FOUND
    assert "'pay-app'" in refused.value.message
    assert "pay-api, pay-web" in refused.value.message
    assert await world.snapshot() == before


async def test_unknown_gate_is_not_found_and_names_the_known_ones(world: World) -> None:
    await world.release(gates=[GATE, "Perf test"])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(NotFound) as refused:
        await world.services.gates.update_gate(
            rhea, REL, "pay-api", "Smoke", GateChange(gate_status=GateStatus.PASSED)
        )

    assert "'Smoke'" in refused.value.message
    assert f"{GATE}, Perf test" in refused.value.message
    assert await world.snapshot() == before


async def test_squad_member_without_gate_permission_cannot_add_a_gate(world: World) -> None:
    await world.release()
    dana = await world.actor("dana", squads=["payments"])
    before = await world.snapshot()

    with pytest.raises(PermissionDenied):
        await world.services.gates.add_gate(dana, REL, "pay-api", GateDraft(gate_name="Perf"))

    assert await world.snapshot() == before


async def test_gate_manager_cannot_rewrite_the_justification_of_a_waiver(world: World) -> None:
    await world.release(gates=[GATE])
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    await world.services.gates.update_gate(
        arjun, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.WAIVED, comment="known CVE")
    )
    before = await world.snapshot()

    with pytest.raises(PermissionDenied):
        await world.services.gates.update_gate(
            rhea, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.WAIVED, comment="mine")
        )

    assert await world.snapshot() == before


async def test_squad_member_cannot_change_a_gates_comment(world: World) -> None:
    await world.release(gates=[GATE])
    dana = await world.actor("dana", squads=["payments"])
    before = await world.snapshot()

    with pytest.raises(PermissionDenied):
        await world.services.gates.update_gate(
            dana,
            REL,
            "pay-api",
            GATE,
            GateChange(gate_status=GateStatus.NOT_STARTED, comment="all good, ship it"),
        )

    assert await world.snapshot() == before


async def test_only_an_approval_manager_may_make_a_required_gate_optional(world: World) -> None:
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    both = await world.actor(
        "lead",
        Permission.CAN_MANAGE_QUALITY_GATES,
        Permission.IS_APPROVAL_MANAGER,
        Permission.CAN_VIEW_ALL,
    )
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="approval manager"):
        await world.services.gates.update_gate(
            rhea, REL, "pay-api", GATE, GateChange(required=False)
        )
    assert await world.snapshot() == before

    release = await world.services.gates.update_gate(
        both, REL, "pay-api", GATE, GateChange(required=False)
    )
    assert release.product("pay-api").gate(GATE).required is False


async def test_gate_manager_may_make_an_optional_gate_required(world: World) -> None:
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    both = await world.actor(
        "lead",
        Permission.CAN_MANAGE_QUALITY_GATES,
        Permission.IS_APPROVAL_MANAGER,
        Permission.CAN_VIEW_ALL,
    )
    await world.services.gates.update_gate(both, REL, "pay-api", GATE, GateChange(required=False))

    release = await world.services.gates.update_gate(
        rhea, REL, "pay-api", GATE, GateChange(required=True)
    )

    assert release.product("pay-api").gate(GATE).required is True
