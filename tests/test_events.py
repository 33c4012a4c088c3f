"""Every core change says what it caused: typed, past-tense events derived in core from the
release before and after, stored with the change's timeline entry."""

from __future__ import annotations

import pytest

from core.models.events import (
    ApprovalDecided,
    ApprovalRef,
    ApprovalRequested,
    ApprovalWithdrawn,
    DomainEvent,
    GateChanged,
    MilestoneChanged,
    ReleaseCreated,
    TaskChanged,
)
from core.models.rbac import Permission
from core.models.release import Decision, GateStatus, MilestoneStatus, RunbookTask, TaskStatus
from core.rules.permissions import Actor
from core.services.gates import GateChange, GateDraft, MilestoneChange
from core.services.runbooks import RunbookDraft, TaskChange
from tests.support import World, milestone

REL = "REL-2026.12"
GATE = "Security scan"
SCAN_UAT = ApprovalRef(product_id="pay-api", gate_name=GATE, milestone_key="scan-uat")


@pytest.fixture
def world(any_world: World) -> World:
    return any_world


async def newest(world: World, actor: Actor) -> list[DomainEvent]:
    """The events of the newest change, as the timeline stores them."""
    _, entries = await world.services.timeline.history(actor, REL)
    return entries[0].events


async def manager(world: World) -> Actor:
    return await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)


async def test_creating_a_release_says_so(world: World) -> None:
    await world.release()
    lead = await world.actor("lead", Permission.CAN_VIEW_ALL)

    _, entries = await world.services.timeline.history(lead, REL)
    created = entries[-1]  # the products it was made with were added after it
    assert (created.action, created.events) == ("release.created", [ReleaseCreated()])


async def test_adding_a_gate_and_changing_its_status_are_gate_changes(world: World) -> None:
    await world.release()
    rhea = await manager(world)

    await world.services.gates.add_gate(rhea, REL, "pay-api", GateDraft(gate_name=GATE))
    added = await newest(world, rhea)
    await world.services.gates.update_gate(
        rhea, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.PASSED)
    )
    passed = await newest(world, rhea)

    assert added == [
        GateChanged(product_id="pay-api", gate_name=GATE, before=None, after=GateStatus.NOT_STARTED)
    ]
    assert passed == [
        GateChanged(
            product_id="pay-api",
            gate_name=GATE,
            before=GateStatus.NOT_STARTED,
            after=GateStatus.PASSED,
        )
    ]


async def test_a_milestone_needing_approval_asks_for_it_and_a_decision_says_who(
    world: World,
) -> None:
    await world.release(gates=[GATE])
    rhea = await manager(world)
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    draft = milestone("scan-uat", 0, approval_required=True, requires_approval_manager=True)

    added = await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, draft)
    asked = await newest(world, rhea)
    decided = await world.services.approvals.decide(
        arjun, REL, "pay-api", GATE, "scan-uat", Decision.REJECT, "Scan is red"
    )
    said = await newest(world, rhea)

    requested_at = added.product("pay-api").gate(GATE).milestone("scan-uat").approval.requested_at
    decided_at = decided.product("pay-api").gate(GATE).milestone("scan-uat").approval.approved_at
    assert asked == [
        MilestoneChanged(ref=SCAN_UAT, before=None, after=MilestoneStatus.NOT_STARTED),
        ApprovalRequested(ref=SCAN_UAT, requested_at=requested_at),
    ]
    assert requested_at is not None
    assert said == [
        ApprovalDecided(ref=SCAN_UAT, decision=Decision.REJECT, by=arjun.user_id, at=decided_at)
    ]


async def test_asking_again_is_a_new_round_named_by_its_time(world: World) -> None:
    await world.release(gates=[GATE])
    rhea = await manager(world)
    draft = milestone("scan-uat", 0, approval_required=True)
    await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, draft)
    await world.services.gates.update_milestone(
        rhea, REL, "pay-api", GATE, "scan-uat", MilestoneChange(approval_required=False)
    )
    dropped = await newest(world, rhea)
    world.clock.advance(minutes=5)

    again = await world.services.gates.update_milestone(
        rhea, REL, "pay-api", GATE, "scan-uat", MilestoneChange(approval_required=True)
    )
    asked = await newest(world, rhea)

    approval = again.product("pay-api").gate(GATE).milestone("scan-uat").approval
    assert dropped == [ApprovalWithdrawn(ref=SCAN_UAT)]  # the copies say so
    assert asked == [ApprovalRequested(ref=SCAN_UAT, requested_at=approval.requested_at)]
    assert approval.requested_at == world.clock.now


async def test_a_task_status_change_is_a_task_change(world: World) -> None:
    await world.release()
    admin = await world.admin_actor()
    draft = RunbookDraft(runbook_name="Cutover", tasks=[RunbookTask(task_name="Drain")])
    release = await world.services.runbooks.add_runbook(admin, REL, draft)
    runbook_id = release.runbooks[0].runbook_id
    added = await newest(world, admin)

    await world.services.runbooks.update_task(
        admin, REL, runbook_id, "Drain", TaskChange(status=TaskStatus.DONE)
    )
    done = await newest(world, admin)

    assert added == [
        TaskChanged(runbook_id=runbook_id, task_name="Drain", before=None, after=TaskStatus.TODO)
    ]
    assert done == [
        TaskChanged(
            runbook_id=runbook_id, task_name="Drain", before=TaskStatus.TODO, after=TaskStatus.DONE
        )
    ]


async def test_a_change_that_causes_nothing_typed_has_an_entry_without_events(
    world: World,
) -> None:
    await world.release()
    admin = await world.admin_actor()

    await world.services.releases.edit_description(admin, REL, "Card payments, December")

    _, entries = await world.services.timeline.history(admin, REL)
    assert entries[0].action == "release.description" and entries[0].events == []
